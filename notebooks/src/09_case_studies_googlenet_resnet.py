# %% [markdown] slideshow={"slide_type": "slide"}
# # 09 · Case studies III: GoogLeNet and ResNet
#
# After VGG the winners of the ImageNet challenge (ILSVRC) kept getting deeper, but not by
# stacking ever more 3×3 convolutions. GoogLeNet (2014) built its depth out of **inception
# modules** that run several filter sizes side by side, made cheap by 1×1 convolutions. ResNet
# (2015) went to 152 layers by letting every block learn only a correction that is **added to its
# input**. This notebook takes both apart and checks the numbers the lecture quotes against code.

# %% [markdown] slideshow={"slide_type": "subslide"}
# In this notebook you will:
#
# - build one inception module, run it, and compute how much its 1×1 "reduce" convolutions save;
# - check Table 1 of the GoogLeNet paper row by row against the code (three rows are wrong),
#   and test the lecture's "5 million parameters", "12× fewer than AlexNet" and "2× more compute";
# - see that a 1×1 convolution is a matrix multiply over the channels;
# - see why GoogLeNet needs no big fully connected layers at the end, and check its dropout;
# - build ResNet's two residual blocks, compute batch normalization by its formula, and watch a
#   gradient pass through the shortcut unchanged;
# - learn He initialization, and see why the degradation of deep plain networks is not a
#   vanishing gradient;
# - compare depth and compute for ResNet-18 … 152 with the paper's multiply-add counts;
# - count the layers of every network in the "revolution of depth" from the models themselves;
# - weigh the claim "faster than VGG, with 8× more layers" by the arithmetic (the timing is in 10);
# - write a residual block and an inception module's size counter yourself (Exercises 4 and 5).
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
from cnnlib.depth import activation_scales, conv_weights, deep_gradient_norms, he_std, on_meta
from cnnlib.device import env_report
from cnnlib.exercises.nb09 import INCEPTION_3B_FILTERS, INCEPTION_3B_INPUT
from cnnlib.exercises.nb09 import check_bottleneck, check_macs_ratio, check_naive_inception
from cnnlib.exercises.nb09 import check_inception_size, check_residual_block
from cnnlib.viz.case_studies import compare_googlenet, compare_resnets, count_weight_layers, weight_layer_depth
from cnnlib.viz.case_study_figures import ILSVRC_HISTORY, plot_compute_vs_depth, plot_depth_history
from cnnlib.viz.case_study_figures import plot_gradient_norms, plot_inception_macs
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

# %% slideshow={"slide_type": "subslide"}
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
# ### The lecture's claims about GoogLeNet
#
# "Only 5 million params", "12× less params" and "2× more compute" than AlexNet. The code counts
# 7.0M parameters. Even Table 1's own column adds up to 6.96M, and dropping the final linear
# layer still leaves 6.0M:

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
assert round(s_google.total_macs / alex_paper.total_macs, 1) == 2.2
assert round(s_google.total_macs / alex_lecture.total_macs, 1) == 1.4
assert 60e6 / 5e6 == tables.GOOGLENET_LECTURE_CLAIMS["fewer_params_than_alexnet"]

# %% [markdown]
# So GoogLeNet has **8.7× fewer parameters** than the paper's AlexNet, not 12×. The "12×" is
# 60M / 5M: it stands or falls with the "5 million". The compute claim holds: 1.58G multiply-adds
# against 0.72G is **2.2×** (against the single tower's 1.14G it would be 1.4×). For that price
# the top-5 error went from 16.4% to 6.7% (6.67%), winning ILSVRC 2014.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 3. ResNet: learn the residual
#
# Stack more and more plain layers and, past some depth, a network trains *worse*, even on its
# training set. He et al. measured it (their Figure 1): on CIFAR-10 a 56-layer plain network has a
# higher training error than a 20-layer one, so it is not overfitting. Nor is it vanishing
# gradients: their plain networks use batch normalization and a careful initialization, and they
# checked that the gradients keep healthy norms. They call it an optimization difficulty: the
# deeper network could copy the shallower one and set its extra layers to the identity, but the
# solver does not find that. ResNet changes what a block computes. Its layers learn a function F(x), and the block outputs
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
# In evaluation the same layers use the running statistics (here one step from 0 and 1):

# %% slideshow={"slide_type": "subslide"}
run_mu, run_var = 0.1 * mu, 0.9 + 0.1 * xb.var(dim=(0, 2, 3), unbiased=True)  # PyTorch stores the unbiased variance
by_formula = gamma.view(1, 3, 1, 1) * (xb - run_mu.view(1, 3, 1, 1)) / torch.sqrt(run_var.view(1, 3, 1, 1) + 1e-5) + beta.view(1, 3, 1, 1)
eval_torch, eval_np = bn_torch.eval()(xb).detach(), bn_np.eval()(xb.numpy())
assert torch.allclose(eval_torch, by_formula) and np.allclose(eval_np, by_formula.numpy())
print("eval: formula == torch == cnnlib")

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

# %% [markdown]
# The residual branch on its own, without the "+ x", passes back nothing at all:

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

# %% slideshow={"slide_type": "subslide"}
plot_gradient_norms({"plain: x ← relu(BN(Wx))": plain, "residual: x ← relu(x + F(x))": resid},
                    title="gradient reaching each of 56 blocks (He init, batch norm)")
plt.show()

# %% [markdown] slideshow={"slide_type": "subslide"}
# Nothing vanishes: with He initialization and batch normalization the plain stack hands its
# first layers a gradient *larger* than the one at its output (here about 5·10⁴ times, at random
# initial weights; Yang et al. (2019, "A mean field theory of batch normalization") explain this
# growth in deep batch-normalized stacks), and the residual stack one
# about 100 times larger. So this experiment cannot show the degradation problem: it is about
# what training finds, not about a gradient that fails to arrive. What the shortcut does offer is
# the easy solution: a block whose F is 0 is the identity, so extra blocks cost nothing if they
# are not needed.
#
# ### The bottleneck block
#
# ResNet-50, 101 and 152 use a cheaper block. A 1×1 convolution reduces the depth to a quarter,
# a 3×3 convolution works on the thin stack, and a second 1×1 restores the depth. On the
# 256-deep maps of conv2_x, against a basic block of two 3×3 convolutions at the same depth:

# %% slideshow={"slide_type": "subslide"}
bottleneck = models.Bottleneck(256, 64)
basic256 = models.BasicBlock(256, 256)
print(f"bottleneck 256 -> 64 -> 64 -> 256: {conv_weights(bottleneck):,} weights")
print(f"two 3x3 convolutions on 256 maps: {conv_weights(basic256):,} weights")
assert conv_weights(bottleneck) == 256 * 64 + 3 * 3 * 64 * 64 + 64 * 256 == 69_632
assert round(conv_weights(basic256) / conv_weights(bottleneck)) == 17

# %% [markdown] slideshow={"slide_type": "subslide"}
# Seventeen times fewer weights (and multiply-adds) per block: this is how ResNet-152 can have
# 152 layers and still cost less than VGG.
#
# ## 4. Depth versus compute
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
# The lecture lines the winners up: LeNet 5 layers, AlexNet 8, VGGNet 19, GoogLeNet 22,
# ResNet 152, and the ImageNet top-5 error fell with each step. The layer counts come from the
# models above, the errors are history as the lecture gives them (LeNet-5 predates ILSVRC; the
# 2013 winner, at 11.2%, is not built here):

# %%
lecture_layers = {label.split()[0]: layers for label, layers, _ in ILSVRC_HISTORY if layers}
print(lecture_layers)
assert lecture_layers == {"LeNet-5": depth["LeNet-5"], "AlexNet": depth["AlexNet"], "VGG": depth["VGG-19"],
                          "GoogLeNet": depth["GoogLeNet"], "ResNet": depth["ResNet-152"]}

# %% slideshow={"slide_type": "subslide"}
plot_depth_history(ILSVRC_HISTORY)
plt.show()

# %% [markdown]
# Depth is not cost, though. Each network's multiply-adds per 224×224 image (AlexNet: the
# lecture's single tower at 227×227), with the ResNet paper's own figures circled:

# %% slideshow={"slide_type": "subslide"}
macs = {name: summary(net, (3, 227, 227) if name == "AlexNet" else (3, 224, 224)).total_macs
        for name, net in nets.items() if name != "LeNet-5"}
paper = {f"ResNet-{d}": (d, tables.RESNET_TABLE1[d].flops) for d in (18, 34, 50, 152)}
plot_compute_vs_depth({name: (depth[name], m) for name, m in macs.items()}, paper=paper)
plt.show()
assert [round(macs[n] / 1e9, 1) for n in ("VGG-16", "VGG-19", "ResNet-152")] == [15.5, 19.6, 11.3]
assert macs["GoogLeNet"] < macs["ResNet-18"]

# %% [markdown] slideshow={"slide_type": "subslide"}
# The two VGGs sit at the top: 15.5G and 19.6G multiply-adds for 16 and 19 layers. ResNet-152,
# eight times deeper than VGG-19, needs 11.3G, and GoogLeNet's 22 layers cost less than ResNet-18. ResNet won ILSVRC 2015 with 3.6% top-5 error, after two to three weeks of
# training on a machine with 8 GPUs (the lecture's figures).
#
# ## 5. "Faster than a VGGNet, even though it has 8× more layers"
#
# The arithmetic first:

# %%
vgg19, resnet152 = summary(nets["VGG-19"], (3, 224, 224)), resnets[152]
print(f"layers: {depth['ResNet-152']} / {depth['VGG-19']} = {depth['ResNet-152'] / depth['VGG-19']:.1f}x")
print(f"multiply-adds: VGG-19 {vgg19.total_macs / 1e9:.2f}G, ResNet-152 {resnet152.total_macs / 1e9:.2f}G")
print(f"parameters: VGG-19 {vgg19.total_params / 1e6:.1f}M, ResNet-152 {resnet152.total_params / 1e6:.1f}M")
assert depth["ResNet-152"] / depth["VGG-19"] == 8.0
assert round(resnet152.total_macs / vgg19.total_macs, 2) == 0.57 and round(resnet152.total_params / vgg19.total_params, 2) == 0.42

# %% [markdown] slideshow={"slide_type": "subslide"}
# ResNet-152 does 57% of VGG-19's arithmetic with 42% of its parameters. Whether that makes it
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
#   layers. It has **7.0M parameters** (not 5M), **8.7× fewer than AlexNet** (not 12×), at
#   **2.2× the compute**. Table 1 of its paper has three wrong rows (conv1, 4c, 5a).
# - A **residual block** outputs relu(F(x) + x): a block with F = 0 is the identity. He et al.'s
#   56-layer plain network trained worse than their 20-layer one although its gradients were
#   healthy (He initialization, batch norm): degradation is an optimization difficulty, which the
#   shortcuts remove.
# - **Batch normalization** normalizes each channel by its batch mean and variance, then scales by
#   γ and shifts by β; in evaluation it uses running averages. **He initialization**
#   (σ = sqrt(2 / fan_in)) keeps the activations' scale through ReLU layers.
# - **Depth is not cost**: ResNet-152 (152 layers, 11.3G multiply-adds) needs less arithmetic than
#   VGG-19 (19 layers, 19.6G), thanks to bottleneck blocks; the paper's multiply-add counts
#   1.8/3.6/3.8/7.6/11.3G are reproduced by the code.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Exercises
#
# **Exercise 1.** Inception (3b)'s input and its numbers of 1×1, 3×3 and 5×5 filters are printed
# below. Built the naive way (the 3×3 and 5×5 filters straight on the input, no 1×1 reductions,
# and a 3×3 max pool beside them), how many multiply-adds does it need per image? The checker
# compares your count with the real module's.

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
# (no biases; do not count batch norm)? Check your answer against `models.resnet152()` built on
# the meta device.

# %% tags=["exercise"]
answer = None  # your answer here

# %% tags=["solution"] jupyter={"source_hidden": true} slideshow={"slide_type": "skip"}
answer = 2048 * 512 + 3 * 3 * 512 * 512 + 512 * 2048
assert answer == conv_weights(nets["ResNet-152"].conv5_x.block2)

# %% tags=["check"]
_ = check_bottleneck(answer)

# %% [markdown]
# **Exercise 3.** How many times more multiply-adds does VGG-19 need than ResNet-152 for one
# 224×224 image? Use `summary`.

# %% tags=["exercise"] slideshow={"slide_type": "subslide"}
answer = None  # your answer here

# %% tags=["solution"] jupyter={"source_hidden": true} slideshow={"slide_type": "skip"}
answer = summary(nets["VGG-19"], (3, 224, 224)).total_macs / summary(nets["ResNet-152"], (3, 224, 224)).total_macs

# %% tags=["check"]
_ = check_macs_ratio(answer)

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
