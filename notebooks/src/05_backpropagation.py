# %% [markdown] slideshow={"slide_type": "slide"}
# # 05 · Back-propagation
#
# A network is trained by nudging every weight a little in the direction that lowers the loss.
# This notebook answers the first half of that sentence: **how do we get the gradient** of the
# loss with respect to every weight? Back-propagation computes it by chaining simple, local
# derivatives from the loss back to the input. The next notebook (06) uses the gradient to take
# steps: gradient descent, momentum and Adam.
#
# In this notebook you will:
#
# - push a gradient back through a two-layer network f = W₂·max(0, W₁x) by hand, one local
#   derivative at a time, and check it against `cnnlib`'s modules and PyTorch's autograd;
# - compute the lecture's ∂L/∂W = ∂L/∂σ(y) · ∂σ(y)/∂y · ∂y/∂W for a sigmoid layer term by term,
#   and see why no library ever builds those Jacobians;
# - back-propagate through a graph that forks, not only a chain: gradients add where a value is
#   used twice, and the add, multiply and max gates each pass gradients back in their own way;
# - check the backward passes of our Linear, Conv2d, MaxPool2d and cross-entropy against finite
#   differences, and see what a bug looks like to such a check;
# - derive convolution's backward pass (for the input a full convolution with the filter, which is
#   a full correlation with the filter flipped; for the weight a correlation; for the bias a sum)
#   and reproduce `conv2d_backward` with it, stride and padding included;
# - write three backward passes yourself, each checked first by your own finite differences: a
#   two-layer network's, a convolution's as loops, and the convolution's vectorized; then train a
#   small convolution with your own forward and backward passes (notebook 07 trains LeNet-5 with them).

# %% slideshow={"slide_type": "skip"}
import matplotlib.pyplot as plt
import numpy as np
import torch
from numpy.lib.stride_tricks import sliding_window_view

from cnnlib.device import env_report
from cnnlib.exercises.my_layers import my_layers
from cnnlib.exercises.nb05 import check_conv2d_backward, check_conv2d_backward_im2col, check_two_layer_backward
from cnnlib.exercises.selfcheck import gradient_check_yours
from cnnlib.numpy_nn import Conv2d, CrossEntropyLoss, Linear, MaxPool2d, MSELoss, ReLU, Sequential
from cnnlib.numpy_nn.functional import conv2d_backward, conv2d_forward, cross_entropy, linear_backward
from cnnlib.numpy_nn.functional import linear_forward, mse_loss_backward, mse_loss_forward
from cnnlib.numpy_nn.functional import sigmoid, sigmoid_backward, sigmoid_forward
from cnnlib.plots import show_signed_maps
from cnnlib.testing import assert_close, check_gradient, gradient_error, numerical_gradient
from cnnlib.viz.optimizers import plot_chain, plot_curves
# %config InlineBackend.figure_formats = ['png']

# %% slideshow={"slide_type": "subslide"}
rng = np.random.default_rng(0)
torch.manual_seed(0)
plt.rcParams["figure.dpi"] = 150
print(env_report())


# %% [markdown] slideshow={"slide_type": "slide"}
# ## 1. Local gradients and the chain rule along a chain
#
# Take the two-layer network of notebook 01 with a squared-error loss, and write it as a chain of
# simple steps, each with a name:
#
# $$h = W_1 x, \qquad a = \max(0, h), \qquad f = W_2 a, \qquad L = \lVert f - t \rVert^2 .$$
#
# Here x has 3 entries, there are 4 hidden units and 2 outputs, so W₁ is 4×3 and W₂ is 2×4.
# The forward pass just evaluates the chain from left to right:

# %% slideshow={"slide_type": "subslide"}
x = np.array([1.0, -2.0, 0.5])                   # input (n = 3)
W1 = np.round(rng.normal(size=(4, 3)), 1)         # (4, 3)
W2 = np.round(rng.normal(size=(2, 4)), 1)         # (2, 4)
t = np.array([1.0, 0.0])                          # target (2,)
print("W1 =\n", W1, "\nW2 =\n", W2)

# %%
h = W1 @ x                    # (4,)
a = np.maximum(0, h)          # (4,)
f = W2 @ a                    # (2,)
L = np.sum((f - t) ** 2)      # a number
print("h =", np.round(h, 3), " a =", np.round(a, 3), " f =", np.round(f, 3), f" L = {L:.4f}")

# %% [markdown] slideshow={"slide_type": "subslide"}
# Back-propagation walks the same chain from right to left. Each step only needs its **local**
# derivative, the derivative of its own output with respect to its own input, which is simple
# because each step is simple:
#
# | step | local derivative | gradient passed back |
# |---|---|---|
# | L = ‖f − t‖² | ∂L/∂f = 2(f − t) | (the start) |
# | f = W₂a | ∂f/∂a = W₂, ∂f_i/∂(W₂)_ij = a_j | ∂L/∂a = W₂ᵀ ∂L/∂f, ∂L/∂W₂ = ∂L/∂f · aᵀ |
# | a = max(0, h) | ∂a_i/∂h_i = 1 if h_i > 0, else 0 | ∂L/∂h = ∂L/∂a ⊙ 1[h > 0] |
# | h = W₁x | ∂h_i/∂(W₁)_ij = x_j | ∂L/∂W₁ = ∂L/∂h · xᵀ |
#
# The chain rule says: multiply the gradient arriving from the right by the local derivative.

# %% alt="The chain of a two-layer network drawn as five boxes: x, h = W1 x, a = max(0, h), f = W2 a and the loss L = squared norm of f - t, joined by forward arrows. Backward arrows under them carry the gradients from right to left: 2(f - t), then W2 transposed times dL/df, then dL/da masked where h > 0, then W1 transposed times dL/dh, with the weight gradients dL/dW2 = dL/df a transposed and dL/dW1 = dL/dh x transposed branching off." slideshow={"slide_type": "subslide"}
plot_chain(["$x$", "$h = W_1x$", "$a = \\max(0, h)$", "$f = W_2a$", "$L = \\|f - t\\|^2$"],
           ["$W_1^T \\partial L/\\partial h$", "$\\partial L/\\partial a \\odot 1[h>0]$",
            "$W_2^T \\partial L/\\partial f$", "$2(f - t)$"],
           below={1: "$\\partial L/\\partial W_1 = \\partial L/\\partial h\\; x^T$",
                  3: "$\\partial L/\\partial W_2 = \\partial L/\\partial f\\; a^T$"})
plt.show()

# %% slideshow={"slide_type": "subslide"}
dL_df = 2 * (f - t)               # (2,)
dL_dW2 = np.outer(dL_df, a)       # (2, 4)
dL_da = W2.T @ dL_df              # (4,)
dL_dh = dL_da * (h > 0)           # (4,): the ReLU is a gate
dL_dW1 = np.outer(dL_dh, x)       # (4, 3)
print("dL/dh =", np.round(dL_dh, 3) + 0.0, "\ndL/dW1 =\n", np.round(dL_dW1, 3) + 0.0)   # + 0.0: no "-0."
assert (h < 0).sum() == 2 and np.all(dL_dW1[h < 0] == 0) and np.all(dL_dW1[h > 0] != 0)

# %% [markdown]
# The two hidden units with h < 0 (the third and fourth) were switched off by the ReLU in the
# forward pass, so they pass no gradient back: their rows of ∂L/∂W₁ are exactly zero. Changing
# those six weights a little would not change the loss at all.
#
# Now the same network from `cnnlib.numpy_nn` modules. Each module's `backward` does exactly one
# row of the table; `Sequential.backward` calls them in reverse order. The modules work on
# batches, so x becomes a batch of one, shape (1, 3).

# %% slideshow={"slide_type": "subslide"}
net = Sequential(Linear(3, 4, bias=False), ReLU(), Linear(4, 2, bias=False))
net[0].weight.data[...] = W1
net[2].weight.data[...] = W2
loss_fn = MSELoss(reduction="sum")                # L = sum of (f - t)^2
loss = loss_fn(net(x[None]), t[None])
net.backward(loss_fn.backward())                  # fills each weight's .grad
assert_close(loss, L, rtol=1e-12)
assert_close(net[0].weight.grad, dL_dW1, rtol=1e-12)
assert_close(net[2].weight.grad, dL_dW2, rtol=1e-12)

# %% [markdown]
# And PyTorch's autograd, which records the operations during the forward pass and applies the
# same local derivatives backwards:

# %% slideshow={"slide_type": "subslide"}
W1_t = torch.tensor(W1, requires_grad=True)
W2_t = torch.tensor(W2, requires_grad=True)
L_t = ((W2_t @ torch.relu(W1_t @ torch.tensor(x)) - torch.tensor(t)) ** 2).sum()
L_t.backward()
assert_close(W1_t.grad.numpy(), dL_dW1, rtol=1e-12)
assert_close(W2_t.grad.numpy(), dL_dW2, rtol=1e-12)
print("by hand, cnnlib modules and torch autograd agree")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 2. A graph, not only a chain: forks and gates
#
# The network above is a chain: each value feeds exactly one next step. In general the forward
# pass is a graph. A step can take several inputs, and a value can **fork** into several later
# steps. Two rules cover every such graph:
#
# - a step (a **gate**) sends back to each of its inputs the gradient arriving from above times its
#   local derivative with respect to that input;
# - where a value forks, its gradient is the **sum** of the gradients coming back along each of its
#   uses. L depends on it through every path, and the multivariable chain rule adds the paths.
#
# Three gates appear everywhere, and each has a simple rule:
#
# | gate | forward | gradient passed back, given g from above |
# |---|---|---|
# | add | z = a + b | g to a and g to b: it **copies** g |
# | multiply | z = a · b | g · b to a and g · a to b: each input gets g times the **other** one |
# | max | z = max(a, b) | g to the larger input, 0 to the other: it **routes** g |
#
# A small example with all three and a fork: L = max(x · y, z) + x, where x is used twice.

# %% slideshow={"slide_type": "subslide"}
x_g, y_g, z_g = 3.0, -2.0, -10.0
u = x_g * y_g                  # multiply gate: -6
v = max(u, z_g)                # max gate: u = -6 beats z = -10
L_g = v + x_g                  # add gate, and x's second use: the fork
print(f"u = {u}, v = {v}, L = {L_g}")

# %% [markdown]
# Backwards from dL/dL = 1, one gate at a time:

# %%
dL_dv, dL_dx_via_add = 1.0, 1.0                               # add: copies 1 to v and to x
dL_du, dL_dz = (dL_dv, 0.0) if u > z_g else (0.0, dL_dv)      # max: routes it to the winner, u
dL_dx_via_mul, dL_dy = dL_du * y_g, dL_du * x_g               # multiply: g times the other input
dL_dx = dL_dx_via_add + dL_dx_via_mul                         # the fork: x's two gradients add
print(f"dL/dx = {dL_dx_via_add} + ({dL_dx_via_mul}) = {dL_dx},  dL/dy = {dL_dy},  dL/dz = {dL_dz}")

# %% [markdown]
# PyTorch's autograd builds the same graph during the forward pass and applies the same rules;
# the centred difference of section 4 agrees too. Keeping only one of x's two paths would give
# +1 or −2 instead of −1:

# %% slideshow={"slide_type": "subslide"}
x_t, y_t, z_t = (torch.tensor(v_, dtype=torch.float64, requires_grad=True) for v_ in (x_g, y_g, z_g))
(torch.maximum(x_t * y_t, z_t) + x_t).backward()
assert [x_t.grad.item(), y_t.grad.item(), z_t.grad.item()] == [dL_dx, dL_dy, dL_dz] == [-1.0, 3.0, 0.0]
xyz = np.array([x_g, y_g, z_g])
numeric = numerical_gradient(lambda: max(xyz[0] * xyz[1], xyz[2]) + xyz[0], xyz, h=1e-5)
assert_close(numeric, [dL_dx, dL_dy, dL_dz], rtol=1e-9)
print("autograd and centred differences: dL/dx = -1, dL/dy = 3, dL/dz = 0")

# %% [markdown] slideshow={"slide_type": "subslide"}
# Forks are everywhere in a ConvNet. A convolution uses each filter weight at every output
# position, so its gradient is a sum over positions (section 5 derives it). A residual connection
# (notebook 09) sends x both through a block and around it, and the two gradients add where the
# paths meet. The rule is also why autograd *adds* into a tensor's `.grad` instead of overwriting
# it (x_t.grad above collected both of x's paths), and why `cnnlib`'s modules add into each
# parameter's `.grad` the same way.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 3. The lecture's formula for a sigmoid layer, term by term
#
# The lecture writes the gradient of the loss with respect to a layer's weights, for a layer
# y = Wx followed by a sigmoid σ, as a product of three factors:
#
# $$\frac{\partial L}{\partial W} = \frac{\partial L}{\partial \sigma(\mathbf y)}\;
#   \frac{\partial \sigma(\mathbf y)}{\partial \mathbf y}\;\frac{\partial \mathbf y}{\partial W}.$$
#
# Let us build each factor as a full array, for m = 2 outputs, n = 3 inputs and
# L = ‖σ(y) − t‖²:
#
# - ∂L/∂σ(y) = 2(σ(y) − t): one number per output, shape (m,);
# - ∂σ(y)/∂y: an m×m Jacobian. σ acts on each entry separately, so it is **diagonal**, with
#   σ(y_i)(1 − σ(y_i)) on the diagonal;
# - ∂y/∂W: how each y_i changes with each W_jk. Since y_i = Σ_k W_ik x_k, the answer is x_k when
#   i = j and 0 otherwise: an m×m×n array.

# %% slideshow={"slide_type": "subslide"}
W = np.round(rng.normal(size=(2, 3)), 1)          # (m, n)
y = W @ x                                         # (m,)
s = sigmoid(y)                                    # (m,)
dL_ds = 2 * (s - t)                               # (m,)         ∂L/∂σ(y)
ds_dy = np.diag(s * (1 - s))                      # (m, m)       ∂σ(y)/∂y
dy_dW = np.einsum("ij,k->ijk", np.eye(2), x)      # (m, m, n)    ∂y_i/∂W_jk = δ_ij x_k

# %% [markdown]
# The chain rule multiplies them, summing over the shared indices (σ's output i, then y's entry j):

# %%
dL_dW = np.einsum("i,ij,jkl->kl", dL_ds, ds_dy, dy_dW)   # (m, n)
print("dL/dW =\n", np.round(dL_dW, 4))

# %% [markdown]
# Because two of the three factors are mostly zeros, the product collapses to something much
# cheaper: multiply ∂L/∂σ entry by entry with σ(1 − σ) (the diagonal), then take the outer
# product with x. That is what the backward functions compute; PyTorch agrees.

# %% slideshow={"slide_type": "subslide"}
assert_close(dL_dW, np.outer(dL_ds * s * (1 - s), x), rtol=1e-12)
y_b, lin_cache = linear_forward(x[None], W)             # the same layer on a batch of one
s_b, sig_cache = sigmoid_forward(y_b)
_, mse_cache = mse_loss_forward(s_b, t[None], reduction="sum")
grad_W = linear_backward(sigmoid_backward(mse_loss_backward(1.0, mse_cache), sig_cache), lin_cache)[1]
assert_close(grad_W, dL_dW, rtol=1e-12)

# %%
W_t = torch.tensor(W, requires_grad=True)
((torch.sigmoid(W_t @ torch.tensor(x)) - torch.tensor(t)) ** 2).sum().backward()
assert_close(W_t.grad.numpy(), dL_dW, rtol=1e-12)

# %% [markdown]
# Why not build the Jacobians? Their size. Notebook 01 met a fully connected layer on a 640×480
# image: n = 307,200 inputs. With m = 1,000 outputs, ∂y/∂W alone would hold m·m·n numbers:

# %%
m, n = 1_000, 640 * 480
print(f"dy/dW: {m * m * n:.3g} numbers = {m * m * n * 8 / 1e12:.2f} TB in float64")
print(f"dL/dW: {m * n:.3g} numbers = {m * n * 8 / 1e9:.2f} GB")
assert m * m * n == 307_200_000_000

# %% [markdown] slideshow={"slide_type": "subslide"}
# A backward function never forms a Jacobian: it takes the gradient arriving from above
# (one number per output) and returns the gradient for its inputs and weights directly, using
# the structure of its operation. That is the whole trick behind back-propagation's speed: for
# y = Wx the backward pass is two matrix products (Wᵀg and g·xᵀ) of the same size as the forward
# pass's one.
#
# ## 4. Gradient checking: trust a backward pass only after a numerical check
#
# A hand-written backward pass is easy to get subtly wrong (a transpose, a missing factor 2).
# The derivative's definition gives an independent check: nudge one input by h and watch the
# output. The **centred difference** (f(x + h) − f(x − h)) / 2h has an error proportional to h²,
# the one-sided (f(x + h) − f(x)) / h only to h. But h cannot be too small either: then the two
# values of f agree in almost all their digits and round-off (about 10⁻¹⁶ of f) divided by h takes
# over. On σ at x = 0.5, whose derivative σ(1 − σ) we know exactly:

# %% slideshow={"slide_type": "subslide"}
hs = np.logspace(-1, -12, 23)
x0, exact = 0.5, sigmoid(0.5) * (1 - sigmoid(0.5))
one_sided = np.abs((sigmoid(x0 + hs) - sigmoid(x0)) / hs - exact) / exact
centred = np.abs((sigmoid(x0 + hs) - sigmoid(x0 - hs)) / (2 * hs) - exact) / exact
print(f"best one-sided: {one_sided.min():.0e} at h = {hs[one_sided.argmin()]:.0e}")
print(f"best centred:   {centred.min():.0e} at h = {hs[centred.argmin()]:.0e}")
middle = (hs >= 1e-7) & (hs <= 1e-4)
print(f"for 1e-7 <= h <= 1e-4: centred at most {centred[middle].max():.0e}, one-sided at least {one_sided[middle].min():.0e}")

# %% alt="Relative error of two finite-difference estimates of the sigmoid's slope at 0.5, against the step h from 1e-12 to 0.1, both axes logarithmic. The one-sided difference is best, about 1e-8, near h = 1e-8; the centred difference reaches about 1e-11 near h = 1e-5. For large h both errors grow with the step (the centred one more slowly), for tiny h rounding errors take over." slideshow={"slide_type": "subslide"}
plot_curves(hs, {"one-sided (f(x+h) − f(x)) / h": one_sided, "centred (f(x+h) − f(x−h)) / 2h": centred},
            xlabel="step h", ylabel="relative error", title="finite differences for σ'(0.5)", logx=True, logy=True)
plt.show()

# %% slideshow={"slide_type": "subslide"}
assert centred.min() < 1e-10 < one_sided.min()
assert hs[centred.argmin()] > hs[one_sided.argmin()]
assert centred[middle].max() < 1e-9 < one_sided[middle].min()
assert np.isclose(hs[centred.argmin()], 1e-5)
assert np.allclose(hs[[2, 4]], [1e-2, 1e-3])                 # h ten times smaller: the truncation error
assert 8 < one_sided[2] / one_sided[4] < 12                    # ... falls 10 times (like h) one-sided,
assert 80 < centred[2] / centred[4] < 120                      # ... 100 times (like h²) centred

# %% [markdown] slideshow={"slide_type": "subslide"}
# Two V shapes: on the right the truncation error (falling like h for one-sided, like h² for
# centred), on the left round-off (growing like 1/h). The bottoms are ragged: the round-off
# depends on the last digits of each h, so a single lowest point is partly luck (the one-sided
# difference's best, at h = 3·10⁻⁹, is such a lucky point; both differences meet there). Over
# the whole range 10⁻⁷ ≤ h ≤ 10⁻⁴ the centred difference stays below 10⁻⁹ and the one-sided
# one above it; the centred is best at h = 10⁻⁵. We use h = 10⁻⁵ below.
#
# `check_gradient(f, x, analytic, grad_output, h)` nudges every entry of x in turn, computes the
# centred difference of Σ f()·grad_output, and compares it with our analytic gradient a by a
# **relative error**, entry by entry: |a − n| / (|a| + |n|) for the numerical value n. One
# safeguard: the round-off of a centred difference is about 10⁻¹⁶·|f|/h in *every* entry, so an
# entry that is merely tiny (or exactly 0) would show a large ratio of its own. Entries smaller
# than a thousandth of the gradient's largest entry are therefore divided by that thousandth
# instead. The error is the largest of these ratios (`gradient_error` computes it); `check_gradient`
# returns it, and raises, naming the worst entry, if it is above 10⁻⁶. For each layer we pick a
# random input and a random "gradient from above" g, run backward, and check the gradient with
# respect to the input and to every parameter. The digits of such tiny errors depend on your CPU's
# arithmetic, so each is shown only as below 10⁻⁶ or not.

# %%
order = lambda err: "< 1e-6" if err < 1e-6 else f"{err:.1f}"   # noqa: E731
layers = {"Linear(6, 4)": (Linear(6, 4, rng=rng), rng.normal(size=(3, 6))),
          "Conv2d(2, 3, 3, stride=2, padding=1)": (Conv2d(2, 3, 3, stride=2, padding=1, rng=rng),
                                                   rng.normal(size=(2, 2, 7, 7))),
          "MaxPool2d(2)": (MaxPool2d(2), rng.normal(size=(2, 3, 6, 6)))}

# %% slideshow={"slide_type": "subslide"}
all_errors = []
for name, (layer, x_in) in layers.items():
    g = rng.normal(size=layer(x_in).shape)                 # a random d loss / d output
    layer.zero_grad()
    grad_in = layer.backward(g)
    errors = {"input": check_gradient(lambda: layer(x_in), x_in, grad_in, grad_output=g, h=1e-5)}
    for p_name, p in layer.named_parameters():
        errors[p_name] = check_gradient(lambda: layer(x_in), p.data, p.grad, grad_output=g, h=1e-5)
    all_errors += errors.values()
    print(f"{name:38s}", "  ".join(f"{k}: {order(e)}" for k, e in errors.items()))

# %% [markdown]
# And a loss, where the gradient starts: cross-entropy of 4 examples over 5 classes.

# %% slideshow={"slide_type": "subslide"}
logits, labels = rng.normal(size=(4, 5)), np.array([0, 3, 1, 4])
criterion = CrossEntropyLoss()
criterion(logits, labels)
err = check_gradient(lambda: cross_entropy(logits, labels), logits, criterion.backward(), h=1e-5)
print(f"{'CrossEntropyLoss':38s} input: {order(err)}")
all_errors.append(err)
assert 1e-12 < min(all_errors) and max(all_errors) < 1e-6

# %% [markdown]
# Every relative error is below 10⁻⁶, as the cell above asserts. What does a bug look like?
# Forget the 1/N of the mean in the cross-entropy's backward (N = 4 here), a classic. Every entry
# is then 4 times too large, and |4a − a| / (4a + a) = 0.6. A bug in one small entry shows too:
# double the entry of the smallest size, and it alone gives (2 − 1) / (2 + 1) ≈ 0.3 if it is
# above the floor (or its size over the floor, still far above 10⁻⁶, if it is below):

# %%
numeric = numerical_gradient(lambda: cross_entropy(logits, labels), logits, h=1e-5)
right = criterion.backward()
one_doubled = right.copy()
smallest = np.unravel_index(np.abs(right).argmin(), right.shape)
one_doubled[smallest] *= 2
errors = [gradient_error(grad, numeric) for grad in (right, 4 * right, one_doubled)]
print(f"correct backward: {order(errors[0])}   forgot 1/N: {order(errors[1])}   "
      f"smallest entry doubled ({abs(right[smallest]) / abs(right).max():.2f} of the largest): {order(errors[2])}")
assert errors[0] < 1e-6 and abs(errors[1] - 0.6) < 1e-6 and errors[2] > 0.3

# %% [markdown]
# `check_gradient` raises on both bugs. The relative error above 10⁻⁶ is what sends it to its
# error message, which names the worst entry:

# %%
try:
    check_gradient(lambda: cross_entropy(logits, labels), logits, one_doubled, h=1e-5, name="grad_logits")
except AssertionError as error:
    print(str(error).split(";")[0])
else:
    raise AssertionError("check_gradient passed a gradient with one entry doubled")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 5. Convolution's backward pass, derived
#
# The finite differences above say that `Conv2d.backward` is right; they do not say why. Take
# one channel in and one out, stride 1, no padding: y[i, j] = b + Σₐ Σ_c w[a, c] · x[i + a, j + c].
# Given g = ∂L/∂y, the chain rule sums over every output pixel that used the quantity:
#
# - **bias**: every y[i, j] holds b once, so ∂L/∂b = Σᵢⱼ g[i, j] (and over the batch);
# - **weight**: w[a, c] meets x[i + a, j + c] at output (i, j), so
#   ∂L/∂w[a, c] = Σᵢⱼ g[i, j] · x[i + a, j + c]: a (valid) **correlation of the input with g**;
# - **input**: x[p, q] meets w[p − i, q − j] at output (i, j), so
#   ∂L/∂x[p, q] = Σᵢⱼ g[i, j] · w[p − i, q − j]. The index runs backwards through w, which is
#   exactly what a true convolution does: this is the **full convolution of g with w** ("full":
#   over g padded by k − 1 zeros on each side, so every partial overlap counts). Written as a
#   sliding window, the way the code below computes it, the same sum is a **full correlation of g
#   with the filter rotated by 180°**. Convolution with w and correlation with the flipped w are one
#   operation under two names; "a convolution with the flipped filter" would flip twice.
#
# In one dimension NumPy has both operations, so PyTorch's input gradient of a 1-D correlation
# layer can be compared with each: `np.convolve` (a true convolution, which flips its second
# argument) with w itself, and `np.correlate` (which does not) with the flipped w:

# %%
x_1d = torch.tensor(rng.normal(size=7), requires_grad=True)
w_1d, g_1d = rng.normal(size=3), rng.normal(size=5)
torch.nn.functional.conv1d(x_1d[None, None], torch.tensor(w_1d)[None, None]).backward(torch.tensor(g_1d)[None, None])
assert_close(x_1d.grad.numpy(), np.convolve(g_1d, w_1d, mode="full"), rtol=1e-12)              # convolution, w
assert_close(x_1d.grad.numpy(), np.correlate(np.pad(g_1d, 2), w_1d[::-1], mode="valid"), rtol=1e-12)  # correlation, flipped w
assert not np.allclose(x_1d.grad.numpy(), np.convolve(g_1d, w_1d[::-1], mode="full"))           # flipping twice is wrong
print("input gradient = full convolution of g with w = full correlation of g with the flipped w")

# %% [markdown]
# With several channels, sum over the output channels for ∂L/∂x and over the batch for ∂L/∂w.
# In plain NumPy, with sliding windows for the correlation:

# %% slideshow={"slide_type": "subslide"}
def correlate(a, k):
    """Valid correlation: out[..., i, j] = sum over (u, v) of a[..., i + u, j + v] * k[u, v]."""
    return np.einsum("...ijuv,uv->...ij", sliding_window_view(a, k.shape, axis=(-2, -1)), k)


x_c = rng.normal(size=(2, 3, 6, 6))                 # (N, C_in, H, W)
w_c = rng.normal(size=(4, 3, 3, 3))                 # (C_out, C_in, k, k)
out_c, cache_c = conv2d_forward(x_c, w_c, np.zeros(4), algorithm="im2col")
g_c = rng.normal(size=out_c.shape)                  # ∂L/∂y, (N, C_out, 4, 4)

# %% slideshow={"slide_type": "subslide"}
k = 3
g_full = np.pad(g_c, ((0, 0), (0, 0), (k - 1, k - 1), (k - 1, k - 1)))   # (N, C_out, 8, 8)
grad_x = np.array([[sum(correlate(g_full[n, o], w_c[o, c, ::-1, ::-1]) for o in range(4))
                    for c in range(3)] for n in range(2)])                # full correlation, flipped w
grad_w = np.array([[sum(correlate(x_c[n, c], g_c[n, o]) for n in range(2))
                    for c in range(3)] for o in range(4)])                # input correlated with g
grad_b = g_c.sum(axis=(0, 2, 3))                                          # a sum over batch and positions
for mine, reference in zip((grad_x, grad_w, grad_b), conv2d_backward(g_c, cache_c)):
    assert_close(mine, reference, rtol=1e-10)
print("grad_input, grad_weight, grad_bias: the three formulas agree with conv2d_backward")

# %% [markdown] slideshow={"slide_type": "subslide"}
# **Stride and padding.** With stride s, output (i, j) reads the window at (s·i, s·j): the same
# formulas hold for g **dilated**, with s − 1 zeros inserted between its entries (the positions
# the strided convolution skipped), then padded to the size a stride-1 output would have. With
# padding p, the formulas give the gradient of the padded input; the gradient of x is its centre,
# the border of width p cropped off. For stride 2 and padding 1:

# %% slideshow={"slide_type": "subslide"}
s, p = 2, 1
x_s = rng.normal(size=(1, 2, 7, 7))
w_s = rng.normal(size=(3, 2, 3, 3))
out_s, cache_s = conv2d_forward(x_s, w_s, np.zeros(3), stride=s, padding=p, algorithm="im2col")
g_s = rng.normal(size=out_s.shape)                  # (1, 3, 4, 4)

# %% slideshow={"slide_type": "subslide"}
x_pad = np.pad(x_s, ((0, 0), (0, 0), (p, p), (p, p)))             # (1, 2, 9, 9)
g_dil = np.zeros((1, 3, 9 - k + 1, 9 - k + 1))                    # a stride-1 output: (1, 3, 7, 7)
g_dil[:, :, ::s, ::s] = g_s                                       # s - 1 zeros between entries
g_full = np.pad(g_dil, ((0, 0), (0, 0), (k - 1, k - 1), (k - 1, k - 1)))
grad_x_pad = np.array([[sum(correlate(g_full[0, o], w_s[o, c, ::-1, ::-1]) for o in range(3))
                        for c in range(2)]])
grad_x = grad_x_pad[:, :, p:-p, p:-p]                             # crop the padding
grad_w = np.array([[correlate(x_pad[0, c], g_dil[0, o]) for c in range(2)] for o in range(3)])
for mine, reference in zip((grad_x, grad_w, g_s.sum(axis=(0, 2, 3))), conv2d_backward(g_s, cache_s)):
    assert_close(mine, reference, rtol=1e-10)
print("stride 2, padding 1: dilated g, flipped filter, cropped border: agree with conv2d_backward")

# %% [markdown] slideshow={"slide_type": "subslide"}
# The steps for one output channel and one input channel of that example: the output gradient,
# the same spread out by the stride, the gradient of the padded input (the full correlation of all
# three output channels' gradients with their flipped filters, summed), and its centre, the
# gradient of x.
# The gradient maps sum many terms and are larger than g, so each panel has its own colour
# scale, symmetric about 0 (white).

# %% alt="Four signed heat maps, blue negative and red positive, for the backward pass of a stride-2, padding-1 convolution: the 4 by 4 output gradient g, the same spread to 7 by 7 with zeros between its entries, the 9 by 9 gradient of the padded input, and its 7 by 7 centre, the gradient of x, each on its own colour scale." caption="Each panel has its own colour scale, symmetric about 0 (white): red positive, blue negative." slideshow={"slide_type": "subslide"}
show_signed_maps({"g = ∂L/∂y (channel 0)": g_s[0, 0], "g dilated by stride 2": g_dil[0, 0],
                  "∂L/∂x_pad (channel 0)": grad_x_pad[0, 0], "∂L/∂x: border cropped": grad_x[0, 0]},
                 title="convolution backward, stride 2, padding 1 (each panel its own scale)", shared=False)
plt.show()

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Summary
#
# - **Back-propagation** is the chain rule applied from the loss backwards: every layer
#   multiplies the gradient arriving from above by its own local derivative. For y = Wx the
#   weight gradient is (gradient of y)·xᵀ; ReLU lets the gradient through only where its input
#   was positive; σ multiplies it by σ(1 − σ).
# - The lecture's ∂L/∂W = ∂L/∂σ(y) · ∂σ(y)/∂y · ∂y/∂W is correct but its Jacobians are huge and
#   mostly zeros (3·10¹¹ numbers for one layer on a 640×480 image); backward functions compute the
#   product without forming them.
# - A backward pass is checked against **centred differences**, whose error falls like h² until
#   round-off takes over; with h = 10⁻⁵ our Linear, Conv2d, MaxPool2d and cross-entropy agree
#   with them to relative errors below 10⁻⁶, and a forgotten 1/N (with N = 4) shows up as a
#   relative error of 0.6.
# - On a graph, gradients **add** where a value forks into several uses; the add gate copies the
#   gradient, the multiply gate scales it by the other input, the max gate routes it to the winner.
# - A convolution's gradients are convolutions too: for the input, the output gradient (dilated
#   by the stride) in a full convolution with the filter, which is a full correlation with the
#   filter rotated by 180°, then cropped by the padding; for the weight, the input correlated with
#   the output gradient; for the bias, a sum.
# - In the exercises below you write that backward pass as loops and vectorized, check each against
#   finite differences yourself, and train a 3×3 filter with your own forward and backward passes
#   until it becomes the Sobel filter; notebook 07 trains LeNet-5 with them.
#
# ## Exercises
#
# **Exercise 1.** Write `two_layer_backward(x, W1, W2, t)` for f = W₂·max(0, W₁x) and
# L = ‖f − t‖², with x of shape (n,), W₁ (hidden, n), W₂ (m, hidden) and t (m,): return
# (∂L/∂W₁, ∂L/∂W₂), each with the shape of its weight. Go step by step as in section 1: h, a, f,
# then ∂L/∂f, ∂L/∂W₂, ∂L/∂a, ∂L/∂h, ∂L/∂W₁. Leave the inputs unchanged; NumPy only
# (a call of `cnnlib` or PyTorch fails). The check compares yours with `cnnlib`'s layer functions
# (linear, ReLU, squared error) on 14 small cases, one with every hidden unit switched off, to a
# relative error of 10⁻⁶.
#
# Before the checker's verdict, check your gradients yourself, as section 4 checked the layers: the
# cell after the exercise compares them with centred differences of L on the network of section 1.
# It asks you for `good_below`, the largest relative error you would still call a match. Section 4
# measured what to expect: a right gradient's relative error was round-off, below 10⁻⁶, and the bugs
# gave 0.3 and 0.6. Choose a number between round-off's 10⁻⁶ and the bugs' 0.3 (the check calls
# anything above 10⁻³ too lenient), and say to yourself why.

# %% tags=["exercise"] slideshow={"slide_type": "subslide"}
def two_layer_backward(x, W1, W2, t):
    raise NotImplementedError  # your code here: return dL_dW1, dL_dW2

# %% tags=["solution"] jupyter={"source_hidden": true} slideshow={"slide_type": "skip"}
def two_layer_backward(x, W1, W2, t):
    assert x.ndim == 1, "one example: x of shape (n,)"
    h = W1 @ x                                     # (hidden,)
    a = np.maximum(0, h)
    dL_df = 2 * (W2 @ a - t)                       # (m,)
    dL_dh = (W2.T @ dL_df) * (h > 0)               # (hidden,): the ReLU gate
    return np.outer(dL_dh, x), np.outer(dL_df, a)

# %% tags=["selfcheck"]
# good_below: the largest relative error you would still call a match (see the question)
W1_check, W2_check = W1.copy(), W2.copy()          # nudged one entry at a time by the check
gradient_check_yours(lambda: two_layer_backward(x, W1_check, W2, t)[0],
                     lambda: np.sum((W2 @ np.maximum(0, W1_check @ x) - t) ** 2), W1_check,
                     good_below=1e-6, name="dL_dW1")
gradient_check_yours(lambda: two_layer_backward(x, W1, W2_check, t)[1],
                     lambda: np.sum((W2_check @ np.maximum(0, W1 @ x) - t) ** 2), W2_check,
                     good_below=1e-6, name="dL_dW2")

# %% tags=["check"]
_ = check_two_layer_backward(two_layer_backward)

# %% [markdown]
# **Exercise 2.** Write the convolution's backward pass as loops:
# `conv2d_backward_loops(grad_output, x, weight, stride, padding)` returns
# (grad_input, grad_weight, grad_bias) for out = conv2d(x, weight, bias, stride, padding) with a
# square filter and int stride and padding. Each output pixel (n, o, i, j) sends
# grad_output[n, o, i, j] back to the window of the padded input it read, to filter o and to
# bias o. Where the last step of the stride did not fit, the forward pass rounded down (notebook 02):
# the input pixels it never read get a zero gradient. Leave the inputs unchanged. The checker compares
# yours with `conv2d_backward` on 25 small cases (a batch of one, non-square images, a stride larger
# than the filter, negative values, examples of very different scale, float32 inputs, and notebook
# 07's LeNet-5 layers) to a relative error of 10⁻⁶ (float32 results at float32 precision), NumPy only
# (a call of `cnnlib`, its `conv2d_forward` included, or PyTorch fails). The cell after the exercise is your own check
# first, with stride 2 and padding 1, for the input and for the weight: pick your `good_below` as
# for Exercise 1.

# %% tags=["exercise"]
def conv2d_backward_loops(grad_output, x, weight, stride, padding):
    raise NotImplementedError  # your code here: return grad_input, grad_weight, grad_bias

# %% tags=["solution"] jupyter={"source_hidden": true} slideshow={"slide_type": "skip"}
def conv2d_backward_loops(grad_output, x, weight, stride, padding):
    n_batch, c_out, h_out, w_out = grad_output.shape
    k, s, p = weight.shape[2], stride, padding
    x_pad = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    grad_pad, grad_weight = np.zeros_like(x_pad), np.zeros_like(weight)
    for n in range(n_batch):
        for o in range(c_out):
            for i in range(h_out):
                for j in range(w_out):
                    g = grad_output[n, o, i, j]
                    window = (n, slice(None), slice(i * s, i * s + k), slice(j * s, j * s + k))
                    grad_weight[o] += g * x_pad[window]
                    grad_pad[window] += g * weight[o]
    grad_input = grad_pad[:, :, p:p + x.shape[2], p:p + x.shape[3]]   # crop the padding
    assert grad_input.shape == x.shape
    return grad_input, grad_weight, grad_output.sum(axis=(0, 2, 3))

# %% tags=["selfcheck"]
# good_below: the largest relative error you would still call a match (Exercise 1 says how to choose)
x_chk, w_chk, g_chk = rng.normal(size=(2, 2, 5, 4)), rng.normal(size=(3, 2, 3, 3)), rng.normal(size=(2, 3, 3, 2))
gradient_check_yours(lambda: conv2d_backward_loops(g_chk, x_chk, w_chk, 2, 1)[0],
                     lambda: conv2d_forward(x_chk, w_chk, np.zeros(3), stride=2, padding=1)[0], x_chk,
                     grad_output=g_chk, good_below=1e-6, name="grad_input")
gradient_check_yours(lambda: conv2d_backward_loops(g_chk, x_chk, w_chk, 2, 1)[1],
                     lambda: conv2d_forward(x_chk, w_chk, np.zeros(3), stride=2, padding=1)[0], w_chk,
                     grad_output=g_chk, good_below=1e-6, name="grad_weight")

# %% tags=["check"]
_ = check_conv2d_backward(conv2d_backward_loops)

# %% [markdown] slideshow={"slide_type": "subslide"}
# **Exercise 3.** Write the same backward pass vectorized:
# `conv2d_backward_im2col(grad_output, x, weight, stride, padding)`, with the same arguments, results
# and rules as Exercise 2, but **without a Python loop over the batch or the output pixels**. Two ways
# that work: im2col (the patches as the rows of a matrix, as in notebook 02: grad_weight is one matrix
# product, and the patches' gradients go back to the pixels they came from with `np.add.at`, because
# where windows overlap a pixel receives several of them), or a loop over the filter's $k \times k$
# offsets only, each step one product over the batch and all output pixels. Notebook 07 trains
# LeNet-5 with it, on mini-batches; the check compares numbers only, on Exercise 2's 25 cases, so it
# cannot see your loops: keep to the rule yourself. Your own gradient check comes first again, on
# Exercise 2's input.

# %% tags=["exercise"]
def conv2d_backward_im2col(grad_output, x, weight, stride, padding):
    raise NotImplementedError  # your code here: return grad_input, grad_weight, grad_bias

# %% tags=["solution"] jupyter={"source_hidden": true} slideshow={"slide_type": "skip"}
def conv2d_backward_im2col(grad_output, x, weight, stride, padding):
    k, s, p = weight.shape[2], stride, padding
    h_out, w_out = grad_output.shape[2:]
    x_pad = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    grad_pad, grad_weight = np.zeros_like(x_pad), np.zeros_like(weight)
    for a in range(k):                                  # the filter's offsets: k * k steps
        for b in range(k):
            rows, cols = slice(a, a + s * h_out, s), slice(b, b + s * w_out, s)   # pixels under w[:, :, a, b]
            grad_weight[:, :, a, b] = np.einsum("nohw,nchw->oc", grad_output, x_pad[:, :, rows, cols], optimize=True)
            grad_pad[:, :, rows, cols] += np.einsum("nohw,oc->nchw", grad_output, weight[:, :, a, b], optimize=True)
    grad_input = grad_pad[:, :, p:p + x.shape[2], p:p + x.shape[3]]   # crop the padding
    return grad_input, grad_weight, grad_output.sum(axis=(0, 2, 3))

# %% tags=["selfcheck"]
# good_below: the largest relative error you would still call a match (Exercise 1 says how to choose)
gradient_check_yours(lambda: conv2d_backward_im2col(g_chk, x_chk, w_chk, 2, 1)[0],
                     lambda: conv2d_forward(x_chk, w_chk, np.zeros(3), stride=2, padding=1)[0], x_chk,
                     grad_output=g_chk, good_below=1e-6, name="grad_input")
gradient_check_yours(lambda: conv2d_backward_im2col(g_chk, x_chk, w_chk, 2, 1)[1],
                     lambda: conv2d_forward(x_chk, w_chk, np.zeros(3), stride=2, padding=1)[0], w_chk,
                     grad_output=g_chk, good_below=1e-6, name="grad_weight")

# %% tags=["check"]
_ = check_conv2d_backward_im2col(conv2d_backward_im2col)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Your forward and backward passes, training
#
# With a forward pass (notebook 02's `conv2d_im2col`) and a backward pass (Exercise 3) a convolution
# can learn. Give a layer of one 3×3 filter, starting from zeros, four random 8×8 images, and as
# targets what the Sobel x filter of notebook 02 makes of them. The loss is the mean squared
# difference; each step computes the output with your forward pass, the gradient with your backward
# pass, and moves the weight and the bias against that gradient with a learning rate of 0.2 (plain
# gradient descent, notebook 06).
# The table says whose layers run: yours once their checks have passed, `cnnlib`'s until then.

# %% slideshow={"slide_type": "subslide"}
layers = my_layers("conv2d_im2col", "conv2d_backward_im2col")
images_8 = rng.normal(size=(4, 1, 8, 8))
sobel_x = np.array([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]])[None, None]   # (1, 1, 3, 3)
targets = conv2d_forward(images_8, sobel_x, np.zeros(1), stride=1, padding=1)[0]        # (4, 1, 8, 8)
w_learned, b_learned, losses = np.zeros((1, 1, 3, 3)), np.zeros(1), []

# %% slideshow={"slide_type": "subslide"}
for step in range(60):
    out = layers.conv2d_im2col(images_8, w_learned, b_learned, 1, 1)        # your forward pass
    losses.append(np.mean((out - targets) ** 2))
    grad_out = 2 * (out - targets) / out.size                               # dL/d(out) for the mean
    _, grad_w, grad_b = layers.conv2d_backward_im2col(grad_out, images_8, w_learned, 1, 1)   # yours
    w_learned, b_learned = w_learned - 0.2 * grad_w, b_learned - 0.2 * grad_b
assert losses[-1] < losses[30] < losses[0] and losses[-1] < 1e-8    # (1e-8: float32 layers reach it too)
assert_close(w_learned, sobel_x, atol=1e-4)
print(f"loss {losses[0]:.2f} at the start, below 1e-8 after 60 steps; the learned filter:")
print(np.round(w_learned[0, 0], 3) + 0.0)
