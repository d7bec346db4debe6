# %% [markdown] slideshow={"slide_type": "slide"}
# # 09 · Case studies III: GoogLeNet and ResNet
#
# GoogLeNet won the classification task of the ImageNet challenge (ILSVRC) in 2014, the year VGG
# came second, and ResNet won it in 2015. Both went deeper than VGG and yet cost less to run.
# GoogLeNet built its depth out of **inception modules** that run several filter sizes side by
# side, made cheap by 1×1 convolutions. ResNet went to 152 layers by letting every block learn
# only a correction that is **added to its input**. This notebook takes both apart, checks the
# numbers the lecture quotes against code, and trains a deep plain network against its residual
# twin on real images.

# %% [markdown] slideshow={"slide_type": "subslide"}
# In this notebook you will:
#
# - build one inception module, run it, and compute how much its 1×1 "reduce" convolutions save;
# - check Table 1 of the GoogLeNet paper row by row against the code (three rows are wrong);
# - learn how ILSVRC scores a network (top-5 error, ensembles, several crops per image) before
#   reading its numbers, then test "5 million parameters" and "12× fewer than AlexNet" (the
#   GoogLeNet papers' own claims, which the lecture repeats) and the lecture's "2× more compute";
# - see that a 1×1 convolution is a matrix multiply over the channels;
# - see why GoogLeNet needs no big fully connected layers at the end, check its dropout, and
#   count its auxiliary classifiers;
# - build ResNet's two residual blocks; compute batch normalization by its formula, see what
#   `eval()` and small batches do to it, and fold it into the convolution before it;
# - watch a gradient pass through the shortcut, and see that a deep plain stack's gradient does
#   not vanish but explodes;
# - train a 22-layer plain network, its residual twin and an 8-layer plain network on
#   Fashion-MNIST over three seeds;
# - see how a whole ResNet is built (stem, stride-2 stages, projection shortcuts) and why it is
#   cheap; compare depth and compute for ResNet-18 … 152 with the paper's multiply-add counts;
# - count the layers of every network in the "revolution of depth" from the models themselves;
# - weigh the claim "faster than VGG, with 8× more layers" by the arithmetic (the timing is in 10);
# - write a residual block and an inception module's size counter yourself (Exercises 4 and 5),
#   then batch normalization's forward and backward passes and a residual block with a projection
#   shortcut for your own layer library, and run them against PyTorch (Exercises 6 to 8).
#
# The big networks are built on PyTorch's **meta device**: every tensor has a shape but no
# memory, which is all `cnnlib.arch.summary` needs to count parameters and multiply-adds.

# %% slideshow={"slide_type": "skip"}
import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn as nn

import cnnlib.numpy_nn as cnp

from cnnlib import models
from cnnlib.arch import summary, tables
from cnnlib.data import fashion_mnist, to_float_images
from cnnlib.depth import activation_scales, conv_weights, deep_gradient_norms, he_std, on_meta, train_curve
from cnnlib.device import env_report
from cnnlib.exercises.nb09 import INCEPTION_3B_FILTERS, INCEPTION_3B_INPUT
from cnnlib.exercises.nb09 import check_bottleneck, check_macs_ratio, check_naive_inception
from cnnlib.exercises.nb09 import check_inception_size, check_residual_block
from cnnlib.exercises.nb09_layers import check_batch_norm_backward, check_batch_norm_forward
from cnnlib.exercises.nb09_layers import check_residual_block_projection
from cnnlib.exercises.my_layers import my_layers
from cnnlib.exercises.selfcheck import gradient_check_yours
from cnnlib.viz.case_studies import compare_googlenet, compare_resnets, count_weight_layers, weight_layer_depth
from cnnlib.viz.case_study_figures import ILSVRC_HISTORY, plot_compute_vs_depth, plot_depth_history
from cnnlib.viz.case_study_figures import plot_gradient_norms, plot_inception_macs, plot_train_curves
# %config InlineBackend.figure_formats = ['png']

# %% slideshow={"slide_type": "subslide"}
rng = np.random.default_rng(0)
plt.rcParams["figure.dpi"] = 150
torch.manual_seed(0)
torch.set_num_threads(1)  # one thread: repeatable, and fair on a shared or single-core machine
print(env_report())


# %% [markdown] slideshow={"slide_type": "slide"}
# ## 1. The inception module
#
# Which filter size should a layer use: 1×1, 3×3 or 5×5? An inception module does not choose.
# It runs four branches on the same input and stacks their outputs along the depth:
#
# | branch | what it does |
# | --- | --- |
# | 1×1 | a 1×1 convolution |
# | 3×3 | a 1×1 convolution down to a few maps ("3×3 reduce"), then the 3×3 convolution |
# | 5×5 | a 1×1 convolution down to a few maps ("5×5 reduce"), then the 5×5 convolution |
# | pool | a 3×3 max pool at stride 1, then a 1×1 convolution ("pool proj") |
#
# Every branch pads so that it keeps the width and height, which is what makes stacking
# possible. Here is the first module of GoogLeNet, **inception (3a)**, with the channel numbers
# of Table 1 (64, 96→128, 16→32, 32) on its 28×28×192 input:

# %% slideshow={"slide_type": "subslide"}
block = models.Inception(192, 64, 96, 128, 16, 32, 32)
x = torch.randn(1, 192, 28, 28)                 # (N, C, H, W)
with torch.no_grad():
    y = block(x)
print(tuple(x.shape), "->", tuple(y.shape))
assert y.shape == (1, 64 + 128 + 32 + 32, 28, 28)

# %% [markdown]
# The output depth is the sum of the branches: 64 + 128 + 32 + 32 = 256. `summary` splits the
# module into its branches, with the multiply-adds of each (one multiply-add per weight per
# output position):

# %% slideshow={"slide_type": "subslide"}
s3a = summary(block, (192, 28, 28), depth=2)
s3a

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Why the 1×1 reductions save compute
#
# Without the reductions (the paper calls this the naive module), the 3×3 and 5×5 filters would
# each look at all 192 input maps. A K×K convolution with C_out filters on a H×W×C_in input
# costs H·W·C_out·(K·K·C_in) multiply-adds, so by hand:

# %%
H = W = 28
naive = {"1x1": H * W * 64 * (1 * 1 * 192),
         "3x3": H * W * 128 * (3 * 3 * 192),
         "5x5": H * W * 32 * (5 * 5 * 192)}
print({k: f"{v / 1e6:.1f}M" for k, v in naive.items()}, f"total {sum(naive.values()) / 1e6:.1f}M")

# %% [markdown]
# With the reductions, the same module as built (the rows of `s3a`):

# %% slideshow={"slide_type": "subslide"}
reduced = {"1x1": s3a["branch1x1.conv"].macs,
           "3x3 reduce": s3a["branch3x3.reduce"].macs, "3x3": s3a["branch3x3.conv"].macs,
           "5x5 reduce": s3a["branch5x5.reduce"].macs, "5x5": s3a["branch5x5.conv"].macs,
           "pool proj": s3a["branch_pool.proj"].macs}
assert sum(reduced.values()) == s3a.total_macs == 128_049_152  # Table 1: "128M"
print(f"naive {sum(naive.values()) / 1e6:.1f}M, reduced {s3a.total_macs / 1e6:.1f}M: "
      f"{sum(naive.values()) / s3a.total_macs:.2f}x fewer multiply-adds")

# %% alt="Two stacked horizontal bars of multiply-adds per image for inception (3a), one segment per branch, each branch with its own colour and hatch. The naive module totals 303.5M, almost all in its 3×3 branch (173.4M) and 5×5 branch (120.4M); the module as built totals 128.0M, its 5×5 branch shrunk to a thin sliver by the 16-map reduction." slideshow={"slide_type": "subslide"}
plot_inception_macs({"naive (no 1×1 reductions)": naive, "inception (3a) as built": reduced},
                    title="inception (3a) on a 28×28×192 input: multiply-adds per image")
plt.show()

# %% [markdown] slideshow={"slide_type": "subslide"}
# The whole module costs 2.4× less, and the 5×5 branch alone drops from 120.4M to 12.4M
# multiply-adds, almost ten times less: squeezing 192 maps to 16 before the 5×5 filters pays
# for itself many times over. A 1×1 convolution is a matrix multiply over the channels, the same
# C_out × C_in matrix applied at every pixel: it mixes the depth without looking at neighbours.
# In code, the 5×5 reduce (192 → 16 maps) against an einsum over C:

# %%
reduce5 = block.branch5x5.reduce[0]              # Conv2d(192, 16, kernel_size=1)
with torch.no_grad():
    by_conv = reduce5(x)
    by_matmul = torch.einsum("oc,nchw->nohw", reduce5.weight[:, :, 0, 0], x) + reduce5.bias.view(1, -1, 1, 1)
print(tuple(reduce5.weight.shape), "weights;", tuple(by_conv.shape), "out; equal to the einsum:",
      torch.allclose(by_conv, by_matmul, atol=1e-5))
assert torch.allclose(by_conv, by_matmul, atol=1e-5)
assert sum(naive.values()) == 303_464_448 and round(sum(naive.values()) / s3a.total_macs, 2) == 2.37
assert round(naive["5x5"] / (reduced["5x5 reduce"] + reduced["5x5"]), 1) == 9.7
assert 16 * 192 == 3_072 and naive["5x5"] == 120_422_400 and reduced["5x5 reduce"] + reduced["5x5"] == 12_443_648
assert 64 + 128 + 32 + 192 == 416

# %% [markdown] slideshow={"slide_type": "subslide"}
# So each pixel of the reduce costs one 16 × 192 matrix-vector product, 3,072 multiply-adds,
# and the 5×5 convolution behind it then sees 16 maps instead of 192.
#
# There is a second saving. In the naive module the pooling branch passes all 192 input maps
# through, so the output is 64 + 128 + 32 + 192 = 416 maps deep, and the next module pays for
# every one of them. The "pool proj" 1×1 convolution caps that branch at 32 maps.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 2. GoogLeNet, Table 1 row by row
#
# `cnnlib.models.googlenet()` follows Table 1 of the paper: its top-level children are the rows
# of the table (conv1, pool1, conv2, pool2, inception3a, …, avgpool, dropout, linear), so a
# summary at depth 1 gives the table's columns. The paper counts "params" in K = 1024 weights
# (biases left out) and "ops" as multiply-adds. It rounds loosely (inception 3b: 380K printed,
# 379.0K counted), so below a number agrees when the code is within 2% of it or within one unit
# of its last digit.

# %% slideshow={"slide_type": "subslide"}
google = on_meta(models.googlenet)
s_google = summary(google, (3, 224, 224), depth=1)
table1 = compare_googlenet(google, s_google)
table1

# %% [markdown] slideshow={"slide_type": "subslide"}
# Every output size agrees, and so do most params and ops. Three rows do not:
#
# - **conv1**: 64 filters of 7×7×3 are 7·7·3·64 = 9,408 weights, 9.2K, not 2.7K. Its 34M ops are,
#   to within a unit, 2.7K × 112·112 output positions, so the ops column inherited the wrong
#   count; the real cost is 118M.
# - **inception (4c)**: 497.5K weights, not 463K (7% fewer printed).
# - **inception (5a)**: 1,018K weights and 51.1M ops, not 1,072K and 54M. Again the printed ops are
#   (to within a unit) the printed params times the 7·7 positions.
#
# The code cannot be wrong in the same way: it counts the tensors it built.

# %%
assert table1.disagreements == [("conv1", "params (K)"), ("conv1", "ops (M)"), ("inception4c", "params (K)"),
                                ("inception5a", "params (K)"), ("inception5a", "ops (M)")]
assert 7 * 7 * 3 * 64 == 9_408 and round(9_408 / 1024, 1) == 9.2 and round(9_408 * 112 * 112 / 1e6) == 118
assert abs(2.7 * 1024 * 112 * 112 / 1e6 - 34) < 1 and abs(1072 * 1024 * 7 * 7 / 1e6 - 54) < 1  # ops = params x positions

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### No fully connected layers at the end
#
# After inception (5b) the maps are 7×7×1024. AlexNet and VGG would flatten that into a vector and
# feed it to 4096-unit fully connected layers. GoogLeNet averages each 7×7 map into one number
# (average pooling, 7×7, stride 1), keeps 1×1×1024, and ends with one linear layer to the 1000
# classes. What a VGG-style first FC layer would cost here:

# %%
linear = s_google["linear"].params
vgg_style_fc = 7 * 7 * 1024 * 4096
print(f"GoogLeNet's last layer: {linear:,} parameters")
print(f"a 4096-unit FC layer on 7x7x1024: {vgg_style_fc:,} weights = {vgg_style_fc / s_google.total_params:.0f}x all of GoogLeNet")
assert linear == 1024 * 1000 + 1000 and s_google["avgpool"].params == 0

# %% [markdown]
# Table 1 puts "dropout (40%)" before the last linear layer; cnnlib reads it as p = 0.4, the
# fraction zeroed (for its auxiliary classifiers the paper says "70% ratio of dropped outputs").
# While training, each of the 1024 inputs is zeroed with probability 0.4 and the rest are scaled
# by 1/0.6, so the expected value is unchanged; in evaluation dropout is the identity. With
# cnnlib's `Dropout`:

# %% slideshow={"slide_type": "subslide"}
drop = cnp.Dropout(0.4, rng=0)
kept = drop(np.ones(100_000))
print(f"zeroed: {np.mean(kept == 0):.3f}, kept values: {kept.max():.4f} = 1/0.6, mean {kept.mean():.3f}")
assert abs(np.mean(kept == 0) - 0.4) < 0.01 and np.allclose(kept[kept > 0], 1 / 0.6)
assert np.array_equal(drop.eval()(np.ones(5)), np.ones(5)) and google.dropout.p == 0.4

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Auxiliary classifiers
#
# Table 1 leaves out two side branches that GoogLeNet had while training (the paper's Section 5).
# On the outputs of inception (4a) and (4d), each **auxiliary classifier** is a 5×5 average pool
# at stride 3, a 1×1 convolution to 128 maps with ReLU, a 1024-unit fully connected layer with
# ReLU, dropout of 70% and a linear layer to the 1000 classes. Their losses, weighted by 0.3, are
# added to the main loss, so the middle of the network gets a gradient of its own; at test time
# they are thrown away. The one on inception (4a), built here:

# %%
aux = nn.Sequential(nn.AvgPool2d(5, stride=3), nn.Conv2d(512, 128, 1), nn.ReLU(), nn.Flatten(),
                    nn.Linear(4 * 4 * 128, 1024), nn.ReLU(), nn.Dropout(0.7), nn.Linear(1024, 1000))
s_aux = summary(aux, (512, 14, 14))
print(f"after the pool: {s_aux.rows[0].output_shape}; {s_aux.total_params:,} parameters "
      f"= {s_aux.total_params / s_google.total_params:.2f}x GoogLeNet's")
assert s_aux.rows[0].output_shape == (512, 4, 4) and s_aux.total_params == 3_188_840
assert round(s_aux.total_params / s_google.total_params, 2) == 0.46 and round(s_aux["4"].params / s_aux.total_params, 2) == 0.66

# %% [markdown] slideshow={"slide_type": "subslide"}
# Each head holds almost half as many parameters as the network it hangs on, two thirds of them in
# its 1024-unit layer: the big fully connected layers that GoogLeNet's main path avoids are here,
# only while training. Later the same authors found that these heads do not speed up early
# training and argued that they act as a regularizer (Szegedy et al., 2016, "Rethinking the
# Inception Architecture", Section 4).
#
# ### How ILSVRC scores a network
#
# ILSVRC's classification task has 1000 classes, and a photograph often shows several objects.
# So the challenge ranks by **top-5 error**: an answer counts as right when the true class is
# among the network's five highest scores. Top-1 error is the usual error. With 10 classes:

# %% slideshow={"slide_type": "subslide"}
scores = torch.tensor([3.1, 0.2, 2.5, 1.0, 2.8, -1.0, 2.9, -0.5, 0.4, -2.0])  # one image's scores, classes 0..9
label = 6                                                                      # its true class
top5 = torch.topk(scores, 5).indices.tolist()
print(f"top-1 guess {int(scores.argmax())}, top-5 guesses {top5}: "
      f"top-1 error {int(scores.argmax() != label)}, top-5 error {int(label not in top5)}")
assert top5 == [0, 6, 4, 2, 3] and scores.argmax() != label

# %% [markdown]
# The headline numbers are rarely one network looking once. An **ensemble** averages the class
# probabilities of several networks trained separately. **Multi-crop** testing averages one
# network's scores over several crops of each test image: AlexNet used ten (the four corners and
# the centre, each also mirrored). How much the two buy, from Table 3 of the GoogLeNet paper:
#
# | networks | crops per image | top-5 error |
# | --- | --- | --- |
# | 1 | 1 | 10.07% |
# | 1 | 10 | 9.15% |
# | 1 | 144 | 7.89% |
# | 7 | 1 | 8.09% |
# | 7 | 10 | 7.62% |
# | 7 | 144 | 6.67% |
#
# Section 3 measures an ensemble on Fashion-MNIST.

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### The claims about GoogLeNet
#
# The lecture says "only 5 million params", "12× less params" and "2× more compute" than AlexNet.
# The first two are the papers' own. The GoogLeNet paper (Szegedy et al., 2015, Section 1) says its
# entry "uses 12× fewer parameters than the winning architecture of Krizhevsky et al"; the
# Inception-v3 paper (Section 1) that "GoogLeNet employed only 5 million parameters, which
# represented a 12× reduction with respect to its predecessor AlexNet, which used 60 million
# parameters". The code counts 7.0M parameters. Even Table 1's own column adds up to 6.96M, and
# dropping the final linear layer still leaves 6.0M:

# %%
column = sum(row.params_k for row in tables.GOOGLENET_TABLE1 if row.params_k) * 1024
print(f"GoogLeNet: {s_google.total_params:,} parameters; Table 1's column: {column / 1e6:.2f}M; "
      f"without the linear layer: {(s_google.total_params - linear) / 1e6:.2f}M")
assert round(s_google.total_params / 1e6, 1) == 7.0 and round(column / 1e6, 2) == 6.96
assert (s_google.total_params - linear) / 1e6 > 5.9  # "only 5 million" does not hold

# %% [markdown]
# AlexNet as the paper built it, split over two GPUs (`two_towers=True`), has 61.0M parameters;
# the lecture's single-tower drawing has 62.4M.

# %% slideshow={"slide_type": "subslide"}
alex_paper = summary(on_meta(models.alexnet, two_towers=True), (3, 227, 227))
alex_lecture = summary(on_meta(models.alexnet), (3, 227, 227))
for name, s in (("two towers (paper)", alex_paper), ("one tower (lecture)", alex_lecture)):
    print(f"AlexNet, {name}: {s.total_params / 1e6:.1f}M parameters = {s.total_params / s_google.total_params:.1f}x "
          f"GoogLeNet's; {s.total_macs / 1e9:.2f}G multiply-adds, GoogLeNet needs {s_google.total_macs / s.total_macs:.1f}x that")
assert round(alex_paper.total_params / s_google.total_params, 1) == 8.7
assert round(alex_lecture.total_params / s_google.total_params, 1) == 8.9
assert round(s_google.total_macs / alex_paper.total_macs, 1) == 2.2 and round(s_google.total_macs / 1e9, 2) == 1.58
assert round(s_google.total_macs / alex_lecture.total_macs, 1) == 1.4
assert 60e6 / 5e6 == tables.GOOGLENET_LECTURE_CLAIMS["fewer_params_than_alexnet"]

# %% [markdown]
# So GoogLeNet has **8.7× fewer parameters** than the paper's AlexNet, not 12×. The "12×" is
# 60M / 5M: it stands or falls with the "5 million". The compute claim holds: 1.58G multiply-adds
# against 0.72G is **2.2×** (against the single tower's 1.14G it would be 1.4×).
#
# The top-5 errors usually set side by side, AlexNet's 16.4% and GoogLeNet's 6.67%, are both
# ensembles on ILSVRC's test set: five AlexNets with ten crops each (AlexNet paper, Section 6 and
# Table 2) and seven GoogLeNets with 144 crops each (the last row of the table above). One
# GoogLeNet on one crop had 10.07%.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 3. ResNet: learn the residual
#
# Stack more and more plain layers and, past some depth, a network trains *worse*, even on its
# training set. He et al. measured it (their Figure 1): on CIFAR-10 a 56-layer plain network has a
# higher training error than a 20-layer one, so it is not overfitting. Nor, they argue
# (Section 4.1), is it vanishing gradients: their plain networks use batch normalization and a careful initialization, and they
# checked that the gradients keep healthy norms. They call it an optimization difficulty: the
# deeper network could copy the shallower one and set its extra layers to the identity, but the
# solver does not find that. ResNet changes what a block computes. Its layers learn a function
# F(x), and the block outputs
#
# $$y = \mathrm{relu}\big(F(x) + x\big).$$
#
# The "+ x" is the **identity shortcut**: the input skips the block's layers and is added back. If
# the best thing a block can do is nothing, it only has to drive F to zero.
#
# The **basic block** (ResNet-18 and 34) has F = two 3×3 convolutions, each followed by batch
# normalization. Its output has the shape of its input:

# %% slideshow={"slide_type": "subslide"}
basic = models.BasicBlock(64, 64).eval()
x = torch.randn(1, 64, 56, 56)
with torch.no_grad():
    print(tuple(basic(x).shape), f"{sum(p.numel() for p in basic.parameters()):,} parameters")
assert basic.shortcut is None  # same shape in and out: the shortcut is the identity

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Batch normalization
#
# Every convolution of a ResNet block is followed by **batch normalization** (Ioffe and Szegedy,
# 2015). While training, for each channel c it takes the mean μ_c and the variance σ²_c over the
# batch and all pixels, normalizes, then scales and shifts by two learned numbers per channel:
#
# $$\hat x = \frac{x - \mu_c}{\sqrt{\sigma_c^2 + \epsilon}}, \qquad y = \gamma_c \hat x + \beta_c .$$
#
# It also keeps running averages of μ and σ² (new = 0.9·old + 0.1·batch); in evaluation it uses
# those instead of the batch's. By the formula on a small tensor, against cnnlib and PyTorch:

# %% slideshow={"slide_type": "subslide"}
xb = torch.randn(4, 3, 2, 2, dtype=torch.float64) * 3 + 1
gamma, beta = torch.tensor([1.0, 2.0, 0.5], dtype=torch.float64), torch.tensor([0.0, -1.0, 3.0], dtype=torch.float64)
mu, var = xb.mean(dim=(0, 2, 3)), xb.var(dim=(0, 2, 3), unbiased=False)
by_formula = gamma.view(1, 3, 1, 1) * (xb - mu.view(1, 3, 1, 1)) / torch.sqrt(var.view(1, 3, 1, 1) + 1e-5) + beta.view(1, 3, 1, 1)
bn_torch, bn_np = nn.BatchNorm2d(3, dtype=torch.float64), cnp.BatchNorm2d(3)
bn_torch.weight.data[:], bn_torch.bias.data[:] = gamma, beta
bn_np.weight.data[:], bn_np.bias.data[:] = gamma.numpy(), beta.numpy()
train_torch, train_np = bn_torch(xb).detach(), bn_np(xb.numpy())
assert torch.allclose(train_torch, by_formula) and np.allclose(train_np, by_formula.numpy())
print("train: formula == torch == cnnlib; running mean", np.round(bn_np.running_mean, 3))

# %% [markdown]
# In evaluation (after `.eval()`) the same layers use the running statistics (here one step from 0 and 1):

# %% slideshow={"slide_type": "subslide"}
run_mu, run_var = 0.1 * mu, 0.9 + 0.1 * xb.var(dim=(0, 2, 3), unbiased=True)  # PyTorch stores the unbiased variance
by_formula = gamma.view(1, 3, 1, 1) * (xb - run_mu.view(1, 3, 1, 1)) / torch.sqrt(run_var.view(1, 3, 1, 1) + 1e-5) + beta.view(1, 3, 1, 1)
eval_torch, eval_np = bn_torch.eval()(xb).detach(), bn_np.eval()(xb.numpy())
assert torch.allclose(eval_torch, by_formula) and np.allclose(eval_np, by_formula.numpy())
print("eval: formula == torch == cnnlib")

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Why it helps, and where it bites
#
# Ioffe and Szegedy explained batch norm's effect as reducing "internal covariate shift", the
# change of each layer's input distribution while the layers below it learn. That explanation is
# disputed: Santurkar et al. (2018, "How does batch normalization help optimization?") trained
# networks with noise added after every batch norm, shifting the distributions on purpose, and
# they trained about as well; they argue that batch norm makes the loss surface smoother, which
# allows larger learning rates. What is not disputed is what it computes, and three consequences.
#
# **Forgetting `.eval()`.** In training mode an image's output depends on the other images of its
# batch; in evaluation mode it does not:

# %%
one = xb[:1]                                            # the first image of the batch
with torch.no_grad():
    differs_in_train = not torch.allclose(bn_torch.train()(one), bn_torch(xb)[:1])
    same_in_eval = torch.equal(bn_torch.eval()(one), bn_torch(xb)[:1])
print("train mode: alone and in its batch it differs:", differs_in_train, "| eval mode: the same:", same_in_eval)
assert differs_in_train and same_in_eval

# %% [markdown] slideshow={"slide_type": "subslide"}
# **Small batches.** The statistics of a small batch are noisy, and at the extreme they are
# useless: with two images and 1×1 maps, every channel comes out as −1 and +1 whatever the
# input, and with one image of 1×1 maps PyTorch refuses to train at all. (Group normalization, Wu and He
# 2018, normalizes over groups of channels of each image instead, for such cases.)

# %%
pair = torch.randn(2, 3, 1, 1, dtype=torch.float64) * 100 + 50
print(nn.BatchNorm2d(3, dtype=torch.float64)(pair).detach().flatten(1).numpy().round(3))
try:
    nn.BatchNorm2d(3)(torch.randn(1, 3, 1, 1))
except ValueError as error:
    print("ValueError:", error)

# %% [markdown] slideshow={"slide_type": "subslide"}
# **Folding into the convolution.** In evaluation batch norm is a fixed affine map per channel,
# y = s·(z − μ) + β with s = γ / sqrt(σ² + ε), so it can be merged into the convolution before
# it: scale each filter by s and set the bias to s·(b − μ) + β. Inference then runs one layer
# instead of two:

# %%
conv, bn = nn.Conv2d(3, 4, 3, padding=1, dtype=torch.float64), nn.BatchNorm2d(4, dtype=torch.float64)
with torch.no_grad():
    bn(conv(torch.randn(8, 3, 6, 6, dtype=torch.float64)))          # a training step updates the running statistics
    bn.weight.uniform_(0.5, 2.0), bn.bias.uniform_(-1.0, 1.0)        # as if learned
    s = bn.weight / torch.sqrt(bn.running_var + bn.eps)              # (4,) one scale per channel
    folded = nn.Conv2d(3, 4, 3, padding=1, dtype=torch.float64)
    folded.weight.copy_(conv.weight * s.view(-1, 1, 1, 1))           # (4, 3, 3, 3)
    folded.bias.copy_(s * (conv.bias - bn.running_mean) + bn.bias)   # (4,)
    x = torch.randn(2, 3, 6, 6, dtype=torch.float64)
    same = torch.allclose(folded(x), bn.eval()(conv(x)))
print("one folded convolution == convolution then batch norm (eval):", same)
assert same

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### The gradient passes through the shortcut
#
# A tiny demonstration on a small block. Set the scale of the last batch norm to zero: the
# residual branch F now outputs exactly 0, and for an input that is already non-negative (as
# the output of a ReLU is) the block returns its input. The gradient then reaches x untouched:
# dy/dx = I + dF/dx = I.

# %%
tiny = models.BasicBlock(8, 8).eval()
nn.init.zeros_(tiny.bn2.weight)                  # F(x) = 0
x = torch.rand(1, 8, 5, 5, requires_grad=True)   # non-negative, like a ReLU's output
y = tiny(x)
grad_y = torch.randn(y.shape, generator=torch.Generator().manual_seed(0))
y.backward(grad_y)
assert torch.equal(y, x) and torch.equal(x.grad, grad_y)
print("y == x and dL/dx == dL/dy:", torch.equal(y, x) and torch.equal(x.grad, grad_y))

# %% [markdown] slideshow={"slide_type": "subslide"}
# With γ = 0 in the last batch norm, the residual branch on its own (without the "+ x") passes
# back nothing at all: its output no longer depends on x. That is this demonstration's setting, not
# a trained block's: with γ ≠ 0 the branch passes back a gradient of its own, and the block passes
# back that gradient plus the one through the shortcut.

# %% slideshow={"slide_type": "subslide"}
x2 = x.detach().requires_grad_()
f = tiny.bn2(tiny.conv2(tiny.relu1(tiny.bn1(tiny.conv1(x2)))))   # F(x), no shortcut
f.backward(grad_y)
print("gradient reaching x without the shortcut: all zero =", bool((x2.grad == 0).all()))
assert (x2.grad == 0).all()

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### He initialization, and what a deep stack does to gradients
#
# A deep stack needs weights of the right scale. A layer x ← relu(W x) with fan-in n and weights of
# standard deviation σ multiplies the mean square of its input by n·σ²/2 (ReLU zeroes half of a
# symmetric input). He et al. (2015) choose **σ = sqrt(2 / n)**, which makes the factor 1; weights
# 2.8× smaller shrink the activations by 2.8 in every layer. Thirty layers of width 64:

# %%
he, small = activation_scales(30, 64, he_std(64)), activation_scales(30, 64, he_std(64) / 2.8)
print(f"scale after 30 layers: He {he[-1]:.2f}, 2.8x smaller weights {small[-1]:.1e} (input {he[0]:.2f})")
assert 0.5 < he[-1] < 2 and small[-1] < 1e-12

# %% [markdown]
# Now the gradient. `deep_gradient_norms` builds a He-initialized stack of width 32 with batch
# normalization (defined above), trained-mode statistics on a batch of 64, 56 blocks deep:
# plain blocks x ← relu(BN(W x)), or basic residual blocks x ← relu(x + F(x)) with
# F = BN(W₂ relu(BN(W₁ x))). It measures the norm of the gradient arriving at each block's input:

# %% slideshow={"slide_type": "subslide"}
plain, resid = deep_gradient_norms(56), deep_gradient_norms(56, residual=True)
print(f"gradient at the input / at the output: plain {plain[0] / plain[-1]:.1e}, residual {resid[0] / resid[-1]:.1e}")
assert plain.min() > 0.5 * plain[-1] and resid.min() > 0.5 * resid[-1]   # neither vanishes
assert 4e4 < plain[0] / plain[-1] < 7e4 and 50 < resid[0] / resid[-1] < 200

# %% alt="Gradient norm reaching each of 56 blocks on a log scale, input on the left, output on the right. The plain stack (solid line, circles) climbs steadily from the output back to the input, ending about 50,000 times larger; the residual stack (dashed line, squares) grows only about 100 times. Neither line falls: nothing vanishes." slideshow={"slide_type": "subslide"}
plot_gradient_norms({"plain: x ← relu(BN(Wx))": plain, "residual: x ← relu(x + F(x))": resid},
                    title="gradient reaching each of 56 blocks (He init, batch norm)")
plt.show()

# %% [markdown] slideshow={"slide_type": "subslide"}
# No gradient vanishes here, but the plain stack's is not healthy either: it hands its first
# layers a gradient about 5·10⁴ times larger than the one at its output, at random initial
# weights. Yang et al. (2019, "A mean field theory of batch normalization") show that in a deep
# batch-normalized network without shortcuts (fully connected, as here) this growth is exponential in depth and cannot be
# removed by the choice of initial weights, and that it makes such networks hard to train, and
# untrainable when deep enough. The residual stack's gradient grows about 100 times over the same
# 56 blocks. The shortcut also offers an easy solution: a block whose F is 0 is the identity, so
# extra blocks cost nothing if they are not needed. Whether all this shows in training is
# measured next.
#
# ### Plain against residual, trained on real images
#
# He et al. measured degradation at the end of training: on CIFAR-10 their 56-layer plain network
# ends with a higher training error than the 20-layer one (Figure 1); on ImageNet plain-34 ends at
# 28.54% top-1 error against plain-18's 27.94%, while ResNet-34 reaches 25.03% against
# ResNet-18's 27.88% (Table 2, ten crops). Our budget is one epoch on Fashion-MNIST's shipped
# training images (12,800, 28×28, ten kinds of clothing), and the test is all 10,000 official test
# images:

# %% slideshow={"slide_type": "subslide"}
train_images, train_labels, classes = fashion_mnist("train", source="shipped")
test_images, test_labels, _ = fashion_mnist("test", source="shipped")
x_train, y_train = torch.from_numpy(to_float_images(train_images)), torch.from_numpy(train_labels)
x_test, y_test = torch.from_numpy(to_float_images(test_images)), torch.from_numpy(test_labels)
print(tuple(x_train.shape), tuple(x_test.shape), classes[:3], "...")

# %% [markdown]
# `models.narrow_resnet(blocks, residual)` is a deep, narrow network in the style of the paper's
# CIFAR-10 networks: a stem (3×3 convolution at stride 2 and a 2×2 max pool, 28×28 → 7×7), then
# `blocks` basic blocks of 16 maps, global average pooling and one linear layer, 2·blocks + 2
# weight layers. Three contenders: plain-8, a plain network of 8 layers; plain-22, a plain network
# of 22 layers; and residual-22, its twin with the same layers and initial weights plus the shortcuts. Each
# trains for one epoch (100 mini-batches of 128) with He et al.'s CIFAR-10 settings (SGD,
# learning rate 0.1, momentum 0.9), for seeds 0, 1 and 2:

# %% slideshow={"slide_type": "subslide"}
contenders = {"plain-8": (3, False), "plain-22": (10, False), "residual-22": (10, True)}   # name: (blocks, shortcuts)
curves, test_probs = {name: [] for name in contenders}, {name: [] for name in contenders}
for name, (blocks, residual) in contenders.items():
    for seed in (0, 1, 2):
        torch.manual_seed(seed)                          # the two 22-layer twins start from the same weights
        net = models.narrow_resnet(blocks, residual=residual)
        curves[name].append(train_curve(net, (x_train, y_train), seed=seed))   # one loss per mini-batch
        with torch.no_grad():
            test_probs[name].append(net.eval()(x_test).softmax(dim=1))        # (10000, 10)
twins = []
for residual in (False, True):                           # the same seed gives the twins the same weights
    torch.manual_seed(0)
    twins.append(models.narrow_resnet(10, residual=residual).state_dict())
assert all(torch.equal(a, b) for a, b in zip(twins[0].values(), twins[1].values()))

# %% alt="Training loss per mini-batch over one epoch, as a running mean over 10 mini-batches, for three networks and three seeds each (thin lines) with their means (thick lines). The 8-layer plain network (solid) and the 22-layer residual network (dotted) fall together to about 0.65; the 22-layer plain network (dashed) stays above both all epoch, ending near 1.1." slideshow={"slide_type": "subslide"}
plot_train_curves(curves, title="Fashion-MNIST, one epoch: training loss of each network over 3 seeds")
plt.show()

# %% [markdown] slideshow={"slide_type": "subslide"}
# The curves are float32 training, whose last digits differ from one CPU to another, so the next
# cell prints only what it asserts, with margins. "Late" is the mean training loss over the last
# 25 mini-batches; accuracy is on all 10,000 test images.

# %% slideshow={"slide_type": "subslide"}
p8, p22, r22 = contenders
late = {name: np.array([c[-25:].mean() for c in runs]) for name, runs in curves.items()}         # (3,) per network
acc = {name: np.array([(p.argmax(dim=1) == y_test).double().mean().item() for p in probs]) for name, probs in test_probs.items()}
assert (late[p22] > late[p8] + 0.1).all() and (late[p22] > late[r22] + 0.1).all()
assert abs(late[r22].mean() - late[p8].mean()) < 0.15
assert (acc[p8] > 0.6).all() and (acc[r22] > 0.6).all() and (acc[p8] > acc[p22] + 0.1).all() and (acc[r22] > acc[p22] + 0.1).all()
print(f"late training loss: {p22} above {p8} and above {r22} in 3 of 3 seeds, each time by more than 0.1; "
      f"{r22} within 0.15 of {p8} (means over the seeds)")
print(f"test accuracy: {p8} and {r22} above 0.6 and above {p22} by more than 0.1, in every seed")

# %% [markdown] slideshow={"slide_type": "subslide"}
# After one epoch, the 22-layer plain network fits its own training images worse than the 8-layer
# one: more layers, a worse fit, the degradation He et al. saw at the end of training. Its residual
# twin, the same layers from the same starting point, trains like the shallow network. On the test
# images the plain 22-layer network is far behind as well. Whether it would catch up in a longer
# run is not measured here; He et al.'s plain networks did not (Figure 1, Table 2). None of these
# networks is trained: Fashion-MNIST's own benchmark table (its README) lists two-layer CNNs at
# 0.876–0.916 test accuracy. One epoch shows the difference in how fast they learn, not how good
# they get.
#
# The ensemble defined in Section 2, measured: average the class probabilities of each network's
# three seeds.

# %% slideshow={"slide_type": "subslide"}
ensemble = {name: (sum(probs) / 3).argmax(dim=1).eq(y_test).double().mean().item() for name, probs in test_probs.items()}
assert all(ensemble[name] > acc[name].mean() + 0.01 for name in contenders)
print("for each network, the ensemble of its 3 seeds is more accurate than the seeds' mean accuracy, by more than 0.01")

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### The bottleneck block
#
# ResNet-50, 101 and 152 use a different block. A 1×1 convolution reduces the depth to a quarter,
# a 3×3 convolution works on the thin stack, and a second 1×1 restores the depth. The paper
# compares it with the basic block of ResNet-34 on the same 56×56 maps (Section 4.1, "Deeper
# Bottleneck Architectures", Figure 5): the bottleneck on 256 maps against the basic block on 64:

# %% slideshow={"slide_type": "subslide"}
bottleneck = models.Bottleneck(256, 64)
basic64 = models.BasicBlock(64, 64)
print(f"bottleneck 256 -> 64 -> 64 -> 256: {conv_weights(bottleneck):,} weights")
print(f"basic block, two 3x3 convolutions on 64 maps: {conv_weights(basic64):,} weights")
assert conv_weights(bottleneck) == 256 * 64 + 3 * 3 * 64 * 64 + 64 * 256 == 69_632
assert conv_weights(basic64) == 2 * 3 * 3 * 64 * 64 == 73_728

# %% [markdown] slideshow={"slide_type": "subslide"}
# Almost the same cost (weights, and so multiply-adds per position: the paper calls the two
# designs of "similar time complexity"), but the bottleneck block carries 256 maps where the basic
# block carries 64. That is what the bottleneck buys: ResNet-50 is four times wider than ResNet-34
# at the same depth in blocks, for about the same compute (the table in Section 4). It is not what
# makes ResNets cheap; Section 4 shows what does.

# %% [markdown] slideshow={"slide_type": "subslide"}
# **Exercise 3.** Before section 4 counts them: how many times more multiply-adds does VGG-19
# need than ResNet-152 for one 224×224 image? Build both on the meta device
# (`on_meta(models.vgg19)`, `on_meta(models.resnet152)`) and use `summary`. Two significant
# digits are enough: the checker accepts your ratio within 1%, or rounded to two significant digits.

# %% tags=["exercise"] slideshow={"slide_type": "subslide"}
answer = None  # your answer here

# %% tags=["solution"] jupyter={"source_hidden": true} slideshow={"slide_type": "skip"}
answer = (summary(on_meta(models.vgg19), (3, 224, 224)).total_macs
          / summary(on_meta(models.resnet152), (3, 224, 224)).total_macs)

# %% tags=["check"]
_ = check_macs_ratio(answer)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 4. Depth versus compute
#
# ### How a ResNet is built
#
# Every ResNet of the paper's Table 1 has the same plan, here ResNet-34 (one row per stage):

# %% slideshow={"slide_type": "subslide"}
s34 = summary(on_meta(models.resnet34), (3, 224, 224), depth=1)
s34

# %% [markdown] slideshow={"slide_type": "subslide"}
# - The **stem** (conv1: 7×7 convolution at stride 2, then a 3×3 max pool at stride 2 at the
#   start of conv2_x) shrinks 224×224 to 56×56 before the first block.
# - Four **stages** follow at 56, 28, 14 and 7 pixels with 64, 128, 256 and 512 maps. The first
#   block of stages 3 to 5 has stride 2: it halves the height and width and doubles the depth,
#   so a 3×3 convolution there costs as much as one in the stage before (¼ of the positions, 4× the weights).
# - Where a block changes the shape, its input cannot be added as it is. The paper tries three
#   **shortcuts** (Section 3.3 and Table 3): (A) the identity, subsampled and padded with zero
#   maps, no parameters; (B) a 1×1 convolution at stride 2, a *projection*, only where the shape
#   changes; (C) projections everywhere. With ten crops, ResNet-34's top-1 error is 25.03% (A),
#   24.52% (B) and 24.19% (C); the paper keeps B for its deeper networks. cnnlib builds B:

# %% slideshow={"slide_type": "subslide"}
r34 = on_meta(models.resnet34)
print(r34.conv3_x.block1.shortcut)                            # option B: 64 maps at 56x56 -> 128 at 28x28
x = torch.randn(1, 64, 56, 56)
option_a = torch.cat([x[:, :, ::2, ::2], torch.zeros(1, 64, 28, 28)], dim=1)    # option A, no parameters
projections = sum(p.numel() for stage in (r34.conv3_x, r34.conv4_x, r34.conv5_x) for p in stage.block1.shortcut.parameters())
print(f"option A: {tuple(option_a.shape)}; option B's three projections: {projections:,} parameters "
      f"of ResNet-34's {s34.total_params:,}")
assert projections == 64 * 128 + 128 * 256 + 256 * 512 + 2 * (128 + 256 + 512) == 173_824

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Why a ResNet is cheap
#
# Table 1 of the ResNet paper gives the cost of each depth as "FLOPs", which are in fact
# multiply-adds. The code's count agrees with every one within the last printed digit:

# %% slideshow={"slide_type": "subslide"}
resnets = {d: summary(on_meta(models.resnet, depth=d), (3, 224, 224)) for d in (18, 34, 50, 101, 152)}
resnet_table = compare_resnets(resnets)
assert resnet_table.disagreements == []
resnet_table

# %% [markdown]
# Going from 34 to 50 layers costs almost nothing (3.6G → 3.8G): ResNet-50 swaps the basic
# blocks for bottlenecks. Going from 50 to 152 layers costs 2.9× more, and the parameters grow 2.4×.

# %%
assert round(resnets[152].total_macs / resnets[50].total_macs, 1) == 2.9
assert round(resnets[152].total_params / resnets[50].total_params, 1) == 2.4

# %% [markdown] slideshow={"slide_type": "subslide"}
# ResNet-34 has no bottlenecks at all, yet it is far cheaper than VGG-16. The difference is where
# each spends its multiply-adds, summed here by the size of the maps each row outputs:

# %% slideshow={"slide_type": "subslide"}
s_vgg16 = summary(on_meta(models.vgg16), (3, 224, 224), depth=1)
for name, s in (("VGG-16", s_vgg16), ("ResNet-34", s34)):
    by_size = {}
    for row in s.rows:
        if len(row.output_shape) == 3 and row.macs:               # convolutions, by their output's height
            by_size[row.output_shape[1]] = by_size.get(row.output_shape[1], 0) + row.macs
    print(f"{name}: " + ", ".join(f"{h}x{h} {m / 1e9:.2f}G" for h, m in by_size.items()) + f"; total {s.total_macs / 1e9:.2f}G")
assert round(s_vgg16.total_macs / s34.total_macs, 1) == 4.2

# %% [markdown]
# VGG-16 runs 64 and 128 filters at 224×224 and 112×112: 4.7G multiply-adds before its maps
# reach 56×56. ResNet-34's stem does one 7×7 convolution at 112×112 (0.12G) and pools, so its
# blocks start at 56×56 with 64 maps. ResNet-34 costs **4.2× less** than VGG-16 with more than
# twice its depth: the stem and the narrow widths at high resolution make ResNets cheap, and bottlenecks
# then let ResNet-50 and deeper grow wide for little extra.

# %% [markdown] slideshow={"slide_type": "subslide"}
#
# What is a network's "depth"? Papers count the layers with weights (convolutions and fully
# connected layers) along the longest path from input to output. `weight_layer_depth` traces a
# model's forward pass and finds that path, so branches side by side count once:

# %%
builders = {"LeNet-5": models.lenet5, "AlexNet": models.alexnet, "VGG-16": models.vgg16,
            "VGG-19": models.vgg19, "GoogLeNet": models.googlenet, "ResNet-18": models.resnet18,
            "ResNet-34": models.resnet34, "ResNet-50": models.resnet50, "ResNet-152": models.resnet152}
nets = {name: on_meta(build) for name, build in builders.items()}
depth = {name: weight_layer_depth(net) for name, net in nets.items()}
print(depth)
assert list(depth.values()) == [5, 8, 16, 19, 22, 18, 34, 50, 152]

# %% [markdown]
# GoogLeNet is "22 layers deep", though it holds 58 weight layers: its inception modules put four
# branches side by side, each at most two layers deep. ResNet-152's 4 projection shortcuts sit
# beside their blocks and do not add to its depth either.

# %% slideshow={"slide_type": "subslide"}
print({name: count_weight_layers(nets[name]) for name in ("GoogLeNet", "ResNet-152")})
assert count_weight_layers(nets["GoogLeNet"]) == 58 and count_weight_layers(nets["ResNet-152"]) == 156

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### The revolution of depth
#
# The lecture's "revolution of depth" lines up LeNet (5 layers), AlexNet (8), VGGNet (19),
# GoogLeNet (22) and ResNet (152) beside falling ImageNet top-5 errors. It is not a line of
# winners: LeNet-5 predates the challenge, and VGG came second in 2014, the year GoogLeNet won.
# The layer counts come from the models above; the errors are the lecture's, each measured its
# own way (written in the bars): ensembles of five to seven networks, up to 144 crops per image,
# and for the 2013 winner (11.2%, not built here) outside training data; without it, 11.7%
# (VGG paper, Table 7). The bars show a trend, not a controlled comparison.

# %%
lecture_layers = {label.split()[0]: layers for label, layers, _, _ in ILSVRC_HISTORY if layers}
print(lecture_layers)
assert lecture_layers == {"LeNet-5": depth["LeNet-5"], "AlexNet": depth["AlexNet"], "VGG": depth["VGG-19"],
                          "GoogLeNet": depth["GoogLeNet"], "ResNet": depth["ResNet-152"]}

# %% alt="Two bar charts side by side. Left, weight layers: LeNet-5 5, AlexNet 8, VGG 19 (second place in 2014), GoogLeNet 22, ResNet 152. Right, ILSVRC top-5 error: AlexNet 16.4% (5 nets, 10 crops), the 2013 winner 11.2% (hatched: several nets with outside data), VGG 7.3% (7 nets), GoogLeNet 6.7% (7 nets, 144 crops), ResNet 3.6% (6 nets, multi-scale). Deeper networks, lower errors, but each number measured its own way." caption="Top-5 errors as the lecture quotes them; the text in each bar says how it was measured (networks averaged, crops per image); the hatched bar used outside training data." slideshow={"slide_type": "subslide"}
plot_depth_history(ILSVRC_HISTORY)
plt.show()

# %% [markdown] slideshow={"slide_type": "subslide"}
# Depth is not cost, though. Each network's multiply-adds per 224×224 image (AlexNet: the
# lecture's single tower at 227×227), with the ResNet paper's own figures circled:

# %% alt="Multiply-adds per image against weight layers, both axes logarithmic, one point per network, each with its own colour and marker, the ResNet paper's figures as open circles around the ResNet points. The two VGGs sit highest; ResNet-152, at 152 layers, sits below them; GoogLeNet at 22 layers sits below ResNet-18. Depth and cost do not go together." slideshow={"slide_type": "subslide"}
macs = {name: summary(net, (3, 227, 227) if name == "AlexNet" else (3, 224, 224)).total_macs
        for name, net in nets.items() if name != "LeNet-5"}
paper = {f"ResNet-{d}": (d, tables.RESNET_TABLE1[d].flops) for d in (18, 34, 50, 152)}
plot_compute_vs_depth({name: (depth[name], m) for name, m in macs.items()}, paper=paper)
plt.show()
assert macs["VGG-19"] > macs["VGG-16"] > macs["ResNet-152"] > macs["ResNet-34"]
assert macs["GoogLeNet"] < macs["ResNet-18"] and round(macs["VGG-16"] / 1e9, 1) == 15.5

# %% [markdown] slideshow={"slide_type": "subslide"}
# The two VGGs sit at the top. ResNet-152, eight times deeper than VGG-19, needs fewer
# multiply-adds than either (how many times fewer than VGG-19 is Exercise 3), and GoogLeNet's 22
# layers cost less than ResNet-18. ResNet won ILSVRC 2015 with 3.57% top-5 error on the test set,
# an ensemble of six networks of different depths (ResNet paper, Table 5; one ResNet-152 has
# 4.49% on the validation set, Table 4), trained, as the lecture puts it, for two to three weeks
# on a machine with 8 GPUs.
#
# ## 5. "Faster than a VGGNet, even though it has 8× more layers"
#
# The arithmetic first:

# %%
vgg19, resnet152 = summary(nets["VGG-19"], (3, 224, 224)), resnets[152]
print(f"layers: {depth['ResNet-152']} / {depth['VGG-19']} = {depth['ResNet-152'] / depth['VGG-19']:.1f}x")
print(f"parameters: VGG-19 {vgg19.total_params / 1e6:.1f}M, ResNet-152 {resnet152.total_params / 1e6:.1f}M")
assert depth["ResNet-152"] / depth["VGG-19"] == 8.0
assert resnet152.total_macs < vgg19.total_macs and round(resnet152.total_params / vgg19.total_params, 2) == 0.42

# %% [markdown] slideshow={"slide_type": "subslide"}
# ResNet-152 does less arithmetic than VGG-19 (Exercise 3 measures how much less) with 42% of
# its parameters. Whether that makes it
# *faster* depends on the machine: 152 layers mean many small operations, each with its own
# overhead, and batch normalization and the additions are not free. Timing is engineering beyond
# the lecture, so it lives in the appendix notebook, **10 · Making convolution fast**, which
# times both networks on this CPU row by row.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Summary
#
# - An **inception module** runs 1×1, 3×3, 5×5 convolutions and a pool side by side and
#   concatenates them. A 1×1 convolution is a matrix multiply over the channels at every pixel;
#   used first to shrink the depth, it cuts inception (3a)'s cost from 303M to 128M multiply-adds.
# - GoogLeNet ends with **average pooling** and a single linear layer instead of large FC
#   layers. It has **7.0M parameters** (not the papers' 5M), **8.7× fewer than AlexNet** (not
#   12×), at **2.2× the compute**. Table 1 of its paper has three wrong rows (conv1, 4c, 5a).
#   While training it also had two **auxiliary classifiers**, 3.2M parameters each.
# - ILSVRC ranks by **top-5 error**, and its headline numbers come from **ensembles** and
#   **multi-crop** testing: 6.67% for seven GoogLeNets on 144 crops, 10.07% for one on one crop.
# - A **residual block** outputs relu(F(x) + x): a block with F = 0 is the identity. On
#   Fashion-MNIST a 22-layer plain network trained worse than an 8-layer one in every seed, and
#   its residual twin about as well as the 8-layer one; He et al. saw the same at the end of training.
# - **Batch normalization** normalizes each channel by its batch mean and variance, then scales by
#   γ and shifts by β; in evaluation (`.eval()`) it uses running averages, and then it folds into
#   the convolution before it. Small batches make its statistics noisy. Why it helps is debated.
#   In a deep plain stack it does not stop the gradient from exploding (5·10⁴× over 56 blocks).
#   **He initialization** (σ = sqrt(2 / fan_in)) keeps the activations' scale through ReLU layers.
# - **Depth is not cost**: a ResNet's stem shrinks the image to 56×56 before the first block and
#   its stages stay narrow where the maps are large, so ResNet-34 costs 4.2× less than VGG-16
#   without a single bottleneck. Bottlenecks then make ResNet-50 four times wider for about
#   ResNet-34's cost. Table 1's "FLOPs" 1.8/3.6/3.8/7.6/11.3G are multiply-adds, as the code counts them.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Sources
#
# Numbers in this notebook that no cell computes, with where they come from:
#
# - Szegedy et al., "Going deeper with convolutions" (GoogLeNet, CVPR 2015): Table 1 (the
#   lecture's table); Section 1 ("12× fewer parameters"); Section 5 (auxiliary classifiers: 5×5
#   pool at stride 3, 128 maps, 1024 units, 70% dropout, loss weight 0.3); Table 2 (6.67%);
#   Table 3 (top-5 error by networks and crops: 10.07% … 6.67%).
# - Szegedy et al., "Rethinking the Inception Architecture for Computer Vision" (Inception-v3,
#   CVPR 2016): Section 1 ("only 5 million parameters", "60 million"); Section 4 (auxiliary
#   classifiers as a regularizer).
# - Krizhevsky et al., "ImageNet classification with deep convolutional neural networks" (AlexNet,
#   NIPS 2012): Section 4.1 (ten crops), Section 6 and Table 2 (16.4% for five networks).
# - Simonyan and Zisserman, "Very deep convolutional networks" (VGG, ICLR 2015): Table 7 (VGG's
#   7.3% with seven networks; the 2013 winner's 11.7% without and 11.2% with outside data).
# - He et al., "Deep residual learning for image recognition" (ResNet, CVPR 2016): Figure 1
#   (20 vs 56 plain layers on CIFAR-10); Section 3.3 and Table 3 (shortcuts A/B/C: 25.03%,
#   24.52%, 24.19%); Table 2 (plain-18 27.94%, plain-34 28.54%, ResNet-18 27.88%, ResNet-34
#   25.03%); Section 4.1 (healthy gradients; bottleneck "similar time complexity", Figure 5);
#   Section 4.2 (CIFAR-10 training: learning rate 0.1, momentum 0.9, mini-batches of 128);
#   Table 4 (4.49%); Table 5 (3.57%, six networks). The lecture's ResNet slide: 3.6%, "2-3 weeks of
#   training on 8 GPU machine"; its GoogLeNet slide: "2× more compute".
# - Ioffe and Szegedy, "Batch normalization" (ICML 2015); Santurkar et al., "How does batch
#   normalization help optimization?" (NeurIPS 2018); Yang et al., "A mean field theory of batch
#   normalization" (ICLR 2019); Wu and He, "Group normalization" (ECCV 2018).
# - Fashion-MNIST (Xiao, Rasul and Vollgraf, Zalando, 2017), its README's benchmark table: two
#   convolutional layers with pooling, 0.876–0.916 test accuracy.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Exercises
#
# Exercise 3 is at the end of section 3, before the tables that would give its answer away.
#
# **Exercise 1.** Inception (3b)'s input and its numbers of 1×1, 3×3 and 5×5 filters are printed
# below. Built the naive way (the 3×3 and 5×5 filters straight on the input, no 1×1 reductions,
# and a 3×3 max pool beside them), how many multiply-adds does it need per image? Give the count
# itself, not in millions; the checker accepts it within 0.1%, and tells you if it is the real
# module's count, reductions included.

# %% tags=["exercise"] slideshow={"slide_type": "subslide"}
print("input (H, W, C):", INCEPTION_3B_INPUT, " filters:", INCEPTION_3B_FILTERS)
answer = None  # your answer here

# %% tags=["solution"] jupyter={"source_hidden": true} slideshow={"slide_type": "skip"}
h, w, c = INCEPTION_3B_INPUT
answer = h * w * (128 * (1 * 1 * c) + 192 * (3 * 3 * c) + 96 * (5 * 5 * c))

# %% tags=["check"]
_ = check_naive_inception(answer)

# %% [markdown]
# **Exercise 2.** A bottleneck block of ResNet's conv5_x (any but the first) takes 2048 maps,
# reduces them to 512 with a 1×1 convolution, applies a 3×3 convolution with 512 filters, and
# expands back to 2048 with a 1×1 convolution. How many convolution weights does it have
# (no biases; do not count batch norm)? Give the exact count. Check your answer against
# `models.resnet152()` built on the meta device.

# %% tags=["exercise"]
answer = None  # your answer here

# %% tags=["solution"] jupyter={"source_hidden": true} slideshow={"slide_type": "skip"}
answer = 2048 * 512 + 3 * 3 * 512 * 512 + 512 * 2048
assert answer == conv_weights(nets["ResNet-152"].conv5_x.block2)

# %% tags=["check"]
_ = check_bottleneck(answer)

# %% [markdown] slideshow={"slide_type": "subslide"}
# **Exercise 4.** Write a residual block's forward pass in its fully connected form (batch norm
# left out): x has shape (N, D), w1 and w2 are D × D matrices, F(x) = relu(x @ w1) @ w2, and the
# block returns relu(F(x) + x). The checker runs it on random cases against cnnlib's answer.

# %% tags=["exercise"]
def residual_block(x, w1, w2):
    raise NotImplementedError  # your code here


# %% tags=["solution"] jupyter={"source_hidden": true} slideshow={"slide_type": "skip"}
def residual_block(x, w1, w2):
    f = np.maximum(x @ w1, 0.0) @ w2            # the residual branch F(x)
    return np.maximum(f + x, 0.0)               # add the shortcut, then the ReLU


assert residual_block(np.ones((1, 2)), np.zeros((2, 2)), np.zeros((2, 2))).tolist() == [[1.0, 1.0]]  # F = 0: identity

# %% tags=["check"]
_ = check_residual_block(residual_block)

# %% [markdown] slideshow={"slide_type": "subslide"}
# **Exercise 5.** Given an inception module's input depth and its row of GoogLeNet's Table 1
# (#1×1, #3×3 reduce, #3×3, #5×5 reduce, #5×5, pool proj), return its output depth and the
# number of its convolution weights, biases left out as Table 1 counts them. The checker tries
# every row of Table 1 and random small modules against `models.Inception`.

# %% tags=["exercise"]
def inception_size(in_channels, ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, pool_proj):
    raise NotImplementedError  # your code here: return (depth, weights)


# %% tags=["solution"] jupyter={"source_hidden": true} slideshow={"slide_type": "skip"}
def inception_size(in_channels, ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, pool_proj):
    depth = ch1x1 + ch3x3 + ch5x5 + pool_proj   # the reduce layers feed the 3x3 and 5x5; they are not output
    weights = (in_channels * (ch1x1 + ch3x3red + ch5x5red + pool_proj)  # the four 1x1 convolutions
               + 3 * 3 * ch3x3red * ch3x3 + 5 * 5 * ch5x5red * ch5x5)
    return depth, weights


assert inception_size(192, 64, 96, 128, 16, 32, 32) == (256, conv_weights(block))  # inception (3a), built above

# %% tags=["check"]
_ = check_inception_size(inception_size)


# %% [markdown] slideshow={"slide_type": "subslide"}
# **Exercise 6.** Write batch normalization's forward pass for a fully connected layer, as
# `torch.nn.BatchNorm1d` computes it while training. x has shape (N, D), one row per sample; each
# feature (column) is normalized by the batch's mean μ and *biased* variance σ² (divide by N), then
# scaled and shifted: out = gamma · (x − μ) / sqrt(σ² + eps) + beta, with gamma and beta of shape (D,).
# The checker's rules:
#
# - a feature that is the same in every sample has σ² = 0: eps, inside the square root, keeps the
#   division finite, and that feature's output is beta;
# - a batch of one sample has no spread to measure: raise `ValueError`, as PyTorch does (section 3);
# - do not change x, gamma or beta in place; NumPy only (a call of `cnnlib` or PyTorch fails);
# - your result must agree with cnnlib's within 1e-6, relative or absolute (a float32 result at
#   float32 precision).
#
# Its cases include all-negative inputs, features of very different scales in one batch, a large
# eps and float32 inputs. A passing function is kept in your layer library (`my_layers/`).

# %% tags=["exercise"]
def batch_norm_forward(x, gamma, beta, eps):
    raise NotImplementedError  # your code here


# %% tags=["solution"] jupyter={"source_hidden": true} slideshow={"slide_type": "skip"}
def batch_norm_forward(x, gamma, beta, eps):
    if x.shape[0] < 2:
        raise ValueError(f"batch norm needs at least 2 samples to measure a spread, got x of shape {x.shape}")
    mean = x.mean(axis=0)                        # (D,): per feature, over the batch
    var = ((x - mean) ** 2).mean(axis=0)         # (D,): biased, divided by N
    return gamma * (x - mean) / np.sqrt(var + eps) + beta


# %% tags=["check"]
_ = check_batch_norm_forward(batch_norm_forward)

# %% [markdown] slideshow={"slide_type": "subslide"}
# **Exercise 7.** Write its backward pass: `batch_norm_backward(grad_output, x, gamma, eps)`
# returns `(grad_x, grad_gamma, grad_beta)`, where grad_output (N, D) is the loss's gradient with
# respect to out. With x̂ = (x − μ) / sqrt(σ² + eps), grad_beta sums grad_output over the batch and
# grad_gamma sums grad_output · x̂. For grad_x remember that μ and σ² are computed from x: every
# sample's input moves every sample's output. Through them the chain rule gives, with
# d = grad_output · gamma and means over the batch,
#
# grad_x = (d − mean(d) − x̂ · mean(d · x̂)) / sqrt(σ² + eps).
#
# Derive it if you like; either way, the same rules as Exercise 6 (a batch of one raises `ValueError`,
# nothing changed in place, NumPy only, within 1e-6).
#
# Check it yourself before the checker does, as in 05_backpropagation: the cell after your function
# compares each of your three gradients with centred finite differences of your forward pass, on a
# batch of five samples with three features. What relative error would you accept as a match? 05
# measured what round-off alone gives in float64 and what a bug gives; set `good_below` to your
# answer, and say to yourself why.

# %% tags=["exercise"]
def batch_norm_backward(grad_output, x, gamma, eps):
    raise NotImplementedError  # your code here: return grad_x, grad_gamma, grad_beta


# %% tags=["solution"] jupyter={"source_hidden": true} slideshow={"slide_type": "skip"}
def batch_norm_backward(grad_output, x, gamma, eps):
    if x.shape[0] < 2:
        raise ValueError(f"batch norm needs at least 2 samples to measure a spread, got x of shape {x.shape}")
    mean, var = x.mean(axis=0), x.var(axis=0)    # (D,) each; np.var divides by N
    x_hat = (x - mean) / np.sqrt(var + eps)      # (N, D)
    d = grad_output * gamma                      # the gradient reaching x_hat
    grad_x = (d - d.mean(axis=0) - x_hat * (d * x_hat).mean(axis=0)) / np.sqrt(var + eps)
    return grad_x, (grad_output * x_hat).sum(axis=0), grad_output.sum(axis=0)


# %% tags=["selfcheck"]
xs, gs, gam, bet = rng.normal(size=(5, 3)), rng.normal(size=(5, 3)), rng.uniform(0.5, 2, 3), rng.normal(size=3)
for k, (wrt, name) in enumerate([(xs, "grad_x"), (gam, "grad_gamma"), (bet, "grad_beta")]):
    gradient_check_yours(lambda: batch_norm_backward(gs, xs, gam, 1e-5)[k], lambda: batch_norm_forward(xs, gam, bet, 1e-5),
                         wrt, grad_output=gs, good_below=1e-6, name=name)

# %% tags=["check"]
_ = check_batch_norm_backward(batch_norm_backward)

# %% [markdown] slideshow={"slide_type": "subslide"}
# **Exercise 8.** The first block of a ResNet stage changes the shape, so its shortcut cannot add x
# as it is: option B (section 4) projects it. In the fully connected form of Exercise 4, write
# `residual_block_projection(x, w1, w2, w_proj)` = relu(relu(x @ w1) @ w2 + x @ w_proj), with x of
# shape (N, D_in), w1 (D_in, D_out), w2 (D_out, D_out) and w_proj (D_in, D_out). The projection is
# linear: no ReLU on x @ w_proj before the addition. Do not change the inputs in place; NumPy only
# (a call of `cnnlib` or PyTorch fails); the checker's tolerance is 1e-6, relative or absolute.

# %% tags=["exercise"]
def residual_block_projection(x, w1, w2, w_proj):
    raise NotImplementedError  # your code here


# %% tags=["solution"] jupyter={"source_hidden": true} slideshow={"slide_type": "skip"}
def residual_block_projection(x, w1, w2, w_proj):
    f = np.maximum(x @ w1, 0.0) @ w2             # (N, D_out): the residual branch F(x)
    return np.maximum(f + x @ w_proj, 0.0)       # the projected shortcut, added, then the ReLU


# %% tags=["check"]
_ = check_residual_block_projection(residual_block_projection)

# %% [markdown] slideshow={"slide_type": "slide"}
# ### Your layers at work
#
# Your batch norm and your two residual blocks, from your layer library. The table says whose each
# one is: yours once its check has passed, cnnlib's until then.

# %% slideshow={"slide_type": "subslide"}
layers = my_layers("batch_norm_forward", "batch_norm_backward", "residual_block", "residual_block_projection")

# %% [markdown]
# First against `torch.nn.BatchNorm1d` in training mode, forward and backward, on a batch of 16
# samples with 6 features of different scales:

# %% slideshow={"slide_type": "subslide"}
x16, g16 = rng.normal(size=(16, 6)) * [1, 3, 10, 0.1, 1, 100] + 5, rng.normal(size=(16, 6))
bn1d = nn.BatchNorm1d(6, dtype=torch.float64)
bn1d.weight.data, bn1d.bias.data = torch.from_numpy(rng.uniform(0.5, 2, 6)), torch.from_numpy(rng.normal(size=6))
x_t = torch.from_numpy(x16).requires_grad_()
bn1d(x_t).backward(torch.from_numpy(g16))
gamma16, beta16 = bn1d.weight.detach().numpy(), bn1d.bias.detach().numpy()
theirs = (bn1d(x_t).detach().numpy(), x_t.grad.numpy(), bn1d.weight.grad.numpy(), bn1d.bias.grad.numpy())
yours = (layers.batch_norm_forward(x16, gamma16, beta16, bn1d.eps), *layers.batch_norm_backward(g16, x16, gamma16, bn1d.eps))
agree = [np.allclose(a, b, rtol=1e-6, atol=1e-6) for a, b in zip(yours, theirs)]
print("out, grad_x, grad_gamma, grad_beta agree with torch.nn.BatchNorm1d within 1e-6:", agree)
assert all(agree)

# %% [markdown]
# Then a small residual network on the normalized batch: your projection block from 6 features to
# 4, then your identity block on 4, against the same two blocks written in PyTorch.

# %% slideshow={"slide_type": "subslide"}
p1, p2, p_proj, q1, q2 = (rng.normal(size=s) * 0.5 for s in [(6, 4), (4, 4), (6, 4), (4, 4), (4, 4)])
h_yours = layers.residual_block_projection(yours[0], p1, p2, p_proj)     # (16, 4)
y_yours = layers.residual_block(h_yours, q1, q2)                          # (16, 4)
tt = {k: torch.from_numpy(v) for k, v in dict(x=yours[0], p1=p1, p2=p2, pp=p_proj, q1=q1, q2=q2).items()}
h_torch = torch.relu(torch.relu(tt["x"] @ tt["p1"]) @ tt["p2"] + tt["x"] @ tt["pp"])
y_torch = torch.relu(torch.relu(h_torch @ tt["q1"]) @ tt["q2"] + h_torch).numpy()
same = np.allclose(y_yours, y_torch, rtol=1e-6, atol=1e-6)
print(f"{yours[0].shape} -> {h_yours.shape} -> {y_yours.shape}; same as PyTorch's within 1e-6:", same)
assert same
