# %% [markdown] slideshow={"slide_type": "slide"}
# # 02 · Convolution, stride and padding
#
# Notebook 01 showed a fully connected layer that needs 307 million weights to look at one small
# photograph. A convolutional layer looks at it with a few hundred, whatever its size.
#
# **What you will learn**
#
# - weight sharing: one small filter slid over every position of the image;
# - hand-made filters (a Gaussian blur, edge detectors) applied to a real photograph;
# - what sharing buys: a shifted input gives the same map, shifted (equivariance);
# - convolution versus cross-correlation: what the layers compute, and what flipping the filter changes;
# - the shapes of a convolutional layer: a 5×5×3 filter on a 32×32×3 image gives 28×28×1,
#   six filters give 28×28×6;
# - stride, the output size $(N - F)/\text{stride} + 1$, filters that "don't fit", and zero
#   padding with $(F-1)/2$ to keep the size;
# - how many parameters a convolutional layer has;
# - convolution written as loops and then vectorized, both by you (the vectorized one joins your own
#   layer library and trains LeNet-5 in notebook 07), and parity with PyTorch;
# - the 1×1 convolution, a matrix multiply over channels;
# - a ConvNet as convolutions interspersed with activations.

# %% slideshow={"slide_type": "skip"}
import time

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F

from cnnlib.data import load_sample_image
from cnnlib.device import env_report
from cnnlib.exercises.my_layers import my_layers
from cnnlib.exercises.nb02 import check_conv2d_im2col, check_conv2d_loops, check_conv_parameters, check_output_shape
from cnnlib.exercises.nb02 import check_output_size, check_stride_padding
from cnnlib.fashion import fashion_mnist
from cnnlib.numpy_nn.activation import ReLU
from cnnlib.numpy_nn.conv import Conv2d, choose_algorithm, conv2d, conv2d_naive
from cnnlib.numpy_nn.module import Sequential
from cnnlib.shapes import conv_output_size, floor_output_size
from cnnlib.testing import assert_close
from cnnlib.viz.convolution import plot_filter_positions, plot_kernel, show_named_images
from cnnlib.widgets import conv_arithmetic_explorer, filter_explorer
# %config InlineBackend.figure_formats = ['png']

# %% slideshow={"slide_type": "subslide"}
rng = np.random.default_rng(0)
plt.rcParams["figure.dpi"] = 150              # figures that read on a laptop screen
_ = torch.manual_seed(0)
print(env_report())

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 1. Weight sharing
#
# A fully connected layer gives every (input, output) pair its own weight. A convolutional
# layer instead owns a few small **filters** and applies each of them at every position of
# the image: the same numbers are *shared* by all locations. The bet behind it: a feature that is
# worth detecting in one corner (an edge, a spot) is worth detecting everywhere. Section 2 checks
# what sharing gives in return: move the input, and the output moves with it.
#
# Take a 32×32 colour image (32×32×3) and ask for a 28×28×6 output. A convolutional layer
# with six 5×5×3 filters produces exactly that; a fully connected layer producing the same
# number of outputs needs a weight for every input–output pair:

# %%
conv6 = Conv2d(3, 6, kernel_size=5, rng=rng)
conv_params = sum(p.data.size for p in conv6.parameters())
n_in, n_out = 32 * 32 * 3, 28 * 28 * 6
fc_params = n_in * n_out + n_out              # weights + one bias per output
assert conv_params == 6 * (5 * 5 * 3) + 6 == 456
print(f"convolution: {conv_params:,} parameters   fully connected: {fc_params:,} parameters "
      f"({fc_params // conv_params:,} times more)")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 2. Filters you can design by hand
#
# Before ConvNets learned their filters, image processing designed them by hand. The **Gaussian filter** weighs each
# neighbour by its distance from the centre,
#
# $$g(x, y) = \frac{1}{2\pi\sigma^2}\, e^{-\frac{x^2 + y^2}{2\sigma^2}},$$
#
# and blurs the image (larger $\sigma$, more blur). Here it is built straight from the formula
# on a 13×13 grid of offsets $x, y \in \{-6, \dots, 6\}$ with $\sigma = 2$. Its weights add up to
# (almost) 1, so it keeps the overall brightness.

# %%
sigma, radius = 2.0, 6
offsets = np.arange(-radius, radius + 1)      # -6 ... 6
xx, yy = np.meshgrid(offsets, offsets)        # (13, 13) each
gauss = np.exp(-(xx**2 + yy**2) / (2 * sigma**2)) / (2 * np.pi * sigma**2)
assert gauss.shape == (13, 13) and abs(gauss.sum() - 1) < 0.01
print("sum of the weights:", round(float(gauss.sum()), 4), "  centre weight:", round(float(gauss[6, 6]), 4))

# %% [markdown] slideshow={"slide_type": "subslide"}
# **Edge filters** take differences instead of averages. The Sobel filter below subtracts the
# column on the left from the column on the right (with the middle row counted twice), so it
# answers strongly where brightness changes from left to right, i.e. on *vertical* edges; its
# transpose finds horizontal edges.

# %% alt="Three filters drawn as heat maps: a 13 by 13 Gaussian, a round blob that is darkest in the middle and fades outwards, and the two 3 by 3 Sobel filters with their numbers. Sobel x has columns -1 -2 -1 and 1 2 1, so it responds to vertical edges; Sobel y is its transpose and responds to horizontal edges." slideshow={"slide_type": "subslide"}
sobel_x = np.array([[-1.0, 0.0, 1.0],
                    [-2.0, 0.0, 2.0],
                    [-1.0, 0.0, 1.0]])
sobel_y = sobel_x.T
fig, axes = plt.subplots(1, 3, figsize=(10.5, 3.2))
plot_kernel(gauss, ax=axes[0], title="Gaussian, 13x13, sigma = 2", fmt=None, signed=True, colorbar=True)
plot_kernel(sobel_x, ax=axes[1], title="Sobel x (vertical edges)", fmt=".0f", colorbar=True)
plot_kernel(sobel_y, ax=axes[2], title="Sobel y (horizontal edges)", fmt=".0f", colorbar=True)
plt.show()

# %% [markdown] slideshow={"slide_type": "subslide"}
# Now apply them to a real photograph: scikit-image's "camera" picture (shipped with the
# library, nothing is downloaded), scaled to 256×256. The layers use the **NCHW** layout,
# (batch, channels, height, width), so one grey image is an array of shape (1, 1, 256, 256) and
# one filter is a weight of shape (C_out, C_in, F, F) = (1, 1, F, F).

# %%
photo = load_sample_image("camera", size=256).astype(np.float64)   # (256, 256), values in [0, 1]
x_photo = photo[None, None]                                          # (1, 1, 256, 256)
blurred = conv2d(x_photo, gauss[None, None])[0, 0]
edges_x = conv2d(x_photo, sobel_x[None, None])[0, 0]
edges_y = conv2d(x_photo, sobel_y[None, None])[0, 0]
print("photo", photo.shape, "-> blurred", blurred.shape, " edges", edges_x.shape)
assert blurred.shape == (244, 244) and edges_x.shape == (254, 254)

# %% [markdown]
# Without padding the output is smaller than the input by $F - 1$: 256 − 12 = 244 for the
# 13×13 Gaussian, 256 − 2 = 254 for the 3×3 Sobel filters. (Section 5 fixes that.)
#
# In the edge maps below, red is a positive response (getting brighter to the right, or
# downwards) and blue a negative one; white is no change.

# %% alt="The camera photograph, a man with a camera on a tripod, in five versions side by side: the photograph, blurred by the Gaussian, the Sobel x and Sobel y edge maps, in which red marks brightness rising to the right or downwards and blue falling, and the edge strength, bright only along the outlines of the man and the tripod." caption="Red: brighter to the right (Sobel x) or downwards (Sobel y); blue: darker; white: no change. Edge strength combines the two." slideshow={"slide_type": "subslide"}
fig = show_named_images({"photograph": photo, "Gaussian blur": blurred, "Sobel x": edges_x,
                   "Sobel y": edges_y, "edge strength": np.hypot(edges_x, edges_y)}, size=2.3)
plt.show()

# %% [markdown]
# Each output pixel is one **dot product**: the filter's weights times the pixels under it,
# summed. The check below recomputes one pixel of the vertical-edge map by hand.

# %% slideshow={"slide_type": "subslide"}
i, j = 120, 100
patch = photo[i:i + 3, j:j + 3]               # the 3x3 pixels under the filter at (i, j)
assert_close(edges_x[i, j], np.sum(patch * sobel_x))
print(f"edges_x[{i}, {j}] = {edges_x[i, j]:.4f} = sum(patch * sobel_x)")

# %% [markdown]
# Sharing the filter has a consequence that can be checked: move the photograph 5 pixels to the
# right and the edge map moves 5 pixels to the right, unchanged. A layer with this property is
# *equivariant* to shifts. (The answer "there is an edge somewhere" not moving at all, *invariance*,
# is another matter: pooling, notebook 03, and the layers that look at the whole image give it.)

# %% slideshow={"slide_type": "subslide"}
moved = np.roll(photo, 5, axis=1)             # every column 5 to the right (the last 5 wrap round to the left)
edges_moved = conv2d(moved[None, None], sobel_x[None, None])[0, 0]
assert_close(edges_moved[:, 5:], edges_x[:, :-5], rtol=1e-12, atol=1e-12)
print(f"edge map of the moved photo, columns 5 to 253 = the edge map's columns 0 to 248: "
      f"{edges_moved[:, 5:].size:,} values equal")

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Convolution or cross-correlation?
#
# In mathematics and signal processing, *convolution* flips the filter before sliding it:
# $(x \ast w)[i, j] = \sum_{a, b} x[i - a, j - b]\, w[a, b]$. What `conv2d` computes, like PyTorch's
# `conv2d` (section 8), is $\sum_{a, b} x[i + a, j + b]\, w[a, b]$, with no flip: strictly, a
# *cross-correlation*. Deep learning calls it convolution all the same. For the Gaussian, which is
# symmetric, the flip changes nothing. For Sobel x it changes the sign: flipped top to bottom and left to right, the filter is
# $-$Sobel x, so a true convolution calls every edge the opposite way round. The pixel checked above,
# by the definition with the flip, and then the whole map:

# %%
true_conv = sum(photo[i + 2 - a, j + 2 - b] * sobel_x[a, b]   # output (i, j) sits over input (i + 2, j + 2)
                for a in range(3) for b in range(3))
flipped = sobel_x[::-1, ::-1]                  # flipped top to bottom and left to right
assert_close(flipped, -sobel_x)
assert_close(true_conv, -edges_x[i, j])
assert_close(conv2d(x_photo, flipped[None, None])[0, 0], -edges_x, rtol=1e-12, atol=1e-12)
assert_close(conv2d(x_photo, gauss[::-1, ::-1][None, None])[0, 0], blurred, rtol=1e-12, atol=1e-12)
print(f"at ({i}, {j}): cross-correlation {edges_x[i, j]:+.4f}, true convolution {true_conv:+.4f}")

# %% [markdown]
# For a ConvNet the difference does not matter: convolving with $w$ is correlating with the flipped
# $w$, so a network that learns its filters simply learns them the other way round.
#
# A ConvNet uses the same operation with one difference: nobody designs its filters. They start
# random and **training learns the weights**. AlexNet's first layer, for one, learned filters much like
# these: "a variety of frequency- and orientation-selective kernels, as well as various colored
# blobs" (Krizhevsky, Sutskever and Hinton 2012, section 6.1; its figure 3 shows all 96).
#
# ## 3. The convolutional layer: 32×32×3 in, 28×28×1 out
#
# In a standard convolutional layer a filter covers the **full depth** of its input. On a 32×32×3 image a 5×5 filter is
# really 5×5×3: 75 weights (plus one bias). Slid over every position where it fits, it
# produces one number per position: an **activation map** of 28×28×1.
#
# The lecture writes shapes as height × width × depth; the layers here use NCHW, so the image
# is (1, 3, 32, 32) and the map is (1, 1, 28, 28).

# %% slideshow={"slide_type": "subslide"}
image = rng.normal(size=(1, 3, 32, 32))       # one 32x32x3 image, NCHW
one_filter = Conv2d(3, 1, kernel_size=5, rng=rng)
activation_map = one_filter(image)
assert one_filter.weight.shape == (1, 3, 5, 5) and activation_map.shape == (1, 1, 28, 28)
print("image", image.shape, " filter", one_filter.weight.shape, " activation map", activation_map.shape)

# %% [markdown]
# One entry of the map is the dot product of the 75 filter weights with the 5×5×3 chunk of the
# image under it, plus the bias:

# %%
i, j = 10, 7
chunk = image[0, :, i:i + 5, j:j + 5]         # (3, 5, 5): 75 numbers
by_hand = np.sum(chunk * one_filter.weight.data[0]) + one_filter.bias.data[0]
assert_close(activation_map[0, 0, i, j], by_hand)
print(f"map[{i}, {j}] = {by_hand:.4f}, a dot product of {chunk.size} numbers plus a bias")

# %% [markdown]
# A second filter gives a second map, and so on: six 5×5×3 filters give six separate
# activation maps, stacked into a new "image" of 28×28×6. That is `conv6` from section 1.

# %% slideshow={"slide_type": "subslide"}
maps = conv6(image)
assert conv6.weight.shape == (6, 3, 5, 5) and maps.shape == (1, 6, 28, 28)
print("six filters", conv6.weight.shape, "-> activation maps", maps.shape)

# %% [markdown]
# To see what six (still random, untrained) filters make of a real picture, feed them the
# astronaut photograph at 32×32×3. Each filter mixes the three colour channels with its own
# weights, so each map brings out something different.

# %% alt="A 32 by 32 colour photograph of an astronaut beside the six 28 by 28 grey feature maps that six random, untrained 3-channel filters make of it. Each map shows the face and the suit with different contrast: one filter brightens the suit, another the background, another picks out edges." caption="Six untrained filters, six different views of one picture: each mixes the red, green and blue channels with its own weights." slideshow={"slide_type": "subslide"}
astronaut = load_sample_image("astronaut", size=32).astype(np.float64)   # (32, 32, 3), H x W x C
x_rgb = astronaut.transpose(2, 0, 1)[None]                               # (1, 3, 32, 32), NCHW
rgb_maps = conv6(x_rgb)[0]                                               # (6, 28, 28)
fig = show_named_images({"input 32x32x3": astronaut,
                   **{f"map {k}": rgb_maps[k] for k in range(6)}}, ncols=7, size=1.6, cmap="gray")
plt.show()

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 4. Stride and the output size
#
# The filter need not move one pixel at a time. The **stride** is its step. Take the lecture's
# 7×7 input and a 3×3 filter:
#
# - stride 1: the filter fits at 5 positions per row, so the output is 5×5;
# - stride 2: positions 0, 2, 4, so the output is 3×3;
# - stride 3: positions 0 and 3, and the next one, 6, would need columns 6–8 of a 7-wide
#   input. It **doesn't fit**.
#
# In the figure each green dot is one output pixel (the centre of a filter position); the blue
# square is the first position and the dashed orange one the next. At stride 3 the dotted red
# square is where the filter would have to go next, hanging over the edge; the shaded column
# is never covered.

# %% alt="A 3 by 3 filter sliding over a 7 by 7 input at strides 1, 2 and 3, one grid each, with a dot at every filter position. Stride 1 gives 5 by 5 positions and stride 2 gives 3 by 3; at stride 3 the next position would hang over the right edge, so the filter does not fit and the last column is never covered." slideshow={"slide_type": "subslide"}
fig, axes = plt.subplots(1, 3, figsize=(10, 3.8))
for ax, stride in zip(axes, (1, 2, 3)):
    plot_filter_positions(7, 3, stride=stride, ax=ax, width=9)
plt.show()

# %% [markdown] slideshow={"slide_type": "subslide"}
# In general, for an $N \times N$ input and an $F \times F$ filter,
#
# $$\text{output size} = \frac{N - F}{\text{stride}} + 1.$$
#
# For $N = 7$, $F = 3$:

# %% slideshow={"slide_type": "subslide"}
for stride in (1, 2, 3):
    print(f"stride {stride}:  (7 - 3) / {stride} + 1 = {(7 - 3) / stride + 1:.3g}")
assert conv_output_size(7, 3, stride=1) == 5 and conv_output_size(7, 3, stride=2) == 3

# %% [markdown]
# `cnnlib.shapes.conv_output_size` computes it and refuses a filter that doesn't fit, saying
# what would:

# %%
try:
    conv_output_size(7, 3, stride=3)
except ValueError as err:
    print("ValueError:", err)

# %% [markdown]
# The layers themselves, like PyTorch's, do not refuse: they round down and silently ignore
# the last column and row. Good to know when an output is one pixel smaller than expected.

# %% slideshow={"slide_type": "subslide"}
x7 = rng.normal(size=(1, 1, 7, 7))
w3 = rng.normal(size=(1, 1, 3, 3))
shapes = {s: conv2d(x7, w3, stride=s).shape for s in (1, 2, 3)}
torch_shape = tuple(F.conv2d(torch.from_numpy(x7), torch.from_numpy(w3), stride=3).shape)
assert shapes == {1: (1, 1, 5, 5), 2: (1, 1, 3, 3), 3: (1, 1, 2, 2)} and torch_shape == (1, 1, 2, 2)
print(shapes, " PyTorch, stride 3:", torch_shape, " floor rule:", floor_output_size(7, 3, stride=3))

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 5. Zero padding
#
# Every convolution without padding shrinks the image by $F - 1$; a deep stack would shrink
# it to nothing, and pixels at the border are covered by fewer filter positions than those in
# the middle. The common fix is to surround the input with a border of zeros. With $P$ pixels
# of padding on each side, $N$ becomes $N + 2P$:
#
# $$\text{output size} = \frac{N - F + 2P}{\text{stride}} + 1.$$
#
# The lecture's example: 7×7 input, 3×3 filter, stride 1, a 1-pixel border of zeros. The
# output is 7×7, the same size as the input.

# %% alt="A 7 by 7 input surrounded by a one-pixel border of zeros, making it 9 by 9, with a 3 by 3 filter at stride 1: a dot at each of the 7 by 7 filter positions, so the output is 7 by 7, the same size as the input." slideshow={"slide_type": "subslide"}
assert conv_output_size(7, 3, stride=1, padding=1) == 7
padded_out = Conv2d(1, 1, 3, stride=1, padding=1, rng=rng)(x7)
assert padded_out.shape == (1, 1, 7, 7)
fig = plot_filter_positions(7, 3, stride=1, padding=1)
plt.show()

# %% [markdown] slideshow={"slide_type": "subslide"}
# With stride 1, a padding of $(F - 1)/2$ always keeps the size, because then $-F + 2P = -1$
# and the output is $N - 1 + 1 = N$. That is why filters usually have odd sizes:

# %% slideshow={"slide_type": "subslide"}
for f in (3, 5, 7):
    p = (f - 1) // 2
    out = Conv2d(1, 1, f, padding=p, rng=rng)(x7).shape[-1]
    print(f"F = {f}: padding (F - 1)/2 = {p} -> output {out}x{out}")
    assert out == 7 == conv_output_size(7, f, stride=1, padding=p)

# %% [markdown] slideshow={"slide_type": "subslide"}
# **Your turn: the output size.** Write `output_size(n, f, stride, padding)` for an $n \times n$
# input, an $f \times f$ filter, the given stride and zero padding on every side. It returns the
# output's height (an integer), and raises `ValueError` when the filter doesn't fit: when it would
# hang over the edge, or is larger than the padded input. (Don't call `conv_output_size`; the
# check compares yours with it on 48 cases, two of them with a filter larger than the padded input.)

# %% tags=["exercise"]
def output_size(n, f, stride, padding):
    raise NotImplementedError  # your code here


# %% tags=["solution"] jupyter={"source_hidden": true} slideshow={"slide_type": "skip"}
def output_size(n, f, stride, padding):
    span = n + 2 * padding - f                # how far the filter can travel
    if span < 0 or span % stride:
        raise ValueError(f"the filter doesn't fit: ({n} - {f} + 2*{padding}) / {stride} is not a whole number >= 0")
    return span // stride + 1


# %% tags=["check"]
_ = check_output_size(output_size)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 6. How many parameters?
#
# A filter has $F \times F \times C_\text{in}$ weights and one bias, and a layer has one filter
# per output channel. For example, ten 5×5×3 filters have $10 \times (75 + 1) = 760$
# parameters, whatever the size of the image.

# %%
conv10 = Conv2d(3, 10, kernel_size=5, rng=rng)
n_params = sum(p.data.size for p in conv10.parameters())
assert n_params == 10 * (5 * 5 * 3 + 1) == 760
print({name: p.shape for name, p in conv10.named_parameters()}, "->", n_params, "parameters")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 7. Convolution as loops, and the vectorized convolution
#
# **Your turn: convolution as loops.** Write `conv2d_loops(x, weight, bias, stride, padding)`:
# `x` has shape `(N, C_in, H, W)`, `weight` `(C_out, C_in, F, F)`, `bias` `(C_out,)`; pad `x` with
# `padding` zeros on each side of its height and width, slide each filter with the given
# stride, and return the `(N, C_out, H_out, W_out)` outputs, each the dot product of a filter
# with the patch under it plus that filter's bias. What the check holds you to:
#
# - where the last step of the stride does not fit, do what `conv2d` and PyTorch do (section 4):
#   round the output size down and leave the last rows or columns out; do not raise;
# - where the filter is larger than the padded input, it fits nowhere: raise `ValueError`, as
#   `conv2d` does (an empty array is not an answer);
# - leave `x`, `weight` and `bias` as they are (pad a copy; `np.pad` makes one);
# - your numbers must agree with cnnlib's to a relative error of 10⁻⁶; the float32 case (whole
#   numbers) is judged at float32 precision, a relative 10⁻⁴.
#
# Plain Python loops over the outputs are fine. NumPy only: a function that calls `cnnlib` (its
# `conv2d` and `conv2d_naive` included) or PyTorch fails. The check
# compares yours with cnnlib's on 46 small cases (negative values, images of very different scale,
# a batch of one, tall and wide images, a stride larger than the filter, float32 inputs), some of
# which round down, and among them the geometry of every later cell that uses your function.

# %% tags=["exercise"]
def conv2d_loops(x, weight, bias, stride, padding):
    raise NotImplementedError  # your code here


# %% tags=["solution"] jupyter={"source_hidden": true} slideshow={"slide_type": "skip"}
def conv2d_loops(x, weight, bias, stride, padding):
    x = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    n, _, h, w = x.shape
    c_out, _, f, _ = weight.shape
    if f > h or f > w:
        raise ValueError(f"the {f}x{f} filter is larger than the padded input ({h}x{w})")
    out = np.zeros((n, c_out, (h - f) // stride + 1, (w - f) // stride + 1))
    for b in range(n):
        for k in range(c_out):
            for i in range(out.shape[2]):
                for j in range(out.shape[3]):
                    patch = x[b, :, i * stride:i * stride + f, j * stride:j * stride + f]   # (C_in, F, F)
                    out[b, k, i, j] = np.sum(patch * weight[k]) + bias[k]
    return out


# %% tags=["check"]
_ = check_conv2d_loops(conv2d_loops)

# %% [markdown]
# A passing check keeps your function in a file of your own, `my_layers/conv2d_loops.py` beside the
# notebooks, and `my_layers(...)` loads it back. It prints whose each layer is: yours once its check
# has passed, `cnnlib`'s until then. The next cell runs it on the six random filters of section 3 and
# the astronaut again, now with stride 2 and padding 2, against PyTorch. Here $(32 + 4 - 5)/2 = 15.5$:
# the last step does not fit, and the output rounds down to 16×16.

# %% slideshow={"slide_type": "subslide"}
layers = my_layers("conv2d_loops")
mine = layers.conv2d_loops(x_rgb, conv6.weight.data, conv6.bias.data, 2, 2)
torch_maps = F.conv2d(torch.from_numpy(x_rgb), torch.from_numpy(conv6.weight.data),
                      torch.from_numpy(conv6.bias.data), stride=2, padding=2)
assert_close(mine, torch_maps.numpy(), rtol=1e-10, atol=1e-10)
print("astronaut", x_rgb.shape, "-> six maps", mine.shape, "the same as PyTorch's")

# %% [markdown]
# `conv2d_naive` is `cnnlib`'s version of the same loops. For these 5×5 filters `conv2d` gives the
# same numbers with one big matrix multiply ("im2col": every patch becomes one column of a matrix,
# so all the dot products are computed at once). For 3×3 filters at stride 1, such as the Sobel
# filters of section 2, it picks Winograd's algorithm instead (notebook 10). Same answer, first:

# %%
x_batch = rng.normal(size=(8, 3, 32, 32))
w, b = conv6.weight.data, conv6.bias.data
slow, fast = conv2d_naive(x_batch, w, b), conv2d(x_batch, w, b)
assert_close(fast, slow, rtol=1e-12, atol=1e-12)
picked = {f"{k}x{k}": choose_algorithm("auto", (k, k), (1, 1)) for k in (5, 3)}
assert picked == {"5x5": "im2col", "3x3": "winograd"}
print("naive and vectorized agree on", slow.shape, "; conv2d's algorithm at stride 1:", picked)

# %% [markdown] slideshow={"slide_type": "subslide"}
# And how much faster (the numbers depend on the machine, so this cell's output is not checked):

# %% slideshow={"slide_type": "subslide"}
# NBVAL_IGNORE_OUTPUT
start = time.perf_counter()
conv2d_naive(x_batch, w, b)
t_naive = time.perf_counter() - start
start = time.perf_counter()
for _ in range(10):
    conv2d(x_batch, w, b)
t_fast = (time.perf_counter() - start) / 10
print(f"naive loops {1e3 * t_naive:.0f} ms, vectorized {1e3 * t_fast:.2f} ms: {t_naive / t_fast:.0f}x faster")

# %% [markdown] slideshow={"slide_type": "subslide"}
# **Your turn: the vectorized convolution.** Write `conv2d_im2col(x, weight, bias, stride, padding)`:
# the same function as `conv2d_loops`, with the same rules (round down where the last step does not
# fit, `ValueError` where the filter is larger than the padded input, inputs left unchanged, a relative
# error of 10⁻⁶), but **without a Python loop over the batch or the output pixels**. Two ways that
# work: im2col (gather every patch into one row of a matrix, with `np.lib.stride_tricks.sliding_window_view`
# or fancy indexing, and multiply by `weight.reshape(C_out, -1)`), or a loop over the $F \times F$
# offsets of the filter only, each step one product over the whole batch and every output pixel.
#
# Why the rule: notebook 07 trains LeNet-5 with your function. Its first layer makes six 28×28 maps
# of every image with 5×5 filters: on one batch of 64 images that is 64 · 6 · 28 · 28 = 301,056 output
# pixels, so a loop over them runs 301,056 times per batch, where a loop over the offsets runs 25 times. The
# check compares numbers only, on the same 46 cases as `conv2d_loops` (07's layer geometries among
# them): it cannot see your loops, so keep to the rule yourself.

# %% tags=["exercise"]
def conv2d_im2col(x, weight, bias, stride, padding):
    raise NotImplementedError  # your code here


# %% tags=["solution"] jupyter={"source_hidden": true} slideshow={"slide_type": "skip"}
def conv2d_im2col(x, weight, bias, stride, padding):
    x = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    c_out, c_in, f, _ = weight.shape
    if f > x.shape[2] or f > x.shape[3]:
        raise ValueError(f"the {f}x{f} filter is larger than the padded input {x.shape[2:]}")
    patches = np.lib.stride_tricks.sliding_window_view(x, (f, f), axis=(2, 3))[:, :, ::stride, ::stride]
    n, _, h_out, w_out = patches.shape[:4]                                  # (N, C_in, H_out, W_out, F, F)
    rows = patches.transpose(0, 2, 3, 1, 4, 5).reshape(n * h_out * w_out, c_in * f * f)
    out = rows @ weight.reshape(c_out, -1).T + bias                         # (N * H_out * W_out, C_out)
    return out.reshape(n, h_out, w_out, c_out).transpose(0, 3, 1, 2)        # (N, C_out, H_out, W_out)


# %% tags=["check"]
_ = check_conv2d_im2col(conv2d_im2col)

# %% [markdown]
# Once it passes, it is in `my_layers/conv2d_im2col.py`. Here it is on a real photograph of clothing:
# the first test image of Fashion-MNIST (28×28, shipped with the repository), through the two Sobel
# filters of section 2 at once, as one layer of two 3×3 filters with padding 1 so that the maps keep
# the image's size.

# %% slideshow={"slide_type": "subslide"}
layers = my_layers("conv2d_im2col")
images, labels, classes = fashion_mnist("test", source="shipped")
item = images[0].astype(np.float64) / 255                 # (28, 28), 0 = background, 1 = ink
sobel = np.stack([sobel_x, sobel_y])[:, None]             # (2, 1, 3, 3): C_out = 2 filters, C_in = 1
item_maps = layers.conv2d_im2col(item[None, None], sobel, np.zeros(2), 1, 1)[0]   # (2, 28, 28)
assert_close(item_maps, conv2d(item[None, None], sobel, padding=1)[0], rtol=1e-12, atol=1e-12)
print(f"{classes[labels[0]]}: {item.shape} -> edge maps {item_maps.shape}, the same as conv2d's")

# %% alt="A 28 by 28 Fashion-MNIST photograph of an ankle boot beside the two edge maps that the learner's vectorized convolution computes from it with the Sobel filters, and the edge strength. In the Sobel x map the boot's sloping front is red (brighter to the right) and its back edge blue (darker to the right); in the Sobel y map its top edge is red (brighter downwards) and its sole blue; the edge strength traces the whole outline." caption="Red: brighter to the right (Sobel x) or downwards (Sobel y); blue: darker; white: no change." slideshow={"slide_type": "subslide"}
fig = show_named_images({classes[labels[0]]: item, "Sobel x": item_maps[0], "Sobel y": item_maps[1],
                         "edge strength": np.hypot(item_maps[0], item_maps[1])}, size=2.3)
plt.show()

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 8. The same numbers as PyTorch
#
# `torch.nn.functional.conv2d` computes the same function (like ours, it does not flip the
# filter: the cross-correlation of section 2). With stride 2 and padding 1, in float64:

# %%
xt, wt, bt = rng.normal(size=(2, 3, 9, 9)), rng.normal(size=(4, 3, 3, 3)), rng.normal(size=4)
ours = conv2d(xt, wt, bt, stride=2, padding=1)
theirs = F.conv2d(torch.from_numpy(xt), torch.from_numpy(wt), torch.from_numpy(bt), stride=2, padding=1)
assert_close(ours, theirs.numpy(), rtol=1e-12, atol=1e-12)
print("cnnlib and PyTorch agree:", ours.shape)

# %% [markdown]
# The parameters even carry the same names and shapes, so a `torch.nn.Conv2d`'s weights load
# straight into `cnnlib`'s `Conv2d`:

# %% slideshow={"slide_type": "subslide"}
torch_conv = torch.nn.Conv2d(3, 6, kernel_size=5, dtype=torch.float64)
ours6 = Conv2d(3, 6, kernel_size=5)
ours6.load_state_dict({k: v.detach().numpy() for k, v in torch_conv.state_dict().items()})
assert_close(ours6(image), torch_conv(torch.from_numpy(image)).detach().numpy(), rtol=1e-12, atol=1e-12)
print(sorted(torch_conv.state_dict()), "->", ours6(image).shape)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 9. A 1×1 convolution is a matrix multiply over channels
#
# A filter of size 1×1 sees one pixel at a time, through all of its $C_\text{in}$ channels. Its
# output at a pixel is $\sum_c w[k, c]\, x[c, i, j] + b[k]$: the same $C_\text{out} \times C_\text{in}$
# matrix applied to every pixel's vector of channels. It changes the depth, not the height or
# width, which is how the inception modules of notebook 09 make the input thinner before their
# expensive 3×3 and 5×5 filters. In code, with 64 channels in and 16 out:

# %% slideshow={"slide_type": "subslide"}
x64 = rng.normal(size=(2, 64, 7, 7))
reduce = Conv2d(64, 16, kernel_size=1, rng=rng)
matrix = reduce.weight.data[:, :, 0, 0]                                   # (16, 64)
as_einsum = np.einsum("kc,nchw->nkhw", matrix, x64) + reduce.bias.data[:, None, None]
pixels = x64.transpose(0, 2, 3, 1).reshape(-1, 64)                       # one row per pixel: (2*7*7, 64)
as_matmul = (pixels @ matrix.T + reduce.bias.data).reshape(2, 7, 7, 16).transpose(0, 3, 1, 2)
assert_close(reduce(x64), as_einsum, rtol=1e-12, atol=1e-12)
assert_close(reduce(x64), as_matmul, rtol=1e-12, atol=1e-12)
print(f"Conv2d(64, 16, 1) on {x64.shape} -> {reduce(x64).shape}: equal to a ({pixels.shape[0]}, 64) @ (64, 16) "
      f"matrix multiply, with {sum(p.data.size for p in reduce.parameters()):,} parameters")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 10. A ConvNet: convolutions interspersed with activations
#
# Stack convolutional layers with an activation after each and you have a ConvNet. Each layer's
# filters span the full depth of the maps below it: the second layer's ten filters are 5×5×**6**.

# %%
convnet = Sequential(Conv2d(3, 6, 5, rng=rng), ReLU(), Conv2d(6, 10, 5, rng=rng), ReLU())
h = image
print(f"{'input':8s} {h.shape}")
for layer in convnet.layers:
    h = layer(h)
    print(f"{type(layer).__name__:8s} {h.shape}")
assert h.shape == (1, 10, 24, 24) and convnet[2].weight.shape == (10, 6, 5, 5)

# %% [markdown] slideshow={"slide_type": "subslide"}
# 32×32×3 → 28×28×6 → 24×24×10. Later notebooks add pooling (03) and, at the end, fully
# connected layers that turn the last maps into class scores (06).
#
# ## Interactive explorers
#
# Choose the input size, filter size, stride and padding, and see where the filter lands and
# whether it fits:

# %% alt="The convolution arithmetic explorer in its default state: a 7 by 7 input with a 3 by 3 filter at stride 2 and no padding; the first two filter positions are outlined, dots mark all 9 positions, and the 3 by 3 output grid beside it colours the two cells they produce. The formula (7 - 3 + 0) / 2 + 1 = 3 says it fits." caption="Try: change the input size, filter size, stride and padding, and find settings where the filter does not fit; the button suggests the nearest padding that does."
# NBVAL_IGNORE_OUTPUT
conv_arithmetic_explorer()

# %% [markdown]
# Choose a hand-made filter (Gaussian with its $\sigma$, box blur, edges, sharpen) and its size, and
# see what it does to the photograph:

# %% alt="The filter explorer in its default state: a 5 by 5 Gaussian kernel with sigma 1 shown as numbers that sum to 1, the camera photograph, and the same photograph after the convolution, slightly blurred and the same size." caption="Try: switch the filter to box, edge or sharpen, and move the size and sigma sliders to see how much the photograph changes."
# NBVAL_IGNORE_OUTPUT
filter_explorer()

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Summary
#
# - A convolutional layer slides a few small filters over the image and shares their weights
#   across all positions: 456 parameters instead of 14 million for 32×32×3 → 28×28×6. A shifted
#   input gives the same map, shifted.
# - Each output pixel is a dot product between a filter (full input depth) and the patch under it.
#   Without a flip it is, strictly, a cross-correlation; a true convolution with Sobel x gives the
#   same edge map with the opposite sign.
# - Output size $(N - F + 2P)/\text{stride} + 1$: 7×7 with a 3×3 filter gives 5×5 at stride 1,
#   3×3 at stride 2, and does not fit at stride 3; padding $(F-1)/2$ keeps the size at stride 1.
# - A layer of $K$ filters of size $F \times F \times C$ has $K(F^2C + 1)$ parameters (760 for ten 5×5×3).
# - The vectorized convolution equals the loops and PyTorch, and is much faster than the loops
#   (timed in section 7). You wrote both; they are kept in `my_layers/`, and your vectorized one found
#   the edges of a Fashion-MNIST ankle boot here and trains LeNet-5 in notebook 07.
# - A 1×1 convolution is one matrix multiply over the channels of every pixel.
# - A ConvNet is convolutions interspersed with activations.
#
# ## Exercises
#
# **Exercise 1.** What is the output shape (NCHW) of `Conv2d(3, 10, 5, stride=1, padding=2)`
# on a batch of four 32×32 colour images, shape (4, 3, 32, 32)? Work it out first, then check with the layer.

# %% tags=["exercise"]
answer = None  # your answer here

# %% tags=["solution"] jupyter={"source_hidden": true} slideshow={"slide_type": "skip"}
answer = Conv2d(3, 10, 5, stride=1, padding=2)(np.zeros((4, 3, 32, 32))).shape

# %% tags=["check"] slideshow={"slide_type": "subslide"}
_ = check_output_shape(answer)

# %% [markdown] slideshow={"slide_type": "subslide"}
# **Exercise 2.** How many parameters (weights and biases) has a convolutional layer with 64
# filters of size 3×3 applied to a 16-channel input?

# %% tags=["exercise"]
answer = None  # your answer here

# %% tags=["solution"] jupyter={"source_hidden": true} slideshow={"slide_type": "skip"}
answer = 64 * (3 * 3 * 16 + 1)               # each filter: 3x3x16 weights and one bias

# %% tags=["check"]
_ = check_conv_parameters(answer)

# %% [markdown]
# **Exercise 3.** Find a `(stride, padding)` for which a 3×3 filter on a 7×7 input gives
# exactly a 4×4 output (use the formula, or try values with `conv_output_size`).

# %% tags=["exercise"]
answer = None  # your answer here

# %% tags=["solution"] jupyter={"source_hidden": true} slideshow={"slide_type": "skip"}
answer = next((s, p) for s in range(1, 4) for p in range(3) if (7 - 3 + 2 * p) / s + 1 == 4)

# %% tags=["check"]
_ = check_stride_padding(answer)
