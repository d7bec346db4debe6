# %% [markdown] slideshow={"slide_type": "slide"}
# # 07 · Case studies I: LeNet-5, AlexNet and VGG
#
# The lecture's case studies are tables of numbers: output sizes, parameters, memory. Each number
# is the result of the formulas from the convolution and pooling notebooks, applied layer after
# layer. This notebook recomputes them, first by hand and then with `cnnlib.arch.summary`, and
# trains the oldest of the networks on real handwritten digits while you watch.
#
# In this notebook you will:
#
# - follow an image through **LeNet-5** (CONV-POOL-CONV-POOL-CONV-FC) and count its 61,706 parameters;
# - **train LeNet-5** on 1,797 real handwritten digits, to at least 98% test accuracy (the cell
#   prints how long that takes on your machine), then look at what it learned: its filters, its
#   feature maps and a **saliency map**;
# - work out **AlexNet**'s output sizes and parameters by hand, from (227 − 11)/4 + 1 = 55 to FC8,
#   check every row against the code, define its **local response normalization** and dropout, and
#   build it from cnnlib's own layers;
# - see why **VGG** uses nothing but 3×3 convolutions, rebuild the lecture's VGG16 table of memory and
#   parameters, and find that its widely copied "24M" memory total does not add up;
# - compute the **receptive field** of every layer, and confirm it with a gradient.
#
# For their tables, AlexNet and VGG16 are built on PyTorch's **meta device**: every tensor has a shape but no data,
# so the 138 million parameters of VGG16 take no memory, yet `summary` can still count them.

# %% slideshow={"slide_type": "skip"}
import time

import matplotlib.pyplot as plt
import numpy as np
import torch

import cnnlib.numpy_nn
import cnnlib.torch_nn
from cnnlib import models
from cnnlib.arch import summary, tables
from cnnlib.data import load_digits, random_affine
from cnnlib.device import env_report
from cnnlib.exercises.nb07 import CONV2_INPUT, LENET5_LAYERS, check_alexnet_conv2, check_lenet5_params
from cnnlib.exercises.nb07 import check_layer_table, check_receptive_fields, check_vgg16_fc_share
from cnnlib.plots import plot_history, show_images
from cnnlib.receptive_field import receptive_field
from cnnlib.shapes import conv_output_size, floor_output_size
from cnnlib.train import fit
from cnnlib.viz.case_studies import compare_alexnet, compare_vgg16, hwc, parse_count
from cnnlib.viz.case_study_figures import plot_layer_profile
from cnnlib.viz.saliency import plot_feature_maps, plot_filters, plot_saliency, saliency_map
# %config InlineBackend.figure_formats = ['png']

# %% slideshow={"slide_type": "subslide"}
rng = np.random.default_rng(0)
plt.rcParams["figure.dpi"] = 150
torch.manual_seed(0)
torch.set_num_threads(1)  # one thread: repeatable results, and fair on a shared or single-core machine
print(env_report())

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 1. LeNet-5: the blueprint
#
# LeNet-5 [LeCun et al., 1998] read handwritten digits and bank cheques. Its convolutions are 5×5
# at stride 1, its subsampling (pooling) layers 2×2 at stride 2, in the order
# CONV-POOL-CONV-POOL-CONV-FC. The input is a 32×32 grey image, and the output-size formula
# (N − F)/S + 1 takes it down to a single position:

# %%
size = 32
for name, f, stride in [("C1", 5, 1), ("S2", 2, 2), ("C3", 5, 1), ("S4", 2, 2), ("C5", 5, 1)]:
    size = conv_output_size(size, f, stride=stride)
    print(f"{name}: ({size} x {size})")
assert size == 1

# %% [markdown] slideshow={"slide_type": "subslide"}
# C1 has 6 filters, C3 16 and C5 120; then come a fully connected layer of 84 units and the 10
# class scores. `cnnlib.models.lenet5()` builds that layout with the paper's tanh and average
# pooling, and `summary` runs one image through it and records every layer. It is not the 1998
# network to the letter; the differences come right after the table.

# %% slideshow={"slide_type": "subslide"}
s_lenet = summary(models.lenet5(), (1, 32, 32), title="LeNet-5")
s_lenet

# %% [markdown] slideshow={"slide_type": "subslide"}
# Two things to notice. C5 is a 5×5 convolution on 5×5 maps, so each of its 120 filters sees the
# whole input: it is a fully connected layer in convolutional clothing, and the paper draws its
# output as 120 units. And the 61,706 parameters sit mostly in C5 (48,120), the layer with the
# deepest input and the largest filters. The sizes agree with the paper's table:

# %%
ours = [hwc(row.output_shape) for row in s_lenet.rows if row.layer in ("Conv2d", "AvgPool2d", "Linear")]
paper = [row.output_hwc for row in tables.LENET5_TABLE[1:]]
print(ours, paper, sep="\n")
assert ours[:4] == paper[:4] and ours[4] == (1, 1, 120) and paper[4] == (120,) and ours[5:] == paper[5:]
assert s_lenet.total_params == 61_706 and s_lenet["6"].params == 48_120

# %% [markdown] slideshow={"slide_type": "subslide"}
# What the paper built differs in three places, all simplified away in today's versions:
#
# - **C3 is sparse.** Each of its 16 maps reads only some of S2's 6 maps (Table I of the paper):
#   six read 3 maps, nine read 4 and one reads all 6, so as to break the symmetry between maps
#   and to save connections. Ours reads all 6 everywhere.
# - **Subsampling is trainable.** S2 and S4 sum each 2×2 window, then multiply by a trainable
#   coefficient and add a trainable bias per map, before a sigmoid-like squashing. Ours averages,
#   with no parameters.
# - **The outputs are RBF units**: each class score is the squared distance between F6's 84 values
#   and a fixed, hand-drawn 7×12 bitmap of the digit, not a trainable linear layer.
#
# Counting the paper's trainable parameters with those rules gives its own figure, 60,000:

# %%
c3_inputs = [3] * 6 + [4] * 9 + [6]                               # S2 maps read by each C3 map
paper = {"C1": 156, "S2": 6 * 2, "C3": sum(5 * 5 * k + 1 for k in c3_inputs), "S4": 16 * 2,
         "C5": 48_120, "F6": 10_164, "RBF output (fixed)": 0}
print(paper, f"total {sum(paper.values()):,}; ours {s_lenet.total_params:,}")
assert paper["C3"] == 1_516 and sum(paper.values()) == 60_000

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 2. Training LeNet-5 on real handwritten digits
#
# scikit-learn ships 1,797 real handwritten digits, scanned at 8×8 pixels. `load_digits(32)`
# enlarges them to LeNet's 32×32 and splits them, class by class, into 1,437 training and 360
# test images. Nothing is downloaded.

# %%
(x_train, y_train), (x_test, y_test) = load_digits(32)
print("train", x_train.shape, "test", x_test.shape, "test images per digit:", np.bincount(y_test))

# %% slideshow={"slide_type": "subslide"}
show_images(x_train[:16], titles=y_train[:16], ncols=8)
plt.show()

# %% [markdown]
# 1,437 images are few for 61,706 parameters. The training run below uses two standard tricks.
# **Data augmentation**: every time an image is used it is turned, shifted and zoomed a little at
# random (`random_affine`), so the network never sees exactly the same image twice. A
# **learning-rate schedule**: the step size of Adam follows a half cosine from 0.003 down to 0
# over the epochs (`CosineAnnealingLR`), big steps first, fine adjustments last. One training
# digit as it is (left) and seven random variants of it:

# %% slideshow={"slide_type": "subslide"}
one_digit = torch.from_numpy(x_train[:1]).repeat(8, 1, 1, 1)          # (8, 1, 32, 32), the same image
variants = random_affine(one_digit, generator=torch.Generator().manual_seed(0))
show_images(np.concatenate([x_train[:1], variants.numpy()[:7]]),
            titles=["original"] + [f"variant {i}" for i in range(1, 8)], ncols=8)
plt.show()

# %% [markdown]
# One more change from 1998 is usual today: ReLU instead of tanh and max instead of average
# pooling, the choices of every network since AlexNet; the parameter count stays 61,706. Do they
# train faster on these digits? Train both versions for 6 epochs (Adam, lr 0.003, no augmentation)
# from 3 seeds each and compare the test accuracy epoch by epoch:

# %% slideshow={"slide_type": "subslide"}
variants, curves = {"tanh + avg pool": ("tanh", "avg"), "ReLU + max pool": ("relu", "max")}, {}
for name, (act, pool) in variants.items():
    runs = []
    for seed in range(3):
        torch.manual_seed(seed)
        net = models.lenet5(activation=act, pooling=pool)
        runs.append(fit(net, (x_train, y_train), (x_test, y_test), torch.optim.Adam(net.parameters(), lr=3e-3),
                        epochs=6, batch_size=32, seed=seed, progress=False).test_acc)
    curves[name] = np.array(runs)                                   # (seeds, epochs)
    print(f"{name:16s} mean {np.round(curves[name].mean(0), 3)}  spread {np.round(np.ptp(curves[name], 0), 3)}")

# %%
tanh_acc, relu_acc = curves["tanh + avg pool"], curves["ReLU + max pool"]
gap = tanh_acc.mean(0) - relu_acc.mean(0)                           # per epoch, in accuracy
print("tanh minus ReLU, mean over seeds:", np.round(gap, 3))
assert tanh_acc[:, 0].min() > relu_acc[:, 0].max() and np.all(gap > 0) and gap[-1] < 0.01

# %% [markdown] slideshow={"slide_type": "subslide"}
# Not on this problem. After one epoch the tanh version is ahead in every seed, by about ten
# points on average; it stays ahead on average at every epoch, and by the sixth the gap is under
# one point, smaller than the spread between seeds. The case for ReLU was
# made on deeper networks and harder data: the AlexNet paper reports that a four-layer network
# with ReLUs reached 25% training error on CIFAR-10 six times faster than the same network with
# tanh. The run below uses ReLU and max pooling as modern versions do, not because they win here.
#
# Now train: 20 epochs of mini-batches of 32, with `cnnlib.train.fit` (device-aware; a progress
# bar shows the epochs). Training time depends on the machine, so this cell's output is not
# compared by the notebook checks; the accuracy is checked in the cell after it.

# %% slideshow={"slide_type": "subslide"}
# NBVAL_IGNORE_OUTPUT
torch.manual_seed(0)
lenet = models.lenet5(activation="relu", pooling="max")
optimizer = torch.optim.Adam(lenet.parameters(), lr=3e-3)
schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=20)
start = time.perf_counter()
history = fit(lenet, (x_train, y_train), (x_test, y_test), optimizer, epochs=20, batch_size=32,
              scheduler=schedule, augment=random_affine)
print(f"trained in {time.perf_counter() - start:.1f} s; test accuracy {history.test_acc[-1]:.2%}")

# %%
for epoch in (1, 5, 10, 20):
    print(f"epoch {epoch:2d}: train (augmented) {history.train_acc[epoch - 1]:.3f}   test {history.test_acc[epoch - 1]:.3f}")
assert history.test_acc[-1] >= 0.98 and history.train_acc[0] < history.test_acc[0] - 0.3

# %% slideshow={"slide_type": "subslide"}
plot_history(history, title="LeNet-5 on the digits (train: augmented images)")
plt.show()

# %% [markdown] slideshow={"slide_type": "subslide"}
# The test accuracy climbs within a few epochs and settles as the learning rate goes to zero.
# The training accuracy starts far below it (0.44 against 0.81 after the first epoch, in the
# printout above): it averages the mini-batches of the epoch as the network saw them, turned and
# shifted, while its weights were still changing. By the last epoch the two meet. The test digits that the network still
# gets wrong, with their true label and (after the arrow) the prediction:

# %% slideshow={"slide_type": "subslide"}
device = next(lenet.parameters()).device
with torch.no_grad():
    predicted = lenet.eval()(torch.as_tensor(x_test, device=device)).argmax(dim=1).cpu().numpy()
wrong = np.flatnonzero(predicted != y_test)[:8]
show_images(x_test[wrong], titles=[f"{y_test[i]} → {predicted[i]}" for i in wrong], ncols=8)
plt.show()

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Learn the weights!
#
# Nobody drew LeNet-5's filters: they started random and back-propagation shaped them. C1's six
# learned 5×5 filters, on one colour scale around zero (red positive, blue negative):

# %%
plot_filters(lenet[0].weight)
plt.show()

# %% [markdown]
# Each filter slides over the image and answers "how much does this patch look like me?". The
# six maps C1 computes for one test digit (before the ReLU):

# %% slideshow={"slide_type": "subslide"}
digit = torch.as_tensor(x_test[:1], device=device)                    # (1, 1, 32, 32)
with torch.no_grad():
    c1_maps = lenet[0](digit)                                           # (1, 6, 28, 28)
print("digit", y_test[0], "predicted", predicted[0], "C1 maps", tuple(c1_maps.shape))
plot_feature_maps(c1_maps, title="C1's six maps of one test digit")
plt.show()

# %% [markdown] slideshow={"slide_type": "subslide"}
# Back-propagation can run one step further than the weights, to the input pixels. The gradient
# of the predicted class score with respect to every pixel says how strongly a small change of
# that pixel would move the score: its absolute value is the **saliency map** [Simonyan et al.,
# 2013]. It costs one backward pass, the same one that trains the network.

# %% slideshow={"slide_type": "subslide"}
saliency = saliency_map(lenet, digit[0], int(predicted[0]))             # (32, 32), non-negative
ink = digit[0, 0] > digit[0, 0].mean()                                  # the digit's brighter pixels
on_ink = float(saliency[ink].sum() / saliency.sum())
print(f"ink pixels: {float(ink.float().mean()):.0%} of the image; share of the saliency on them: {on_ink:.0%}")
assert saliency.min() >= 0 and on_ink > float(ink.float().mean())
plot_saliency(digit[0], saliency, title=f"saliency of class {predicted[0]}")
plt.show()

# %% [markdown] slideshow={"slide_type": "subslide"}
# The same chain rule that gives ∂L/∂W during training gives ∂score/∂x here; only the end it
# stops at differs. The printout shows where it points: the brighter pixels of the digit, 40% of
# the image, carry 63% of the saliency, so the score hangs mostly on the strokes and on the dark
# gaps between them, little on the empty border. A single map is noisy pixel by pixel; it tells
# you where the network is sensitive, not why.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 3. AlexNet by hand
#
# AlexNet [Krizhevsky et al., 2012] won ImageNet 2012 and started the deep learning boom. The
# lecture draws a simplified version on 227×227×3 images. Its first layer, CONV1, has 96 filters
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

# %% slideshow={"slide_type": "subslide"}
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
print(f"largest difference from the formula: cnnlib {np.abs(by_formula - ours).max():.0e}, torch {np.abs(by_formula - theirs).max():.0e}")
assert np.allclose(by_formula, ours, rtol=1e-12) and np.allclose(by_formula, theirs, rtol=1e-12)

# %% [markdown]
# FC6 and FC7 are each followed by **dropout** (p = 0.5): while training, every unit is zeroed with
# probability 0.5 and the survivors are multiplied by 1/(1 − p) = 2 ("inverted" dropout, as
# PyTorch does), so the expected output equals the input; in evaluation dropout does nothing.

# %% slideshow={"slide_type": "subslide"}
drop = cnnlib.numpy_nn.Dropout(0.5, rng=0)
print("train:", drop(np.ones(8)), " mean of 100,000:", drop(np.ones(100_000)).mean().round(3))
print("eval: ", drop.eval()(np.ones(8)))
assert set(drop.train()(np.ones(1000)).tolist()) == {0.0, 2.0} and np.all(drop.eval()(np.ones(8)) == 1)

# %% [markdown] slideshow={"slide_type": "subslide"}
# With these two, `models.alexnet(layers=cnnlib.torch_nn)` builds the whole network from cnnlib's
# own layers (convolution, ReLU, max pooling, NORM, linear, dropout). Copy its weights into the
# `torch.nn` version and both give the same class scores for the same image:

# %%
torch.manual_seed(0)
alex_mine, alex_torch = models.alexnet(layers=cnnlib.torch_nn).eval(), models.alexnet().eval()
alex_torch.load_state_dict(alex_mine.state_dict())
print(sorted({type(m).__module__ for m in alex_mine.modules()} - {"torch.nn.modules.container", "torch.nn.modules.flatten"}))
image = torch.randn(1, 3, 227, 227)
with torch.no_grad():
    scores_mine, scores_torch = alex_mine(image), alex_torch(image)
print(f"largest difference of the 1,000 scores: {float((scores_mine - scores_torch).abs().max()):.0e}")
torch.testing.assert_close(scores_mine, scores_torch)
del alex_mine, alex_torch                                                # 2 x 250 MB of weights

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 4. VGG: only 3×3 convolutions
#
# VGG [Simonyan and Zisserman, 2014] strips the design down to two layer types: 3×3 convolutions
# at stride 1 with padding 1, which keep the width and height, and 2×2 max pooling at stride 2,
# which halves them. The filters double after each pooling, 64 → 128 → 256 → 512. With that, the
# ILSVRC top-5 test error went from the 11.2% of the 2013 winner to 7.3% for VGG's 2014 submission
# (as the VGG paper's Table 7 reports them; these are the paper's numbers, not run here).
#
# Why only 3×3? Three stacked 3×3 convolutions see a 7×7 patch of the input, as one 7×7
# convolution would, with fewer weights and two extra nonlinearities. The 7×7 patch can be seen
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
# ### The receptive field, layer by layer
#
# The same count works for any chain of layers. Keep two numbers while walking from the input:
# r, how many input pixels one pixel of the current map sees, and the jump j, how many input
# pixels apart two neighbouring pixels of that map are (both start at 1). A layer with kernel k
# and stride s, convolution or pooling alike, gives
#
# r_out = r_in + (k − 1) · j_in,   j_out = j_in · s.
#
# Each of the k − 1 extra positions of the kernel is one step of the current map, j_in input
# pixels wide. Padding moves the field but does not change its size. `cnnlib.receptive_field`
# applies the rule; the pooling rows and the last one:

# %% slideshow={"slide_type": "subslide"}
with torch.device("meta"):                                      # shapes only, no weights
    rf_lenet, rf_vgg = receptive_field(models.lenet5()), receptive_field(models.vgg16())
for name, r in zip(("C1", "S2", "C3", "S4", "C5"), rf_lenet):         # LeNet-5: every row
    print(f"LeNet-5 {name:8s} k={r.kernel} s={r.stride}   r={r.receptive_field:3d} j={r.jump}")
for r in (r for r in rf_vgg if r.stride > 1 or r.layer == "conv5_3.conv"):  # VGG16: the poolings, conv5_3
    print(f"VGG16   {r.layer:12s} k={r.kernel} s={r.stride}   r={r.receptive_field:3d} j={r.jump}")
assert [r.receptive_field for r in rf_lenet] == [5, 6, 14, 16, 32] and rf_lenet[-1].jump == 4
assert [r.receptive_field for r in rf_vgg if r.stride > 1] == [6, 16, 44, 100, 212] and rf_vgg[-2].receptive_field == 196

# %% [markdown] slideshow={"slide_type": "subslide"}
# C5 sees all 32×32 pixels, as the output-size count said. After S4 the field is 16 pixels wide
# with a jump of 4, so pixel (2, 2) of S4 should see input rows and columns 2·4 = 8 to 8 + 15 = 23.
# The gradient says the same: back-propagate from that one pixel through C1-S2-C3-S4 (random
# weights, tanh and average pooling, so no gradient is zero by accident):

# %% slideshow={"slide_type": "subslide"}
torch.manual_seed(0)
x = torch.randn(1, 1, 32, 32, requires_grad=True)
models.lenet5()[:6](x)[0, 0, 2, 2].backward()                  # C1, tanh, S2, C3, tanh, S4 -> (1, 16, 5, 5)
rows, cols = (x.grad[0, 0] != 0).nonzero().unbind(1)
print(f"rows {rows.min()}..{rows.max()}, columns {cols.min()}..{cols.max()}: {int(rows.max() - rows.min() + 1)} wide")
assert (rows.min(), rows.max(), cols.min(), cols.max()) == (8, 23, 8, 23) and rf_lenet[3].receptive_field == 16

# %% [markdown]
# VGG16's last convolution, conv5_3, sees 196×196 of the 224×224 input, and pool5 212×212, all from
# 3×3 kernels: depth and pooling, not large filters, make the field grow.

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### The lecture's VGG16 table, paper vs code
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
# The slide this table comes from is copied widely with two totals underneath: 138M parameters,
# and "TOTAL memory: 24M × 4 bytes ≈ 96MB / image". Our lecture prints only the rows. Add them up:

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
# In float32 every value takes 4 bytes. A forward pass through VGG16 therefore stores about
# 61 MB per image, not 96 MB. Training roughly doubles that, because the backward pass needs a
# gradient of the same size for every stored value:

# %%
forward_mb = 4 * values / 1e6
print(f"forward: {forward_mb:.0f} MB per image; with the backward pass: about {2 * forward_mb:.0f} MB")
print(f"a batch of 64 images: about {64 * 2 * forward_mb / 1e3:.1f} GB just for activations and their gradients")
assert round(forward_mb) == 61 and round(2 * forward_mb) == 122

# %% [markdown]
# And where VGG16 keeps its numbers (the title counts the layers' outputs, 15.1M; the input
# image adds the other 0.15M):

# %% slideshow={"slide_type": "subslide"}
plot_layer_profile(s_vgg)
plt.show()

# %% [markdown] slideshow={"slide_type": "subslide"}
# The same picture as AlexNet, sharper. Most of the memory is in the first convolutions at full
# resolution (conv1_1 and conv1_2 hold 43% of all activations); most of the parameters are in
# the fully connected layers (fc6 alone: 74%). The next notebook's networks, GoogLeNet and
# ResNet, attack exactly that second point.

# %%
early = (s_vgg["conv1_1"].activations + s_vgg["conv1_2"].activations) / s_vgg.total_activations
print(f"conv1_1 + conv1_2: {early:.0%} of the activations; fc6: {s_vgg['fc6'].params / s_vgg.total_params:.0%} of the parameters")
assert round(early, 2) == 0.43 and round(s_vgg["fc6"].params / s_vgg.total_params, 2) == 0.74

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Summary
#
# - **LeNet-5** is CONV-POOL-CONV-POOL-CONV-FC with 5×5 convolutions and 2×2 pooling: 61,706
#   parameters in today's dense version, 60,000 in the paper's (sparse C3, trainable subsampling,
#   fixed RBF outputs). Trained with augmentation and a cosine learning-rate schedule it reaches
#   at least 98% test accuracy on real handwritten digits. On these digits ReLU and max pooling do
#   not train faster than tanh and average pooling (3 seeds). Its learned C1 filters and maps can
#   be looked at, and the saliency map, the gradient of a class score with respect to the pixels,
#   shows where it is sensitive (63% of it on the 40% of pixels that carry the digit, for one digit).
# - **AlexNet**'s whole table follows from two rules, (N − F + 2P)/S + 1 for the size and
#   (F·F·C_in + 1)·C_out for the parameters: CONV1 is 55×55×96 with 34,848 weights ("35K"),
#   POOL1 27×27×96 with none, 62.4M parameters in all (61.0M as two towers), 94% of them in FC6–8.
#   NORM divides each value by (2 + 10⁻⁴ Σ a²)^0.75 over 5 neighbouring maps (torch: alpha = 5·10⁻⁴);
#   dropout zeroes half of FC6's and FC7's outputs while training and doubles the rest.

# %% [markdown] slideshow={"slide_type": "subslide"}
# - **VGG16** uses only 3×3 convolutions (stride 1, pad 1) and 2×2 max pooling (stride 2):
#   138M parameters, 74% of them in fc6; 15.2M activations per image (61 MB forward, about
#   122 MB with the backward pass), not the "24M" of the widely copied total.
# - **The receptive field** grows by (k − 1)·j per layer, with the jump j multiplied by each stride:
#   32 pixels for LeNet-5's C5, 212 for VGG16's pool5; the gradient of one S4 pixel reaches
#   exactly the 16×16 input pixels the rule predicts.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Exercises
#
# **Exercise 1.** Count LeNet-5's parameters by hand: C1, C3 and C5 are convolutions with 5×5
# filters and (F·F·C_in + 1)·C_out parameters; F6 and the output layer are fully connected with
# (inputs + 1)·outputs; the pooling layers have none. The layers are in `LENET5_LAYERS` as
# (name, F, C_in, C_out), where a fully connected layer has F = 1.

# %% slideshow={"slide_type": "subslide"}
print(LENET5_LAYERS)
answer = None  # your code here
_ = check_lenet5_params(answer)

# %% tags=["solution"] jupyter={"source_hidden": true} slideshow={"slide_type": "skip"}
answer = sum((f * f * c_in + 1) * c_out for _, f, c_in, c_out in LENET5_LAYERS)
assert answer == s_lenet.total_params
assert check_lenet5_params(answer)

# %% [markdown]
# **Exercise 2.** AlexNet's CONV2 has 256 filters of 5×5 at stride 1 with padding 2, on the
# 27×27×96 output of NORM1. Give its output (height, width, depth) and its number of parameters,
# biases included, as a tuple of four numbers.

# %%
print("input (H, W, C):", CONV2_INPUT)
answer = None  # your code here: (height, width, depth, parameters)
_ = check_alexnet_conv2(answer)

# %% tags=["solution"] jupyter={"source_hidden": true} slideshow={"slide_type": "skip"}
h, w, c = CONV2_INPUT
out = conv_output_size(h, 5, stride=1, padding=2)
answer = (out, out, 256, (5 * 5 * c + 1) * 256)
assert check_alexnet_conv2(answer)

# %% [markdown]
# **Exercise 3.** What fraction of VGG16's parameters sit in its three fully connected layers,
# fc6, fc7 and fc8? Use `s_vgg` (give a number between 0 and 1).

# %% slideshow={"slide_type": "subslide"}
answer = None  # your code here
_ = check_vgg16_fc_share(answer)

# %% tags=["solution"] jupyter={"source_hidden": true} slideshow={"slide_type": "skip"}
answer = sum(s_vgg[name].params for name in ("fc6", "fc7", "fc8")) / s_vgg.total_params
print(f"{answer:.1%}")
assert check_vgg16_fc_share(answer)

# %% [markdown]
# **Exercise 4.** Write the table that `summary` prints, from the two rules alone. `layers` is a
# list of rows `("conv", F, stride, pad, C_out)`, `("pool", F, stride)` or `("fc", units)`, and
# `input_hwc` the input's (H, W, C). Return one pair per row: the output shape, (H, W, C) for a
# convolution or pooling and `(units,)` for a fully connected layer (which flattens what it gets),
# and the row's number of parameters, biases included. `conv_output_size` does the size formula.

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
# **Exercise 5.** Write the receptive-field rule as a function: `layers` is a list of
# `(kernel, stride)` rows; return the receptive field r after each row, starting from r = 1 and
# a jump j = 1 at the input. For LeNet-5, `[(5, 1), (2, 2), (5, 1), (2, 2), (5, 1)]` gives the
# table of section 4.

# %% tags=["exercise"]
def receptive_fields(layers):
    raise NotImplementedError  # your code here: [r after layer 1, r after layer 2, ...]

# %% tags=["solution"] jupyter={"source_hidden": true} slideshow={"slide_type": "skip"}
def receptive_fields(layers):
    r, jump, fields = 1, 1, []
    for kernel, stride in layers:
        r, jump = r + (kernel - 1) * jump, jump * stride
        fields.append(r)
    return fields
assert receptive_fields([(5, 1), (2, 2), (5, 1), (2, 2), (5, 1)]) == [r.receptive_field for r in rf_lenet]

# %% tags=["check"]
_ = check_receptive_fields(receptive_fields)
