# %% [markdown] slideshow={"slide_type": "slide"}
# # 01 · Neural networks and activation functions
#
# Nobody knows how to write down the function that takes the pixels of a photograph and answers
# "dog" (+1) or "not a dog" (−1). A neural network does not try to: it chains many simple
# functions and lets training choose their numbers. This notebook builds that chain from
# the bottom.
#
# **What you will learn**
#
# - the linear score $f = Wx$ and the two-layer network $f = W_2\max(0, W_1x)$, computed with `cnnlib`;
# - why a non-linearity is needed: without one, any stack of linear layers is a single matrix;
# - six activation functions (sigmoid, tanh, ReLU, leaky ReLU, maxout, ELU), each drawn with its
#   derivative *as the backward pass computes it*;
# - saturation (the slopes of sigmoid and tanh fading on their flat tails) and what it does to the
#   gradient of a deep stack, measured;
# - why the weights' initial scale and the activation must be chosen together: Glorot/Xavier for
#   tanh, He for ReLU, and PyTorch's default, which is neither;
# - dead ReLU units, and what a negative slope (leaky ReLU, ELU) changes;
# - the fully connected layer $y = Wx$, its shapes, and why it is far too big for images;
# - and you write ReLU (both ways), sigmoid's backward pass and the fully connected layer (both ways)
#   yourself, check your gradients against finite differences, and run a small network on your own layers.

# %% slideshow={"slide_type": "skip"}
import matplotlib.pyplot as plt
import numpy as np
import torch

from cnnlib.device import env_report
from cnnlib.exercises.nb01 import check_collapsed_matrix, check_fc_parameters, check_sigmoid_depth
from cnnlib.exercises.my_layers import my_layers
from cnnlib.exercises.nb01 import check_linear_backward, check_linear_forward, check_sigmoid_backward
from cnnlib.exercises.nb01 import check_relu_backward, check_relu_forward, collapse_exercise_weights
from cnnlib.exercises.selfcheck import gradient_check_yours
from cnnlib.init_scale import SCHEMES, deep_stack, gradient_kept, gradient_sizes, init_std
from cnnlib.numpy_nn.activation import ELU, LeakyReLU, Maxout, ReLU, Sigmoid, Tanh, sigmoid, tanh
from cnnlib.numpy_nn.linear import Linear
from cnnlib.numpy_nn.module import Sequential
from cnnlib.testing import assert_close
from cnnlib.viz.activations import curve_and_slope, dead_unit_fraction, plot_activations
from cnnlib.viz.activations import plot_gradient_by_depth, plot_unit_activity
from cnnlib.widgets import activation_explorer
# %config InlineBackend.figure_formats = ['png']

# %%
rng = np.random.default_rng(0)
plt.rcParams["figure.dpi"] = 150              # figures that read on a laptop screen
_ = torch.manual_seed(0)
print(env_report())

# %% [markdown] slideshow={"slide_type": "slide"}
# ## What a vision system is asked to compute
#
# A camera gives a grid of numbers. What we want from it is high-level information that is not
# written in any single pixel: how far away each surface is (**depth**), what moves and how
# (**motion**), which things are in the picture (**object classes**: a dog, a car), and how they are
# turned and placed (**object poses**). Our own visual system does all of this as we look;
# computational perception tries to do it with functions we can compute and train.
#
# Neural networks started as a model of the brain's neurons, but they are used here for a plainer
# reason. We do not know the form of the function from pixels to "dog", so we build one out of
# many simple functions, each easy to compute and to differentiate, and let training set their
# numbers. The rest of this series is about which simple functions (convolutions, pooling,
# activations), how to train them (losses, back-propagation, optimizers) and how the classic
# networks put them together.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 1. A network is a chain of simple functions
#
# The simplest useful function of an input vector $x$ (its $n$ numbers in a column) is a
# **linear score**: $f = Wx$. Each row of the $m \times n$ matrix $W$ weighs the $n$ inputs
# and adds them up, giving one score per class, $m$ in all.
#
# `cnnlib.numpy_nn.Linear` holds such a $W$ in `weight`, stored like PyTorch's as
# `(out_features, in_features)` $= (m, n)$. Like PyTorch it takes a *batch* of inputs as
# rows, `(N, n)`, rather than one column; one column $x$ is the batch $x^T$ with $N = 1$.

# %%
x = rng.normal(size=(4, 1))                   # one input, a column: n x 1 with n = 4
score = Linear(4, 3, bias=False, rng=rng)     # W is m x n = 3 x 4
f = score.weight.data @ x                     # the formula f = Wx: 3 x 1
assert_close(score(x.T), f.T)                 # the layer on the row x^T gives the same scores
print("x:", x.shape, " W:", score.weight.shape, " f:", f.shape, " scores:", np.round(f.ravel(), 4))

# %% [markdown] slideshow={"slide_type": "subslide"}
# A **two-layer network** puts a second linear map after the first, with a simple
# non-linear function in between, the rectified linear unit $\max(0, \cdot)$ applied to every
# entry:
#
# $$f = f_2(f_1(x)) = W_2 \max(0, W_1 x).$$
#
# Here $W_1$ takes the 4 inputs to 5 hidden numbers and $W_2$ takes those to 3 scores.
# `Sequential` applies its layers in order, so the code reads like the formula from right to left.

# %%
net = Sequential(Linear(4, 5, bias=False, rng=rng), ReLU(), Linear(5, 3, bias=False, rng=rng))
W1, W2 = net[0].weight.data, net[2].weight.data
by_hand = W2 @ np.maximum(0, W1 @ x)          # W2 max(0, W1 x), a 3 x 1 column
assert_close(net(x.T), by_hand.T)
print(net)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 2. Why the non-linearity?
#
# Take the $\max(0,\cdot)$ out and the chain collapses: $W_3(W_2(W_1x)) = (W_3W_2W_1)\,x$.
# Three linear layers compute exactly what one $3 \times 4$ matrix computes, so depth buys
# nothing. (With biases it is the same story: $W_3(W_2(W_1x + b_1) + b_2) + b_3 =
# (W_3W_2W_1)\,x + (W_3W_2b_1 + W_3b_2 + b_3)$, still one $Wx + b$.)

# %%
linear_stack = Sequential(*[Linear(i, o, bias=False, rng=rng) for i, o in [(4, 8), (8, 8), (8, 3)]])
W = linear_stack[2].weight.data @ linear_stack[1].weight.data @ linear_stack[0].weight.data
batch = rng.normal(size=(100, 4))             # 100 inputs as rows
assert_close(linear_stack(batch), batch @ W.T)
print("three layers, (8, 4) (8, 8) (3, 8), are one matrix of shape", W.shape)

# %% [markdown]
# A linear function also has to respect sums: $f(a + b) = f(a) + f(b)$. The stack does; the
# network with a ReLU inside does not, and that freedom is what lets it bend its decision
# boundaries around the data.

# %% slideshow={"slide_type": "subslide"}
a, b = rng.normal(size=(2, 1, 4))
additive = {"linear stack": np.allclose(linear_stack(a + b), linear_stack(a) + linear_stack(b)),
            "with ReLU": np.allclose(net(a + b), net(a) + net(b))}
assert additive == {"linear stack": True, "with ReLU": False}
print(additive)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 3. Six activation functions
#
# ReLU is one choice of non-linearity among many. The ones to know:
#
# | name | formula |
# | --- | --- |
# | sigmoid | $\sigma(x) = 1/(1 + e^{-x})$ |
# | tanh | $\tanh(x) = (e^{2x} - 1)/(e^{2x} + 1)$ |
# | ReLU | $\max(0, x)$ |
# | leaky ReLU | $\max(0.1x, x)$ in the lecture; PyTorch's default slope is 0.01 |
# | maxout | $\max(w_1^Tx + b_1,\ w_2^Tx + b_2)$ |
# | ELU | $x$ for $x > 0$, $\alpha(e^x - 1)$ for $x \le 0$ |
#
# Each is a `cnnlib` module with a `forward` and a `backward`. The dashed curves below are
# not derived by hand: `curve_and_slope` runs the layer's **backward pass** with an upstream
# gradient of 1, which for an element-wise function returns exactly $f'(x)$.
#
# Maxout has weights of its own. With one input and two pieces it is the larger of two lines;
# here $\max(x,\ -0.5x - 1)$, a bent line whose shape training would choose.

# %% alt="Six panels, one per activation on x from -4 to 4: sigmoid, tanh, ReLU, leaky ReLU with slope 0.1, maxout max(x, -0.5x - 1) and ELU with alpha 1, each drawn as a solid curve f(x) with its slope f'(x) from the backward pass dashed. Sigmoid's slope peaks at 0.25 and tanh's at 1, and both fade to zero on the flat tails; ReLU's slope is exactly 0 or 1; leaky ReLU keeps 0.1 for negative x; ELU bends smoothly down to -1." slideshow={"slide_type": "subslide"}
maxout = Maxout(1, 1, pieces=2)
maxout.weight.data[:] = [[1.0], [-0.5]]      # w1 = 1, w2 = -0.5
maxout.bias.data[:] = [0.0, -1.0]            # b1 = 0, b2 = -1
activations = {"sigmoid": Sigmoid(), "tanh": Tanh(), "ReLU": ReLU(),
               "leaky ReLU, slope 0.1": LeakyReLU(0.1), "maxout max(x, -0.5x - 1)": maxout,
               "ELU, alpha = 1": ELU(alpha=1.0)}
fig = plot_activations(activations)
plt.show()

# %% [markdown] slideshow={"slide_type": "subslide"}
# What to look at: sigmoid squashes everything into $(0, 1)$ and its slope never exceeds
# $1/4$; tanh squashes into $(-1, 1)$ with slope 1 at the origin; both slopes die away on the
# flat tails. ReLU's slope is exactly 1 or exactly 0. Leaky ReLU keeps a small slope for
# $x < 0$; ELU curves smoothly down to $-\alpha$.
#
# The lecture writes tanh with exponentials. That form and `np.tanh` agree, and tanh is
# nothing but a sigmoid stretched to $(-1, 1)$: $\tanh(x) = 2\sigma(2x) - 1$.

# %%
xs = np.linspace(-5, 5, 101)
e2x = np.exp(2 * xs)
assert_close(tanh(xs), (e2x - 1) / (e2x + 1))
assert_close(tanh(xs), 2 * sigmoid(2 * xs) - 1)
print("tanh(1) =", round(float(tanh(1.0)), 4), " (e^2 - 1)/(e^2 + 1) =", round((np.e**2 - 1) / (np.e**2 + 1), 4))

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Leaky ReLU: the lecture's 0.1 and PyTorch's 0.01
#
# The lecture's leaky ReLU is $\max(0.1x, x)$. `torch.nn.LeakyReLU()` (and `cnnlib`, which
# follows PyTorch) defaults to `negative_slope=0.01`, ten times smaller. Both are the same
# family; pass `negative_slope=0.1` to get the lecture's.

# %%
pts = np.array([-3.0, -1.0, 0.0, 2.0])
lecture, pytorch_default = LeakyReLU(negative_slope=0.1), LeakyReLU()
assert_close(lecture(pts), np.maximum(0.1 * pts, pts))
assert torch.nn.LeakyReLU().negative_slope == pytorch_default.negative_slope == 0.01
assert_close(pytorch_default(pts), torch.nn.functional.leaky_relu(torch.tensor(pts)).numpy())
print("x:                 ", pts)
print("lecture, slope 0.1: ", np.round(lecture(pts), 4))
print("PyTorch, slope 0.01:", np.round(pytorch_default(pts), 4))

# %% alt="Leaky ReLU on x from -4 to 2 in two panels: the lecture's negative slope 0.1 on the left and PyTorch's default 0.01 on the right, each with its slope dashed. For negative x the line is tilted slightly on the left and almost flat on the right, where the slope is 0.01 instead of 0.1; for positive x both are the identity with slope 1." slideshow={"slide_type": "subslide"}
fig = plot_activations({"lecture: negative_slope = 0.1": LeakyReLU(0.1),
                        "PyTorch default: negative_slope = 0.01": LeakyReLU()},
                       x=np.linspace(-4, 2, 301), ncols=2, panel_size=(4.2, 2.8))
plt.show()

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Maxout contains ReLU and leaky ReLU
#
# With the second line fixed at $0$ maxout *is* ReLU; with the second line $0.1x$ it is the
# lecture's leaky ReLU. Maxout learns which bend to use, at the price of a weight vector per line:
# twice the weights of one linear unit here.

# %%
for w2, same_as in [(0.0, ReLU()), (0.1, LeakyReLU(0.1))]:
    m = Maxout(1, 1, pieces=2)
    m.weight.data[:], m.bias.data[:] = [[1.0], [w2]], 0.0
    assert_close(m(xs[:, None]), same_as(xs[:, None]))
    assert m.weight.shape == (2, 1)           # two lines, one weight each: twice a linear unit's
    print(f"max(x, {w2:g}x) equals {type(same_as).__name__}: checked on {xs.size} points; weight {m.weight.shape}")

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### ELU's slope on the negative side
#
# For $x \le 0$, $f(x) = \alpha(e^x - 1)$ and $f'(x) = \alpha e^x = f(x) + \alpha$: the slope
# shrinks towards 0 as the output approaches its floor $-\alpha$. The backward pass agrees.

# %%
neg = np.linspace(-4, 0, 9)
y_elu, slope_elu = curve_and_slope(ELU(alpha=1.0), neg)
assert_close(slope_elu, y_elu + 1.0)
print("f(-4) =", round(float(y_elu[0]), 4), " f'(-4) =", round(float(slope_elu[0]), 4))

# %% [markdown] slideshow={"slide_type": "subslide"}
# **Your turn: ReLU, both ways.** Write
#
# - `relu_forward(x)`: $\max(0, x)$ for every entry of an array of any shape;
# - `relu_backward(grad_output, x)`: given the gradient of the loss with respect to ReLU's output
#   and the input `x` the layer saw, the gradient with respect to `x`. At exactly $x = 0$ take the
#   slope to be 0, as PyTorch does.
#
# The rules the checks enforce: return a new array (each check hands your function copies and fails
# it if it changes an input in place); float32 inputs are among the cases; every entry must match
# `cnnlib`'s to a relative $10^{-6}$ (a float32 result at float32 precision, a relative $10^{-4}$);
# NumPy only: a function that calls `cnnlib` or PyTorch fails the check. When a check passes, your function is kept in the folder
# `my_layers/` beside the notebooks, and section 6 runs a network on it.

# %% tags=["exercise"]
def relu_forward(x):
    raise NotImplementedError  # your code here


# %% tags=["solution"] jupyter={"source_hidden": true} slideshow={"slide_type": "skip"}
def relu_forward(x):
    return np.maximum(x, 0)                   # a new array; x is left as it was


# %% tags=["check"]
_ = check_relu_forward(relu_forward)


# %% [markdown]
# Then the backward pass. Before the checker's verdict, check it yourself, in the cell after your
# function: `gradient_check_yours` nudges each entry of `x` up and down by a tiny step, measures how
# $\sum$ relu(x)·g changes, and compares that slope with your gradient as a relative error. Finite differences and your formula
# round differently, so they almost never agree exactly: you must decide how large a relative error still counts as a match: set `good_below`
# to your answer, and be ready to say why. (Notebook 05, back-propagation, measures the errors that
# round-off and that a bug give.) The inputs avoid 0, where ReLU has no slope to measure.

# %% tags=["exercise"]
def relu_backward(grad_output, x):
    raise NotImplementedError  # your code here


# %% tags=["solution"] jupyter={"source_hidden": true} slideshow={"slide_type": "skip"}
def relu_backward(grad_output, x):
    return grad_output * (x > 0)              # slope 1 where x > 0, 0 elsewhere (x == 0 included)


# %% tags=["selfcheck"]
x_check = np.linspace(-2.05, 2.05, 12).reshape(3, 4)      # no entry at ReLU's kink
g_check = np.cos(np.arange(12.0)).reshape(3, 4)           # some upstream gradient
gradient_check_yours(lambda: relu_backward(g_check, x_check), lambda: np.maximum(x_check, 0), x_check,
                     grad_output=g_check, good_below=1e-6, name="grad_x")

# %% tags=["check"]
_ = check_relu_backward(relu_backward)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 4. Saturation: when the gradient vanishes
#
# Back-propagation multiplies the gradient by each layer's local slope. On the flat tails of
# sigmoid and tanh that slope is tiny, so almost nothing flows back: the unit is
# **saturated**. The numbers, from the backward pass:

# %%
points = np.array([0.0, 2.0, 5.0, 10.0])
_, s_slope = curve_and_slope(Sigmoid(), points)
_, t_slope = curve_and_slope(Tanh(), points)
for p, s, t in zip(points, s_slope, t_slope):
    print(f"x = {p:4.0f}:   sigmoid'(x) = {s:.2e}   tanh'(x) = {t:.2e}")
assert s_slope[0] == 0.25 and t_slope[0] == 1.0 and s_slope[-1] < 1e-4 and t_slope[-1] < 1e-8

# %% [markdown] slideshow={"slide_type": "subslide"}
# **Your turn: sigmoid's backward pass.** Write `sigmoid_backward(grad_output, x)`: given the
# gradient of the loss with respect to the layer's output and the input `x` the layer saw, return
# the gradient with respect to `x` (same shape, elementwise). The derivative of $\sigma$ can be
# written with $\sigma$ itself; work it out from $\sigma(x) = 1/(1+e^{-x})$. `sigmoid(x)` is imported
# for you (`cnnlib`'s, written to stay finite for any $x$). The check
# compares your function with `cnnlib`'s on 24 cases, $x = \pm 1000$ and float32 inputs among them;
# the rules are ReLU's (a new array, a relative $10^{-6}$), and the result must be finite. Your own
# gradient check runs first, as for ReLU: what relative error do you accept here?

# %% tags=["exercise"]
def sigmoid_backward(grad_output, x):
    raise NotImplementedError  # your code here


# %% tags=["solution"] jupyter={"source_hidden": true} slideshow={"slide_type": "skip"}
def sigmoid_backward(grad_output, x):
    s = sigmoid(x)                            # the forward output
    return grad_output * s * (1 - s)          # chain rule: upstream gradient times sigma'(x)


# %% tags=["selfcheck"]
gradient_check_yours(lambda: sigmoid_backward(g_check, x_check), lambda: sigmoid(x_check), x_check,
                     grad_output=g_check, good_below=1e-6, name="grad_x")

# %% tags=["check"]
_ = check_sigmoid_backward(sigmoid_backward)

# %% [markdown]
# Even at its best, $x = 0$, sigmoid passes on only a quarter of the gradient. Through ten
# sigmoid layers the sigmoids' slopes alone multiply it by at most $0.25^{10} \approx 10^{-6}$;
# the weights multiply it by factors of their own, which section 4b measures:

# %% slideshow={"slide_type": "subslide"}
print(f"0.25**10 = {0.25 ** 10:.2e}")
assert 0.25 ** 10 < 1e-6

# %% [markdown]
# To see it in a real stack, `deep_stack` builds ten `Linear(64, 64)` layers, each followed by
# the same activation; `gradient_sizes` sends a batch forward, a gradient of ones backward, and
# records the mean size of the gradient reaching each layer's input (both are a dozen lines of
# `cnnlib.init_scale`). The weights are the same random draws for the three activations, with
# standard deviation $\sqrt{2/64}$: the scale He et al. (2015) derived for ReLU networks. That
# choice favours ReLU; section 4b measures what other scales do.

# %% slideshow={"slide_type": "subslide"}
batch64, acts = rng.normal(size=(32, 64)), {"sigmoid": Sigmoid, "tanh": Tanh, "ReLU": ReLU}
grad_sizes = {name: gradient_sizes(deep_stack(act, "he"), batch64) for name, act in acts.items()}
print({name: f"{sizes[-1]:.1e}" for name, sizes in grad_sizes.items()})
sigmoid_factors = np.array(grad_sizes["sigmoid"][:-1]) / np.array(grad_sizes["sigmoid"][1:])
print(f"sigmoid: the gradient shrinks by a factor of {sigmoid_factors.min():.1f} to {sigmoid_factors.max():.1f} "
      f"per layer; at the first layer it is {grad_sizes['sigmoid'][-1] / grad_sizes['ReLU'][-1]:.1e} of ReLU's")

# %% alt="Mean absolute gradient, on a log scale, against the number of layers below the output (1 to 10) in a deep stack of sigmoid, tanh or ReLU layers with He's weight scale. Under sigmoid the gradient shrinks by a factor of 2.6 to 3.9 per layer, from about 0.3 one layer down to under 0.00001 ten layers down; under tanh and ReLU it stays near 1 all the way." slideshow={"slide_type": "subslide"}
fig = plot_gradient_by_depth(grad_sizes)
plt.show()

# %% slideshow={"slide_type": "subslide"}
assert grad_sizes["sigmoid"][-1] < 1e-4 * grad_sizes["ReLU"][-1]
assert grad_sizes["sigmoid"][-1] < 1e-4 * grad_sizes["tanh"][-1]
assert 2.5 < sigmoid_factors.min() and sigmoid_factors.max() < 4.5
assert 1e-6 < grad_sizes["sigmoid"][-1] / grad_sizes["ReLU"][-1] < 1e-5
assert 0.5 < grad_sizes["tanh"][-1] / grad_sizes["tanh"][0] < 2    # tanh's gradient does not fade here
assert 0.5 < grad_sizes["ReLU"][-1] / grad_sizes["ReLU"][0] < 2    # nor ReLU's

# %% [markdown] slideshow={"slide_type": "subslide"}
# The sigmoid stack loses a factor of 2.6 to 3.9 per layer (printed above); ten
# layers down the gradient is a few millionths of ReLU's. A weight's gradient is the gradient
# arriving at its layer's output times that layer's input, so with one learning rate for all
# layers the first layers' weights would barely move. Tanh does not fade at all at this scale: its
# slope is 1 at 0, and the inputs it sees here are moderate. ReLU passes the gradient through
# unchanged wherever a unit is on; the weights do the rest.
#
# ### 4b. Initialization and activation, together
#
# Why should the weights' scale decide this? Going back through a layer, the gradient's mean square
# is multiplied by $\text{fan\_out} \cdot \text{Var}(w)$ (64 terms, each through one weight) and
# then by the activation's mean squared slope: $1/2$ for ReLU, whose units are off half the time,
# close to 1 for tanh near 0, at most $1/16$ for sigmoid. The gradient keeps its size when the
# product is 1, which gives the two classic scales:
#
# - **Glorot and Bengio (2010)**, their eq. 16 ("Xavier"): $\text{Var}(w) = 2/(\text{fan\_in} +
#   \text{fan\_out})$, derived for activations with slope 1 at 0 such as tanh; $1/64$ here;
# - **He et al. (2015)**, their eq. 10: $\text{Var}(w) = 2/\text{fan\_in}$, derived for ReLU; $2/64$ here.
#
# PyTorch's own default for `Linear` and `Conv2d` is neither: weights uniform on
# $\pm 1/\sqrt{\text{fan\_in}}$, whose variance is $1/(3\,\text{fan\_in})$, a third of He's:

# %%
torch_weights = torch.nn.Linear(64, 64).weight.detach().numpy()     # (64, 64), PyTorch's default draw
assert np.abs(torch_weights).max() <= 1 / 8 and abs(torch_weights.var() * 3 * 64 - 1) < 0.1
print(f"torch.nn.Linear(64, 64): weights within ±1/8, variance {torch_weights.var():.4f}; "
      f"1/(3*64) = {1 / 192:.4f}; He: {init_std('he', 64, 64) ** 2:.4f}; Xavier: {init_std('xavier', 64, 64) ** 2:.4f}")

# %% [markdown] slideshow={"slide_type": "subslide"}
# The experiment again, now under the three scales, over five seeds of weights (the same draws,
# only the scale differs). Each entry is the gradient that reaches the first layer as a fraction
# of what the last layer gets, the median of the five seeds:

# %%
kept = {(scheme, name): gradient_kept(act, scheme, batch64, seeds=range(1, 6))
        for scheme in SCHEMES for name, act in acts.items()}
print(f"{'scale':8s}" + "".join(f"{name:>10s}" for name in acts))
for scheme in SCHEMES:
    print(f"{scheme:8s}" + "".join(f"{np.median(kept[scheme, name]):10.1e}" for name in acts))

# %% slideshow={"slide_type": "subslide"}
assert all(np.all(kept[scheme, "sigmoid"] < 1e-4) for scheme in SCHEMES)       # no scale here saves sigmoid
assert np.all(kept["torch", "tanh"] > 3 * kept["torch", "ReLU"])               # PyTorch's scale: tanh ahead, every seed
assert np.all(kept["torch", "tanh"] < 1e-2) and np.all(kept["torch", "ReLU"] < 1e-2)
assert np.all(kept["xavier", "tanh"] > 1.5 * kept["xavier", "ReLU"])           # Glorot's scale: tanh ahead, every seed
assert np.all((0.5 < kept["he", "ReLU"]) & (kept["he", "ReLU"] < 5))          # He's scale: ReLU keeps its gradient
print("in all 5 seeds: sigmoid below 1e-4 at every scale; at PyTorch's scale tanh keeps more than 3x ReLU's "
      "fraction; at Glorot's, more than 1.5x; at He's, ReLU keeps between 0.5 and 5")

# %% alt="Three panels of mean absolute gradient, on one log scale, against the number of layers below the output (1 to 10), for sigmoid, tanh and ReLU stacks with the same weight draws at three scales. PyTorch's default scale (std 0.072): tanh and ReLU both fade, tanh to about 0.003 and ReLU to about 0.0001 ten layers down, and sigmoid to about 0.000000002. Xavier's scale (std 0.125): tanh fades gently to about 0.2, ReLU to about 0.04. He's scale (std 0.177): tanh and ReLU stay near 1; sigmoid fades under all three. Which activation keeps its gradient depends on the scale." slideshow={"slide_type": "subslide"}
fig, axes = plt.subplots(1, 3, figsize=(12, 3.8), sharey=True)
for ax, (scheme, title) in zip(axes, {"torch": "PyTorch's default", "xavier": "Xavier", "he": "He"}.items()):
    plot_gradient_by_depth({name: gradient_sizes(deep_stack(act, scheme), batch64) for name, act in acts.items()}, ax=ax)
    ax.set_title(f"{title} scale\nstd {init_std(scheme, 64, 64):.3f}")
plt.show()

# %% [markdown] slideshow={"slide_type": "subslide"}
# The ranking of the activations is not a property of the activations alone. At PyTorch's default
# scale both tanh and ReLU lose most of their gradient over ten layers, and tanh keeps several
# times more than ReLU in every seed; at Glorot's scale tanh is still ahead; at He's scale ReLU
# keeps its gradient (it even grows, about twofold in the median), and so does tanh. Sigmoid fades
# under all three. So the activation and the
# initialization are chosen together: Xavier for tanh, He for ReLU. A comparison of activations
# that uses one scale for both (as the figure of section 4 did) has partly chosen its winner.
#
# ## 5. Dead ReLU units
#
# ReLU has its own failure. A unit whose input is negative for *every* example outputs 0 and
# has slope 0 everywhere it is used, so no gradient reaches its weights or its bias from those
# examples: gradient descent on them will not move the unit back. (It can come back only if the
# layers below change what it sees.) A bias pushed too far down (by a large update, say) is
# enough. Below: a
# `Linear(20, 100)` layer on a batch of 256 inputs, first as initialised, then with every
# bias lowered by 1.5.

# %%
inputs = rng.normal(size=(256, 20))
layer = Linear(20, 100, rng=rng)
healthy = ReLU()(layer(inputs))
layer.bias.data -= 1.5                       # a bad bias
relu = ReLU()
bad = relu(layer(inputs))
print(f"dead units: {dead_unit_fraction(healthy):.0%} as initialised, {dead_unit_fraction(bad):.0%} with the bad bias")

# %% alt="Two black-and-white maps of which ReLU units fire: 100 units across, 256 examples down, white where a unit fired. As initialised, 0% of the units never fire and the map is an even speckle; with every bias lowered by 1.5, 39% of the units never fire and show as solid red columns: dead units that get no gradient." caption="Each column is one unit, each row one example: white where the unit fired; a red column is a unit that fired for none of the 256 examples." slideshow={"slide_type": "subslide"}
fig = plot_unit_activity({"as initialised": healthy, "every bias lowered by 1.5": bad})
plt.show()

# %% [markdown] slideshow={"slide_type": "subslide"}
# Each column is one unit, each row one example: white where the unit fired, black where it
# did not. Red columns are units that fired for none of the 256 examples.
# The backward pass confirms that such a unit gets no gradient at all, for its weights or its bias:

# %% slideshow={"slide_type": "subslide"}
upstream = rng.normal(size=bad.shape)        # some gradient from the layers above
layer.zero_grad()
layer.backward(relu.backward(upstream))
dead = np.all(bad <= 0, axis=0)
assert np.all(layer.weight.grad[dead] == 0) and np.all(layer.bias.grad[dead] == 0)
assert np.all(np.abs(layer.weight.grad[~dead]).sum(axis=1) > 0)
print(f"{dead.sum()} dead units: weight and bias gradients exactly 0; the other {(~dead).sum()} all get some")

# %% [markdown]
# Leaky ReLU keeps a fixed slope for $x < 0$, so the same units still get a gradient. That is the
# reason Maas, Hannun and Ng (2013) give for it, in their section on rectifier nonlinearities: it "allows for a small, non-zero
# gradient when the unit is saturated and not active". ELU's slope for $x \le 0$, $\alpha e^x$, is
# not 0 either, though it fades on the far left. But its authors' stated aim was different: ELUs
# "push mean unit activations closer to zero", and "mean shifts toward zero speed up learning"
# (Clevert, Unterthiner and Hochreiter 2015, abstract). The same layer, the same bad biases, the
# same gradient from above:

# %% slideshow={"slide_type": "subslide"}
for act in (ReLU(), LeakyReLU(), ELU()):
    layer.zero_grad()
    act(layer(inputs))                                          # forward, so that backward has its cache
    layer.backward(act.backward(upstream))
    per_unit = np.abs(layer.weight.grad).sum(axis=1)            # (100,): how much each unit's weights get
    print(f"{type(act).__name__:9s}: {np.sum(per_unit == 0):2d} units get no gradient; the {dead.sum()} ReLU-dead "
          f"units get {per_unit[dead].mean() / per_unit[~dead].mean():.2f} of the others' mean")
    assert (np.sum(per_unit == 0) == dead.sum()) if isinstance(act, ReLU) else np.all(per_unit > 0)

# %% [markdown]
# Leaky ReLU's dead units get about a tenth of the others' gradient, ELU's most of it. ELU's other
# property, the one its authors were after, shows on standard normal inputs: its mean output is
# much closer to 0 than ReLU's or leaky ReLU's.

# %%
z = rng.normal(size=(10_000, 1))
means = {type(act).__name__: float(act(z).mean()) for act in (ReLU(), LeakyReLU(), ELU())}
assert abs(means["ELU"]) < 0.5 * min(means["ReLU"], means["LeakyReLU"])
print({name: round(m, 2) for name, m in means.items()})

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 6. The fully connected layer, and why it does not scale to images
#
# `Linear` is the **fully connected layer**: every output is connected to every input,
# $y = Wx$ with
#
# $$x: n \times 1, \qquad W: m \times n, \qquad y: m \times 1.$$

# %% slideshow={"slide_type": "subslide"}
n, m = 6, 4
fc = Linear(n, m, bias=False, rng=rng)
x_col = rng.normal(size=(n, 1))
y_col = fc.weight.data @ x_col
assert x_col.shape == (n, 1) and fc.weight.shape == (m, n) and y_col.shape == (m, 1)
print("x:", x_col.shape, " W:", fc.weight.shape, " y:", y_col.shape)

# %% [markdown] slideshow={"slide_type": "subslide"}
# **Your turn: the fully connected layer, both ways.** On a batch of rows, with a bias and the
# weight stored as PyTorch stores it,
#
# - `linear_forward(x, weight, bias)` takes `x` of shape `(N, in_features)`, `weight` of shape
#   `(out_features, in_features)` and `bias` of shape `(out_features,)`, and returns the
#   `(N, out_features)` outputs;
# - `linear_backward(grad_output, x, weight)` takes the gradient with respect to the outputs and
#   returns the tuple `(grad_input, grad_weight, grad_bias)`, each shaped like the thing it is the
#   gradient of.
#
# Write each output as a sum over inputs, then ask which inputs and weights each output touched.
# The checks use the rules of the exercises above (new arrays, a relative $10^{-6}$), on layers of
# many shapes: square ones, a batch of one, the two layers of the network in the cells after them, and
# the layers that 04 and 07 build from yours.

# %% tags=["exercise"]
def linear_forward(x, weight, bias):
    raise NotImplementedError  # your code here


# %% tags=["solution"] jupyter={"source_hidden": true} slideshow={"slide_type": "skip"}
def linear_forward(x, weight, bias):
    return x @ weight.T + bias                # out[n, o] = sum_i x[n, i] weight[o, i] + bias[o]


# %% tags=["check"]
_ = check_linear_forward(linear_forward)


# %% [markdown]
# Check `grad_input` and `grad_weight` yourself in the cell after your `linear_backward`,
# before the checker does (with the relative error you
# chose for ReLU, or another: why?). The forward pass here is the formula itself, so a mistake in
# your `linear_forward` cannot hide one in your backward pass.

# %% tags=["exercise"]
def linear_backward(grad_output, x, weight):
    raise NotImplementedError  # your code here


# %% tags=["solution"] jupyter={"source_hidden": true} slideshow={"slide_type": "skip"}
def linear_backward(grad_output, x, weight):
    grad_input = grad_output @ weight         # each input fed every output through weight[o, i]
    grad_weight = grad_output.T @ x           # weight[o, i] met x[n, i] in every sample n
    grad_bias = grad_output.sum(axis=0)       # every sample added the same bias[o]
    return grad_input, grad_weight, grad_bias


# %% tags=["selfcheck"]
w_check, b_check = np.cos(np.arange(8.0)).reshape(2, 4), np.array([0.5, -1.0])   # Linear(4, 2)
g_lin = np.sin(np.arange(6.0)).reshape(3, 2)                                      # (N, out) = (3, 2)
gradient_check_yours(lambda: linear_backward(g_lin, x_check, w_check)[0], lambda: x_check @ w_check.T + b_check,
                     x_check, grad_output=g_lin, good_below=1e-6, name="grad_input")
gradient_check_yours(lambda: linear_backward(g_lin, x_check, w_check)[1], lambda: x_check @ w_check.T + b_check,
                     w_check, grad_output=g_lin, good_below=1e-6, name="grad_weight")

# %% tags=["check"] slideshow={"slide_type": "subslide"}
_ = check_linear_backward(linear_backward)

# %% [markdown] slideshow={"slide_type": "subslide"}
# **Your layers at work.** `my_layers` loads the layers you have written and prints whose each one
# is: "yours" once its check has passed (the function kept in `my_layers/`), "cnnlib's" until then.
# Below they run a two-layer network like section 1's, now with 8 hidden units, biases and a batch:
# `Linear(4, 8)`, ReLU, `Linear(8, 3)` on 5 inputs, forward and then backward, against `cnnlib`'s
# `Sequential` holding the same weights.

# %%
layers = my_layers("linear_forward", "relu_forward", "linear_backward", "relu_backward")
net2 = Sequential(Linear(4, 8, rng=rng), ReLU(), Linear(8, 3, rng=rng))
(w1, b1), (w2, b2) = [(net2[k].weight.data, net2[k].bias.data) for k in (0, 2)]
x5 = rng.normal(size=(5, 4))                                  # 5 inputs as rows

# %% slideshow={"slide_type": "subslide"}
h_pre = layers.linear_forward(x5, w1, b1)                     # (5, 8)
h = layers.relu_forward(h_pre)
scores5 = layers.linear_forward(h, w2, b2)                    # (5, 3)
assert_close(scores5, net2(x5))
print("scores of the 5 inputs, from the layers above:\n", np.round(scores5, 3))

# %%
g5 = np.ones((5, 3))                                          # the gradient of scores5.sum()
grad_h, grad_w2, grad_b2 = layers.linear_backward(g5, h, w2)
grad_x5, grad_w1, grad_b1 = layers.linear_backward(layers.relu_backward(grad_h, h_pre), x5, w1)
net2.zero_grad()
assert_close(grad_x5, net2.backward(g5))
for mine, ref in [(grad_w1, net2[0].weight.grad), (grad_b1, net2[0].bias.grad),
                  (grad_w2, net2[2].weight.grad), (grad_b2, net2[2].bias.grad)]:
    assert_close(mine, ref)
print("gradients for the input, both weights and both biases: the same as cnnlib's Sequential")

# %% [markdown]
# Now feed it a photograph. A $640 \times 480$ grey-scale image flattened into $x$ has
# 307,200 entries. A fully connected layer with 1,000 outputs needs one weight per
# (input, output) pair:

# %%
n_pixels = 640 * 480
n_weights = n_pixels * 1000
assert n_pixels == 307_200
print(f"inputs {n_pixels:,}   weights {n_weights:,}   float32 bytes {n_weights * 4:,} "
      f"(= {n_weights * 4 / 1e9:.2f} GB; {n_weights * 4 * 3 / 1e9:.2f} GB for a colour image)")

# %% [markdown] slideshow={"slide_type": "subslide"}
# That arithmetic is not hypothetical. A real `Linear(307_200, 10)` in float32 holds one
# percent of those weights; scaled to 1,000 outputs it is the 1.23 GB above, for a
# single layer that has looked at a single, small photograph.

# %%
small = Linear(n_pixels, 10, dtype=np.float32, rng=rng)
assert small.weight.data.nbytes * 100 == n_weights * 4
print(f"Linear(307_200, 10): {small.weight.data.nbytes:,} bytes of weights, "
      f"{small.weight.data.nbytes / (n_weights * 4):.0%} of the 1,000-output layer's")

# %% [markdown]
# Every one of those weights is learned separately, from data. And nothing in the layer says that
# neighbouring pixels belong together, or that a pattern means the same wherever it appears: an
# edge detector learned at one position must be learned again, with other weights, at every
# other position. The next notebook, **02 · Convolution**, attacks both: a convolutional layer
# looks at small neighbourhoods and shares one small set of weights across all positions, so an
# input shifted by a few pixels gives the same response, shifted by as many (02 checks it). That is
# *equivariance*. Answering "still a cat" wherever the cat is, *invariance*, takes more: pooling
# (03) and the layers at the end of a network that look at the whole image.
#
# ## Interactive explorer
#
# Sliders for each activation's parameters, drawing $f$ and $f'$ as you move them.

# %% alt="The activation explorer in its default state: sigmoid on x from -5 to 5 on the left, an S-shaped curve from 0 to 1, and its slope on the right, a bump that peaks at 0.25 at x = 0 and fades to zero at both ends." caption="Try: pick tanh, ReLU, leaky ReLU or ELU from the menu and compare the largest slope each one reports; move the negative slope and alpha sliders." slideshow={"slide_type": "subslide"}
# NBVAL_IGNORE_OUTPUT
activation_explorer()

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Summary
#
# - A network is a chain of simple functions: linear maps $Wx$ with activations between them.
# - Without activations the chain is one matrix; the non-linearity is what depth is for.
# - Sigmoid and tanh saturate: their slopes (at most 0.25 and 1) vanish on the tails. Through ten
#   sigmoid layers the gradient fades at every weight scale measured; whether tanh's or ReLU's
#   fades depends on the scale.
# - Choose the initialization with the activation: Glorot/Xavier for tanh, He for ReLU. At
#   PyTorch's default scale (a third of He's variance) tanh kept more gradient than ReLU in every seed.
# - A ReLU unit stuck below 0 for every example gets no gradient; leaky ReLU (lecture 0.1, PyTorch
#   0.01) keeps one. ELU has a negative side too, but was designed to centre activations near 0.
# - A fully connected layer on a 640×480 image with 1,000 outputs has 307.2 million weights
#   (1.23 GB in float32): one reason for convolution.
# - You wrote ReLU (both ways), sigmoid's backward pass and the fully connected layer (both ways), and
#   checked your gradients against finite differences. Each function whose check passed is kept in
#   `my_layers/`; section 6 ran a small network on them, and 04 trains a classifier with your linear layer.
#
# ## Exercises
#
# **Exercise 1.** How many parameters (weights *and* biases) has a fully connected layer that
# maps a flattened $320 \times 240$ **colour** image to 100 outputs?

# %% tags=["exercise"]
answer = None  # your answer here

# %% tags=["solution"] jupyter={"source_hidden": true} slideshow={"slide_type": "skip"}
answer = 320 * 240 * 3 * 100 + 100           # one weight per (input, output) pair, one bias per output

# %% tags=["check"]
_ = check_fc_parameters(answer)

# %% [markdown] slideshow={"slide_type": "subslide"}
# **Exercise 2.** `collapse_exercise_weights()` returns $W_1$ (4×3), $W_2$ (5×4) and $W_3$ (2×5).
# Find the single matrix $W$ with $Wx = W_3(W_2(W_1x))$ for every $x$.

# %%
W1_ex, W2_ex, W3_ex = collapse_exercise_weights()

# %% tags=["exercise"]
answer = None  # your answer here

# %% tags=["solution"] jupyter={"source_hidden": true} slideshow={"slide_type": "skip"}
answer = W3_ex @ W2_ex @ W1_ex               # the first layer applied sits on the right

# %% tags=["check"]
_ = check_collapsed_matrix(answer)

# %% [markdown]
# **Exercise 3.** Each sigmoid multiplies the gradient by its slope, at most 0.25. Count the
# sigmoids' slopes alone (suppose the weights pass the gradient on at its size): what is the fewest
# number of sigmoid layers after which the gradient is certain to be below $10^{-9}$ of its size?
# (A whole number.)

# %% tags=["exercise"]
answer = None  # your answer here

# %% tags=["solution"] jupyter={"source_hidden": true} slideshow={"slide_type": "skip"}
answer = int(np.ceil(np.log(1e-9) / np.log(0.25)))    # 0.25**n < 1e-9  <=>  n > log(1e-9) / log(0.25)

# %% tags=["check"]
_ = check_sigmoid_depth(answer)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Further reading
#
# The lecture this series follows points to:
#
# - Stanford CS231n, lectures 3 and 4, and lecture 5 (convolutional neural networks):
#   cs231n.stanford.edu;
# - PyTorch's tutorial "Deep learning with PyTorch: a 60 minute blitz" (pytorch.org/tutorials);
# - "The matrix calculus you need for deep learning" (explained.ai/matrix-calculus), for the
#   derivatives of notebook 05;
# - the case-study papers AlexNet (Krizhevsky, Sutskever and Hinton, NIPS 2012), VGG (Simonyan and
#   Zisserman, arXiv:1409.1556) and GoogLeNet (Szegedy et al., arXiv:1409.4842).
#
# This notebook also cites:
#
# - X. Glorot and Y. Bengio, "Understanding the difficulty of training deep feedforward neural
#   networks", AISTATS 2010: the "normalized initialization", eq. 16;
# - K. He, X. Zhang, S. Ren and J. Sun, "Delving deep into rectifiers", arXiv:1502.01852 (2015):
#   the initialization for ReLU, eq. 10;
# - A. L. Maas, A. Y. Hannun and A. Y. Ng, "Rectifier nonlinearities improve neural network acoustic
#   models", ICML workshop 2013, the section "Rectifier nonlinearities": leaky ReLU;
# - D.-A. Clevert, T. Unterthiner and S. Hochreiter, "Fast and accurate deep network learning by
#   exponential linear units (ELUs)", arXiv:1511.07289 (2015), abstract: ELU.
