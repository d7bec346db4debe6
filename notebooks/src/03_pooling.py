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
# - write max pooling yourself, forward and backward, overlapping windows and ties included,
#   check your backward pass with finite differences, and run your layers on a photograph.
#
# Everything runs on `cnnlib.numpy_nn.pooling`, the NumPy layers with a hand-written backward pass,
# and is compared with `torch.nn.functional`.

# %% slideshow={"slide_type": "skip"}
import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F

from cnnlib.data import fashion_mnist, to_float_images
from cnnlib.device import env_report
from cnnlib.exercises.my_layers import my_layers
from cnnlib.exercises.nb03 import GRAD_OUTPUT_3, POOL2_INPUT, SLICE_1, SLICE_3
from cnnlib.exercises.nb03 import check_max_pool, check_max_pool_gradient, check_pool_layer
from cnnlib.exercises.nb03 import check_max_pool_backward, check_max_pool_forward
from cnnlib.exercises.selfcheck import gradient_check_yours
from cnnlib.numpy_nn.activation import relu
from cnnlib.numpy_nn.conv import conv2d
from cnnlib.numpy_nn.pooling import AvgPool2d, MaxPool2d, avg_pool2d, max_pool2d, max_pool2d_naive
from cnnlib.numpy_nn.pooling import avg_pool2d_backward, avg_pool2d_forward, max_pool2d_backward, max_pool2d_forward
from cnnlib.shapes import conv_output_size, floor_output_size
from cnnlib.testing import assert_close, check_gradient
from cnnlib.plots import show_images
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
# backward pass) works on four times fewer positions than it would without the pool. A second
# effect: a strong response that moves by one pixel but stays inside its window (and stays the
# window's largest value) leaves the max unchanged, so the pooled map cares a little less about
# exact positions. Section 2 checks this on a small example.

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
moved = slice_[[1, 0, 2, 3]]  # rows 0 and 1 swapped: each value of the top windows moves one pixel, inside its window
assert np.array_equal(max_pool2d(moved[None, None], 2, 2)[0, 0], out)

# %% [markdown] slideshow={"slide_type": "subslide"}
# Each colour below is one window; the circled number is its maximum, and the output cell of the
# same colour holds it.

# %% alt="A 4 by 4 depth slice split into four coloured 2 by 2 windows, with the largest value of each circled: 6, 8, 3 and 4. Beside it the 2 by 2 output of max pooling with stride 2 holds those four maxima, each in the colour of its window." slideshow={"slide_type": "subslide"}
plot_pooling(slice_, out, kernel_size=2, stride=2,
             titles=("4×4 depth slice", "max pool 2×2, stride 2 → 2×2"))
plt.show()

# %% [markdown] slideshow={"slide_type": "subslide"}
# The vectorised layer never loops over windows. For each offset inside the window it takes a
# strided slice of the input that holds that offset of every window at once, and keeps a running
# maximum: first across the columns of each window, then across its rows. The naive version is the
# formula above written as loops over every image, channel and output position; PyTorch is the
# third opinion.

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
# "did this feature fire anywhere in the window?", averaging blurs. In the lecture's case studies
# the pooling between convolutions is max pooling (AlexNet's MAX POOL layers, VGG's 2×2 MAX POOL,
# GoogLeNet's 3×3/2 max pools). Averaging shows up at the end instead: the lecture's GoogLeNet
# table ends in an "avg pool 7×7/1" that turns each final 7×7 map into a single number, 1×1×1024:

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
# In AlexNet, CONV1 turns a 227×227×3 image into 55×55×96. That is the lecture's 227. The paper
# (Krizhevsky et al., 2012, section 3.5) says its first layer "filters the 224×224×3 input image",
# which with an 11×11 filter at stride 4 gives a whole number of positions only with padding that
# the paper does not describe: without padding, (224 − 11) / 4 + 1 = 54.25 (the cell below).
# POOL1 then applies 3×3 windows at stride 2. The output size follows the same rule as for a
# convolution, (N − F) / stride + 1:

# %% slideshow={"slide_type": "subslide"}
side = conv_output_size(55, kernel_size=3, stride=2)  # (55 - 3) / 2 + 1
conv1_out = rng.normal(size=(1, 96, 55, 55))           # (N, C, H, W)
pool1_out = pool1(conv1_out)
print(f"(55 - 3) / 2 + 1 = {side};  from 224 without padding: (224 - 11) / 4 + 1 = {(224 - 11) / 4 + 1}")
assert (224 - 11) / 4 + 1 == 54.25 and (227 - 11) / 4 + 1 == 55
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
print("3x3, stride 2:", conv_output_size(55, 3, 2), f"((55 - 3) / 2 + 1 = {(55 - 3) / 2 + 1}: fits exactly)")
print("2x2, stride 2:", floor_output_size(55, 2, 2),
      f"((55 - 2) / 2 + 1 = {(55 - 2) / 2 + 1}: the last row and column are never read)")
assert floor_output_size(55, 2, 2) == conv_output_size(55, 3, 2) == 27 and (55 - 2) / 2 + 1 == 27.5

# %% [markdown]
# How many windows read each pixel? On a 7×7 map: with 2×2/2 every pixel is read once except
# the last row and column (read by none); with 3×3/2 the shared rows and columns are read twice
# and their crossings four times.

# %%
cover2, cover3 = window_coverage((7, 7), 2, 2), window_coverage((7, 7), 3, 2)
assert (cover2[:6, :6] == 1).all() and cover2[6].sum() == cover2[:, 6].sum() == 0
assert cover3[2, 0] == cover3[0, 4] == 2                                       # a shared row, a shared column
assert cover3[[2, 2, 4, 4], [2, 4, 2, 4]].tolist() == [4, 4, 4, 4] == [cover3.max()] * 4  # their crossings

# %% alt="Two 7 by 7 grids counting how many pooling windows read each pixel. With 2 by 2 windows at stride 2 every pixel is read once except the last row and column, read by none; with 3 by 3 windows at stride 2 the shared rows and columns are read twice and their crossings four times." slideshow={"slide_type": "subslide"}
plot_grids({"2×2, stride 2": window_coverage((7, 7), 2, 2), "3×3, stride 2": window_coverage((7, 7), 3, 2)},
           cmap="Purples", suptitle="number of pooling windows that read each pixel", figsize=(8, 3.6))
plt.show()

# %% [markdown] slideshow={"slide_type": "subslide"}
# Here is a 5×5 slice pooled with overlapping 3×3 windows at stride 2 (four windows, each drawn
# slightly inset so that all edges show). The 9 sits in the row shared by the two right-hand windows
# and wins both of them. The AlexNet paper (section 3.4, "Overlapping Pooling") reports that 3×3/2
# pooling "reduces the top-1 and top-5 error rates by 0.4% and 0.3%, respectively, as compared
# with the non-overlapping scheme s = 2, z = 2, which produces output of equivalent dimensions".

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
# batch `x` of shape `(N, C, H, W)`: kernel_size × kernel_size windows, no padding. The rules the
# check holds you to:
#
# - a window that would hang over the bottom or right edge is left out, as in PyTorch: the output
#   has (H − kernel_size) // stride + 1 rows and (W − kernel_size) // stride + 1 columns;
# - a window larger than the image (kernel_size > H or > W) is an error: raise a `ValueError`, as
#   `cnnlib` does;
# - windows may overlap (stride < kernel_size) or skip pixels (stride > kernel_size); images need
#   not be square; values may be negative, and a window may hold nothing but negative values;
# - return a new array and leave `x` as it is;
# - write it with NumPy: don't call `max_pool2d` or PyTorch.
#
# The check compares yours with `cnnlib`'s `max_pool2d` on 36 cases, most of them small (ties,
# float32 and a batch of one among them) to a relative tolerance of 10⁻⁶ (float32 results at float32 precision),
# and shows the smallest case it fails.

# %% tags=["exercise"]
def max_pool_forward(x, kernel_size, stride):
    raise NotImplementedError  # your code here


# %% tags=["solution"] jupyter={"source_hidden": true} slideshow={"slide_type": "skip"}
def max_pool_forward(x, kernel_size, stride):
    n, c, h, w = x.shape
    k, s = kernel_size, stride
    if k > h or k > w:
        raise ValueError(f"kernel_size {k} is larger than the {h}x{w} image")
    out = np.zeros((n, c, (h - k) // s + 1, (w - k) // s + 1), dtype=x.dtype)
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
# - **max**: when the window has one largest value, a small enough change of any input moves
#   out = max(window) only if that input is the winner, and then by exactly as much. So the local
#   gradient is 1 for the winner and 0 for the other inputs: each window sends its whole gradient
#   to its argmax.
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
# of 2 images × 3 channels × 7×7 with a random d loss / d out. Random normal inputs have no ties,
# and the cell checks that in every window the largest value beats the second by far more than the
# nudge h = 10⁻⁶ of `check_gradient`, so no nudge changes which input wins. (At an exact tie the
# max has no derivative; like PyTorch on the CPU, our layer gives the gradient to the first maximum
# in reading order, as the cell after next shows.)

# %% slideshow={"slide_type": "subslide"}
xr = rng.normal(size=(2, 3, 7, 7))
gr = rng.normal(size=(2, 3, 3, 3))                    # d loss / d out for 3x3/2 windows
windows = np.lib.stride_tricks.sliding_window_view(xr, (3, 3), axis=(2, 3))[:, :, ::2, ::2].reshape(2, 3, 3, 3, 9)
top_two = np.sort(windows, axis=-1)[..., -2:]
assert (top_two[..., 1] - top_two[..., 0]).min() > 1000 * 1e-6  # every winner leads by more than 1000 h
for forward, backward, pool in ((max_pool2d_forward, max_pool2d_backward, max_pool2d),
                                (avg_pool2d_forward, avg_pool2d_backward, avg_pool2d)):
    analytic = backward(gr, forward(xr, 3, 2)[1])
    err = check_gradient(lambda: pool(xr, 3, 2), xr, analytic, grad_output=gr)
    assert err < 1e-6
    print(f"{pool.__name__}: analytic and numerical gradients agree (relative error below 1e-6)")

# %% [markdown]
# At a tie both candidates are "the" maximum. On this window PyTorch's autograd (on the CPU) and
# `cnnlib` agree on where the gradient goes: to the first one in reading order, and only there.

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
# gradient with respect to `x` (shape `(N, C, H, W)`). The rules:
#
# - each window sends its gradient to one pixel, its largest value; on a tie, to the **first**
#   maximum in reading order (row by row, left to right), as PyTorch does on the CPU and as the
#   cell above shows (`np.argmax` returns that one);
# - a pixel that wins several overlapping windows receives the sum of their gradients;
# - the windows are those of the forward pass: the same leftover rows and columns left out, the
#   same `ValueError` for a window larger than the image;
# - return a new array and leave `grad_output` and `x` as they are; NumPy only;
# - notebook 07 trains LeNet-5 with it on mini-batches of 64 images, so loop over the output
#   positions only, and handle every image and map of a window at once, as the forward solution
#   does (the check compares numbers; loops over the batch are right, and slow to train with).
#
# The check compares yours with `cnnlib`'s backward on 36 cases at the same tolerance. Before it, the
# cell after your function tests your backward pass yourself against centred finite differences of
# the forward pass (notebook 05 builds this test and measures what round-off and what a bug give).
# Its inputs are random normal values, so no window holds a tie, where the max has no derivative.
# Set its `good_below` to the largest relative error you would still call a match, and know why:
# section 7 measured `cnnlib`'s gradient against finite differences below 10⁻⁶, while a gradient
# sent to the wrong pixel is wrong by a whole entry, an error of order 1.

# %% tags=["exercise"]
def max_pool_backward(grad_output, x, kernel_size, stride):
    raise NotImplementedError  # your code here


# %% tags=["solution"] jupyter={"source_hidden": true} slideshow={"slide_type": "skip"}
def max_pool_backward(grad_output, x, kernel_size, stride):
    k, s = kernel_size, stride
    if k > x.shape[2] or k > x.shape[3]:
        raise ValueError(f"kernel_size {k} is larger than the {x.shape[2]}x{x.shape[3]} image")
    n, c = x.shape[:2]
    grad = np.zeros_like(x)
    for i in range(grad_output.shape[2]):
        for j in range(grad_output.shape[3]):
            window = x[:, :, i * s:i * s + k, j * s:j * s + k].reshape(n, c, k * k)  # every image and map at once
            first = np.arange(k * k) == window.argmax(axis=2)[:, :, None]           # the first maximum of each
            sent = first * grad_output[:, :, i, j, None]
            grad[:, :, i * s:i * s + k, j * s:j * s + k] += sent.reshape(n, c, k, k)  # += : windows may overlap
    return grad


# %% tags=["selfcheck"]
x_check, g_check = rng.normal(size=(2, 3, 7, 6)), rng.normal(size=(2, 3, 3, 2))  # 3x3 windows at stride 2
gradient_check_yours(lambda: max_pool_backward(g_check, x_check, 3, 2), lambda: max_pool2d(x_check, 3, 2),
                     x_check, grad_output=g_check, good_below=1e-6, name="grad_x")

# %% tags=["check"]
_ = check_max_pool_backward(max_pool_backward)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 8. Your layers on a photograph
#
# Each layer whose check passes is kept in the folder `my_layers/` beside the notebooks, and
# `my_layers(...)` loads them back; a layer that has not passed yet is replaced by `cnnlib`'s, and
# the table says which is which. Here is the first stage of a ConvNet, built from your layers:
# notebook 02's vectorized convolution with two 3×3 edge filters (padding 1, so the maps stay
# 28×28), notebook 01's ReLU, and your 2×2 max pooling at stride 2, applied to a photograph of a
# piece of clothing from Fashion-MNIST's test set.

# %% slideshow={"slide_type": "subslide"}
layers = my_layers("conv2d_im2col", "relu_forward", "max_pool_forward", "max_pool_backward")
test_images, test_labels, classes = fashion_mnist("test", source="shipped")
photo = to_float_images(test_images[:1]).astype(np.float64)     # (1, 1, 28, 28), values in [0, 1]
edge_filters = np.array([[[[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]],  # brightness rising from left to right
                         [[[-1, -2, -1], [0, 0, 0], [1, 2, 1]]]], dtype=np.float64)  # ... from top to bottom
edges = layers.relu_forward(layers.conv2d_im2col(photo, edge_filters, np.zeros(2), 1, 1))  # (1, 2, 28, 28)
pooled = layers.max_pool_forward(edges, 2, 2)                     # (1, 2, 14, 14)
print(classes[test_labels[0]], photo.shape, "->", edges.shape, "->", pooled.shape)

# %% [markdown]
# `cnnlib`'s layers give the same maps (to float32 precision, in case yours compute in float32).
# And the gradient of the pooled maps' sum goes back to one pixel per window: 2 × 14 × 14 = 392
# windows, 392 pixels that receive a 1 (where a window of zeros ties, the first of its pixels).

# %%
edges_ref = relu(conv2d(photo, edge_filters, np.zeros(2), stride=1, padding=1))
assert np.allclose(edges, edges_ref, rtol=1e-4, atol=1e-6)
assert np.allclose(pooled, max_pool2d(edges_ref, 2, 2), rtol=1e-4, atol=1e-6)
routed = layers.max_pool_backward(np.ones_like(pooled), edges, 2, 2)
assert routed.sum() == np.count_nonzero(routed) == pooled.size == 392
print(f"{np.count_nonzero(routed)} pixels of {edges.size:,} receive the gradient")

# %% alt="Five panels in gray scale: a Fashion-MNIST test photograph of an ankle boot (28 by 28), its two edge maps after the 3 by 3 edge filters and ReLU (where the brightness rises from left to right, and from top to bottom; 28 by 28), and the same two maps after 2 by 2 max pooling at stride 2 (14 by 14, each value drawn as a 2 by 2 block). The pooled maps are coarser but still trace the parts of the boot's outline that each filter found." slideshow={"slide_type": "subslide"}
blocks = pooled[0].repeat(2, axis=1).repeat(2, axis=2)          # each pooled value drawn as a 2x2 block
show_images([photo[0, 0], edges[0, 0], edges[0, 1], blocks[0], blocks[1]],
            titles=["photo 28×28", "rising left→right", "rising top→bottom", "pooled 14×14", "pooled 14×14"],
            ncols=5, size=2.0)
plt.show()

# %% [markdown]
# Pooling keeps a quarter of the values, and each 2×2 window keeps its strongest edge response,
# so the parts of the boot's outline that each filter found survive at half the resolution in each
# direction. (ReLU kept only rises in brightness: the edges where the boot turns dark again are gone.)

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
