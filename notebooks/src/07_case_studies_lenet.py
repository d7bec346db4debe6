# %% [markdown] slideshow={"slide_type": "slide"}
# # 07 · Case studies I: LeNet-5
#
# The lecture's case studies are tables of numbers: output sizes, parameters, memory. Each number
# is the result of the formulas from the convolution and pooling notebooks, applied layer after
# layer. This notebook starts with the oldest of the networks: it recomputes LeNet-5's table, first
# by hand and then with `cnnlib.arch.summary`, and trains it on real handwritten digits while you
# watch.
#
# In this notebook you will:
#
# - follow an image through **LeNet-5** (CONV-POOL-CONV-POOL-CONV-FC) and count its 61,706 parameters,
#   then see where the 1998 network differed;
# - **train LeNet-5** on 1,797 real handwritten digits, to at least 98% test accuracy (the cell
#   prints how long that takes on your machine), then look at what it learned: its filters, its
#   feature maps and a **saliency map**;
# - compute the **receptive field** of every layer, and confirm it with a gradient.
#
# AlexNet and VGG follow in the next notebook, GoogLeNet and ResNet in the one after.

# %% slideshow={"slide_type": "skip"}
import time

import matplotlib.pyplot as plt
import numpy as np
import torch

from cnnlib import models
from cnnlib.arch import summary, tables
from cnnlib.data import load_digits, random_affine
from cnnlib.device import env_report
from cnnlib.exercises.nb07 import LENET5_LAYERS, check_lenet5_params, check_receptive_fields
from cnnlib.plots import plot_history, show_images
from cnnlib.receptive_field import receptive_field
from cnnlib.shapes import conv_output_size
from cnnlib.train import fit
from cnnlib.viz.case_studies import hwc
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
# ## 3. The receptive field, layer by layer
#
# How much of the image does one pixel of a map see? Keep two numbers while walking from the
# input: r, how many input pixels one pixel of the current map sees, and the jump j, how many input
# pixels apart two neighbouring pixels of that map are (both start at 1). A layer with kernel k
# and stride s, convolution or pooling alike, gives
#
# r_out = r_in + (k − 1) · j_in,   j_out = j_in · s.
#
# Each of the k − 1 extra positions of the kernel is one step of the current map, j_in input
# pixels wide. Padding moves the field but does not change its size. `cnnlib.receptive_field`
# applies the rule to LeNet-5, row by row:

# %% slideshow={"slide_type": "subslide"}
rf_lenet = receptive_field(models.lenet5())
for name, r in zip(("C1", "S2", "C3", "S4", "C5"), rf_lenet):
    print(f"LeNet-5 {name:8s} k={r.kernel} s={r.stride}   r={r.receptive_field:3d} j={r.jump}")
assert [r.receptive_field for r in rf_lenet] == [5, 6, 14, 16, 32] and rf_lenet[-1].jump == 4

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


# %% [markdown] slideshow={"slide_type": "slide"}
# ## Summary
#
# - **LeNet-5** is CONV-POOL-CONV-POOL-CONV-FC with 5×5 convolutions and 2×2 pooling: 61,706
#   parameters in today's dense version, 60,000 in the paper's (sparse C3, trainable subsampling,
#   fixed RBF outputs).
# - Trained with augmentation and a cosine learning-rate schedule it reaches at least 98% test
#   accuracy on real handwritten digits. On these digits ReLU and max pooling do not train faster
#   than tanh and average pooling (3 seeds).
# - Its learned C1 filters and maps can be looked at, and the saliency map, the gradient of a
#   class score with respect to the pixels, shows where it is sensitive (63% of it on the 40% of
#   pixels that carry the digit, for one digit).
# - **The receptive field** grows by (k − 1)·j per layer, with the jump j multiplied by each stride:
#   32 pixels for LeNet-5's C5; the gradient of one S4 pixel reaches exactly the 16×16 input
#   pixels the rule predicts.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Exercises
#
# **Exercise 1.** Count LeNet-5's parameters by hand: C1, C3 and C5 are convolutions with 5×5
# filters and (F·F·C_in + 1)·C_out parameters; F6 and the output layer are fully connected with
# (inputs + 1)·outputs; the pooling layers have none. The layers are in `LENET5_LAYERS` as
# (name, F, C_in, C_out), where a fully connected layer has F = 1.

# %%
print(LENET5_LAYERS)

# %% tags=["exercise"]
answer = None  # your answer here

# %% tags=["solution"] jupyter={"source_hidden": true} slideshow={"slide_type": "skip"}
answer = sum((f * f * c_in + 1) * c_out for _, f, c_in, c_out in LENET5_LAYERS)
assert answer == s_lenet.total_params

# %% tags=["check"]
_ = check_lenet5_params(answer)

# %% [markdown] slideshow={"slide_type": "subslide"}
# **Exercise 2.** Write the receptive-field rule as a function: `layers` is a list of
# `(kernel, stride)` rows; return the receptive field r after each row, starting from r = 1 and
# a jump j = 1 at the input. For LeNet-5, `[(5, 1), (2, 2), (5, 1), (2, 2), (5, 1)]` gives the
# table of section 3.

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
