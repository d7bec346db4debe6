# %% [markdown] slideshow={"slide_type": "slide"}
# # 03 · Pooling
#
# A convolutional layer with many filters produces a deep stack of activation maps, each as
# wide and tall as its input. A **pooling layer** shrinks every map in width and height by
# summarising small windows with one number, and it has nothing to learn.
#
# In this notebook you will:
#
# - count how many values pooling removes, on a layer of VGG and on AlexNet's first pooling layer;
# - max-pool a 4×4 depth slice by hand with 2×2 windows at stride 2, then average-pool it;
# - check that each activation map is pooled on its own, so the depth never changes;
# - see that a pooling layer has **zero parameters**, and compute AlexNet's POOL1 output size;
# - compare **overlapping** pooling (3×3 windows at stride 2) with the 2×2/2 tiling;
# - follow the gradient backwards through max and average pooling, and check it against
#   PyTorch and against finite differences;
# - write max pooling yourself, forward and backward, overlapping windows and ties included.
#
# Everything runs on `cnnlib.numpy_nn.pooling`, the NumPy layers with a hand-written backward pass,
# and is compared with `torch.nn.functional`.

# %% slideshow={"slide_type": "skip"}
import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F

from cnnlib.device import env_report
from cnnlib.exercises.nb03 import GRAD_OUTPUT_3, POOL2_INPUT, SLICE_1, SLICE_3
from cnnlib.exercises.nb03 import check_max_pool, check_max_pool_gradient, check_pool_layer
from cnnlib.exercises.nb03 import check_max_pool_backward, check_max_pool_forward
from cnnlib.numpy_nn.pooling import AvgPool2d, MaxPool2d, avg_pool2d, max_pool2d, max_pool2d_naive
from cnnlib.numpy_nn.pooling import avg_pool2d_backward, avg_pool2d_forward, max_pool2d_backward, max_pool2d_forward
from cnnlib.shapes import conv_output_size, floor_output_size
from cnnlib.testing import assert_close, check_gradient
from cnnlib.viz.pooling import plot_grids, plot_pooling, window_coverage
from cnnlib.widgets import pooling_explorer
# %config InlineBackend.figure_formats = ['png']

# %% slideshow={"slide_type": "subslide"}
rng = np.random.default_rng(0)
plt.rcParams["figure.dpi"] = 150              # figures that read on a laptop screen
torch.manual_seed(0)
print(env_report())

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 1. Why pool: smaller, more manageable representations
#
# In VGG-16 the first two 3×3 convolutions keep the 224×224 size of the image and produce 64
# activation maps. The next layer is a 2×2 max pool at stride 2. Our layers work in PyTorch's
# NCHW layout: a batch of N images, C channels, H rows, W columns.

# %%
conv_out = rng.normal(size=(1, 64, 224, 224))           # (N, C, H, W)
pooled = max_pool2d(conv_out, kernel_size=2, stride=2)  # (N, C, H/2, W/2)
print(f"before: {conv_out.shape[1:]}  {conv_out[0].size:>9,} values")
print(f"after:  {pooled.shape[1:]}  {pooled[0].size:>9,} values")
assert conv_out.size == 4 * pooled.size

# %% [markdown]
# Each 2×2 window becomes one value, so every map keeps a quarter of its values:
# 112·112·64 = 802,816, the "800K" that the lecture's VGG table lists for this layer's memory.
# Everything after it (the next convolution, its gradients, the activations stored for the
# backward pass) now works on four times fewer numbers. A second effect: a feature that moves by
# one pixel *inside* a window leaves the max unchanged, so the pooled map cares a little less
# about exact positions.

# %% slideshow={"slide_type": "subslide"}
assert pooled[0].size == 112 * 112 * 64 == 802_816
print(f"{pooled[0].size / 1000:.0f}K values after the pool")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 2. Max pooling on a single depth slice
#
# Take one activation map (one *depth slice*) of size 4×4. Cut it into 2×2 windows that do not
# overlap (stride 2 = window size) and keep the largest value of each window:
#
# $$\text{out}[i, j] = \max_{0 \le a, b < 2} \; x[2i + a,\; 2j + b].$$

# %%
slice_ = np.array([[1, 1, 2, 4],
                   [5, 6, 7, 8],
                   [3, 2, 1, 0],
                   [1, 2, 3, 4]], dtype=np.float64)
x = slice_[None, None]                                  # (N=1, C=1, H=4, W=4)
out = max_pool2d(x, kernel_size=2, stride=2)[0, 0]      # (2, 2)
print(out)
assert np.array_equal(out, [[6, 8], [3, 4]])

# %% [markdown] slideshow={"slide_type": "subslide"}
# Each colour below is one window; the circled number is its maximum, and the output cell of the
# same colour holds it.

# %% alt="A 4 by 4 depth slice split into four coloured 2 by 2 windows, with the largest value of each circled: 6, 8, 3 and 4. Beside it the 2 by 2 output of max pooling with stride 2 holds those four maxima, each in the colour of its window." slideshow={"slide_type": "subslide"}
plot_pooling(slice_, out, kernel_size=2, stride=2,
             titles=("4×4 depth slice", "max pool 2×2, stride 2 → 2×2"))
plt.show()

# %% [markdown] slideshow={"slide_type": "subslide"}
# The vectorised layer reads all windows at once from a strided view of the input. The naive
# version is the formula above written as four nested loops; PyTorch is the third opinion.

# %%
assert np.array_equal(max_pool2d_naive(x, 2, 2), max_pool2d(x, 2, 2))
assert np.array_equal(F.max_pool2d(torch.from_numpy(x), 2, 2).numpy(), max_pool2d(x, 2, 2))

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 3. Average pooling
#
# Average pooling keeps the mean of each window instead of its maximum. On the same slice:

# %%
averaged = avg_pool2d(x, kernel_size=2, stride=2)[0, 0]
print(averaged)
assert np.array_equal(averaged, [[3.25, 5.25], [2.0, 2.0]])
assert np.array_equal(F.avg_pool2d(torch.from_numpy(x), 2, 2).numpy()[0, 0], averaged)

# %% alt="The same 4 by 4 slice and four 2 by 2 windows, now average pooled: the 2 by 2 output holds the window means 3.25, 5.25, 2 and 2. The bottom-right window, with values 1, 0, 3 and 4, reports 2 here but 4 under max pooling." slideshow={"slide_type": "subslide"}
plot_pooling(slice_, averaged, kernel_size=2, stride=2, mark_max=False,
             titles=("4×4 depth slice", "average pool 2×2, stride 2 → 2×2"))
plt.show()

# %% [markdown] slideshow={"slide_type": "subslide"}
# The two differ most where one strong response sits among weak ones: the bottom-right window
# (1, 0, 3, 4) reports 4 under max pooling but only 2 under averaging. Max pooling answers
# "did this feature fire anywhere in the window?", averaging blurs. Max pooling is the usual choice
# between convolutions; averaging shows up at the end of some networks. GoogLeNet, for example,
# averages each final 7×7 map into a single number (7×7 window, stride 1), giving 1×1×1024:

# %%
googlenet_last = rng.normal(size=(1, 1024, 7, 7))
print(googlenet_last.shape, "->", avg_pool2d(googlenet_last, kernel_size=7, stride=1).shape)
assert avg_pool2d(googlenet_last, 7, 1).shape == (1, 1024, 1, 1)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 4. Each activation map is pooled on its own
#
# A convolution mixes all input channels into every output value. Pooling does not: it slides
# over each map separately, so C maps in give C maps out. Pooling a stack of three maps at once
# gives exactly what pooling them one by one and stacking the results gives.

# %%
stack = rng.integers(0, 10, size=(1, 3, 4, 4)).astype(np.float64)  # three 4×4 maps
together = max_pool2d(stack, 2, 2)                                  # (1, 3, 2, 2)
one_by_one = np.concatenate([max_pool2d(stack[:, [c]], 2, 2) for c in range(3)], axis=1)
assert np.array_equal(together, one_by_one)
print(stack.shape, "->", together.shape)

# %% alt="Three 4 by 4 input maps with their numbers and, to their right, the three 2 by 2 maps that max pooling makes of them, one for each: pooling works on every map separately and keeps the number of maps, 3." slideshow={"slide_type": "subslide"}
plot_grids({f"map {c}": stack[0, c] for c in range(3)} | {f"map {c} pooled": together[0, c] for c in range(3)},
           cmap="Blues", figsize=(10, 2.4))
plt.show()

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 5. Zero parameters: AlexNet's POOL1
#
# A max or a mean over a window has no weights and no bias. Neither our layer nor PyTorch's has
# a single parameter:

# %%
pool1 = MaxPool2d(kernel_size=3, stride=2)
n_ours = sum(p.data.size for p in pool1.parameters())
n_torch = sum(p.numel() for p in torch.nn.MaxPool2d(kernel_size=3, stride=2).parameters())
print("parameters:", n_ours, "(cnnlib),", n_torch, "(PyTorch)")
assert n_ours == n_torch == 0 and list(AvgPool2d(2).parameters()) == []

# %% [markdown]
# In AlexNet, CONV1 turns a 227×227×3 image into 55×55×96 (the lecture's 227; the paper says
# 224, which with an 11×11 filter at stride 4 and no padding would not give a whole number). POOL1 then applies 3×3 windows at
# stride 2. The output size follows the same rule as for a convolution, (N − F) / stride + 1:

# %% slideshow={"slide_type": "subslide"}
side = conv_output_size(55, kernel_size=3, stride=2)  # (55 - 3) / 2 + 1
conv1_out = rng.normal(size=(1, 96, 55, 55))           # (N, C, H, W)
pool1_out = pool1(conv1_out)
print(f"(55 - 3) / 2 + 1 = {side}")
print(f"55x55x96 = {conv1_out.size:,} values -> {side}x{side}x96 = {pool1_out.size:,} values, 0 parameters")
assert side == 27 and pool1_out.shape == (1, 96, 27, 27)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 6. Overlapping pooling: 3×3 windows at stride 2
#
# AlexNet's pooling windows are 3 wide but move only 2 at a time, so neighbouring windows share
# a row or a column. Compare with the 2×2/2 tiling on a 55×55 map: both give 27×27, but 2×2/2
# "does not fit" ((55 − 2) / 2 + 1 is 27.5), so PyTorch's floor rule silently drops the last row
# and column, while 3×3/2 fits exactly.

# %%
print("3x3, stride 2:", conv_output_size(55, 3, 2), "(fits exactly)")
print("2x2, stride 2:", floor_output_size(55, 2, 2), "(floor of 27.5: the last row and column are never read)")
assert floor_output_size(55, 2, 2) == conv_output_size(55, 3, 2) == 27

# %% [markdown]
# How many windows read each pixel? On a 7×7 map: with 2×2/2 every pixel is read once except
# the last row and column (read by none); with 3×3/2 the shared rows and columns are read twice
# and their crossings four times.

# %% alt="Two 7 by 7 grids counting how many pooling windows read each pixel. With 2 by 2 windows at stride 2 every pixel is read once except the last row and column, read by none; with 3 by 3 windows at stride 2 the shared rows and columns are read twice and their crossings four times." slideshow={"slide_type": "subslide"}
plot_grids({"2×2, stride 2": window_coverage((7, 7), 2, 2), "3×3, stride 2": window_coverage((7, 7), 3, 2)},
           cmap="Purples", suptitle="number of pooling windows that read each pixel", figsize=(8, 3.6))
plt.show()

# %% [markdown] slideshow={"slide_type": "subslide"}
# Here is a 5×5 slice pooled with overlapping 3×3 windows at stride 2 (four windows, each drawn
# slightly inset so that all edges show). The 9 sits in the row shared by the two right-hand windows
# and wins both of them. The AlexNet paper (section 3.4) reports that this overlap lowered its
# top-1 and top-5 error rates by 0.4% and 0.3% compared with 2×2/2 pooling.

# %% slideshow={"slide_type": "subslide"}
overlap = np.array([[3, 1, 0, 2, 4],
                    [1, 7, 2, 5, 1],
                    [0, 2, 2, 9, 3],
                    [4, 1, 6, 0, 2],
                    [8, 2, 1, 3, 5]], dtype=np.float64)
out3 = max_pool2d(overlap[None, None], kernel_size=3, stride=2)[0, 0]
assert np.array_equal(out3, [[7, 9], [8, 9]])

# %% alt="A 5 by 5 slice with four overlapping 3 by 3 windows at stride 2, each drawn in its own colour with its maximum circled, and the 2 by 2 output 7, 9, 8, 9. The 9 sits in the row shared by the two right-hand windows and wins both of them." slideshow={"slide_type": "subslide"}
plot_pooling(overlap, out3, kernel_size=3, stride=2, titles=("5×5 slice", "max pool 3×3, stride 2 → 2×2"))
plt.show()

# %% [markdown] slideshow={"slide_type": "subslide"}
# **Your turn: max pooling, forward.** Write `max_pool_forward(x, kernel_size, stride)` for a
# batch `x` of shape `(N, C, H, W)`, square windows, no padding. Like PyTorch, when the last
# window would hang over the edge, leave it out. The windows may overlap. (Don't call
# `max_pool2d`; the check compares yours with it on 30 small cases, many with ties.)

# %% tags=["exercise"]
def max_pool_forward(x, kernel_size, stride):
    raise NotImplementedError  # your code here


# %% tags=["solution"] jupyter={"source_hidden": true} slideshow={"slide_type": "skip"}
def max_pool_forward(x, kernel_size, stride):
    n, c, h, w = x.shape
    k, s = kernel_size, stride
    out = np.zeros((n, c, (h - k) // s + 1, (w - k) // s + 1))
    for i in range(out.shape[2]):
        for j in range(out.shape[3]):
            out[:, :, i, j] = x[:, :, i * s:i * s + k, j * s:j * s + k].max(axis=(2, 3))  # every image and map at once
    return out


# %% tags=["check"]
_ = check_max_pool_forward(max_pool_forward)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 7. Where the gradient goes in the backward pass
#
# Pooling has no parameters to update, but the layers below it do, so the backward pass must
# carry the gradient of the loss through it. Given d loss / d out (one number per window):
#
# - **max**: out = max(window) changes only when the winning input changes (by exactly as much),
#   so the local gradient is 1 for the winner and 0 for the other inputs. Each window sends its
#   whole gradient to its argmax.
# - **average**: out = (1/k²)·Σ window, so every input of the window receives 1/k² of it.
#
# On the 4×4 slice with d loss / d out = [[1, 2], [3, 4]]:

# %%
g = np.array([[[[1.0, 2.0], [3.0, 4.0]]]])         # d loss / d out, (1, 1, 2, 2)
_, max_cache = max_pool2d_forward(x, 2, 2)
_, avg_cache = avg_pool2d_forward(x, 2, 2)
grad_max = max_pool2d_backward(g, max_cache)[0, 0]  # (4, 4)
grad_avg = avg_pool2d_backward(g, avg_cache)[0, 0]  # (4, 4)
assert grad_max.sum() == grad_avg.sum() == g.sum()  # nothing is lost, only routed

# %% alt="Three grids of numbers for the backward pass of 2 by 2 pooling: the upstream gradient 1, 2, 3, 4 on the 2 by 2 output; under max pooling each of those lands on its window's winning pixel and every other pixel gets 0; under average pooling each window's value is split into four equal quarters, 0.25 to 1." slideshow={"slide_type": "subslide"}
plot_grids({"d loss / d out": g[0, 0], "max pool: d loss / d x": grad_max, "avg pool: d loss / d x": grad_avg},
           fmt="{:.3g}", cmap="Oranges", figsize=(10, 3.4))
plt.show()

# %% [markdown] slideshow={"slide_type": "subslide"}
# Under max pooling the gradient lands exactly on the circled winners of section 2 (the 6, 8, 3
# and 4) and every other pixel gets 0: a pixel that lost its window's competition had no effect
# on the output. Under averaging each window's gradient is split into four equal shares.
#
# When windows **overlap**, a pixel can win several windows; its gradient is then the *sum* of
# their gradients. On the 5×5 slice with 3×3/2 windows and d loss / d out = 1 everywhere, the 9
# (winner of two windows) collects 2. Averaging gives each pixel 1/9 per window it belongs to.

# %%
ones = np.ones((1, 1, 2, 2))
grad_max3 = max_pool2d_backward(ones, max_pool2d_forward(overlap[None, None], 3, 2)[1])[0, 0]
grad_avg3 = avg_pool2d_backward(ones, avg_pool2d_forward(overlap[None, None], 3, 2)[1])[0, 0]
assert grad_max3[2, 3] == 2 and grad_max3.sum() == 4
assert_close(grad_avg3, window_coverage((5, 5), 3, 2) / 9)

# %% alt="Gradients of 3 by 3 pooling at stride 2 on the 5 by 5 slice, with a gradient of 1 on every output. Under max pooling the 9, which wins two windows, collects 2 and two other winners 1 each, all other pixels 0; under average pooling every pixel gets 0.11 per window that reads it, so the centre, read by four windows, gets 0.44." slideshow={"slide_type": "subslide"}
plot_grids({"max pool 3×3/2: d loss / d x": grad_max3, "avg pool 3×3/2: d loss / d x": grad_avg3},
           fmt="{:.2g}", cmap="Oranges", figsize=(8, 3.6))
plt.show()

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Checking the backward pass
#
# Two independent oracles. PyTorch's autograd must give the same gradients:

# %%
xt = torch.tensor(overlap[None, None], requires_grad=True)
F.max_pool2d(xt, kernel_size=3, stride=2).backward(torch.ones(1, 1, 2, 2, dtype=torch.float64))
assert np.array_equal(xt.grad.numpy()[0, 0], grad_max3)
xt.grad = None
F.avg_pool2d(xt, kernel_size=3, stride=2).backward(torch.ones(1, 1, 2, 2, dtype=torch.float64))
assert_close(xt.grad.numpy()[0, 0], grad_avg3)

# %% [markdown]
# And centred finite differences, (f(x + h) − f(x − h)) / 2h for each input, on a random batch
# of 2 images × 3 channels × 7×7 with a random d loss / d out. Random real inputs have no ties, so
# a tiny nudge never changes which input wins a window. (At an exact tie the max has no
# derivative; like PyTorch, our layer gives the gradient to the first maximum in reading order.)

# %% slideshow={"slide_type": "subslide"}
xr = rng.normal(size=(2, 3, 7, 7))
gr = rng.normal(size=(2, 3, 3, 3))                    # d loss / d out for 3x3/2 windows
for forward, backward, pool in ((max_pool2d_forward, max_pool2d_backward, max_pool2d),
                                (avg_pool2d_forward, avg_pool2d_backward, avg_pool2d)):
    analytic = backward(gr, forward(xr, 3, 2)[1])
    err = check_gradient(lambda: pool(xr, 3, 2), xr, analytic, grad_output=gr, tol=1e-7)
    print(f"{pool.__name__}: analytic and numerical gradients agree (relative error < 1e-7)")

# %% [markdown]
# At a tie both candidates are "the" maximum. PyTorch's autograd and `cnnlib` agree on where the
# gradient goes: to the first one in reading order, and only there.

# %% slideshow={"slide_type": "subslide"}
tie = np.array([[[[2.0, 5.0], [5.0, 1.0]]]])          # one 2x2 window, two 5s
_, tie_cache = max_pool2d_forward(tie, 2, 2)
ours_tie = max_pool2d_backward(np.ones((1, 1, 1, 1)), tie_cache)[0, 0]
tie_t = torch.tensor(tie, requires_grad=True)
F.max_pool2d(tie_t, 2, 2).sum().backward()
assert np.array_equal(ours_tie, tie_t.grad.numpy()[0, 0]) and np.array_equal(ours_tie, [[0, 1], [0, 0]])
print("window", tie[0, 0].tolist(), "-> gradient", ours_tie.tolist(), "(cnnlib and PyTorch)")

# %% [markdown] slideshow={"slide_type": "subslide"}
# **Your turn: max pooling, backward.** Write `max_pool_backward(grad_output, x, kernel_size, stride)`:
# given the input `x` of the forward pass and the gradient with respect to its output, return the
# gradient with respect to `x` (shape `(N, C, H, W)`). Follow what you have just seen for
# overlapping windows and for ties.

# %% tags=["exercise"]
def max_pool_backward(grad_output, x, kernel_size, stride):
    raise NotImplementedError  # your code here


# %% tags=["solution"] jupyter={"source_hidden": true} slideshow={"slide_type": "skip"}
def max_pool_backward(grad_output, x, kernel_size, stride):
    k, s = kernel_size, stride
    grad = np.zeros_like(x)
    for n in range(x.shape[0]):
        for c in range(x.shape[1]):
            for i in range(grad_output.shape[2]):
                for j in range(grad_output.shape[3]):
                    window = x[n, c, i * s:i * s + k, j * s:j * s + k]
                    a, b = np.unravel_index(np.argmax(window), window.shape)   # the first maximum
                    grad[n, c, i * s + a, j * s + b] += grad_output[n, c, i, j]  # += : windows may overlap
    return grad


# %% tags=["check"]
_ = check_max_pool_backward(max_pool_backward)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Interactive explorer
#
# Choose max or average pooling, the window size and the stride, and watch the windows move over
# a small activation map, the output it gives, and which rows and columns are never pooled when
# the window does not fit.

# %% alt="The pooling explorer in its default state: an 8 by 8 map of numbers split into sixteen 2 by 2 windows, each outlined in its own colour with its largest value shaded, and the 4 by 4 output of max pooling with stride 2 holding those maxima." caption="Try: switch between max and average pooling, and change the window size and stride to see windows overlap or skip pixels."
# NBVAL_IGNORE_OUTPUT
pooling_explorer()

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Summary
#
# - Pooling summarises each k×k window of an activation map with one number: its **max** or its
#   **average**. 2×2 windows at stride 2 keep a quarter of the values (4×4 → 2×2; VGG's
#   224×224×64 → 112×112×64, 802,816 values).
# - Each activation map is pooled independently: the depth does not change.
# - A pooling layer has **no parameters**. Its output size follows (N − F) / stride + 1: AlexNet's
#   POOL1 takes 55×55×96 to 27×27×96 with (55 − 3) / 2 + 1 = 27.
# - With stride < window size (3×3 at stride 2) the windows **overlap** and share pixels.
# - Backward: max pooling sends each window's gradient to its winner only; average pooling
#   spreads it evenly (1/k² each). A pixel in several windows adds up their contributions.
#
# ## Exercises

# %% [markdown]
# **Exercise 1.** Max-pool the 4×6 depth slice `SLICE_1` below with 2×2 windows at stride 2, by
# hand or with a line of code. The answer is a 2×3 array (a nested list is fine).

# %% slideshow={"slide_type": "subslide"}
print(SLICE_1.astype(int))

# %% tags=["exercise"]
answer = None  # your answer here

# %% tags=["solution"] jupyter={"source_hidden": true} slideshow={"slide_type": "skip"}
answer = max_pool2d(SLICE_1[None, None], kernel_size=2, stride=2)[0, 0]

# %% tags=["check"]
_ = check_max_pool(answer)

# %% [markdown]
# **Exercise 2.** In AlexNet, MAX POOL2 applies 3×3 windows at stride 2 to the 27×27×256 output of
# CONV2. Give `(height, width, depth, number_of_parameters)` of this layer's output.

# %%
print("input (H, W, C):", POOL2_INPUT)

# %% tags=["exercise"]
answer = None  # your answer here: (height, width, depth, parameters)

# %% tags=["solution"] jupyter={"source_hidden": true} slideshow={"slide_type": "skip"}
side = conv_output_size(POOL2_INPUT[0], kernel_size=3, stride=2)  # (27 - 3) / 2 + 1
answer = (side, side, POOL2_INPUT[2], 0)

# %% tags=["check"] slideshow={"slide_type": "subslide"}
_ = check_pool_layer(answer)

# %% [markdown] slideshow={"slide_type": "subslide"}
# **Exercise 3.** The 5×5 slice `SLICE_3` goes through 3×3 max pooling at stride 2, and the
# gradient of the loss with respect to the 2×2 output is `GRAD_OUTPUT_3`. Work out
# d loss / d `SLICE_3`, a 5×5 array. Find each window's winner first; mind the overlaps.

# %%
print(SLICE_3.astype(int))
print(GRAD_OUTPUT_3.astype(int))

# %% tags=["exercise"]
answer = None  # your answer here: a (5, 5) array

# %% tags=["solution"] jupyter={"source_hidden": true} slideshow={"slide_type": "skip"}
_, cache = max_pool2d_forward(SLICE_3[None, None], kernel_size=3, stride=2)
answer = max_pool2d_backward(GRAD_OUTPUT_3[None, None], cache)[0, 0]

# %% tags=["check"]
_ = check_max_pool_gradient(answer)
