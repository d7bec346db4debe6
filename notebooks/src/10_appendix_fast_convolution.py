# %% [markdown] slideshow={"slide_type": "slide"}
# # 10 · Appendix: making convolution fast
#
# The lecture notebooks (01–09) compute every layer the plainest way that is still vectorized:
# a convolution is one matrix multiply over im2col patches. This appendix goes beyond the
# lecture, into engineering: a way to do fewer multiplications for 3×3 filters, a benchmark of
# our layers against PyTorch's, and a timing of two whole networks from the case studies.
#
# In this notebook you will:
#
# - compute Winograd's F(2, 3) and F(2×2, 3×3): the same convolution with 2.25× fewer products;
# - time `cnnlib`'s convolutions against `torch.nn.Conv2d` on layers from the case studies;
# - time ResNet-152 and VGG-19 on this CPU, row by row, and weigh the lecture's claim that
#   ResNet is "faster than a VGGNet, even though it has 8× more layers".
#
# Timings depend on the machine and on what else it is doing, so the cells that print them are
# not compared by the notebook tests; every other number is.

# %% slideshow={"slide_type": "skip"}
import matplotlib.pyplot as plt
import numpy as np
import torch

from cnnlib import models
from cnnlib.arch import summary
from cnnlib.bench import conv_table
from cnnlib.device import env_report
from cnnlib.numpy_nn.conv import conv2d
from cnnlib.numpy_nn.winograd import AT, BT, G
from cnnlib.testing import assert_close
from cnnlib.viz.case_studies import time_by_rows
from cnnlib.viz.case_study_figures import plot_row_times
# %config InlineBackend.figure_formats = ['png']

# %% slideshow={"slide_type": "subslide"}
rng = np.random.default_rng(0)
plt.rcParams["figure.dpi"] = 150
torch.manual_seed(0)
print(env_report())

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 1. Fewer multiplications for 3×3 filters: Winograd
#
# im2col turns the convolution into one matrix multiply, but it still does every multiplication
# of the formula: 3·3 = 9 per input channel for each output pixel. For 3×3 filters at stride 1,
# the ones VGG and ResNet are made of, there is a cheaper route (Lavin and Gray, 2016, after
# Winograd's minimal filtering). Start in one dimension: two outputs of a 3-tap filter, read
# from four inputs, take 2 × 3 = 6 products directly. Transform the four inputs with a fixed
# matrix $B^T$ and the filter with $G$, multiply the two results entry by entry (4 products),
# and transform back with $A^T$:

# %%
d, g = rng.normal(size=4), rng.normal(size=3)
direct = np.array([d[0:3] @ g, d[1:4] @ g])  # 2 outputs x 3 taps = 6 products
fast = AT @ ((G @ g) * (BT @ d))             # 4 products
assert_close(fast, direct, rtol=1e-12, atol=1e-12)
print("B^T =", BT.tolist(), " A^T =", AT.tolist())

# %% [markdown] slideshow={"slide_type": "subslide"}
# $B^T$ and $A^T$ hold only 0 and ±1, so transforming is adding and subtracting; the filter's
# transform $G g$ is done once per filter, not once per pixel. In two dimensions the trick
# nests: a 2×2 block of outputs comes from the 4×4 tile of input under it with 4·4 = 16 products
# instead of 2·2·3·3 = 36. Summed over input channels, the 16 entry-by-entry products become
# 16 matrix multiplies, one for each position of the tile.

# %%
products_direct, products_winograd = 2 * 2 * 3 * 3, 4 * 4
print(f"{products_direct} vs {products_winograd} products per 2x2 output block: "
      f"{products_direct / products_winograd:.2f}x fewer")

# %% [markdown]
# `conv2d` takes this route by itself for 3×3 filters at stride 1 (`algorithm="auto"`, the
# default; `cnnlib.numpy_nn.winograd` holds the code). The answer is the same convolution:

# %% slideshow={"slide_type": "subslide"}
x3, w3 = rng.normal(size=(2, 16, 12, 12)), rng.normal(size=(8, 16, 3, 3))
by_im2col = conv2d(x3, w3, padding=1, algorithm="im2col")
by_winograd = conv2d(x3, w3, padding=1, algorithm="winograd")
assert_close(by_winograd, by_im2col, rtol=1e-10, atol=1e-10)
print("im2col and Winograd agree on", by_winograd.shape)

# %% [markdown]
# The saving is not free: the additions cost memory traffic, and the transformed input holds
# 16 numbers per 2×2 block of every channel (four times the image, less than im2col's nine).
# cuDNN and oneDNN pick between such algorithms layer by layer, the way `"auto"` does here.
#
# ## 2. How fast? A small benchmark
#
# `cnnlib.bench` times the same layer four ways: the naive loops (on a few images, scaled up),
# our vectorized NumPy code, our PyTorch tensor version, and `torch.nn.Conv2d` (oneDNN on the
# CPU, cuDNN on a GPU). Below are two layers from the case studies, forward plus backward in
# float32. Your numbers depend on your machine, so this cell's output is not checked.
# The full table, with the machine's own matrix-multiply ceiling, comes from `make bench`.

# %% slideshow={"slide_type": "subslide"}
# NBVAL_IGNORE_OUTPUT
conv_table(quick=True, cases=["LeNet-5 C1", "ResNet 3x3-256"])

# %% [markdown] slideshow={"slide_type": "subslide"}
# Read the ratios column. The naive loops are hundreds to thousands of times slower than the
# vectorized code: the loops pay Python's price per multiply-add, the matrix multiply does not.
# On LeNet's first layer the vectorized NumPy code keeps pace with PyTorch. On ResNet's wide
# 3×3 layer, im2col (the `cnnlib.numpy_nn im2col` row) falls behind: PyTorch's hand-tuned direct
# convolution runs at the machine's full matrix-multiply speed, while im2col needs three large
# matrix multiplies (forward, weight gradient, input gradient) plus copies of the patches.
# Winograd (the `cnnlib.numpy_nn` row) does 2.25× fewer multiplications and wins back part of
# the gap; `make bench` shows all four reference layers and the README records a quiet run.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 3. "Faster than a VGGNet, even though it has 8× more layers"
#
# Notebook 09 computed the arithmetic: ResNet-152 needs 57% of VGG-19's multiply-adds and 42%
# of its parameters. Build both on PyTorch's meta device (shapes, no memory) and count again:

# %%
with torch.device("meta"):
    nets = {"ResNet-152": models.resnet152(), "VGG-19": models.vgg19()}
vgg19, resnet152 = (summary(nets[name], (3, 224, 224)) for name in ("VGG-19", "ResNet-152"))
print(f"multiply-adds: VGG-19 {vgg19.total_macs / 1e9:.2f}G, ResNet-152 {resnet152.total_macs / 1e9:.2f}G")
assert round(resnet152.total_macs / vgg19.total_macs, 2) == 0.57

# %% [markdown]
# How much memory would their float32 weights take, four bytes per parameter? In MiB
# (2²⁰ bytes):

# %%
fc6 = summary(nets["VGG-19"], (3, 224, 224), depth=1)["fc6"].params
mib = {"VGG-19": 4 * vgg19.total_params / 2**20, "of it fc6": 4 * fc6 / 2**20,
       "ResNet-152": 4 * resnet152.total_params / 2**20}
print({name: f"{v:.0f} MiB" for name, v in mib.items()}, f"together {mib['VGG-19'] + mib['ResNet-152']:.0f} MiB")

# %% [markdown] slideshow={"slide_type": "subslide"}
# That is too much to hold next to everything else on a small machine (Binder gives 2 GB). So
# `time_by_rows` times them from the meta device, one row of their table at a time: each piece
# gets real weights only while it is timed (at most 64 MB; fc6 is timed in slices of its output
# units, the same arithmetic and the same bytes of weights read), and the network's time is the
# sum of its rows. Both run one 224×224 image, in float32 on one CPU thread, best of 3 runs.

# %%
# NBVAL_IGNORE_OUTPUT
times = {"ResNet-152": time_by_rows(nets["ResNet-152"], (3, 224, 224)),
         "VGG-19": time_by_rows(nets["VGG-19"], (3, 224, 224))}
total = {name: sum(t.values()) for name, t in times.items()}
print({name: f"{t * 1000:.0f} ms" for name, t in total.items()})
print(f"VGG-19 / ResNet-152: time {total['VGG-19'] / total['ResNet-152']:.2f}x, "
      f"multiply-adds {vgg19.total_macs / resnet152.total_macs:.2f}x")

# %% alt="Two horizontal stacked bars of measured forward time per image on this CPU, one colour per row of the network: ResNet-152 and VGG-19, each labelled with its total time and its multiply-adds (11.3 and 19.6 billion). The bars show which rows of each network take the time; the times are measured on the machine that ran the notebook, so their lengths change from run to run." slideshow={"slide_type": "subslide"}
# NBVAL_IGNORE_OUTPUT
# (the measured times of the cell above)
plot_row_times(times, macs={"VGG-19": vgg19.total_macs, "ResNet-152": resnet152.total_macs})
plt.show()

# %% [markdown] slideshow={"slide_type": "subslide"}
# The first cell prints this run's ratio of times beside the ratio of multiply-adds (1.74×). If
# ResNet-152 comes out faster, the lecture's claim holds on your machine; the ratio of times is
# usually smaller than that of the arithmetic, because 150-odd thin layers, with a batch norm and an
# addition in every block, spend more time per multiply-add than VGG's few wide convolutions.
# The bars show where this run's time went. VGG-19's 3×3 convolutions cost about the same
# arithmetic each: halving the width and height quarters the positions, and doubling the filters
# on twice as deep an input multiplies the work per position by four.

# %%
vgg_rows = summary(nets["VGG-19"], (3, 224, 224), depth=1)
print({name: f"{vgg_rows[name].macs / 1e9:.2f}G" for name in ("conv1_2", "conv2_2", "conv3_4", "conv4_4", "conv5_4")})
assert vgg_rows["conv1_2"].macs == vgg_rows["conv2_2"].macs == vgg_rows["conv4_4"].macs == 224 * 224 * 64 * (3 * 3 * 64)

# %% [markdown] slideshow={"slide_type": "subslide"}
# Depth does not make ResNet fast. What keeps its 152 layers affordable is that its bottleneck
# blocks keep every layer thin.
#
# ## Summary
#
# - For 3×3 filters at stride 1, Winograd's F(2×2, 3×3) computes the same convolution with 16
#   products per 2×2 block of outputs instead of 36; `algorithm="auto"` picks it.
# - `make bench` times every reference layer against `torch.nn`; the cell above gives this
#   machine's figures for two of them.
# - ResNet-152 needs 57% of VGG-19's multiply-adds; whether it also runs faster is a question of
#   the machine, answered above by timing both, row by row.
