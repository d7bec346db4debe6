# %% [markdown] slideshow={"slide_type": "slide"}
# # 10 · Appendix: making convolution fast
#
# Where the lecture notebooks (01–09) convolve with `cnnlib`'s own layers, the default,
# `algorithm="auto"`, takes one of two routes. Most layers unfold the input into im2col patches
# and multiply them by the filters as matrices. Every 3×3 filter at stride 1 (in one group,
# without dilation, on the CPU) takes Winograd's algorithm instead, 02's Sobel filters included.
# (Where they use `torch.nn.Conv2d`, PyTorch chooses.) This appendix goes beyond the lecture,
# into engineering: what that second route is, a benchmark of our layers against PyTorch's, and
# a timing of two whole networks from the case studies.
#
# In this notebook you will:
#
# - compute Winograd's F(2, 3) and F(2×2, 3×3): 16 products per 2×2 block of outputs instead of 36;
# - time `cnnlib`'s convolutions against `torch.nn.Conv2d` on layers from the case studies;
# - time ResNet-152 and VGG-19 on this CPU, row by row, count where their multiply-adds go, and
#   weigh the lecture's claim that ResNet is "faster than a VGGNet, even though it has 8× more layers".
#
# Timings depend on the machine and on what else it is doing, so the cells that print them are
# not compared by the notebook tests, and the text reads no number from them; every other number
# is compared.

# %% slideshow={"slide_type": "skip"}
import matplotlib.pyplot as plt
import numpy as np
import torch

from cnnlib import models
from cnnlib.arch import macs_by_resolution, resolution, summary
from cnnlib.bench import conv_table
from cnnlib.device import env_report
from cnnlib.numpy_nn.conv import choose_algorithm, conv2d
from cnnlib.numpy_nn.winograd import AT, BT, G, tiles_for
from cnnlib.testing import assert_close
from cnnlib.viz.case_studies import time_by_rows
from cnnlib.viz.case_study_figures import plot_row_times
# %config InlineBackend.figure_formats = ['png']

# %% slideshow={"slide_type": "subslide"}
rng = np.random.default_rng(0)
plt.rcParams["figure.dpi"] = 150
torch.manual_seed(0)
torch.set_num_threads(1)  # one thread: the network timings below are per thread, and fair on a shared machine
print(env_report())

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 1. Fewer multiplications for 3×3 filters: Winograd
#
# im2col turns the convolution into matrix multiplies, but they still do every multiplication
# of the formula: 3·3 = 9 per input channel for each output value. For 3×3 filters at stride 1,
# the ones VGG and ResNet are made of, there is a cheaper route. Lavin and Gray ("Fast Algorithms
# for Convolutional Neural Networks", CVPR 2016, the section "F(2x2,3x3)") built it from
# Winograd's minimal filtering algorithms (S. Winograd, *Arithmetic Complexity of Computations*,
# SIAM 1980, p. 43 for F(2, 3)). Start in one dimension: two outputs of a 3-tap filter, read
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
# `conv2d` takes this route by itself (`algorithm="auto"`, the default; `cnnlib.numpy_nn.winograd`
# holds the code) wherever it applies. Here is what `"auto"` picks for the filters of the case
# studies and for 02's Sobel filter (3×3, stride 1, no padding):

# %%
picks = {f"{k}x{k} stride {s}": choose_algorithm("auto", (k, k), (s, s)) for k, s in ((5, 1), (11, 4), (3, 1), (3, 2))}
print(picks)
assert list(picks.values()) == ["im2col", "im2col", "winograd", "im2col"]
assert choose_algorithm("auto", (3, 3), (1, 1), padding=((0, 0), (0, 0))) == "winograd"  # 02's Sobel filters

# %% [markdown]
# The answer is the same convolution, to rounding:

# %% slideshow={"slide_type": "subslide"}
x3, w3 = rng.normal(size=(2, 16, 12, 12)), rng.normal(size=(8, 16, 3, 3))
by_im2col = conv2d(x3, w3, padding=1, algorithm="im2col")
by_winograd = conv2d(x3, w3, padding=1, algorithm="winograd")
assert_close(by_winograd, by_im2col, rtol=1e-10, atol=1e-10)
print("im2col and Winograd agree on", by_winograd.shape)

# %% [markdown]
# The saving is not free. The transforms are extra passes of additions over memory, and the
# transformed input holds 16 numbers per 2×2 block of outputs in every channel. For the 12×12
# output above:

# %%
blocks = np.prod(tiles_for((12, 12)))  # 2x2 output blocks: 6 x 6
print(f"per channel: image {12 * 12}, Winograd's transformed input {16 * blocks}, im2col's columns {9 * 12 * 12}")
assert 16 * blocks == 4 * 12 * 12 and 9 * 12 * 12 > 16 * blocks

# %% [markdown]
# Four times the image, where im2col's columns are nine times it. Libraries hold several such
# algorithms. On a GPU, cuDNN has Winograd and FFT among its convolution algorithms, and PyTorch
# can time them all for each new layer shape and keep the fastest (`torch.backends.cudnn.benchmark
# = True`; PyTorch's documentation, "Reproducibility", on cuDNN). `cnnlib`'s `"auto"` is a fixed
# rule instead. On the CPU, `torch.nn.Conv2d` calls oneDNN, and for LeNet-5's layers the README's
# Benchmarks section records oneDNN's direct convolution (`alg:convolution_direct`), no Winograd.
#
# ## 2. How fast? A small benchmark
#
# `cnnlib.bench` times the same layer four ways: the naive loops (on a few images, scaled up),
# our vectorized NumPy code, our PyTorch tensor version, and `torch.nn.Conv2d`. Below are two
# layers from the case studies, forward and backward in float32, on 2 threads. Your numbers
# depend on your machine and on its load, so this cell's output is not checked, and the text
# below reads the README's recorded table, not this one. The full table, with the machine's own
# matrix-multiply ceiling, comes from `make bench`.

# %% slideshow={"slide_type": "subslide"}
# NBVAL_IGNORE_OUTPUT
conv_table(quick=True, cases=["LeNet-5 C1", "ResNet 3x3-256"])

# %% [markdown] slideshow={"slide_type": "subslide"}
# The ratio columns give each row's speed as a fraction of `torch.nn`'s: ×0.5 takes twice as long.
# The README's Benchmarks section records three runs of `make bench` on an otherwise idle 2-core
# AMD EPYC VM (2 threads, 2026-11-25), forward plus backward, lowest to highest:
#
# - **Naive loops:** ×0.001 to ×0.003 on every layer, roughly 300 to 1,000 times slower than `torch.nn`.
#   They make one small NumPy call per output value (a sum over its C_in·k·k products), where the
#   vectorized code makes a few large ones. The next cell counts those calls.
# - **LeNet-5 C1:** `cnnlib.numpy_nn` (im2col) at ×0.61 to ×1.30, slower than `torch.nn` in one run
#   and faster in another: the two are within this machine's run-to-run spread.
# - **ResNet 3×3-256:** forced to im2col (the `cnnlib.numpy_nn im2col` row), ×0.64 to ×0.67.
#   There PyTorch's oneDNN kernels ran at 190–220 GFLOP/s, as fast as a plain float32 matrix
#   multiply on that machine (180–190 GFLOP/s in PyTorch, 200–210 in NumPy), while im2col needs
#   three large matrix multiplies (forward, weight gradient, input gradient) plus copies of the
#   patches. With Winograd (the
#   `cnnlib.numpy_nn` row, `"auto"`), ×0.83 to ×0.98: it wins back part of the gap in forward
#   plus backward, a gain of 1.2× to 1.5× for 2.25× fewer multiplications. The README gives
#   forward plus backward only; the forward column of your table may rank the two differently.

# %%
calls = {"LeNet-5 C1": 64 * 6 * 28 * 28, "ResNet 3x3-256": 16 * 256 * 14 * 14}  # N * C_out * H_out * W_out
print({name: f"{n:,} NumPy calls in the naive forward" for name, n in calls.items()})
assert calls == {"LeNet-5 C1": 301_056, "ResNet 3x3-256": 802_816}

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
print(f"parameters: VGG-19 {vgg19.total_params / 1e6:.1f}M, ResNet-152 {resnet152.total_params / 1e6:.1f}M")
assert round(resnet152.total_macs / vgg19.total_macs, 2) == 0.57
assert round(resnet152.total_params / vgg19.total_params, 2) == 0.42
assert round(vgg19.total_macs / resnet152.total_macs, 2) == 1.74

# %% [markdown]
# How much memory would their float32 weights take, four bytes per parameter? In MiB
# (2²⁰ bytes):

# %%
fc6 = summary(nets["VGG-19"], (3, 224, 224), depth=1)["fc6"].params
mib = {"VGG-19": 4 * vgg19.total_params / 2**20, "of it fc6": 4 * fc6 / 2**20,
       "ResNet-152": 4 * resnet152.total_params / 2**20}
print({name: f"{v:.0f} MiB" for name, v in mib.items()}, f"together {mib['VGG-19'] + mib['ResNet-152']:.0f} MiB")

# %% [markdown] slideshow={"slide_type": "subslide"}
# Together that is more than half of the 1.5 GB every notebook of this series must stay under
# (README, Troubleshooting: Binder gives 2 GB), before PyTorch itself and the activations. So
# `time_by_rows` times them from the meta device, one row of their table at a time: each piece
# gets real weights only while it is timed (at most 64 MiB; fc6 is timed in slices of its output
# units, the same arithmetic and the same bytes of weights read), and the network's time is the
# sum of its rows. Both run one 224×224 image, in float32 on one CPU thread (set at the top),
# best of 3 runs.

# %%
# NBVAL_IGNORE_OUTPUT
times = {"ResNet-152": time_by_rows(nets["ResNet-152"], (3, 224, 224)),
         "VGG-19": time_by_rows(nets["VGG-19"], (3, 224, 224))}
total = {name: sum(t.values()) for name, t in times.items()}
print({name: f"{t * 1000:.0f} ms" for name, t in total.items()})
print(f"VGG-19 / ResNet-152: time {total['VGG-19'] / total['ResNet-152']:.2f}x, "
      f"multiply-adds {vgg19.total_macs / resnet152.total_macs:.2f}x")

# %% alt="Two horizontal stacked bars of the forward time per image, ResNet-152 above and VGG-19 below, each segment one row of the network, coloured and hatched by the size of that row's output (224×224 down to 7×7, and flat for the classifier), with each network's total time and its multiply-adds, 11.3G and 19.6G. VGG-19's first segments work at 224×224 and 112×112; ResNet-152 has no row at 224×224 and only its stem at 112×112. The lengths are the times measured on the machine that ran the notebook and change from run to run." slideshow={"slide_type": "subslide"}
# NBVAL_IGNORE_OUTPUT
# (the measured times of the cell above)
plot_row_times(times, macs={"VGG-19": vgg19.total_macs, "ResNet-152": resnet152.total_macs},
               groups={name: {r.name: resolution(r) for r in summary(nets[name], (3, 224, 224), depth=1)}
                       for name in ("VGG-19", "ResNet-152")}, legend_title="output size")
plt.show()

# %% [markdown] slideshow={"slide_type": "subslide"}
# The timing cell prints this run's ratio of times beside the ratio of multiply-adds, 1.74×. If
# ResNet-152 comes out faster, the lecture's claim holds on your machine. Multiply-adds are not
# all of the work, though. ResNet-152 runs over ten times as many layers as VGG-19 (batch norms and
# ReLUs as well as convolutions), and their outputs hold twice as many values: memory traffic,
# and layer calls, that the multiply-add count leaves out:

# %%
leaves = {name: summary(nets[name], (3, 224, 224)) for name in ("VGG-19", "ResNet-152")}
print({name: f"{len(t)} layers, {t.total_activations / 1e6:.1f}M values written" for name, t in leaves.items()})
assert len(leaves["ResNet-152"]) > 10 * len(leaves["VGG-19"])
assert 2 < leaves["ResNet-152"].total_activations / leaves["VGG-19"].total_activations < 2.1

# %% [markdown] slideshow={"slide_type": "subslide"}
# The bars colour each row by the size of its output. Where do the multiply-adds go? VGG-19's
# 3×3 convolutions do not all cost the same. From one block to the next, 2×2 pooling quarters the
# positions while the filters double, on an input twice as deep: four times the work per
# position. So the second and later layers of blocks 1 to 4 all cost 1.85G. The first layer of
# blocks 2 to 4 still reads the previous block's half-as-deep output and costs half, 0.92G;
# block 5 keeps 512 filters at 14×14 and costs a quarter, 0.46G; conv1_1 reads only 3 colour
# channels, 0.09G.

# %%
vgg_rows = summary(nets["VGG-19"], (3, 224, 224), depth=1)
conv_macs = {r.name: round(r.macs / 1e9, 2) for r in vgg_rows if r.name.startswith("conv")}
print(conv_macs)
assert [name for name, g in conv_macs.items() if g == 1.85] == ["conv1_2", "conv2_2", "conv3_2", "conv3_3", "conv3_4",
                                                               "conv4_2", "conv4_3", "conv4_4"]
assert [g for name, g in conv_macs.items() if name.endswith("_1")] == [0.09, 0.92, 0.92, 0.92, 0.46]
assert vgg_rows["conv1_2"].macs == 2 * vgg_rows["conv2_1"].macs == 4 * vgg_rows["conv5_4"].macs

# %% [markdown] slideshow={"slide_type": "subslide"}
# Now the same count for both networks, added up by the size of the layer's output, with
# ResNet-34 (the same design with two 3×3 layers per block and no bottleneck) beside them:

# %%
with torch.device("meta"):
    nets["ResNet-34"] = models.resnet34()
by_side = {name: macs_by_resolution(summary(nets[name], (3, 224, 224)))
           for name in ("VGG-19", "ResNet-152", "ResNet-34")}
for name, sides in by_side.items():
    print(f"{name:>10}:", {side: f"{m / 1e9:.2f}G" for side, m in sides.items() if m})
large = {name: sum(m for side, m in sides.items() if side in ("224×224", "112×112", "56×56"))
         for name, sides in by_side.items()}
print({name: f"{sum(by_side[name].values()) / 1e9:.2f}G, of it {m / 1e9:.2f}G at 56×56 and above"
       for name, m in large.items()})
assert round(large["VGG-19"] / 1e9, 2) == 11.18 and round(large["ResNet-152"] / 1e9, 2) == 0.79
assert round(by_side["ResNet-152"]["14×14"] / resnet152.total_macs, 2) == 0.70
assert by_side["ResNet-152"]["14×14"] > max(by_side["VGG-19"].values())     # more than VGG-19 at any one size
assert sum(by_side["ResNet-34"].values()) < resnet152.total_macs

# %% [markdown] slideshow={"slide_type": "subslide"}
# Depth alone does not make ResNet cheap; where it spends its multiply-adds does. VGG-19 does
# 11.18G of its 19.63G at 56×56 and above, ResNet-152 only 0.79G: its stem (a 7×7 convolution at
# stride 2, then a 3×3 max pool at stride 2, as in Table 1 of He et al., 2016) brings the image
# down to 56×56 before the first block. ResNet-152 is not cheap everywhere: its blocks at 14×14 do
# 70% of its work, more than VGG-19 does at any one size. There the bottleneck (a 1×1 convolution
# that narrows, the 3×3, a 1×1 that widens again) keeps each layer thin. ResNet-34, with no
# bottleneck at all, needs fewer multiply-adds still (3.66G above). So the small sizes are what
# make ResNets cheaper than VGG, and the bottleneck is what lets one go to 152 layers: He et al.
# introduce it "because of concerns on the training time that we can afford" (section 4.1,
# "Deeper Bottleneck Architectures").
#
# ## Summary
#
# - `conv2d(algorithm="auto")` uses im2col for most layers and Winograd's F(2×2, 3×3) for 3×3
#   filters at stride 1: 16 products per 2×2 block of outputs instead of 36, with a transformed
#   input four times the image.
# - `make bench` times the convolution and pooling layers of the case studies against `torch.nn`;
#   section 2's cell gives this machine's figures for two of them, and the README records three
#   runs on a quiet machine.
# - ResNet-152 needs 57% of VGG-19's multiply-adds. The saving lies at 56×56 and above (VGG-19
#   11.18G, ResNet-152 0.79G); at 14×14 ResNet-152 does more. Whether it also runs faster is a
#   question of the machine, answered above by timing both, row by row.
