# %% [markdown] slideshow={"slide_type": "slide"}
# # 08 · Case studies II: AlexNet and VGG
#
# The networks that started the deep-learning boom, as tables of numbers. Every output size and
# parameter count below follows from two rules of the convolution and pooling notebooks,
# (N − F + 2P)/S + 1 for the size and (F·F·C_in + 1)·C_out for the parameters, applied layer
# after layer; each row is computed by hand first and then checked against `cnnlib.arch.summary`.
#
# In this notebook you will:
#
# - work out **AlexNet**'s output sizes and parameters by hand, from (227 − 11)/4 + 1 = 55 to FC8,
#   check every row against the code, define its **local response normalization** and its dropout
#   (scaled at test time in the paper, while training in PyTorch), and build it from cnnlib's own layers;
# - learn how ImageNet results are scored (**top-5 error**, ensembles, multi-crop testing, outside
#   data) before reading any of them;
# - see why **VGG** uses nothing but 3×3 convolutions, rebuild the lecture's VGG16 table of memory and
#   parameters, find that its widely copied "24M" memory total does not add up, and measure what
#   training really keeps per image;
# - write the layer table and each layer's multiply-adds yourself, from the two rules (Exercises 3 and 4).
#
# AlexNet and VGG16 are built on PyTorch's **meta device**: every tensor has a shape but no data,
# so the 138 million parameters of VGG16 take no memory, yet `summary` can still count them.

# %% slideshow={"slide_type": "skip"}
import matplotlib.pyplot as plt
import numpy as np
import torch

import cnnlib.numpy_nn
import cnnlib.torch_nn
from cnnlib import models
from cnnlib.arch import summary, tables
from cnnlib.arch.memory import activation_memory
from cnnlib.device import env_report
from cnnlib.exercises.nb08 import CONV2_INPUT, check_alexnet_conv2, check_layer_macs, check_layer_table
from cnnlib.exercises.nb08 import check_vgg16_fc_share
from cnnlib.exercises.my_layers import my_layers
from cnnlib.receptive_field import receptive_field
from cnnlib.shapes import conv_output_size, floor_output_size
from cnnlib.viz.case_studies import compare_alexnet, compare_vgg16, hwc, parse_count
from cnnlib.viz.case_study_figures import plot_layer_profile
# %config InlineBackend.figure_formats = ['png']

# %% slideshow={"slide_type": "subslide"}
rng = np.random.default_rng(0)
plt.rcParams["figure.dpi"] = 150
torch.manual_seed(0)
torch.set_num_threads(1)  # one thread: repeatable results, and fair on a shared or single-core machine
print(env_report())

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 1. AlexNet by hand
#
# AlexNet [Krizhevsky et al., 2012] won the classification task of the 2012 ImageNet challenge
# (ILSVRC-2012), and is widely credited with starting the deep-learning boom; its scores come in
# section 2, once the way they are measured is defined. The lecture draws a simplified version on
# 227×227×3 images. Its first layer, CONV1, has 96 filters
# of 11×11 at stride 4. The output size, with the lecture's formula and with `cnnlib.shapes`:

# %%
print((227 - 11) / 4 + 1, conv_output_size(227, 11, stride=4))
assert conv_output_size(227, 11, stride=4) == 55

# %% [markdown] slideshow={"slide_type": "subslide"}
# Two slips of the lecture, checked. It cites LeNet-5 once as "[LeCun 1980]"; the paper (LeCun,
# Bottou, Bengio and Haffner, *Gradient-based learning applied to document recognition*,
# Proceedings of the IEEE) is from 1998, as its case-study slide says. And the AlexNet paper gives
# its input as 224×224×3, not 227. On 224 pixels an 11×11 filter at stride 4 does not fit without
# padding, (224 − 11)/4 + 1 = 54.25; 227 is the size for which the lecture's 55 comes out exactly.
# torchvision's AlexNet keeps 224 and pads CONV1 by 2, and PyTorch's floor gives 55 again:

# %%
print((224 - 11) / 4 + 1, floor_output_size(224, 11, stride=4, padding=2))
assert (224 - 11) % 4 != 0 and floor_output_size(224, 11, stride=4, padding=2) == 55

# %% [markdown]
# So CONV1's output is 55×55×96. Each filter spans the full depth of its input, 11×11×3, so the layer
# has (11·11·3)·96 weights, the lecture's "35K" (plus one bias per filter, which the lecture leaves out):

# %%
conv1_weights = (11 * 11 * 3) * 96
print(f"{conv1_weights:,} weights = {conv1_weights / 1000:.0f}K, and {conv1_weights + 96:,} with the biases")
assert conv1_weights == 34_848 and f"{conv1_weights / 1000:.0f}K" == tables.ALEXNET_LECTURE_CONV1_PARAMS

# %% [markdown] slideshow={"slide_type": "subslide"}
# POOL1 takes the maximum over 3×3 windows at stride 2: (55 − 3)/2 + 1 = 27, so 27×27×96. A max
# has nothing to learn: **0 parameters**.

# %%
print((55 - 3) / 2 + 1, conv_output_size(55, 3, stride=2))
assert conv_output_size(55, 3, stride=2) == 27

# %% [markdown] slideshow={"slide_type": "subslide"}
# **Exercise 1.** Work out the next row yourself before the table below shows it. AlexNet's CONV2
# has 256 filters of 5×5 at stride 1 with padding 2, on the 27×27×96 output of NORM1. Give its
# output (height, width, depth) and its number of parameters, biases included, as a tuple of four
# numbers. All four are whole numbers, and the checker wants them exact.

# %%
print("input (H, W, C):", CONV2_INPUT)

# %% tags=["exercise"]
answer = None  # your answer here: (height, width, depth, parameters)

# %% tags=["solution"] jupyter={"source_hidden": true} slideshow={"slide_type": "skip"}
h, w, c = CONV2_INPUT
out = conv_output_size(h, 5, stride=1, padding=2)
answer = (out, out, 256, (5 * 5 * c + 1) * 256)

# %% tags=["check"]
_ = check_alexnet_conv2(answer)

# %% [markdown]
# The rest of the column follows the same two rules. The lecture's table, as data: name,
# filters, filter size F, stride, padding (`None` for "no filters" or "shape unchanged"):

# %%
lecture_column = [("CONV1", 96, 11, 4, 0), ("MAX POOL1", None, 3, 2, 0), ("NORM1", None, None, None, None),
                  ("CONV2", 256, 5, 1, 2), ("MAX POOL2", None, 3, 2, 0), ("NORM2", None, None, None, None),
                  ("CONV3", 384, 3, 1, 1), ("CONV4", 384, 3, 1, 1), ("CONV5", 256, 3, 1, 1),
                  ("MAX POOL3", None, 3, 2, 0)]

# %% [markdown]
# A convolution or a pooling layer changes the size by (N − F + 2P)/S + 1; a convolution sets
# the depth to its number of filters and has (F·F·depth_in + 1) parameters per filter;
# normalization keeps the shape and learns nothing. Then three fully connected layers, each
# unit with one weight per input value plus a bias:

# %% slideshow={"slide_type": "subslide"}
size, depth, by_hand = 227, 3, {}
for name, filters, f, stride, pad in lecture_column:
    params = 0
    if f is not None:                                            # CONV or POOL: the size formula
        size = conv_output_size(size, f, stride=stride, padding=pad)
    if filters is not None:                                      # CONV: F*F*depth weights + 1 bias, per filter
        params, depth = (f * f * depth + 1) * filters, filters
    by_hand[name] = ((size, size, depth), params)
inputs = size * size * depth                                     # POOL3's 6x6x256 values, flattened
for name, units in [("FC6", 4096), ("FC7", 4096), ("FC8", 1000)]:
    by_hand[name], inputs = ((units,), (inputs + 1) * units), units
for name, (shape, params) in by_hand.items():
    print(f"{name:10s} {'x'.join(map(str, shape)):>10s} {params:>12,}")

# %% [markdown] slideshow={"slide_type": "subslide"}
# Now the same network from `cnnlib.models.alexnet()`, summarized at depth 1 so that each row is
# one row of the lecture's table, and compared with the lecture's output sizes:

# %% slideshow={"slide_type": "subslide"}
with torch.device("meta"):
    alexnet = models.alexnet()
s_alex = summary(alexnet, (3, 227, 227), depth=1, title="AlexNet (the lecture's single tower)")
compare_alexnet(s_alex)

# %% slideshow={"slide_type": "subslide"}
assert [(hwc(row.output_shape), row.params) for row in s_alex.rows] == list(by_hand.values())
assert compare_alexnet(s_alex).disagreements == []
print(f"total: {s_alex.total_params:,} parameters; by hand: {sum(p for _, p in by_hand.values()):,}")

# %% [markdown]
# Every row agrees with the hand computation and with the lecture. The total is 62.4M parameters.
# The paper's network was split over two GPUs, and CONV2, CONV4 and CONV5 only saw the half of
# the maps on their own GPU; built that way (`two_towers=True`) it has just under 61M, the
# paper's "60 million parameters":

# %%
with torch.device("meta"):
    alexnet_two_towers = models.alexnet(two_towers=True)
two_towers_params = summary(alexnet_two_towers, (3, 227, 227)).total_params
print(f"{two_towers_params:,} parameters, {s_alex.total_params - two_towers_params:,} fewer than one tower")
assert 60e6 < two_towers_params < 61e6

# %% [markdown]
# Where do the parameters live, and where the activations (the values each layer stores per image)?

# %% alt="Two bar charts over AlexNet's layers, conv1 to fc8: activations per image on top and parameters below. The activations are largest at conv1 (about 290 thousand) and shrink to a few thousand at the fully connected layers; the parameters are the other way round, almost none in the convolutions and 37.8 million in fc6 alone, out of 62.4 million." slideshow={"slide_type": "subslide"}
plot_layer_profile(s_alex)
plt.show()

# %% [markdown] slideshow={"slide_type": "subslide"}
# Opposite ends of the network. CONV1 produces the most values (55·55·96 = 290,400) with
# almost no parameters; FC6, FC7 and FC8 produce a few thousand values but hold 94% of the
# parameters, FC6 alone 37.8M: (9,216 inputs + 1 bias) times 4,096 units.

# %%
fc = sum(s_alex[name].params for name in ("fc6", "fc7", "fc8"))
print(f"FC layers: {fc / s_alex.total_params:.0%} of the parameters; fc6: {s_alex['fc6'].params:,}")
assert round(fc / s_alex.total_params, 2) == 0.94 and s_alex["fc6"].params == (9_216 + 1) * 4_096
assert s_alex["conv1"].activations == max(row.activations for row in s_alex.rows) == 290_400

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### NORM and dropout: the layers without parameters
#
# NORM1 and NORM2 are **local response normalization** (the paper's Section 3.3). Each value
# a of map i, at one position, is divided by a power of the energy of its n neighbouring maps
# at the same position:
#
# b_i = a_i / (k + α · Σ_{j = i−n/2 … i+n/2} a_j²)^β,   with the paper's k = 2, n = 5, α = 10⁻⁴, β = 0.75.
#
# A strong response damps its neighbours, a kind of competition between maps. PyTorch's
# `LocalResponseNorm(size, alpha, beta, k)` writes the sum as (alpha / size) · Σ, so the paper's
# α = 10⁻⁴ is passed as alpha = 5 · 10⁻⁴; cnnlib's follows PyTorch. Near a border the window holds
# fewer maps. The formula, channel by channel, then both libraries on random responses (the
# divisor is at least 2^0.75 ≈ 1.68, and grows with the neighbours' energy):

# %%
def lrn_by_formula(a, n=5, k=2.0, alpha=1e-4, beta=0.75):            # the paper's convention
    b = np.empty_like(a)
    for i in range(a.shape[1]):                                         # channels i - 2 ... i + 2
        lo, hi = max(0, i - n // 2), min(a.shape[1], i + n // 2 + 1)
        b[:, i] = a[:, i] / (k + alpha * (a[:, lo:hi] ** 2).sum(axis=1)) ** beta
    return b

# %% slideshow={"slide_type": "subslide"}
a = np.random.default_rng(7).normal(0, 100, size=(2, 7, 3, 3))         # large responses, so it bites
by_formula = lrn_by_formula(a)
ours = cnnlib.numpy_nn.LocalResponseNorm(5, alpha=5 * 1e-4, beta=0.75, k=2.0)(a)
theirs = torch.nn.LocalResponseNorm(5, alpha=5 * 1e-4, beta=0.75, k=2.0)(torch.from_numpy(a)).numpy()
print("divisor, smallest and largest:", np.round([(a / by_formula).min(), (a / by_formula).max()], 2))
largest = {"cnnlib": np.abs(by_formula - ours).max(), "torch": np.abs(by_formula - theirs).max()}
print("largest difference from the formula, relative to the largest output: both below 1e-12")
assert all(d < 1e-12 * np.abs(by_formula).max() for d in largest.values())

# %% [markdown] slideshow={"slide_type": "subslide"}
# **The lecture's order is not the paper's.** The lecture's column, and `models.alexnet()` after it,
# put each NORM *after* its max pooling. The paper does the opposite (Section 3.5): "Response-normalization
# layers follow the first and second convolutional layers. Max-pooling layers [...] follow both
# response-normalization layers as well as the fifth convolutional layer." Shapes and parameters
# are the same either way; the values are not, since the normalization divides by the energy at
# each position and the pooling then picks maxima at different positions. How much it matters
# depends on how large the responses are: at the paper's constants the divisor hardly varies
# for small ones. On random ReLU responses of CONV1's shape, 55×55×96, at three scales:

# %%
norm, pool = alexnet.norm1, alexnet.pool1                                # the lecture's layers, weightless
for scale in (1, 10, 100):
    a = torch.relu(torch.from_numpy(np.random.default_rng(3).normal(0, scale, size=(1, 96, 55, 55))))
    lecture_order, paper_order = norm(pool(a)), pool(norm(a))            # (1, 96, 27, 27) both
    gap = float((lecture_order - paper_order).abs().max() / paper_order.abs().max())
    print(f"responses of scale {scale:3d}: largest difference {gap:.2g} of the largest output")
    assert (gap < 1e-3) if scale == 1 else (gap > 0.05)
print(f"values normalized per image: {96 * 55 * 55:,} in the paper's order, {96 * 27 * 27:,} in the lecture's "
      f"({(55 * 55) / (27 * 27):.1f} times fewer)")

# %% [markdown]
# So the two orders give nearly the same numbers for small responses and clearly different ones
# for large responses, and normalizing after the pooling costs 4.1 times fewer normalizations.
# The tables in this notebook count shapes and parameters, which the order does not change.

# %% [markdown] slideshow={"slide_type": "subslide"}
# FC6 and FC7 are each followed by **dropout** with p = 0.5: while training, each unit's output is
# set to zero with probability 0.5, with a fresh random choice for every image. The paper (Section 4.2)
# keeps the surviving outputs as they are, and at test time "we use all the neurons but multiply
# their outputs by 0.5". PyTorch, and cnnlib after it, scale while training instead ("inverted"
# dropout): the survivors are multiplied by 1/(1 − p) = 2, and evaluation changes nothing. Either way
# the test-time output is the training output's expected value. Four units, each averaged over
# 100,000 random masks:

# %%
a = np.random.default_rng(5).uniform(0, 2, size=4)                     # four units' outputs
keep = np.random.default_rng(6).random((100_000, 4)) >= 0.5            # one mask per image: keep with 1 - p
print("outputs a:                   ", a.round(3))
print("paper, train mean of a*keep:   ", (keep * a).mean(axis=0).round(3), " test: 0.5*a =", (0.5 * a).round(3))
print("PyTorch, train mean of 2*a*keep:", (2 * keep * a).mean(axis=0).round(3), " test: a")
assert np.allclose((keep * a).mean(axis=0), 0.5 * a, rtol=0.01) and np.allclose((2 * keep * a).mean(axis=0), a, rtol=0.01)

# %% [markdown]
# The two conventions differ by a factor of 2 in everything the next layer receives, training and
# test alike, and that layer's weights absorb it: a network trained the paper's way is, with the
# weights after each dropout halved, the network trained PyTorch's way. cnnlib's `Dropout` follows PyTorch:

# %% slideshow={"slide_type": "subslide"}
drop = cnnlib.numpy_nn.Dropout(0.5, rng=0)
print("train:", drop(np.ones(8)), " mean of 100,000:", drop(np.ones(100_000)).mean().round(3))
print("eval: ", drop.eval()(np.ones(8)))
assert set(drop.train()(np.ones(1000)).tolist()) == {0.0, 2.0} and np.all(drop.eval()(np.ones(8)) == 1)

# %% [markdown] slideshow={"slide_type": "subslide"}
# With these two, `models.alexnet(layers=cnnlib.torch_nn)` builds the whole network from cnnlib's
# own layers (convolution, ReLU, max pooling, NORM, linear, dropout). Copy its weights into the
# `torch.nn` version and both give the same class scores for the same image, up to float32 rounding
# (whose last digits depend on the kernels your CPU runs, so the cell asserts a bound):

# %%
torch.manual_seed(0)
alex_mine, alex_torch = models.alexnet(layers=cnnlib.torch_nn).eval(), models.alexnet().eval()
alex_torch.load_state_dict(alex_mine.state_dict())
print(sorted({type(m).__module__ for m in alex_mine.modules()} - {"torch.nn.modules.container", "torch.nn.modules.flatten"}))
image = torch.randn(1, 3, 227, 227)
with torch.no_grad():
    scores_mine, scores_torch = alex_mine(image), alex_torch(image)
gap = float((scores_mine - scores_torch).abs().max())                   # float32 rounding, CPU-dependent
assert gap < 1e-7
print("largest difference of the 1,000 scores: below 1e-7")
torch.testing.assert_close(scores_mine, scores_torch)
del alex_mine, alex_torch                                                # 2 x 250 MB of weights

# %% [markdown] slideshow={"slide_type": "subslide"}
# Your own layers can run AlexNet's first block too: the convolution you vectorized in 02, your ReLU
# from 01 and your max pooling from 03, from your layer library. The table says whose each one is
# (cnnlib's until your check in that notebook has passed). CONV1's 96 filters of 11×11 at stride 4,
# then POOL1's overlapping 3×3 windows at stride 2, on a 67×67 image to keep it quick, against PyTorch:

# %%
layers = my_layers("conv2d_im2col", "relu_forward", "max_pool_forward")

# %% slideshow={"slide_type": "subslide"}
image67, conv1_w, conv1_b = rng.normal(size=(1, 3, 67, 67)), rng.normal(size=(96, 3, 11, 11)) * 0.05, rng.normal(size=96)
yours = layers.max_pool_forward(layers.relu_forward(layers.conv2d_im2col(image67, conv1_w, conv1_b, 4, 0)), 3, 2)
as_t = torch.from_numpy
theirs = torch.nn.functional.max_pool2d(torch.relu(torch.nn.functional.conv2d(as_t(image67), as_t(conv1_w), as_t(conv1_b),
                                                                              stride=4)), 3, 2).numpy()
print(f"{image67.shape} -> {yours.shape}; the same as PyTorch's within 1e-6:", np.allclose(yours, theirs, rtol=1e-6, atol=1e-6))
assert yours.shape == theirs.shape == (1, 96, 7, 7) and np.allclose(yours, theirs, rtol=1e-6, atol=1e-6)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 2. How ImageNet results are scored
#
# The ImageNet challenge's classification task (ILSVRC) has 1,000 classes, and its headline score
# is the **top-5 error**: in the AlexNet paper's words (Section 2), "the fraction of test images for
# which the correct label is not among the five labels considered most probable by the model".
# The **top-1 error** counts the images whose single most probable class is wrong. Entries improve
# their scores by averaging softmax probabilities, in two ways:
#
# - an **ensemble** averages several networks trained separately;
# - **multi-crop** testing averages one network over several crops of the same test image. AlexNet
#   used ten (Section 4.1): the four corner patches and the centre patch, and their mirror images.
#   VGG adds **dense** evaluation: the whole image at once, its fully connected layers applied as
#   convolutions, the class scores averaged over positions (VGG paper, Section 3.2).
#
# Some entries also train on **outside data**: more images than the challenge's own training set.
# A toy version of the first two words, in code: 1,000 "images" of 10 classes, and seven "networks"
# whose scores are 0.75 for the true class and 0 for the others, plus independent noise (so each is often wrong):

# %%
demo = np.random.default_rng(1)
labels = torch.from_numpy(demo.integers(0, 10, size=1000))            # (1000,) true classes
scores = 0.75 * torch.eye(10, dtype=torch.float64)[labels] + torch.from_numpy(demo.normal(size=(7, 1000, 10)))
probs = scores.softmax(dim=-1)                                         # (7 networks, 1000 images, 10 classes)
errors = {}
for name, p in [("one network", probs[0]), ("ensemble of 7", probs.mean(dim=0))]:
    ranked = p.argsort(dim=-1, descending=True)                        # classes, most probable first
    errors[name] = [float((ranked[:, :k] != labels[:, None]).all(-1).double().mean()) for k in (1, 5)]
    print(f"{name:13s}  top-1 error {errors[name][0]:.3f}   top-5 error {errors[name][1]:.3f}")
assert all(top5 < top1 for top1, top5 in errors.values())
assert all(e < one for e, one in zip(errors["ensemble of 7"], errors["one network"]))

# %% [markdown]
# The top-5 error is always the smaller, and the average of seven noisy networks makes fewer mistakes
# than one of them: their noise partly cancels. (Seven networks that make the same mistakes would gain
# nothing.) Multi-crop testing does the same with one network and several views of each image.
#
# With these words, the headline numbers, all top-5 error on ILSVRC's test set as the papers report
# them (none is run here):
#
# - AlexNet, ILSVRC-2012 (its Table 2): 16.4% for an ensemble of five networks trained on the
#   challenge's data; the winning 15.3% averaged seven, two of them pre-trained on a larger ImageNet
#   release. One network alone: 18.2% (validation set).
# - The 2013 winner, Clarifai (VGG paper, Table 7 and Section 4.5): 11.7% for an ensemble without
#   outside data; with outside training data, 11.2%.
# - VGG, ILSVRC-2014 (Table 7): 7.3% for the submission, an ensemble of seven networks with dense
#   evaluation; after the challenge, 6.8% with two networks and 7.0% with one, each with multi-crop
#   and dense evaluation. GoogLeNet won that year with 6.7%, also an ensemble of seven (Table 7; the
#   lecture's GoogLeNet slide gives the same 6.7%).
#
# The lecture's "11.2% top 5 error in ILSVRC 2013 → 7.3%" therefore sets a result with outside data
# beside one without. Like for like, ensembles without outside data: 11.7% → 7.3%.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 3. VGG: only 3×3 convolutions
#
# VGG [Simonyan and Zisserman, 2014] builds its convolutional part from two layer types only (VGG16,
# the paper's configuration D; configuration C also has 1×1 convolutions): 3×3 convolutions at
# stride 1 with padding 1, which keep the width and height, and 2×2 max pooling at stride 2, which
# halves them. Three fully connected layers follow, as in AlexNet. The filters double after each of
# the first three poolings, 64 → 128 → 256 → 512, and stay at 512 after the fourth.
#
# Why only 3×3? Three stacked 3×3 convolutions see a 7×7 patch of the input, as one 7×7
# convolution would, with fewer weights and two extra nonlinearities (the VGG paper's Section 2.3
# makes both points). The 7×7 patch can be seen
# directly: push a gradient back from one output pixel through three 3×3 convolutions and count
# the input pixels it reaches.

# %%
stack = torch.nn.Sequential(*[torch.nn.Conv2d(1, 1, 3, padding=1) for _ in range(3)])
x = torch.zeros(1, 1, 15, 15, requires_grad=True)
stack(x)[0, 0, 7, 7].backward()                          # one output pixel, in the middle
reached = (x.grad[0, 0] != 0).nonzero()
print("input rows", reached[:, 0].unique().tolist(), "and columns", reached[:, 1].unique().tolist())
assert len(reached) == 7 * 7

# %% slideshow={"slide_type": "subslide"}
C = 256
print(f"three 3x3 layers on {C} maps: {3 * (3 * 3 * C) * C:,} weights; one 7x7 layer: {(7 * 7 * C) * C:,}")
assert 3 * (3 * 3 * C) * C == 27 * C * C < 49 * C * C == (7 * 7 * C) * C

# %% [markdown] slideshow={"slide_type": "subslide"}
# The previous notebook's receptive-field rule, r_out = r_in + (k − 1) · j_in and
# j_out = j_in · s, says the same for the whole network. VGG16's poolings and its last
# convolution:

# %% slideshow={"slide_type": "subslide"}
with torch.device("meta"):                                      # shapes only, no weights
    rf_vgg = receptive_field(models.vgg16())
for r in (r for r in rf_vgg if r.stride > 1 or r.layer == "conv5_3.conv"):
    print(f"VGG16   {r.layer:12s} k={r.kernel} s={r.stride}   r={r.receptive_field:3d} j={r.jump}")
assert [r.receptive_field for r in rf_vgg if r.stride > 1] == [6, 16, 44, 100, 212] and rf_vgg[-2].receptive_field == 196

# %% [markdown]
# VGG16's last convolution, conv5_3, sees 196×196 of the 224×224 input, and pool5 212×212, with no kernel
# larger than 3×3: depth and pooling, not large filters, make the field grow.

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### The lecture's VGG16 table vs the code
#
# The lecture lists VGG16 layer by layer with two columns: **memory**, the number of values a layer
# outputs per image (224·224·64 = 3.2M), and **params**, its weights without the biases. The code's
# numbers next to them; a memory figure agrees when the code's count rounds to it:

# %% slideshow={"slide_type": "subslide"}
with torch.device("meta"):
    vgg = models.vgg16()
s_vgg = summary(vgg, (3, 224, 224), depth=1, title="VGG16")
table = compare_vgg16(s_vgg)
table

# %% slideshow={"slide_type": "subslide"}
weights = s_vgg.total_params - sum(row.output_shape[0] for row in s_vgg.rows if row.params)
print(f"parameters: {s_vgg.total_params:,} ({weights:,} weights and {s_vgg.total_params - weights:,} biases)")
assert table.disagreements == [] and s_vgg.total_params == 138_357_544 and round(s_vgg.total_params / 1e6) == 138

# %% [markdown]
# Every row agrees, and the total is the famous **138M parameters**.
#
# The slide this table comes from (Stanford CS231n's, which the lecture's reading list points to) is
# copied widely with two totals underneath: 138M parameters, and "TOTAL memory: 24M × 4 bytes ≈ 96MB /
# image" (as reproduced in many copies; we could not check the original slide here). Our lecture
# prints only the rows. Add them up:

# %%
values = 3 * 224 * 224 + s_vgg.total_activations                  # the input row plus every layer row
printed = sum(parse_count(row.memory) for row in tables.VGG16_LECTURE_TABLE)
claimed = parse_count(tables.VGG16_WIDELY_COPIED_TOTALS["memory"])
print(f"code: {values:,} values; the printed rows: {printed / 1e6:.1f}M; the copied total: {claimed / 1e6:.0f}M")
assert round(values / 1e6, 1) == round(printed / 1e6, 1) == 15.2 and round(claimed / values, 2) == 1.58

# %% [markdown] slideshow={"slide_type": "subslide"}
# The rows add up to **15.2M values per image, not 24M**: the copied total is 1.58 times too big.
# The code and the rows agree with each other; only the total line is wrong.
#
# In float32 every value takes 4 bytes, so the rows hold 61 MB per image, not 96 MB. That is a sum
# over layers, not what a pass needs. A pass that only predicts can free each layer's output once the
# next layer has read it. Training keeps what the backward formulas need, and during the backward pass
# it also holds gradients. `activation_memory` measures both: it runs VGG16 forward and backward on
# the meta device (nothing is computed) and adds up, after every operation, the bytes of all tensors
# still alive, at two batch sizes, so that the weights and their gradients cancel and what is left
# is per image.

# %%
print(f"the rows: {4 * values / 1e6:.1f} MB per image in float32")
kept = activation_memory(vgg, (3, 224, 224))                        # bytes per image, VGG16 in train()
print(f"saved for backward: {kept.saved / 1e6:.1f} MB per image = "
      + " + ".join(f"{n / 1e6:.1f} MB of {dtype}" for dtype, n in kept.saved_by_dtype.items()))
print(f"most alive at any moment of forward + backward: {kept.peak / 1e6:.1f} MB per image, "
      f"{(kept.peak - kept.saved) / 1e6:.1f} MB more; a batch of 64: {64 * kept.peak / 1e9:.1f} GB")
pooled = sum(s_vgg[f"pool{i}"].activations for i in range(1, 6))
assert kept.saved_by_dtype == {"float32": 4 * (values + 4 * 4096), "int64": 8 * pooled}
assert kept.saved < kept.peak < kept.saved + 1e6

# %% [markdown]
# So training keeps 73.3 MB per image, more than the rows' 61 MB but far from twice it. The float32 part
# is every row's output and the input image (the first convolution needs it for its weight gradient),
# plus FC6's and FC7's outputs before dropout and their dropout masks (4 × 4,096 values). The int64
# part is new: each max pooling records, for every output, which input of its window won, so that the
# backward pass can send the gradient there; at 8 bytes each, that is 12.2 MB. The gradients add
# little, because they never all exist at once: the backward pass frees each layer's saved values
# and its output gradient as soon as it has the gradient of that layer's input. The peak is only
# 0.4 MB per image above what the forward pass saved. Weights, their gradients and an optimizer's
# state come on top, once per model rather than per image.
#
# And where VGG16 keeps its numbers (the title counts the layers' outputs, 15.1M; the input
# image adds the other 0.15M):

# %% alt="The same two bar charts for VGG16's layers: activations per image on top, largest in conv1_1 and conv1_2 (about 3.2 million each) and shrinking layer by layer; parameters below, almost all in the fully connected layers, with fc6 alone holding about 103 million of 138.4 million." slideshow={"slide_type": "subslide"}
plot_layer_profile(s_vgg)
plt.show()

# %% [markdown] slideshow={"slide_type": "subslide"}
# The same picture as AlexNet, sharper. The largest share of the activations is in the first
# convolutions at full resolution (conv1_1 and conv1_2 hold 43% of them); most of the parameters
# are in the fully connected layers (fc6 alone: 74%). The next notebook's networks, GoogLeNet and
# ResNet, remove that second cost: both replace the stack of fully connected layers by an average
# over positions and a single linear layer.

# %%
early = (s_vgg["conv1_1"].activations + s_vgg["conv1_2"].activations) / s_vgg.total_activations
print(f"conv1_1 + conv1_2: {early:.0%} of the activations; fc6: {s_vgg['fc6'].params / s_vgg.total_params:.0%} of the parameters")
assert round(early, 2) == 0.43 and round(s_vgg["fc6"].params / s_vgg.total_params, 2) == 0.74

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Summary
#
# - **AlexNet**'s whole table follows from two rules, (N − F + 2P)/S + 1 for the size and
#   (F·F·C_in + 1)·C_out for the parameters: CONV1 is 55×55×96 with 34,848 weights ("35K"),
#   POOL1 27×27×96 with none, 62.4M parameters in all (61.0M as two towers), 94% of them in FC6–8.
#   NORM divides each value by (2 + 10⁻⁴ Σ a²)^0.75 over 5 neighbouring maps (torch: alpha = 5·10⁻⁴);
#   the paper normalizes before pooling, the lecture after. Dropout zeroes half of FC6's and FC7's
#   outputs while training; the paper halves all outputs at test time, PyTorch doubles the survivors
#   while training instead: the same expected values.
# - ImageNet scores are top-5 errors, often of ensembles and multi-crop tests, some with outside
#   data: VGG's 7.3% (seven networks) follows the 2013 winner's 11.7% without outside data, 11.2% with it.

# %% [markdown] slideshow={"slide_type": "subslide"}
# - **VGG16** uses only 3×3 convolutions (stride 1, pad 1) and 2×2 max pooling (stride 2):
#   138M parameters, 74% of them in fc6; 15.2M activations per image (61 MB in float32), not the
#   "24M" of the widely copied total. Training keeps 73.3 MB per image (the max-pooling indices add
#   12.2 MB), and the gradients raise the peak by only 0.4 MB.
# - Three stacked 3×3 convolutions see 7×7 pixels with 27·C² weights instead of 49·C²; VGG16's
#   pool5 sees 212×212 pixels, with no kernel larger than 3×3.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Exercises
#
# Exercise 1 is in section 1, where CONV2 comes up, before the table that shows its row.

# %% [markdown] slideshow={"slide_type": "subslide"}
# **Exercise 2.** What fraction of VGG16's parameters sit in its three fully connected layers,
# fc6, fc7 and fc8? Use `s_vgg` and give a number between 0 and 1; the checker accepts it within
# 0.5%, or rounded to two significant digits, biases counted or not.

# %% tags=["exercise"]
answer = None  # your answer here

# %% tags=["solution"] jupyter={"source_hidden": true} slideshow={"slide_type": "skip"}
answer = sum(s_vgg[name].params for name in ("fc6", "fc7", "fc8")) / s_vgg.total_params
print(f"{answer:.1%}")

# %% tags=["check"]
_ = check_vgg16_fc_share(answer)

# %% [markdown]
# **Exercise 3.** Write the table that `summary` prints, from the two rules alone. `layers` is a
# list of rows `("conv", F, stride, pad, C_out)`, `("pool", F, stride)` or `("fc", units)`, and
# `input_hwc` the input's (H, W, C). Return one pair per row: the output shape, (H, W, C) for a
# convolution or pooling and `(units,)` for a fully connected layer (which flattens what it gets),
# and the row's number of parameters, biases included. `conv_output_size` does the size formula.
# Where a filter or a pooling window does not fit, (N − F + 2P)/S + 1 not a whole number or the
# filter larger than the padded input, raise `ValueError`, as `conv_output_size` does; the checker
# tries both, and non-square inputs, and strides larger than the kernel.

# %% tags=["exercise"]
def layer_table(layers, input_hwc):
    raise NotImplementedError  # your code here: [(output_shape, params), ...]

# %% tags=["solution"] jupyter={"source_hidden": true} slideshow={"slide_type": "skip"}
def layer_table(layers, input_hwc):
    shape, table = tuple(input_hwc), []
    for kind, *args in layers:
        if kind == "fc":
            params, shape = (int(np.prod(shape)) + 1) * args[0], (args[0],)
        else:
            (h, w, c), (f, stride), pad = shape, args[:2], args[2] if kind == "conv" else 0
            c_out = args[3] if kind == "conv" else c
            size = [conv_output_size(n, f, stride=stride, padding=pad) for n in (h, w)]
            params, shape = (f * f * c + 1) * c_out if kind == "conv" else 0, (*size, c_out)
        table.append((shape, params))
    return table
assert layer_table([("conv", 5, 1, 0, 6), ("pool", 2, 2)], (32, 32, 1)) == [((28, 28, 6), 156), ((14, 14, 6), 0)]

# %% tags=["check"]
_ = check_layer_table(layer_table)

# %% [markdown] slideshow={"slide_type": "subslide"}
# The same rows also give a layer's **cost**. Every output value of a convolution is one filter
# applied at one position: F·F·C_in multiplications, each added to a running sum, so F·F·C_in
# **multiply-adds** (the bias is one more addition, left out of the count). A convolution that
# outputs H_out × W_out × C_out values costs H_out·W_out·C_out·F·F·C_in. A fully connected layer
# does one multiply-add per weight, and a max pooling layer none (it compares, it does not
# multiply). That is how `summary` counts its `macs` column. AlexNet's CONV1, by hand and by code:

# %%
conv1_macs = 55 * 55 * 96 * (11 * 11 * 3)               # outputs x multiply-adds per output
print(f"CONV1: {conv1_macs:,} multiply-adds by hand, {s_alex['conv1'].macs:,} by summary")
assert conv1_macs == s_alex["conv1"].macs and s_alex["pool1"].macs == 0

# %% [markdown]
# **Exercise 4.** Write `layer_macs(layers, input_hwc)`: for the rows of Exercise 3, return one
# whole number per row, its multiply-adds for one image, counted as above. Where a filter or a
# window does not fit, raise `ValueError`, as in Exercise 3 (your `layer_table` may help). Use
# NumPy and `conv_output_size`; any other call into `cnnlib` or PyTorch fails.

# %% tags=["exercise"]
def layer_macs(layers, input_hwc):
    raise NotImplementedError  # your code here: [multiply-adds of each row, ...]

# %% tags=["solution"] jupyter={"source_hidden": true} slideshow={"slide_type": "skip"}
def layer_macs(layers, input_hwc):
    macs, (h, w, c) = [], tuple(input_hwc)
    for kind, *args in layers:
        if kind == "fc":
            macs.append(h * w * c * args[0])                      # inputs x units: one per weight
            h, w, c = 1, 1, args[0]
            continue
        f, stride, pad = args[0], args[1], args[2] if kind == "conv" else 0
        h, w = (conv_output_size(n, f, stride=stride, padding=pad) for n in (h, w))   # raises if it does not fit
        if kind == "conv":
            macs.append(h * w * args[3] * f * f * c)              # outputs x F*F*C_in
            c = args[3]
        else:
            macs.append(0)                                        # pooling multiplies nothing
    return macs
assert layer_macs([("conv", 11, 4, 0, 96), ("pool", 3, 2)], (227, 227, 3)) == [55 * 55 * 96 * 11 * 11 * 3, 0]

# %% tags=["check"]
_ = check_layer_macs(layer_macs)

