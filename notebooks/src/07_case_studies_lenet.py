# %% [markdown] slideshow={"slide_type": "slide"}
# # 07 · Case studies I: LeNet-5
#
# The lecture's case studies are tables of numbers: output sizes, parameters, memory. Each number
# is the result of the formulas from the convolution and pooling notebooks, applied layer after
# layer. This notebook starts with the oldest of the networks: it recomputes LeNet-5's table, first
# by hand and then with `cnnlib.arch.summary`, and trains it on real photographs of clothing.
#
# In this notebook you will:
#
# - follow an image through **LeNet-5** (CONV-POOL-CONV-POOL-CONV-FC) and count its parameters,
#   then see where the 1998 network differed;
# - **train LeNet-5** on Fashion-MNIST (the cell prints how long that takes on your machine), compare
#   it with published results, and measure two questions: tanh or ReLU (the lecture lists both), and
#   fully connected or convolutional layers for the same number of parameters (the lecture asks it);
# - look at what it learned: its filters, its feature maps and a **saliency map**;
# - compute the **receptive field** of every layer, and confirm it with a gradient;
# - assemble **your own LeNet-5** from the layers you wrote in notebooks 01 to 06, and train it beside
#   cnnlib's layers and `torch.nn` from the same seed.
#
# AlexNet and VGG follow in the next notebook, GoogLeNet and ResNet in the one after.

# %% slideshow={"slide_type": "skip"}
import time

import matplotlib.pyplot as plt
import numpy as np
import torch

from cnnlib import models
from cnnlib.arch import summary, tables
from cnnlib.data import balanced_subset, fashion_mnist, to_float_images
from cnnlib.device import env_report
from cnnlib.exercises import references
from cnnlib.exercises.my_layers import my_layers
from cnnlib.exercises.nb07 import LENET5_LAYERS, check_lenet5_forward, check_lenet5_params, check_receptive_fields
from cnnlib.models import lenet_layers
from cnnlib.plots import compare_seeds, plot_history, show_images
from cnnlib.receptive_field import receptive_field
from cnnlib.shapes import conv_output_size
from cnnlib.train import evaluate, fit, predict
from cnnlib.viz.case_studies import hwc
from cnnlib.viz.saliency import plot_feature_maps, plot_filters, plot_saliency, saliency_map
from cnnlib.viz.training import plot_losses
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
# LeNet-5 [LeCun et al., 1998] was built to read handwritten digits, and the paper's cheque reader,
# built around it, was in commercial use. Its convolutions are 5×5
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
# class scores. `cnnlib.models.lenet5()` builds that layout with tanh (the paper's squashing
# function is a scaled tanh) and average pooling, and `summary` runs one image through it and
# records every layer. It is not the 1998 network to the letter; the differences come right after
# the table.

# %% [markdown] slideshow={"slide_type": "subslide"}
# **Exercise 1.** Before the table below shows it, count LeNet-5's parameters by hand: C1, C3 and
# C5 are convolutions with 5×5 filters and (F·F·C_in + 1)·C_out parameters; F6 and the output layer
# are fully connected with (inputs + 1)·outputs; the pooling layers have none. The layers are in
# `LENET5_LAYERS` as (name, F, C_in, C_out), where a fully connected layer has F = 1. The answer is
# a whole number, checked exactly.

# %%
print(LENET5_LAYERS)

# %% tags=["exercise"]
answer = None  # your answer here

# %% tags=["solution"] jupyter={"source_hidden": true} slideshow={"slide_type": "skip"}
answer = sum((f * f * c_in + 1) * c_out for _, f, c_in, c_out in LENET5_LAYERS)

# %% tags=["check"]
_ = check_lenet5_params(answer)

# %% slideshow={"slide_type": "subslide"}
s_lenet = summary(models.lenet5(), (1, 32, 32), title="LeNet-5")
s_lenet

# %% [markdown] slideshow={"slide_type": "subslide"}
# Two things to notice. C5 is a 5×5 convolution on 5×5 maps, so each of its 120 filters sees the
# whole input: it is a fully connected layer in convolutional clothing, and the paper draws its
# output as 120 units. And the 61,706 parameters sit mostly in C5 (48,120), the layer with the
# deepest input and the largest filters. The sizes agree with the paper's Figure 2, as
# `cnnlib.arch.tables.LENET5_TABLE` transcribes it:

# %%
ours = [hwc(row.output_shape) for row in s_lenet.rows if row.layer in ("Conv2d", "AvgPool2d", "Linear")]
paper = [row.output_hwc for row in tables.LENET5_TABLE[1:]]
print(ours, paper, sep="\n")
assert ours[:4] == paper[:4] and ours[4] == (1, 1, 120) and paper[4] == (120,) and ours[5:] == paper[5:]
assert s_lenet.total_params == 61_706 and s_lenet["6"].params == 48_120

# %% [markdown] slideshow={"slide_type": "subslide"}
# What the paper built differs most in three places, all simplified away in today's versions:
#
# - **C3 is sparse.** Each of its 16 maps reads only some of S2's 6 maps (Table I of the paper):
#   six read 3 maps, nine read 4 and one reads all 6, so as to break the symmetry between maps
#   and to save connections. Ours reads all 6 everywhere.
# - **Subsampling is trainable.** S2 and S4 sum each 2×2 window, then multiply by a trainable
#   coefficient and add a trainable bias per map, before a sigmoid-like squashing. Ours averages,
#   with no parameters.
# - **The outputs are RBF units**: each class gets a penalty, the squared distance between F6's 84
#   values and a fixed, hand-drawn 7×12 bitmap of the digit, and the smallest penalty wins; there is
#   no trainable linear layer.
#
# Counting the paper's trainable parameters with those rules gives exactly its own figure (section
# II.B: "only 60,000 trainable free parameters"):

# %%
c3_inputs = [3] * 6 + [4] * 9 + [6]                               # S2 maps read by each C3 map
paper = {"C1": 156, "S2": 6 * 2, "C3": sum(5 * 5 * k + 1 for k in c3_inputs), "S4": 16 * 2,
         "C5": 48_120, "F6": 10_164, "RBF output (fixed)": 0}
print(paper, f"total {sum(paper.values()):,}; ours {s_lenet.total_params:,}")
assert paper["C3"] == 1_516 and sum(paper.values()) == 60_000

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 2. Real images: Fashion-MNIST
#
# LeNet-5 was built for digits. A common first test for a small network today is harder:
# **Fashion-MNIST** [Xiao et al., 2017], 70,000 grey 28×28 photographs of clothing from Zalando's
# catalogue, in ten classes, with a fixed split into 60,000 training and 10,000 test images. The
# repository ships all 10,000 test images and 12,800 of the training images, 1,280 of each class,
# drawn with a fixed seed (`data/fashion-mnist/README.md`); nothing is downloaded.

# %%
train, test = fashion_mnist("train", source="shipped"), fashion_mnist("test", source="shipped")
print("train", train.images.shape, "per class", np.bincount(train.labels).tolist())
print("test ", test.images.shape, "per class", np.bincount(test.labels).tolist())
assert len(test.images) == 10_000 and np.all(np.bincount(train.labels) == 1_280)

# %% alt="Ten Fashion-MNIST training images, one per class, titled T-shirt/top, Trouser, Pullover, Dress, Coat, Sandal, Shirt, Sneaker, Bag and Ankle boot: grey items on a black background. The pullover, coat and shirt share one long-sleeved outline; the T-shirt/top shown is sleeveless." caption="One training image of each of the ten classes." slideshow={"slide_type": "subslide"}
first = [int(np.flatnonzero(train.labels == c)[0]) for c in range(10)]   # one image of each class
show_images(train.images[first], titles=train.classes, ncols=10)
plt.show()

# %% [markdown]
# Some classes are easy to tell apart by their outline (trousers, bags, sandals); T-shirts/tops,
# pullovers, coats and shirts are all tops with similar outlines. LeNet-5 expects 32×32 inputs, so
# each image gets a border of 2 black pixels, and the grey levels 0..255 become numbers in [0, 1]
# (in float64: see below):

# %%
x_train, x_test = (to_float_images(split.images, pad=2).astype(np.float64) for split in (train, test))
y_train, y_test = train.labels, test.labels
print(x_train.shape, x_train.dtype, float(x_train.min()), float(x_train.max()))

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 3. Training LeNet-5
#
# We train the modern variant: ReLU after each convolution and F6, max pooling, and **He
# initialization**, which draws each weight with variance 2 / fan-in, the scale designed for ReLU
# (`cnnlib.models.initialize`; its docstring has the formulas). The optimizer is Adam with learning
# rate 0.001, on mini-batches of 64 images, for 8 passes over the 12,800 training images (epochs).
#
# One detail is about you, not the network: training runs in **float64**. A run in float32 depends
# on the order in which your CPU's kernels add numbers; two CPUs differ in the last digits, and
# over thousands of steps the difference can grow into the third digit of the accuracy. In float64
# the drift stays far below what is printed, so your numbers should be the ones below. The training
# cell prints how long it took; the accuracies come in the cell after it. The test accuracy of each
# epoch is measured on the first 2,000 test images (cheaper), the final one on all 10,000. The
# training accuracy of an epoch is different: it is averaged over the epoch's mini-batches while
# the weights are still changing, which is why it starts below the test accuracy, measured after
# the epoch.

# %% slideshow={"slide_type": "subslide"}
# NBVAL_IGNORE_OUTPUT
torch.manual_seed(0)
lenet = models.initialize(models.lenet5(activation="relu", pooling="max"), "he").double()
start = time.perf_counter()
history = fit(lenet, (x_train, y_train), (x_test[:2000], y_test[:2000]),
              torch.optim.Adam(lenet.parameters(), lr=1e-3), epochs=8, batch_size=64, progress=False)
print(f"trained in {time.perf_counter() - start:.0f} s")

# %%
test_loss, test_acc = evaluate(lenet, (x_test, y_test))
for epoch in (1, 2, 4, 8):
    print(f"epoch {epoch}: train {history.train_acc[epoch - 1]:.3f}   test (2,000 images) {history.test_acc[epoch - 1]:.3f}")
print(f"test accuracy on all 10,000 test images: {test_acc:.4f}")
assert test_acc >= 0.85

# %% alt="Two panels over 8 epochs. Left: the training loss (solid) falls at every epoch, from about 0.83 to 0.30; the test loss (dashed) falls from about 0.58 to 0.37, with small rises at epochs 5 and 7. Right: training accuracy (solid) rises from 0.70 to 0.89 and test accuracy on 2,000 test images (dashed) from 0.78 to 0.87, with dips at epochs 5 and 7; the two curves cross before epoch 2, run together up to epoch 4, and training accuracy is ahead after that." slideshow={"slide_type": "subslide"}
plot_history(history, title="LeNet-5 on Fashion-MNIST (12,800 training images)")
plt.show()

# %% [markdown] slideshow={"slide_type": "subslide"}
# How good is that? Fashion-MNIST's README keeps a table of results submitted by its users; it
# says the maintainers have not tested them and that they depend on the number of epochs, the
# batch size and so on. Its two rows named "2 Conv+pooling" report test accuracies of 0.876 and
# 0.916, and its "2 Conv <100K parameters" row 0.925 (other two-convolution rows, with batch norm,
# augmentation or more fully connected layers, reach up to 0.939). The code of the 0.916 row ships
# in Debian's package as `benchmark/convnet.py`: convolutions of 32 and 64 filters and a dense layer
# of 1,024 units, about 3.3 million parameters, trained on all 60,000 training images (nearly five
# times our 12,800) for 200,000 steps of 400 images. For the other rows the README does not say how
# much data or time they used. The d2l book's LeNet section ("Convolutional Neural Networks
# (LeNet)") trains LeNet with sigmoids and average pooling by plain SGD for 10 epochs on all 60,000
# images (learning rate 0.9 on batches of 256 in its older editions; 0.1 on batches of 128 in the
# current one). Its printed accuracy comes from the book's own build, which we could not check
# offline, so we make no numeric comparison with it. Our single run, with about a fifth of the
# training images and 8 epochs, lands just below the lower "2 Conv+pooling" row and about 5 points
# below the higher one:

# %%
benchmark = {"README: 2 Conv + pooling, lowest": 0.876, "README: 2 Conv + pooling, highest": 0.916,
             "README: 2 Conv, < 100K parameters": 0.925}                # Fashion-MNIST's README table
for name, acc in benchmark.items():
    print(f"{name:36s} {acc:.3f}   ours minus theirs: {test_acc - acc:+.3f}")

# %% [markdown] slideshow={"slide_type": "slide"}
# ### Tanh or ReLU? Fully connected or convolutional?
#
# Two questions can now be answered with a measurement. First, is ReLU better than LeNet's tanh
# (the lecture lists both)? A fair test gives each activation the initialization designed for it:
# Xavier (variance 2 / (fan-in + fan-out)) for tanh, He for ReLU. Second, the lecture's question
# "what is the drawback of only using fully connected layers?": a network with one hidden fully connected
# layer (an **MLP**), given LeNet-5's budget of parameters, can afford only a few dozen hidden
# units on a 32×32 input, since each of them needs 1,024 weights. (It gets the same padded 32×32
# images as LeNet-5; what that costs it comes after the results.)
#
# All three train 3 times (seeds 0, 1, 2) on the same 4,000 training images (400 per class) for
# 3 epochs, again in float64, and are tested on the first 2,000 test images after each epoch:

# %% slideshow={"slide_type": "subslide"}
few = balanced_subset(y_train, 400, seed=0)                       # 4,000 training images
hidden = models.hidden_for_budget(32 * 32, s_lenet.total_params)
contenders = {"LeNet-5, tanh + Xavier": lambda: models.initialize(models.lenet5(activation="tanh", pooling="max"), "xavier"),
              "LeNet-5, ReLU + He": lambda: models.initialize(models.lenet5(activation="relu", pooling="max"), "he"),
              f"MLP 1024-{hidden}-10, ReLU + He": lambda: models.initialize(models.mlp(32 * 32, hidden), "he")}

# %% slideshow={"slide_type": "subslide"}
curves = {}
for name, build in contenders.items():
    runs = []
    for seed in range(3):
        torch.manual_seed(seed)
        net = build().double()
        runs.append(fit(net, (x_train[few], y_train[few]), (x_test[:2000], y_test[:2000]),
                        torch.optim.Adam(net.parameters(), lr=1e-3), epochs=3, batch_size=64, seed=seed, progress=False).test_acc)
    curves[name] = np.array(runs)                                          # (seeds, epochs)
    print(f"{name:28s} parameters {sum(p.numel() for p in net.parameters()):6,}   test accuracy by epoch, "
          f"mean {np.round(curves[name].mean(0), 3)}  spread {np.round(np.ptp(curves[name], 0), 3)}")

# %% alt="Test accuracy on 2,000 test images after epochs 1, 2 and 3, the mean of 3 seeds with a band from the lowest to the highest seed, for LeNet-5 with tanh and Xavier, LeNet-5 with ReLU and He, and an MLP with 59 hidden units. The bands of the two LeNet-5 curves overlap at every epoch; the tanh mean is a little higher after epochs 1 and 2, and both end near 0.78. The MLP starts level with the ReLU LeNet-5, near 0.72, and ends highest, near 0.81." slideshow={"slide_type": "subslide"}
compare_seeds(curves, ylabel="test accuracy (2,000 images)", title="3 seeds each, 4,000 training images")
plt.show()

# %%
tanh_acc, relu_acc, mlp_acc = curves.values()
relu_vs_tanh, lenet_vs_mlp = relu_acc[:, -1] - tanh_acc[:, -1], relu_acc[:, -1] - mlp_acc[:, -1]
print("ReLU minus tanh, per seed, last epoch:", np.round(relu_vs_tanh, 3) + 0.0)   # + 0.0: no "-0."
print("LeNet (ReLU) minus MLP, per seed, last epoch:", np.round(lenet_vs_mlp, 3) + 0.0)
assert relu_vs_tanh.min() < 0 < relu_vs_tanh.max() and abs(relu_vs_tanh.mean()) < 0.01
assert mlp_acc[:, -1].mean() > max(relu_acc[:, -1].mean(), tanh_acc[:, -1].mean())

# %% [markdown] slideshow={"slide_type": "subslide"}
# **Tanh or ReLU: no difference that 3 seeds can see.** With each activation's own initialization,
# ReLU is ahead after 3 epochs in one seed, behind in another and level in the third; the mean
# difference is under one point, smaller than the spread between seeds. After epochs 1 and 2 the
# tanh mean is even a little ahead, within the spread of ReLU's seeds. Three seeds can reveal a
# large effect; they cannot show that there is none. The measurement usually quoted for ReLU is the
# AlexNet paper's (Krizhevsky et al., 2012, section 3.1, Figure 1): a four-layer convolutional
# network with ReLUs reached 25% training error on CIFAR-10 six times faster than the same network
# with tanh. That network was not deeper than LeNet-5 (five weight layers), and CIFAR-10's images
# are 32×32 too. What differs is the measurement: there, the epochs needed to reach 25% training
# error, with a learning rate tuned for each activation and no regularization; here, test accuracy
# after 3 short epochs on 4,000 images, with one learning rate for both. The paper's caption adds
# that the size of the effect varies with the architecture. We keep ReLU because every later
# network in the series uses it.
#
# **Fully connected or convolutional: not what you might expect, at first.** After 3 epochs on
# 4,000 images the MLP is ahead on average (LeNet-5 wins in one seed of the three). Whether that is
# because the MLP needs fewer examples or fewer steps (3 epochs of 4,000 images are only a few
# hundred mini-batches), this experiment cannot tell. Does the MLP stay ahead? Train the same MLP as
# long as LeNet-5 above: all 12,800 training images, 8 epochs, 3 seeds (an MLP trains in a fraction
# of LeNet's time):

# %% slideshow={"slide_type": "subslide"}
mlp_runs = []
for seed in range(3):
    torch.manual_seed(seed)
    net = models.initialize(models.mlp(32 * 32, hidden), "he").double()
    fit(net, (x_train, y_train), None, torch.optim.Adam(net.parameters(), lr=1e-3), epochs=8, batch_size=64,
        seed=seed, progress=False)
    mlp_runs.append(evaluate(net, (x_test, y_test))[1])
print("MLP, 10,000 test images, seeds 0-2:", np.round(mlp_runs, 4), "| LeNet-5 (seed 0):", round(test_acc, 4))
assert test_acc - max(mlp_runs) > 2 * np.ptp(mlp_runs)
border_weights = (32 * 32 - 28 * 28) * hidden          # weights on the 2-pixel border, whose pixels are always 0
print(f"MLP weights that only see the black border: {border_weights:,} of {models.mlp_params(32 * 32, hidden):,}; "
      f"hidden units the same budget buys on 28x28 images: {models.hidden_for_budget(28 * 28, s_lenet.total_params)}")
assert border_weights == 14_160 and models.hidden_for_budget(28 * 28, s_lenet.total_params) == 77

# %% [markdown]
# With more data and time the order turns: LeNet-5 ends more than two points ahead of every MLP
# seed, about three times the spread between the MLP's seeds. Two cautions before reading too much
# into it. LeNet-5 ran once here (seed 0), for time, and in the 3-epoch experiment above its test
# accuracy spread by up to 0.038 between seeds, more than this gap: one run cannot rule out that
# another seed lands nearer the MLPs. And part of the MLP's budget buys nothing: the 2-pixel border
# added for LeNet-5 is always black, so the weights on those pixels never receive a gradient and
# never change (14,160 of the MLP's 61,075 parameters, as printed); on the 28×28 images the same
# budget would buy 77 hidden units instead of 59.
#
# The difference in design is plain even so. The MLP's 59 hidden units each look at the whole
# image through 1,024 weights of their own. LeNet-5 spends only 2,572 of its parameters (C1 and C3)
# on small filters that it reuses at every position; most of the rest sit in C5 and F6, which
# combine what those filters found. And the budget question gets worse with size: for the
# lecture's 640×480 image, one hidden unit of an MLP alone costs 307,201 parameters.

# %% [markdown] slideshow={"slide_type": "subslide"}
# Which classes does LeNet-5 confuse? Its accuracy on each class of the 10,000 test images, from
# the hardest class to the easiest:

# %%
predicted = predict(lenet, x_test)                                     # (10000,) class indices
per_class = {name: float((predicted[y_test == c] == c).mean()) for c, name in enumerate(test.classes)}
for name, acc in sorted(per_class.items(), key=lambda item: item[1]):
    print(f"{name:12s} {acc:.3f}")
shirt_guesses = np.bincount(predicted[y_test == test.classes.index("Shirt")], minlength=10)
print("shirts taken for:", {test.classes[c]: int(shirt_guesses[c]) for c in np.argsort(-shirt_guesses)[1:4]})
assert min(per_class, key=per_class.get) == "Shirt" and per_class["Shirt"] < 0.6

# %% [markdown]
# Shirts are the hardest class by far: little more than half of them are recognized, and the
# printout shows which classes take most of the rest, all of them tops with a shirt's outline. The
# first test images LeNet-5 gets wrong, with the true class and (after the arrow) its guess:

# %% alt="Eight misclassified test images, each titled with its true class, an arrow and the guess: sneaker to sandal, coat to shirt, sandal to sneaker, ankle boot to sandal, coat to pullover, dress to coat, shirt to T-shirt/top and dress to T-shirt/top. Most mistakes are between classes of similar shape." caption="The first eight test images LeNet-5 gets wrong: true class, then its guess after the arrow." slideshow={"slide_type": "subslide"}
wrong = np.flatnonzero(predicted != y_test)[:8]
show_images(x_test[wrong], titles=[f"{test.classes[y_test[i]]}\n→ {test.classes[predicted[i]]}" for i in wrong], ncols=8)
plt.show()

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Learn the weights!
#
# Nobody drew LeNet-5's filters: they started random and back-propagation shaped them. C1's six
# learned 5×5 filters, on one colour scale around zero (red positive, blue negative):

# %% alt="Six 5 by 5 grids of C1's learned weights on a red-blue scale around zero, from about -0.8 to +0.8. Each filter is an irregular pattern of positive and negative weights; filter 0, negative over its left three columns and positive at its lower right, comes nearest to an edge detector. None looks drawn by hand." caption="C1's six learned 5×5 filters: red positive, blue negative."
plot_filters(lenet[0].weight)
plt.show()

# %% [markdown]
# Each filter slides over the image and answers "how much does this patch look like me?". The six
# maps C1 computes (before the ReLU) for a sandal and for a shirt from the test set:

# %% slideshow={"slide_type": "subslide"}
sandal, shirt = (int(np.flatnonzero(y_test == test.classes.index(name))[0]) for name in ("Sandal", "Shirt"))
with torch.no_grad():
    c1_maps = lenet[0](torch.as_tensor(x_test[[sandal, shirt]], dtype=torch.float64))   # (2, 6, 28, 28)
print("C1 maps", tuple(c1_maps.shape), "| predicted:", test.classes[predicted[sandal]], "and", test.classes[predicted[shirt]])

# %% alt="C1's six 28 by 28 maps of a test sandal on a red-blue scale. Every map repeats the sandal's outline: map 0 is strongly negative along the sole and straps, map 1 positive on the upper part, and maps 2 to 5 trace its edges faintly." caption="C1's six maps of a sandal: each filter's response at every position."
plot_feature_maps(c1_maps[:1], title="C1's six maps of a sandal")
plt.show()

# %% alt="C1's six 28 by 28 maps of a test shirt on the same red-blue scale. Map 0 is strongly negative over the whole shirt and map 1 positive over it; map 3 is faintly negative, and maps 2, 4 and 5 trace its edges, collar and sleeves faintly." caption="C1's six maps of a shirt: large uniform areas light up whole maps, edges only some."
plot_feature_maps(c1_maps[1:], title="C1's six maps of a shirt")
plt.show()

# %% [markdown] slideshow={"slide_type": "subslide"}
# Back-propagation can run one step further than the weights, to the input pixels. The gradient
# of the predicted class score with respect to every pixel says how strongly a small change of
# that pixel would move the score: its absolute value is the **saliency map** [Simonyan et al.,
# 2013]. It costs one backward pass, like a training step.

# %% slideshow={"slide_type": "subslide"}
image = torch.as_tensor(x_test[sandal], dtype=torch.float64)                  # (1, 32, 32)
saliency = saliency_map(lenet, image, int(predicted[sandal]))                 # (32, 32), non-negative
garment = image[0] > 0.1                                                       # the sandal's pixels
on_garment, garment_area = float(saliency[garment].sum() / saliency.sum()), float(garment.double().mean())
print(f"sandal pixels: {garment_area:.0%} of the image; share of the saliency on them: {on_garment:.0%}")
print(f"saliency per pixel, sandal against background: {on_garment / garment_area / ((1 - on_garment) / (1 - garment_area)):.1f} times")
assert saliency.min() >= 0 and garment_area < on_garment < 0.5
rows = garment.any(1).nonzero().flatten()
top, bottom = int(rows[0]), int(rows[-1])                                      # the sandal's first and last rows
above, below = float(saliency[:top].sum() / saliency.sum()), float(saliency[bottom + 1:].sum() / saliency.sum())
print(f"share of the saliency in the rows above the sandal: {above:.0%}, below it: {below:.0%}")
assert min(above, below) > on_garment

# %% alt="Left, a test image of a sandal; right, its saliency map, the absolute gradient of the Sandal score at each pixel, from dark red to yellow. Bright pixels are scattered over the whole centre of the image, many of them in the dark areas above and below the sandal rather than on its straps." caption="Saliency of the sandal's class score: where a small change of one pixel moves the score most."
plot_saliency(image, saliency, title=f"saliency of class {test.classes[predicted[sandal]]}")
plt.show()

# %% [markdown] slideshow={"slide_type": "subslide"}
# The same chain rule that gives ∂L/∂W during training gives ∂score/∂x here; only where it
# starts and where it stops differ. Pixel for pixel, the sandal's own pixels matter almost twice
# as much as the background, as the printout says. But the sandal covers a small part of the
# image, so most of the saliency lies off it, over the dark areas above and below it (each holds
# more of it than the sandal itself). A saliency map is an absolute value: it does not say whether
# ink there would raise the sandal's score or lower it, let alone which class it would favour. A
# single map is noisy pixel by pixel; it tells you where the network is sensitive, not why.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 4. The receptive field, layer by layer
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
# ## 5. Your own LeNet-5
#
# In notebooks 01 to 06 you wrote the layers a ConvNet needs, forward and backward: the fully
# connected layer and ReLU (01), the convolution, vectorized (02 and 05), max pooling (03), the
# softmax cross-entropy (04) and a step of SGD with momentum (06). Each one that passed its check
# was kept in the folder `my_layers/` beside the notebooks. `my_layers()` loads them; a layer whose
# check has not passed yet falls back to cnnlib's, and the table says which is which:

# %%
mine = my_layers(*lenet_layers.LAYERS_USED)

# %% [markdown] slideshow={"slide_type": "subslide"}
# `cnnlib.models.lenet_layers` assembles them into the ReLU LeNet-5 of section 3, on 28×28 images
# with C1 padded by 2: `forward` calls the layers in order, `backward` calls their backward passes in
# the reverse order (read both; Exercise 3 asks you to write `forward`). Three copies train from the
# same initial weights (seed 0) on the same mini-batches: one with your layers, one with cnnlib's
# NumPy layers and one built from `torch.nn` and trained by `torch.optim.SGD`, all in float64:
# 100 steps of SGD with momentum 0.9, learning rate 0.05, batches of 64 from 2,000 training images.

# %% slideshow={"slide_type": "subslide"}
pick = balanced_subset(train.labels, 200, seed=1)
x_own, y_own = to_float_images(train.images[pick]).astype(np.float64), train.labels[pick]
run = dict(steps=100, batch_size=64, lr=0.05, momentum=0.9, seed=0)
print(f"{len(x_own):,} training images of shape {x_own.shape[1:]}, {np.bincount(y_own).tolist()} per class")
curves = {"your layers": lenet_layers.train_numpy(mine, x_own, y_own, **run),
          "cnnlib's layers": lenet_layers.train_numpy(references, x_own, y_own, **run),
          "torch.nn": lenet_layers.train_torch(x_own, y_own, **run)}
losses = {name: c[0] for name, c in curves.items()}
gap_cnnlib = float(np.max(np.abs(losses["cnnlib's layers"] - losses["torch.nn"])))
gap_yours = float(np.max(np.abs(losses["your layers"] - losses["torch.nn"])))
print(f"loss at step 1: {losses['torch.nn'][0]:.3f}, mean of the last 10 steps: {losses['torch.nn'][-10:].mean():.3f}")
print("cnnlib's and torch.nn's losses agree to 1e-9 at every step:", gap_cnnlib < 1e-9)
print("yours and torch.nn's agree to 1e-9 at every step:", gap_yours < 1e-9)
assert gap_cnnlib < 1e-9

# %% alt="The training loss at each of 100 steps for LeNet-5 built from your layers (solid), from cnnlib's layers (dashed) and from torch.nn (dash-dotted). The three curves lie on top of each other: they start near 3.4, drop to about 2.3 at step 2, fall noisily to around 1 by step 30, and average about 0.6 over the last 10 steps." slideshow={"slide_type": "subslide"}
labels = {"your layers": f"your layers ({sum(w == 'yours' for w in mine.whose.values())} of 10 yours)"}
plot_losses({labels.get(name, name): loss for name, loss in losses.items()},
            title="The same LeNet-5, three implementations", xlabel="step")
plt.show()

# %% [markdown] slideshow={"slide_type": "subslide"}
# With correct layers the three curves are one: every step computes the same numbers, up to float64
# round-off (below 10⁻⁹ here, as printed above). A bug that a check missed would show: a forward
# pass's at step 1, a backward pass's or the SGD step's from step 2 on, once the weights it updated
# are used; the 10⁻⁹ comparison catches a difference too small to see. The test accuracy of the
# network you trained:

# %%
acc_own = lenet_layers.accuracy(mine, curves["your layers"][1],
                                to_float_images(test.images[:2000]).astype(np.float64), test.labels[:2000])
print(f"your LeNet-5 after 100 steps: test accuracy {acc_own:.3f} on the first 2,000 test images")


# %% [markdown] slideshow={"slide_type": "slide"}
# ## Summary
#
# - **LeNet-5** is CONV-POOL-CONV-POOL-CONV-FC with 5×5 convolutions and 2×2 pooling: 61,706
#   parameters in today's dense version, 60,000 in the paper's (sparse C3, trainable subsampling,
#   fixed RBF outputs).
# - Trained for 8 epochs on 12,800 Fashion-MNIST images (float64, Adam, He initialization, seed 0),
#   it reaches 0.867 test accuracy on the 10,000 test images: below the 0.876 and 0.916 of the two
#   "2 Conv+pooling" rows of Fashion-MNIST's README (users' submissions; the 0.916 one is a network
#   of about 3.3 million parameters trained on all 60,000 images). Shirts are its hardest class.
# - With each activation's own initialization, tanh and ReLU show no difference that 3 seeds can
#   detect (3 epochs on 4,000 images). An MLP with about as many parameters leads after 3 epochs on
#   4,000 images, and ends more than two points behind LeNet-5 (one seed) with all 12,800 images and
#   8 epochs.
# - Its learned C1 filters and maps can be looked at, and the saliency map, the gradient of a
#   class score with respect to the pixels, shows where it is sensitive: for one sandal, almost
#   twice as much per pixel on the sandal as on the background, though most of it lies above and
#   below it.
# - **The receptive field** grows by (k − 1)·j per layer, with the jump j multiplied by each stride:
#   32 pixels for LeNet-5's C5; the gradient of one S4 pixel reaches exactly the 16×16 input
#   pixels the rule predicts.
# - **Your own LeNet-5**, assembled from the layers you wrote in notebooks 01 to 06, trains step for
#   step like the same network built from cnnlib's layers and from `torch.nn`: with correct layers the
#   three loss curves agree to 1e-9 over 100 steps.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## References
#
# - LeCun, Bottou, Bengio and Haffner, "Gradient-based learning applied to document recognition",
#   *Proceedings of the IEEE*, 1998: section II.B (the layers; "only 60,000 trainable free
#   parameters"), Table I (C3's connections), Figure 2 (the layout).
# - Xiao, Rasul and Vollgraf, "Fashion-MNIST: a novel image dataset for benchmarking machine
#   learning algorithms", arXiv:1708.07747, 2017, and Fashion-MNIST's README, whose benchmark table
#   lists results submitted by users; Debian's package `dataset-fashion-mnist` ships the README and
#   `benchmark/convnet.py`, the code of its 0.916 row.
# - Krizhevsky, Sutskever and Hinton, "ImageNet classification with deep convolutional neural
#   networks", NeurIPS 2012: section 3.1 and Figure 1 (ReLU against tanh on CIFAR-10).
# - Simonyan, Vedaldi and Zisserman, "Deep inside convolutional networks: visualising image
#   classification models and saliency maps", arXiv:1312.6034, 2013: section 3 (the saliency map).
# - Zhang, Lipton, Li and Smola, *Dive into Deep Learning* (d2l.ai), section "Convolutional Neural
#   Networks (LeNet)": its training code, in the current and the older editions.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Exercises
#
# Exercise 1 is in section 1, before the table that shows its answer.
#
# **Exercise 2.** Write the receptive-field rule as a function: `layers` is a list of
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

# %% [markdown] slideshow={"slide_type": "subslide"}
# **Exercise 3.** Assemble LeNet-5's forward pass from layer functions, as section 5 does:
# `lenet5_forward(x, params, layers)` takes images `x` of shape (N, 1, 28, 28), the weights
# `params` (keys `c1_w`, `c1_b`, `c3_w`, `c3_b`, `c5_w`, `c5_b`, `f6_w`, `f6_b`, `out_w`, `out_b`)
# and an object `layers` like the one `my_layers()` returns, and gives the logits (N, 10). C1
# pads by 2, every pooling is 2×2 at stride 2, a ReLU follows C1, C3, C5 and F6 (not the output
# layer), and the S4 maps are flattened with `reshape(len(h), -1)`. Call only `layers`' functions
# and NumPy; the checker compares your logits with `cnnlib.models.lenet_layers.forward` on three
# cases, to a relative tolerance of 10⁻⁶ (10⁻⁴, float32 precision, if your logits are float32).
# C5, F6 and the output layer are `layers.linear_forward` (`c5_w` has shape (120, 400): C5 on a
# 5×5 map is a fully connected layer).

# %% tags=["exercise"]
def lenet5_forward(x, params, layers):
    raise NotImplementedError  # your code here: the logits, shape (N, 10)

# %% tags=["solution"] jupyter={"source_hidden": true} slideshow={"slide_type": "skip"}
def lenet5_forward(x, params, layers):
    h = layers.relu_forward(layers.conv2d_im2col(x, params["c1_w"], params["c1_b"], 1, 2))
    h = layers.max_pool_forward(h, 2, 2)
    h = layers.relu_forward(layers.conv2d_im2col(h, params["c3_w"], params["c3_b"], 1, 0))
    h = layers.max_pool_forward(h, 2, 2).reshape(len(h), -1)
    h = layers.relu_forward(layers.linear_forward(h, params["c5_w"], params["c5_b"]))
    h = layers.relu_forward(layers.linear_forward(h, params["f6_w"], params["f6_b"]))
    return layers.linear_forward(h, params["out_w"], params["out_b"])

# %% tags=["check"]
_ = check_lenet5_forward(lenet5_forward)
