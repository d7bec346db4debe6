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
#   PyTorch, and see why it must be computed the stable way (logits of ±10⁴, and far smaller ones in
#   float32 and float16), through log-softmax rather than the log of a softmax;
# - use the binary **hinge** loss max(0, 1 − t·y), see what "margin" means, and what the hinge
#   alone does not do (pick the widest margin);
# - compare the lecture's **multiclass hinge** (max over the wrong classes) with PyTorch's
#   `MultiMarginLoss` (a sum over the wrong classes divided by C): when they agree, when they don't;
# - plot the regression losses **L1**, **L2** and **smooth L1** with their gradients;
# - watch a single **outlier** drag a fitted constant and a fitted line, under each loss (and see
#   that the best L1 line is not unique);
# - write the stable softmax cross-entropy and the smooth L1 loss yourself, each with its gradient,
#   check your gradient against finite differences, and train a small classifier with your own layers.
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
from cnnlib.exercises.my_layers import my_layers
from cnnlib.exercises.nb04 import check_smooth_l1, check_softmax_cross_entropy
from cnnlib.exercises.selfcheck import gradient_check_yours
from cnnlib.numpy_nn.loss import CrossEntropyLoss, L1Loss, MSELoss, SmoothL1Loss
from cnnlib.numpy_nn.loss import cross_entropy, hinge_loss, l1_loss, mse_loss, smooth_l1_loss, softmax
from cnnlib.numpy_nn.loss import multi_margin_loss, multiclass_hinge_loss
from cnnlib.numpy_nn.loss import multiclass_hinge_loss_backward, multiclass_hinge_loss_forward
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
# The formula above is fine on paper but not in floating point. e^{y} overflows to inf once y is
# above the log of the largest number the format holds, and rounds to 0 a little below the log of
# the smallest positive one (the cell computes both). For float64 that is y > 709.78, but for float32, the
# format networks train in, it is already y > 88.72, and for float16 y > 11.09:

# %%
for dtype in (np.float64, np.float32, np.float16):
    info = np.finfo(dtype)
    high, low = np.log(float(info.max)), np.log(float(info.smallest_subnormal)) - np.log(2)
    with np.errstate(over="ignore"):
        assert np.exp(dtype(high + 0.5)) == np.inf and np.isfinite(np.exp(dtype(high - 0.5)))
    assert np.exp(dtype(low - 0.5)) == 0 < np.exp(dtype(low + 0.5))
    print(f"{dtype.__name__:8s} largest {float(info.max):.3e}: e^y is inf above y = {high:.2f}, 0 below y = {low:.1f}")

# %% [markdown]
# Written naively, softmax of the logits (10⁴, −10⁴, 0) overflows even in float64: the first
# entry is inf / inf = nan, the others 0 / inf = 0, and the losses are nan or −log 0 = inf:

# %%
extreme = np.array([[1e4, -1e4, 0.0]])   # (N=1, C=3) logits
with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
    p_naive = np.exp(extreme) / np.exp(extreme).sum()
    naive_losses = -np.log(p_naive[0])
print("naive softmax:", p_naive[0], "  naive loss for each true class:", naive_losses)
assert not np.isfinite(naive_losses).any()

# %% [markdown] slideshow={"slide_type": "subslide"}
# The fix has two parts. First, softmax does not change when the same number is subtracted from
# every logit (it cancels between numerator and denominator). Subtract the largest logit, so every
# exponent is ≤ 0 and every e^{…} lies in [0, 1]: no overflow. That alone is not enough. A class far
# below the winner still gets e^{…} = 0, a probability of exactly 0, and the loss −log 0 = inf.
# With the true class 120 below the other in float32, or 20 below in float16:

# %%
with np.errstate(divide="ignore"):
    for dtype, gap in ((np.float32, 120), (np.float16, 20)):
        e = np.exp(np.array([0, -gap], dtype=dtype))           # already shifted by the max: no overflow
        p_shifted = e / e.sum()
        print(f"{dtype.__name__}: shifted softmax {p_shifted}, -log p(true class) = {-np.log(p_shifted[1])}, "
              f"log-softmax gives {cross_entropy(np.array([[0, -gap]], dtype=dtype), np.array([1]))}")
        assert p_shifted[1] == 0 and cross_entropy(np.array([[0, -gap]], dtype=dtype), np.array([1])) == gap

# %% [markdown] slideshow={"slide_type": "subslide"}
# The second part: never take the log of a softmax. Take the log first, on paper, and compute
# log σ(y)_i = (y_i − max y) − log Σ_j e^{y_j − max y} directly. The sum holds the winner's
# e⁰ = 1, so its log is finite and small, and the true class's log-probability is its gap to the
# winner, −120 or −20, however small e^{−gap} is. This log-softmax is what `cnnlib` and PyTorch
# compute inside the cross-entropy. Below, any overflow warning would be turned into an error:

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
# and a true class 2·10⁴ below the winner gives loss 2·10⁴. The same holds in float32 and float16,
# and PyTorch agrees:

# %%
with warnings.catch_warnings():
    warnings.simplefilter("error")
    for dtype, torch_dtype in ((np.float32, torch.float32), (np.float16, torch.float16)):
        ours = [float(cross_entropy(extreme.astype(dtype), np.array([c]))) for c in range(3)]
        theirs = [F.cross_entropy(torch.tensor(extreme, dtype=torch_dtype), torch.tensor([c])).item() for c in range(3)]
        assert ours == theirs == [0.0, 2e4, 1e4], (dtype, ours, theirs)
print("float32 and float16: losses 0, 2e4 and 1e4, finite and without warnings, as PyTorch's")

# %% [markdown] slideshow={"slide_type": "subslide"}
# **Your turn: softmax cross-entropy and its gradient.** Write
# `softmax_cross_entropy(logits, labels)` for logits of shape `(N, C)` and class indices `labels`
# of shape `(N,)`. Return the pair `(loss, grad)`: the mean cross-entropy over the batch (a
# number), and its gradient with respect to the logits (shape `(N, C)`). NumPy only: the check
# refuses any call of `cnnlib` (its `softmax` and `cross_entropy` included) or PyTorch. The rules
# the check enforces, on 30 cases:
#
# - finite results for logits of ±10⁴, in float64 and in float32, and for a batch whose rows have
#   very different scales (one row's logits far larger than another's);
# - `logits` left as it was: the check hands your function copies and fails it if it changes them
#   in place (work on a new array);
# - the loss and every entry of the gradient within a relative 10⁻⁶ of `cnnlib`'s (a float32 result
#   at float32 precision, a relative 10⁻⁴).
#
# Then check your gradient yourself, in the cell after your function, before the checker does: set
# `good_below` to the largest relative error you would still call a match, and say why (notebook 05,
# back-propagation, measures what round-off and what a bug give). When the check passes, your function
# is kept in `my_layers/`, and the cells after it train a classifier with it.

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


# %% tags=["selfcheck"]
logits_check, labels_check = np.linspace(-3.0, 3.0, 12).reshape(3, 4), np.array([0, 3, 1])
gradient_check_yours(lambda: softmax_cross_entropy(logits_check, labels_check)[1],
                     lambda: cross_entropy(logits_check, labels_check), logits_check, good_below=1e-6, name="grad")

# %% tags=["check"]
_ = check_softmax_cross_entropy(softmax_cross_entropy)

# %% [markdown] slideshow={"slide_type": "subslide"}
# **Your layers at work.** `my_layers` loads your fully connected layer from 01 and your loss from
# above, and prints whose each one is ("yours" once its check has passed, "cnnlib's" until then).
# With them, gradient descent fits a linear classifier, 2 features to 3 classes, to six points
# (two per class), starting from zero weights: 200 steps of size 0.5.

# %%
layers = my_layers("linear_forward", "linear_backward", "softmax_cross_entropy")
pts = np.array([[2.0, 0.5], [1.5, -0.5], [-1.0, 2.0], [-0.5, 1.5], [-1.5, -1.5], [0.0, -2.0]])   # (6, 2)
cls = np.array([0, 0, 1, 1, 2, 2])
W_fit, b_fit = np.zeros((3, 2)), np.zeros(3)

# %% slideshow={"slide_type": "subslide"}
losses_fit = []
for step in range(200):
    loss_fit, g_fit = layers.softmax_cross_entropy(layers.linear_forward(pts, W_fit, b_fit), cls)
    _, grad_W, grad_b = layers.linear_backward(g_fit, pts, W_fit)
    W_fit, b_fit = W_fit - 0.5 * grad_W, b_fit - 0.5 * grad_b
    losses_fit.append(float(loss_fit))
predicted_cls = (pts @ W_fit.T + b_fit).argmax(axis=1)
print(f"loss {losses_fit[0]:.4f} at the start (log 3 = {np.log(3):.4f}), {losses_fit[-1]:.3f} after 200 steps; "
      f"predicted classes {predicted_cls}")
assert np.isclose(losses_fit[0], np.log(3)) and losses_fit[-1] < 0.1 and np.array_equal(predicted_cls, cls)

# %% [markdown]
# At zero weights every class gets probability 1/3, so the first loss is log 3; the loss then falls and
# every point ends up in its class. Your loss also agrees with `cnnlib`'s `CrossEntropyLoss` on the
# batch of section 1, value and gradient:

# %%
loss_yours, grad_yours = layers.softmax_cross_entropy(logits, labels)
assert_close(loss_yours, loss, rtol=1e-10)
assert_close(grad_yours, grad, rtol=1e-10)
print(f"mean cross-entropy {float(loss_yours):.4f}, as above; gradient (4, 5), equal too")

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
# score still costs something. The lecture calls it max-margin classification: the hinge is the
# loss term of a support vector machine. Section 3's last cell shows what the hinge alone leaves
# open.

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

# %% [markdown] slideshow={"slide_type": "subslide"}
# **The hinge alone does not maximise the margin.** Take four points in the plane and a linear
# classifier y = w·x (no bias, to keep it short). Two different directions w both separate them;
# scale each so that the closest point has t·y = 1 exactly. Then both have hinge loss 0, and
# so does any larger multiple of either: the hinge has no preference between them. The distance of
# the closest point from the boundary, the geometric margin, is 1 / ‖w‖ for each.

# %% slideshow={"slide_type": "subslide"}
points = np.array([[1.0, 2.0], [2.0, 3.0], [-1.0, -1.0], [-2.0, -1.0]])    # (4, 2)
signs = np.array([1, 1, -1, -1])
for direction in (np.array([0.0, 1.0]), np.array([1.0, 1.0])):
    w = direction / (signs * (points @ direction)).min()                  # closest point: t·y = 1
    total = hinge_loss(points @ w, signs, reduction="sum") + hinge_loss(points @ (10 * w), signs, reduction="sum")
    print(f"w = {np.round(w, 3)}: hinge loss of w and of 10·w: {total:.1f}, |w|² = {w @ w:.2f}, "
          f"geometric margin 1/|w| = {1 / np.linalg.norm(w):.3f}")
    assert total == 0

# %% [markdown]
# A support vector machine adds a penalty λ‖w‖² to the summed hinge loss (scikit-learn's user guide,
# *Support Vector Machines*, "Mathematical formulation": SVC's primal problem minimises
# ½ wᵀw + C Σᵢ ζᵢ subject to ζᵢ ≥ 1 − tᵢyᵢ and ζᵢ ≥ 0, so at the optimum ζᵢ is example i's hinge
# loss). Among the zero-loss choices the penalty prefers the smallest ‖w‖, here |w|² = 0.5 over 1,
# which is the widest margin, 1.414 over 1. That penalty is what makes the classifier max-margin.
# With the hinge loss alone, gradient descent stops at the first w whose margins all reach 1 (the
# gradient is 0 there), whichever that is.

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
#   sum is 1.5 + 0.8 = 2.3, and PyTorch reports 2.3 / 4 = 0.575. Multiplying PyTorch's value by C
#   gives 2.3, not 1.5: the factor C no longer explains the difference, because the sum also counts
#   the second violating class. (The plain ratio, 1.5 / 0.575 ≈ 2.6, happens to be below C = 4.)
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
# The difference matters for training too. Where it is not 0, the lecture's loss sends a gradient
# to two scores only (−1 to the true class, +1 to the worst rival); PyTorch's gives +1/C to every
# violating class and −(number violating)/C to the true class. For the first example (true class 0,
# classes 1 and 2 violating), by autograd:

# %%
scores4_t = torch.tensor(scores4[:1], requires_grad=True)
F.multi_margin_loss(scores4_t, torch.tensor(target4[:1])).backward()
lecture_grad = multiclass_hinge_loss_backward(1.0, multiclass_hinge_loss_forward(scores4[:1], target4[:1])[1])
print("lecture:", lecture_grad[0] + 0.0, "  PyTorch:", scores4_t.grad.numpy()[0] + 0.0)
assert lecture_grad[0].tolist() == [-1, 1, 0, 0] and scores4_t.grad.numpy()[0].tolist() == [-0.5, 0.25, 0.25, 0]

# %% [markdown] slideshow={"slide_type": "subslide"}
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
#   push, so with a fixed step size gradient descent keeps stepping back and forth across the
#   target instead of settling on it.
# - **smooth L1**: x inside [−1, 1] (the gradient of x²/2: gentle near the target), ±1 outside
#   (like L1: bounded). Fast R-CNN (Girshick 2015, section 2.3, eq. 3) introduced it for its
#   bounding-box regression as "a robust L1 loss that is less sensitive to outliers than the L2
#   loss used in R-CNN and SPPnet". The curve itself is Huber's loss (checked below).
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
# `pred` (`pred`'s shape). NumPy only: a call of `cnnlib` or PyTorch fails. The check runs 29 cases (residuals
# exactly at ±1 and 0, all negative, one of 10⁶, float32, arrays of one to three dimensions) with the
# rules of the exercise above: `pred` and `target` left as they were, and a relative 10⁻⁶ (float32
# results at float32 precision).

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
# between the two, close to the median here (the cell asserts both).

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
assert constant["L1"] < constant["smooth L1"] < constant["L2"]
assert constant["smooth L1"] - constant["L1"] < 0.1 * (constant["L2"] - constant["L1"])

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
# The true line has slope 0.5 and intercept 1. Measured from it, the outlier's residual is about 6
# and every clean point's is below 0.3 (next cell). L2's pull on a point grows with its residual, so
# at the true line the outlier pulls at least twenty times harder than any clean point, and the L2
# line tilts up towards it
# (slope ≈ 0.85, intercept ≈ 0.82). L1 pulls every point with ±1 and smooth L1 caps the pull at 1,
# so the outlier counts no more than one clean point, and both lines stay close to the truth
# (slopes ≈ 0.50 and 0.53, intercepts ≈ 1.03 and 1.04). The same holds for the constants: the
# mean is pulled about 0.5 above the median, smooth L1 only a little.

# %%
residuals = ys - (1 + 0.5 * xs)                      # from the true line
print(f"outlier's residual {residuals[8]:.1f}, largest clean one {np.abs(np.delete(residuals, 8)).max():.2f}")
assert residuals[8] > 5.5 and np.abs(np.delete(residuals, 8)).max() < 0.3
assert residuals[8] >= 20 * np.abs(np.delete(residuals, 8)).max()   # L2's pull grows with the residual
assert line["L2"][0] - 0.5 > 3 * max(abs(line["L1"][0] - 0.5), abs(line["smooth L1"][0] - 0.5))
assert constant["L2"] - constant["L1"] > 0.4

# %% [markdown] slideshow={"slide_type": "subslide"}
# One caution about the L1 line: it is not the only best one. The total |residual| is piecewise
# linear in (w, b), and here it is flat along a whole segment of lines. For each slope w the best
# intercept is the median of y − w·x (the constant fit again); scanning the slopes:

# %%
slopes = np.linspace(0.3, 0.7, 4001)
best_totals = np.array([l1_loss(w * xs + np.median(ys - w * xs), ys, reduction="sum") for w in slopes])
tied = slopes[best_totals <= best_totals.min() + 1e-9]
gd_total = l1_loss(line["L1"][0] * xs + line["L1"][1], ys, reduction="sum")
print(f"smallest total |residual| {best_totals.min():.4f}, reached by every slope from {tied.min():.2f} "
      f"to {tied.max():.2f}; gradient descent's line: {gd_total:.4f}")
assert tied.max() - tied.min() > 0.05 and tied.min() <= line["L1"][0] <= tied.max()
assert 0 <= gd_total - best_totals.min() < 0.01
assert np.allclose(tied * xs[5] + [np.median(ys - w * xs) for w in tied], ys[5])  # through (x, y) of point 5

# %% [markdown]
# Every slope in that range, with its own intercept, fits the eleven points equally well under L1
# (all of these lines pass through the point at x = 2, as the cell asserts). Gradient descent, with
# its shrinking steps, ended close to one of them, within 0.01 of the smallest total.
# So "L1's slope ≈ 0.50" is one of many equally good answers; what the outlier cannot do is pull
# any of them towards itself the way it pulls the L2 line.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Summary
#
# - **Cross-entropy** L_CE = −Σ t_i log σ(y)_i = −log(probability of the true class) for one-hot t.
#   Its gradient with respect to the logits is softmax(y) − t. Compute it through log-softmax,
#   (y − max y) − log Σ e^{y − max y}: subtracting the largest logit prevents overflow (float32
#   overflows above 88.72, float16 above 11.09), and taking the log before exponentiating prevents
#   −log 0. Logits of ±10⁴ then give finite losses in float64, float32 and float16.
# - Your `softmax_cross_entropy`, once its check passes, joins 01's layers in `my_layers/`; with your
#   linear layer it trained a 3-class linear classifier above, from loss log 3 to below 0.1.
# - **Binary hinge** max(0, 1 − t·y), t ∈ {−1, +1}, predict positive when y ≥ 0: no loss only for
#   correct predictions with margin t·y ≥ 1. A support vector machine adds the penalty ‖w‖²,
#   which picks the widest margin; the hinge alone does not.
# - **Multiclass hinge**: the lecture's form takes the max over the wrong classes; PyTorch's
#   `MultiMarginLoss` sums over them and divides by C. They agree up to 1/C when at most one wrong
#   class violates the margin, and differ otherwise.
# - **Regression**: L2 (x²) has a gradient that grows with the error, L1 (|x|) a constant ±1,
#   smooth L1 a blend (quadratic for |x| < β = 1, linear beyond). A single outlier drags the L2
#   fit much further than the L1 or smooth L1 fits. The best L1 line need not be unique.
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
