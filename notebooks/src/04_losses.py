# %% [markdown] slideshow={"slide_type": "slide"}
# # 04 · Loss functions
#
# Training needs one number that says how wrong the network is: the **loss**. Its gradient with
# respect to the network's output is where back-propagation starts. Which loss you pick depends on
# the task, and changes what the network is pushed to do.
#
# In this notebook you will:
#
# - compute the softmax **cross-entropy** L_CE = −Σ t_i log σ(y)_i by hand, with `cnnlib` and with
#   PyTorch, and see why it must be computed the stable way (logits of ±10⁴);
# - use the binary **hinge** loss max(0, 1 − t·y) and see what "margin" means;
# - compare the lecture's **multiclass hinge** (max over the wrong classes) with PyTorch's
#   `MultiMarginLoss` (a sum over the wrong classes divided by C): when they agree, when they don't;
# - plot the regression losses **L1**, **L2** and **smooth L1** with their gradients;
# - watch a single **outlier** drag a fitted constant and a fitted line, under each loss;
# - write the stable softmax cross-entropy and the smooth L1 loss yourself, each with its gradient.
#
# The losses come from `cnnlib.numpy_nn.loss` (NumPy, with a hand-written backward pass); PyTorch is
# the reference.

# %% slideshow={"slide_type": "skip"}
import warnings

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F

from cnnlib.device import env_report
from cnnlib.exercises.nb04 import DATA_3, LOGITS_1, SCORES_2, TARGET_1, TARGET_2
from cnnlib.exercises.nb04 import check_cross_entropy, check_multiclass_hinge, check_outlier_estimates
from cnnlib.exercises.nb04 import check_smooth_l1, check_softmax_cross_entropy
from cnnlib.numpy_nn.loss import CrossEntropyLoss, L1Loss, MSELoss, SmoothL1Loss
from cnnlib.numpy_nn.loss import cross_entropy, hinge_loss, l1_loss, mse_loss, smooth_l1_loss, softmax
from cnnlib.numpy_nn.loss import multi_margin_loss, multiclass_hinge_loss
from cnnlib.testing import assert_close
from cnnlib.viz.losses import plot_fits, plot_hinge, plot_loss_and_gradient
# %config InlineBackend.figure_formats = ['png']

# %% slideshow={"slide_type": "subslide"}
rng = np.random.default_rng(0)
plt.rcParams["figure.dpi"] = 150              # figures that read on a laptop screen
torch.manual_seed(0)
print(env_report())

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 1. Softmax cross-entropy
#
# A classifier's last layer outputs one raw score per class, the **logits** y (any real numbers).
# Softmax turns them into probabilities that are positive and sum to 1:
#
# $$\sigma(\mathbf y)_i = \frac{e^{y_i}}{\sum_j e^{y_j}}.$$
#
# The cross-entropy compares these probabilities with the ground truth t, a one-hot vector over
# the m classes (1 for the true class, 0 elsewhere):
#
# $$L_{CE} = -\sum_{i=0}^{m-1} t_i \log \sigma(\mathbf y)_i .$$
#
# With a one-hot t only the true class survives the sum: the loss is −log of the probability the
# network gives to the right answer. It is 0 when that probability is 1, and grows without bound
# as it goes to 0. By hand, for three classes where class 0 is the truth:

# %% slideshow={"slide_type": "subslide"}
y = np.array([2.0, 1.0, -1.0])    # logits for m = 3 classes
t = np.array([1.0, 0.0, 0.0])     # one-hot: the true class is 0
p = np.exp(y) / np.exp(y).sum()   # softmax
loss_by_hand = -(t * np.log(p)).sum()
print("softmax:", np.round(p, 4), "  L_CE =", round(loss_by_hand, 4))

# %% [markdown]
# `cnnlib`'s `cross_entropy` takes the logits of a batch, shape (N, C), and the target either as
# class probabilities (N, C), like the one-hot t above, or as class indices (N,), PyTorch's
# usual form. PyTorch's `F.cross_entropy` must agree with both:

# %%
ours_probabilities = cross_entropy(y[None], t[None])       # target: (N, C) probabilities
ours_indices = cross_entropy(y[None], np.array([0]))       # target: (N,) class indices
theirs = F.cross_entropy(torch.tensor(y[None]), torch.tensor([0])).item()
print(f"by hand {loss_by_hand:.6f} | cnnlib (one-hot) {ours_probabilities:.6f} | "
      f"cnnlib (index) {ours_indices:.6f} | PyTorch {theirs:.6f}")
assert_close([ours_probabilities, ours_indices, theirs], [loss_by_hand] * 3, rtol=1e-12)

# %% [markdown] slideshow={"slide_type": "subslide"}
# On a batch the default `reduction="mean"` averages the N per-example losses. The gradient with
# respect to the logits is strikingly simple, **softmax(y) − t** per example (divided by N for the
# mean): the loss pushes down every wrong class in proportion to its probability and pushes up the
# true class by what it is missing. The module's `backward()` returns it; PyTorch's autograd agrees.

# %%
logits = rng.normal(size=(4, 5))                      # (N, C)
labels = np.array([0, 3, 1, 4])                       # (N,)
criterion = CrossEntropyLoss()
loss = criterion(logits, labels)
grad = criterion.backward()                           # d loss / d logits, (N, C)
assert_close(grad, (softmax(logits) - np.eye(5)[labels]) / 4)

# %%
logits_t = torch.tensor(logits, requires_grad=True)
loss_t = F.cross_entropy(logits_t, torch.tensor(labels))
loss_t.backward()
assert_close(loss, loss_t.item(), rtol=1e-12)
assert_close(grad, logits_t.grad.numpy(), rtol=1e-10)
print(f"mean cross-entropy of the batch: {loss:.4f}")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 2. Numerical stability
#
# The formula above is fine on paper but not in floating point. e^{y} overflows float64 once
# y > 709 (the log of the largest float64, computed below), and logits in the thousands do occur
# (an untrained network with a large learning rate, say). Written naively, softmax of ±10⁴ gives
# inf / inf = nan:

# %%
print(f"largest float64 {np.finfo(np.float64).max:.3e}, its log {np.log(np.finfo(np.float64).max):.2f}")
assert 709 < np.log(np.finfo(np.float64).max) < 710
extreme = np.array([[1e4, -1e4, 0.0]])   # (N=1, C=3) logits
with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
    p_naive = np.exp(extreme) / np.exp(extreme).sum()
    naive_losses = -np.log(p_naive[0])
print("naive softmax:", p_naive[0], "  naive loss for each true class:", naive_losses)
assert not np.isfinite(naive_losses).any()

# %% [markdown] slideshow={"slide_type": "subslide"}
# The fix: softmax does not change when the same number is subtracted from every logit (it
# cancels between numerator and denominator). Subtract the largest logit first, so every exponent
# is ≤ 0 and every e^{…} lies in [0, 1]. Then compute the log directly:
# log σ(y)_i = (y_i − max y) − log Σ_j e^{y_j − max y}. This is what `cnnlib` (and PyTorch) do.
# Below, any overflow warning would be turned into an error:

# %% slideshow={"slide_type": "subslide"}
with warnings.catch_warnings():
    warnings.simplefilter("error")
    stable = [cross_entropy(extreme, np.array([c])) for c in range(3)]
    stable_torch = [F.cross_entropy(torch.tensor(extreme), torch.tensor([c])).item() for c in range(3)]
print("stable loss for each true class:", [float(v) + 0.0 for v in stable])
assert np.isfinite(stable).all() and stable == [0.0, 2e4, 1e4]
assert_close(stable, stable_torch)

# %% [markdown] slideshow={"slide_type": "subslide"}
# The results are what they should be: a logit of 10⁴ for the true class gives loss 0 (certainty),
# and a true class 2·10⁴ below the winner gives loss 2·10⁴.

# %% [markdown] slideshow={"slide_type": "subslide"}
# **Your turn: softmax cross-entropy and its gradient.** Write
# `softmax_cross_entropy(logits, labels)` for logits of shape `(N, C)` and class indices `labels`
# of shape `(N,)`. Return the pair `(loss, grad)`: the mean cross-entropy over the batch (a
# number), and its gradient with respect to the logits (shape `(N, C)`). It must stay finite for
# logits of ±10⁴. (Don't call `cross_entropy` or PyTorch; the check compares yours with
# `cnnlib`'s on 23 cases.)

# %% tags=["exercise"]
def softmax_cross_entropy(logits, labels):
    raise NotImplementedError  # your code here


# %% tags=["solution"] jupyter={"source_hidden": true} slideshow={"slide_type": "skip"}
def softmax_cross_entropy(logits, labels):
    n = len(labels)
    shifted = logits - logits.max(axis=1, keepdims=True)            # every exponent <= 0
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = -log_p[np.arange(n), labels].mean()
    grad = np.exp(log_p)                                            # softmax
    grad[np.arange(n), labels] -= 1                                 # softmax - onehot
    return loss, grad / n                                           # the mean divides by N


# %% tags=["check"]
_ = check_softmax_cross_entropy(softmax_cross_entropy)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 3. The binary hinge loss
#
# For two classes, a linear classifier (or a network) can output a single score y and decide by
# its sign: **y ≥ 0 → predict positive**, y < 0 → predict negative. Write the label as
# t ∈ {−1, +1}. The product t·y, the **margin**, is positive exactly when the prediction is right,
# and its size says by how much. The hinge loss is
#
# $$L = \max(0,\; 1 - t \cdot y).$$
#
# It is 0 only when the prediction is right *with a margin of at least 1*; a correct but hesitant
# score still costs something. This is the loss of a max-margin classifier (a support vector
# machine).

# %% slideshow={"slide_type": "subslide"}
scores = np.array([2.3, 0.4, -0.2, -1.5, 0.8])   # classifier outputs y
truth = np.array([1, 1, 1, -1, -1])              # labels t in {-1, +1}
predicted = np.where(scores >= 0, 1, -1)         # the decision rule
losses = hinge_loss(scores, truth, reduction="none")
for row in zip(scores, truth, predicted, scores * truth, losses):
    print("y = {:+.1f}  t = {:+d}  predicted {:+d}  margin t·y = {:+.1f}  loss = {:.1f}".format(*row))

# %%
assert_close(losses, np.maximum(0, 1 - truth * scores))
assert_close(losses, F.relu(1 - torch.tensor(truth) * torch.tensor(scores)).numpy())  # PyTorch, by formula
assert np.array_equal(predicted == truth, scores * truth > 0)                          # right <=> t·y > 0

# %% [markdown] slideshow={"slide_type": "subslide"}
# PyTorch has no loss of exactly this form (its `HingeEmbeddingLoss` is a different loss), so the
# reference is the formula written with `relu`. Plotted against the margin, the hinge is a
# straight line down to margin 1 and flat after it. The five examples sit on it: the two
# misclassified ones (margin < 0) cost more than 1, the correct but unsure one (margin 0.4) costs
# 0.6, and the two confident ones cost nothing. The dashed 0-1 error only counts mistakes; the
# hinge is an upper bound on it that also has a useful slope.

# %% alt="The binary hinge loss max(0, 1 - t*y) against the margin t*y from -2 to 3: a straight line falling to 0 at margin 1 and flat after it, over three shaded bands (misclassified, correct but inside the margin, correct with margin). Five examples sit on the line: two misclassified ones cost more than 1, one at margin 0.4 costs 0.6 and two confident ones cost nothing; the dashed 0-1 error is a step at 0 that the hinge always lies above." slideshow={"slide_type": "subslide"}
m = np.linspace(-2, 3, 501)
plot_hinge(m, hinge_loss(m, np.ones_like(m), reduction="none"), zero_one=(m < 0).astype(float),
           examples=(scores * truth, losses))
plt.show()

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 4. The multiclass hinge: the lecture's form and PyTorch's `MultiMarginLoss`
#
# With C classes the network outputs a score s_j per class; let t be the true class. The lecture's
# multiclass hinge looks only at the **most offending wrong class**:
#
# $$\ell = \max\bigl(0,\; 1 + \max_{j \ne t} s_j - s_t\bigr).$$
#
# (This is the Crammer–Singer form; torchmetrics, which the lecture links, calls it
# `crammer-singer`.) PyTorch's `nn.MultiMarginLoss` / `F.multi_margin_loss` instead **sums over
# every wrong class** and divides by the number of classes C (all of them, the true one included):
#
# $$\ell_{\text{PyTorch}} = \frac{1}{C} \sum_{j \ne t} \max(0,\; 1 + s_j - s_t).$$
#
# Three examples with C = 4 classes, chosen so that two, one and zero wrong classes come within the
# margin of 1 of the true score:

# %%
scores4 = np.array([[2.0, 2.5, 1.8, -1.0],    # true class 0: classes 1 and 2 are within the margin
                    [0.1, 3.0, 2.4, -0.5],    # true class 1: only class 2 is within the margin
                    [1.0, 0.5, 2.9, 4.0]])    # true class 3: every wrong class is beaten by > 1
target4 = np.array([0, 1, 3])
C = scores4.shape[1]

# %% slideshow={"slide_type": "subslide"}
lecture = multiclass_hinge_loss(scores4, target4, reduction="none")
pytorch = F.multi_margin_loss(torch.tensor(scores4), torch.tensor(target4), reduction="none").numpy()
assert_close(multi_margin_loss(scores4, target4, reduction="none"), pytorch)  # cnnlib's copy of PyTorch's
rows = np.arange(len(target4))
terms = np.maximum(0, 1 + scores4 - scores4[rows, target4][:, None])  # max(0, 1 + s_j - s_t) for each j
terms[rows, target4] = 0                                               # j = t is not a wrong class
violating = (terms > 0).sum(axis=1)

# %%
print("violating classes | lecture (max) | PyTorch (sum / C) | C × PyTorch")
for v, a, b in zip(violating, lecture, pytorch):
    print(f"{v:17d} | {a:13.3f} | {b:17.3f} | {C * b:11.3f}")

# %% [markdown] slideshow={"slide_type": "subslide"}
# - **Two** wrong classes inside the margin: the lecture's loss is 1.5 (only class 1 counts), the
#   sum is 1.5 + 0.8 = 2.3, and PyTorch reports 2.3 / 4 = 0.575. They differ by more than the
#   factor C.
# - **One** violating class: max and sum are the same term, so the two forms agree **up to the
#   factor 1/C**: 0.4 and 0.4 / 4 = 0.1.
# - **None**: both are 0.
#
# In general the max is at most the sum, which is at most (C − 1) times the max:

# %%
assert_close(lecture, terms.max(axis=1))
assert_close(C * pytorch, terms.sum(axis=1))
assert np.allclose(lecture[violating <= 1], C * pytorch[violating <= 1])   # agree up to 1/C
assert np.all(lecture[violating >= 2] < C * pytorch[violating >= 2])       # the sum counts more
assert np.all((lecture <= C * pytorch + 1e-12) & (C * pytorch <= (C - 1) * lecture + 1e-12))

# %% [markdown] slideshow={"slide_type": "subslide"}
# The difference matters for training too. The lecture's loss sends a gradient to two scores only
# (−1 to the true class, +1 to the worst rival); PyTorch's spreads +1/C over every violating class.
# Neither is wrong: they are different losses, and a number reported as "hinge loss" is only
# comparable with one computed the same way.
#
# ## 5. Regression losses: L1, L2 and smooth L1
#
# When the network predicts a number rather than a class (a position, an age, a bounding box),
# the loss is a function of the residual x = prediction − target:
#
# - **L1** (mean absolute error): |x|;
# - **L2** (mean squared error): x²;
# - **smooth L1**: 0.5 x² if |x| < 1, else |x| − 0.5 — quadratic near 0, linear far away.
#
# The lecture writes them summed over the N examples, f(y, ŷ) = Σ |y_i − ŷ_i|. PyTorch and `cnnlib`
# average by default (`reduction="mean"`); `reduction="sum"` gives the lecture's sum:

# %% slideshow={"slide_type": "subslide"}
pred, target = np.array([2.5, 0.0, 2.0, 8.0]), np.array([3.0, -0.5, 2.0, 7.0])
print("sum |y - ŷ| =", l1_loss(pred, target, reduction="sum"), "  mean =", l1_loss(pred, target))
print("sum (y - ŷ)² =", mse_loss(pred, target, reduction="sum"), "  mean =", mse_loss(pred, target))
assert l1_loss(pred, target, reduction="sum") == np.abs(pred - target).sum() == 4 * l1_loss(pred, target)

# %% [markdown]
# Each loss module returns its value per element with `reduction="none"`, and its `backward()`
# returns dL/dx. On a grid of residuals:

# %%
x = np.linspace(-3, 3, 601)
zero = np.zeros_like(x)
curves = {}
for name, loss_fn in {"L1: |x|": L1Loss(reduction="none"), "L2: x²": MSELoss(reduction="none"),
                      "smooth L1": SmoothL1Loss(reduction="none")}.items():
    curves[name] = (loss_fn(x, zero), loss_fn.backward())   # values and dL/dx
assert_close(curves["smooth L1"][0], np.where(np.abs(x) < 1, 0.5 * x**2, np.abs(x) - 0.5))  # the lecture's formula

# %% slideshow={"slide_type": "subslide"}
xt = torch.tensor(x, requires_grad=True)
for name, torch_fn in (("L1: |x|", F.l1_loss), ("L2: x²", F.mse_loss), ("smooth L1", F.smooth_l1_loss)):
    value = torch_fn(xt, torch.zeros_like(xt), reduction="none")
    (grad_t,) = torch.autograd.grad(value.sum(), xt)
    assert_close(curves[name][0], value.detach().numpy())
    assert_close(curves[name][1], grad_t.numpy())

# %% alt="Three regression losses of the residual x from -3 to 3 on the left, and their gradients on the right. L2, x squared, is a parabola whose gradient 2x grows with the error; L1, the absolute value, is a V whose gradient is always -1 or +1; smooth L1 is a parabola inside -1 to 1 and L1 outside, so its gradient rises linearly and then stays at plus or minus 1." slideshow={"slide_type": "subslide"}
plot_loss_and_gradient(x, curves, suptitle="regression losses of the residual x and their gradients")
plt.show()

# %% [markdown] slideshow={"slide_type": "subslide"}
# Read the right panel as "how hard each residual pulls on the prediction":
#
# - **L2**: the gradient 2x grows with the error. Large errors dominate training, and near the
#   target the push fades smoothly to 0.
# - **L1**: the gradient is ±1 whatever the size of the error (0 exactly at x = 0, as PyTorch
#   defines it). Large errors pull no harder than small ones, but even a tiny error gets a full
#   push, so the prediction keeps jittering around the target.
# - **smooth L1**: x inside [−1, 1] (like L2/2 there: gentle near the target), ±1 outside (like
#   L1: bounded). The best of both, which is why object detectors use it for box coordinates
#   (Fast R-CNN, Girshick 2015, chose it for its bounding-box regression as less sensitive to
#   outliers than the L2 loss of the detectors before it; the curve itself is Huber's loss).
#
# PyTorch generalises the switch point with `beta`: 0.5 x² / β if |x| < β, else |x| − 0.5 β. The
# lecture's form is β = 1; a small β approaches L1. (`HuberLoss` with δ is the same curve scaled:
# δ · smooth L1 with β = δ.)

# %% slideshow={"slide_type": "subslide"}
for beta in (0.5, 1.0, 2.0):
    ours = smooth_l1_loss(x, zero, reduction="none", beta=beta)
    by_formula = np.where(np.abs(x) < beta, 0.5 * x**2 / beta, np.abs(x) - 0.5 * beta)
    assert_close(ours, by_formula)
    assert_close(ours, F.smooth_l1_loss(xt, 0 * xt, reduction="none", beta=beta).detach().numpy())
    assert_close(beta * ours, F.huber_loss(xt, 0 * xt, reduction="none", delta=beta).detach().numpy())
print("smooth L1 agrees with PyTorch for beta = 0.5, 1, 2 (and with HuberLoss after scaling)")

# %% [markdown] slideshow={"slide_type": "subslide"}
# **Your turn: smooth L1 and its gradient.** Write `smooth_l1(pred, target)` for two arrays of the
# same shape: with the lecture's switch point (β = 1) and PyTorch's default mean over all
# elements, return the pair `(loss, grad)`, the loss (a number) and its gradient with respect to
# `pred` (`pred`'s shape). (Don't call `smooth_l1_loss` or PyTorch; 24 cases.)

# %% tags=["exercise"]
def smooth_l1(pred, target):
    raise NotImplementedError  # your code here


# %% tags=["solution"] jupyter={"source_hidden": true} slideshow={"slide_type": "skip"}
def smooth_l1(pred, target):
    d = pred - target                                   # the residual
    inside = np.abs(d) < 1
    loss = np.where(inside, 0.5 * d**2, np.abs(d) - 0.5).mean()
    grad = np.where(inside, d, np.sign(d)) / d.size     # the mean divides by the number of elements
    return loss, grad


# %% tags=["check"]
_ = check_smooth_l1(smooth_l1)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 6. What an outlier does
#
# Eleven measurements of a quantity that grows linearly with x, with a little noise, and one of
# them (at x = 3.2) corrupted by +6:

# %%
xs = np.linspace(0, 4, 11)
ys = 1 + 0.5 * xs + rng.normal(0, 0.2, size=11)
ys[8] += 6.0                                             # the outlier
print("x:", np.round(xs, 1))
print("y:", np.round(ys, 2))

# %% [markdown]
# **The simplest fit, a constant.** Which single value c best summarises the measurements? Try
# every c on a fine grid and keep the one with the smallest total loss. For L2 the answer is the
# mean, for L1 the median (half the points above, half below, however far away); smooth L1 lands
# between the two, close to the median here.

# %% slideshow={"slide_type": "subslide"}
c = np.linspace(0, 6, 6001)[:, None]                       # candidate constants, (6001, 1)
Y = np.broadcast_to(ys, (len(c), len(ys)))                 # (6001, 11)
constant = {}
for name, fn in (("L1", l1_loss), ("L2", mse_loss), ("smooth L1", smooth_l1_loss)):
    totals = fn(np.broadcast_to(c, Y.shape), Y, reduction="none").sum(axis=1)  # (6001,)
    constant[name] = float(c[np.argmin(totals), 0])
print(", ".join(f"{name}: c = {v:.3f}" for name, v in constant.items()))
print(f"median {np.median(ys):.3f}, mean {ys.mean():.3f}")
assert abs(constant["L1"] - np.median(ys)) <= 1e-3 and abs(constant["L2"] - ys.mean()) <= 1e-3

# %% [markdown]
# **A line.** Now fit y ≈ w·x + b by gradient descent, with the loss modules themselves: the
# module's `backward()` gives d loss / d prediction for every point, and the chain rule through
# prediction = w·x + b gives d loss / dw = Σ g_i x_i and d loss / db = Σ g_i. The learning rate
# shrinks slowly so that the L1 fit, whose gradient never fades, settles down.

# %% slideshow={"slide_type": "subslide"}
line = {}
for name, loss_fn in (("L1", L1Loss()), ("L2", MSELoss()), ("smooth L1", SmoothL1Loss())):
    w = b = 0.0
    for step in range(4000):
        loss_fn(w * xs + b, ys)
        g = loss_fn.backward()                        # d loss / d prediction, (11,)
        lr = 0.1 / np.sqrt(1 + step / 50)
        w, b = w - lr * (g * xs).sum(), b - lr * g.sum()
    line[name] = (w, b)
print(", ".join(f"{name}: w = {w:.2f}, b = {b:.2f}" for name, (w, b) in line.items()))
assert_close(line["L2"], np.polyfit(xs, ys, 1), rtol=1e-4)    # least squares, solved exactly

# %% alt="Ten points near the line y = 0.5x + 1 and one outlier far above them, fitted under L1, L2 and smooth L1: a constant on the left, a line on the right. L2 is pulled towards the outlier, its constant higher and its line tilted up (slope about 0.85); the L1 and smooth L1 fits stay with the clean points (slopes about 0.50 and 0.53)." slideshow={"slide_type": "subslide"}
fig, (ax_c, ax_l) = plt.subplots(1, 2, figsize=(10, 3.8))
plot_fits(xs, ys, {k: (0.0, v) for k, v in constant.items()}, outliers=[8], ax=ax_c, title="best constant")
plot_fits(xs, ys, line, outliers=[8], ax=ax_l, title="best line  y = w·x + b")
fig.tight_layout()
plt.show()

# %% [markdown] slideshow={"slide_type": "subslide"}
# The true line has slope 0.5 and intercept 1. L2 squares the outlier's residual of about 6, so
# this one point outweighs the ten others: the line tilts up towards it (slope ≈ 0.85, intercept
# ≈ 0.82) and no longer follows the clean points. L1 and smooth L1 cap the outlier's pull at 1, the
# same as any other point, so ten clean points outvote it and both lines stay close to the truth
# (slopes ≈ 0.50 and 0.53, intercepts ≈ 1.03 and 1.04). The same holds for the constants: the
# mean is pulled about 0.5 above the median, smooth L1 only a little.

# %%
assert line["L2"][0] - 0.5 > 3 * max(abs(line["L1"][0] - 0.5), abs(line["smooth L1"][0] - 0.5))
assert constant["L2"] - constant["L1"] > 0.4

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Summary
#
# - **Cross-entropy** L_CE = −Σ t_i log σ(y)_i = −log(probability of the true class) for one-hot t.
#   Its gradient with respect to the logits is softmax(y) − t. Compute it through a stable
#   log-softmax (subtract the largest logit): logits of ±10⁴ then give finite losses, not nan.
# - **Binary hinge** max(0, 1 − t·y), t ∈ {−1, +1}, predict positive when y ≥ 0: no loss only for
#   correct predictions with margin t·y ≥ 1.
# - **Multiclass hinge**: the lecture's form takes the max over the wrong classes; PyTorch's
#   `MultiMarginLoss` sums over them and divides by C. They agree up to 1/C when at most one wrong
#   class violates the margin, and differ otherwise.
# - **Regression**: L2 (x²) has a gradient that grows with the error, L1 (|x|) a constant ±1,
#   smooth L1 a blend (quadratic for |x| < β = 1, linear beyond). A single outlier drags the L2
#   fit much further than the L1 or smooth L1 fits.
#
# ## Exercises

# %% [markdown]
# **Exercise 1.** Compute the cross-entropy loss of the logits `LOGITS_1` when the true class is
# `TARGET_1` (one example, natural logarithm). A float is expected.

# %% slideshow={"slide_type": "subslide"}
print("logits:", LOGITS_1, "  true class:", TARGET_1)

# %% tags=["exercise"]
answer = None  # your answer here

# %% tags=["solution"] jupyter={"source_hidden": true} slideshow={"slide_type": "skip"}
probabilities = np.exp(LOGITS_1) / np.exp(LOGITS_1).sum()   # safe here: the logits are small
answer = -np.log(probabilities[TARGET_1])

# %% tags=["check"]
_ = check_cross_entropy(answer)

# %% [markdown]
# **Exercise 2.** For the scores `SCORES_2` (C = 4 classes) with true class `TARGET_2`, compute the
# lecture's multiclass hinge loss and PyTorch's `MultiMarginLoss`, by hand or with the formulas.
# Answer with the pair `(lecture, pytorch)`.

# %%
print("scores:", SCORES_2, "  true class:", TARGET_2)

# %% tags=["exercise"]
answer = None  # your answer here: (lecture, pytorch)

# %% tags=["solution"] jupyter={"source_hidden": true} slideshow={"slide_type": "skip"}
wrong = np.delete(SCORES_2, TARGET_2)                       # the scores of the wrong classes
lecture_form = max(0.0, 1 + wrong.max() - SCORES_2[TARGET_2])
pytorch_form = np.maximum(0, 1 + wrong - SCORES_2[TARGET_2]).sum() / len(SCORES_2)
answer = (lecture_form, pytorch_form)

# %% tags=["check"] slideshow={"slide_type": "subslide"}
_ = check_multiclass_hinge(answer)

# %% [markdown]
# **Exercise 3.** Five measurements `DATA_3` include one outlier. Which constant c minimizes the
# L1 loss Σ|y_i − c|, and which minimizes the L2 loss Σ(y_i − c)²? Answer `(l1_estimate, l2_estimate)`.

# %% slideshow={"slide_type": "subslide"}
print("data:", DATA_3)

# %% tags=["exercise"]
answer = None  # your answer here: (l1_estimate, l2_estimate)

# %% tags=["solution"] jupyter={"source_hidden": true} slideshow={"slide_type": "skip"}
answer = (np.median(DATA_3), DATA_3.mean())   # L1 -> the median, L2 -> the mean

# %% tags=["check"]
_ = check_outlier_estimates(answer)
