# %% [markdown] slideshow={"slide_type": "slide"}
# # 06 · Optimizers: gradient descent, momentum and Adam
#
# Notebook 05 computed the gradient of the loss with respect to every weight. This notebook
# uses it. The weights move a small step against the gradient, again and again; how large the
# step is, and how it uses the gradients of earlier steps, is what an optimizer decides.
#
# In this notebook you will:
#
# - take gradient-descent steps W ← W − η ∂L/∂W, check that the gradient is the steepest
#   direction, get stuck in a local minimum, and measure how the variance of a mini-batch
#   gradient falls with the batch size;
# - follow momentum and Adam step by step, including Adam's bias correction, and watch SGD,
#   momentum and Adam walk down a ravine;
# - put the lecture's momentum and Adam formulas beside PyTorch's and find out, numerically, when
#   they agree and when they don't;
# - train a small ConvNet written only with `cnnlib.numpy_nn` (NumPy, every backward by hand) on
#   photographs of clothing (Fashion-MNIST) with each optimizer, from 5 seeds, and see how far the
#   seeds spread;
# - write one step of SGD with momentum and one step of Adam yourself, and train a classifier with
#   them.

# %% slideshow={"slide_type": "skip"}
import matplotlib.pyplot as plt
import numpy as np
import torch

from cnnlib.data import balanced_subset, fashion_mnist, load_digits, to_float_images
from cnnlib.device import env_report
from cnnlib.exercises.nb06 import BETAS_2, GRADS_2, LR_3, MOMENTUM_3, THETA0_3
from cnnlib.exercises.nb06 import check_adam_moments, check_adam_step, check_momentum_steps
from cnnlib.exercises.my_layers import my_layers
from cnnlib.exercises.nb06 import check_sgd_momentum_step
from cnnlib.numpy_nn import Conv2d, CrossEntropyLoss, Flatten, Linear, MaxPool2d, MSELoss, Parameter, ReLU, Sequential
from cnnlib.numpy_nn.optim import SGD, Adam, LectureAdam, LectureMomentum
from cnnlib.numpy_nn.optim_steps import StepAdam, StepSGD
from cnnlib.plots import compare_seeds, show_images
from cnnlib.surfaces import optimizer_path, ravine
from cnnlib.testing import assert_close
from cnnlib.train import evaluate_numpy, fit_numpy
from cnnlib.viz.optimizers import descent_path, minibatch_gradient_noise, plot_curves
from cnnlib.viz.optimizers import plot_descent_1d, plot_gradient_noise, plot_paths, torch_descent_path
from cnnlib.widgets import optimizer_explorer
# %config InlineBackend.figure_formats = ['png']

# %% slideshow={"slide_type": "subslide"}
rng = np.random.default_rng(0)
torch.manual_seed(0)
plt.rcParams["figure.dpi"] = 150
print(env_report())

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 1. Gradient descent
#
# Take the two-layer network of notebook 05, f = W₂·max(0, W₁x) with the loss L = ‖f − t‖²,
# with the same numbers, and let `cnnlib.numpy_nn` compute ∂L/∂W₁ by back-propagation:

# %%
x, t = np.array([1.0, -2.0, 0.5]), np.array([1.0, 0.0])
W1, W2 = np.round(rng.normal(size=(4, 3)), 1), np.round(rng.normal(size=(2, 4)), 1)
net = Sequential(Linear(3, 4, bias=False), ReLU(), Linear(4, 2, bias=False))
net[0].weight.data[...], net[2].weight.data[...] = W1, W2
loss_fn = MSELoss(reduction="sum")
L = loss_fn(net(x[None]), t[None])
net.backward(loss_fn.backward())
dL_dW1 = net[0].weight.grad
print(f"L = {L:.4f}, |dL/dW1| = {np.linalg.norm(dL_dW1):.3f}")

# %% [markdown] slideshow={"slide_type": "subslide"}
# The gradient ∂L/∂W points in the direction in which L increases fastest. So we step the other
# way, with a step size η, the **learning rate**:
#
# $$W \leftarrow W - \eta \frac{\partial L}{\partial W}.$$
#
# (The lecture's slide on gradient descent calls the learning rate γ, and its next slide uses γ
# for the momentum and η for the learning rate. This notebook writes η for the learning rate
# everywhere and keeps γ for the momentum.)
#
# "Fastest" can be checked. On that network, take 500 random directions D of
# length 1 (in the 12-dimensional space of W₁) and measure the slope of L along each one by a
# centred difference. None is steeper than the slope along the gradient itself, which is its
# length ‖∂L/∂W₁‖:

# %%
loss_at = lambda W: np.sum((W2 @ np.maximum(0, W @ x) - t) ** 2)   # noqa: E731
directions = rng.normal(size=(500, 4, 3))
directions /= np.linalg.norm(directions, axis=(1, 2), keepdims=True)
slopes = np.array([(loss_at(W1 + 1e-6 * d) - loss_at(W1 - 1e-6 * d)) / 2e-6 for d in directions])
along_gradient = (loss_at(W1 + 1e-6 * dL_dW1 / np.linalg.norm(dL_dW1)) - L) / 1e-6

print(f"steepest of 500 random directions: {slopes.max():.3f}")
print(f"along the gradient: {along_gradient:.3f} = |dL/dW1| = {np.linalg.norm(dL_dW1):.3f}")
assert slopes.max() < np.linalg.norm(dL_dW1) and abs(along_gradient - np.linalg.norm(dL_dW1)) < 1e-3

# %% [markdown] slideshow={"slide_type": "subslide"}
# Gradient descent only ever looks at the slope where it stands, so it finds a **local**
# minimum: the bottom of whichever valley it starts in. On the one-dimensional loss
# f(w) = w⁴/4 − w² + w/2, two starts only 1 apart end in different valleys, and the one on the
# right never learns that the left valley is deeper.

# %%
f1d = lambda w: w ** 4 / 4 - w ** 2 + w / 2          # noqa: E731
df1d = lambda w: w ** 3 - 2 * w + 0.5                 # noqa: E731
paths_1d = {f"start {w0}": descent_path(df1d, w0, lambda p: SGD(p, lr=0.1), steps=40) for w0 in (-0.5, 0.5)}
print({name: round(float(path[-1]), 3) for name, path in paths_1d.items()})
assert paths_1d["start -0.5"][-1] < -1.5 and paths_1d["start 0.5"][-1] > 1.2
assert f1d(paths_1d["start -0.5"][-1]) < f1d(paths_1d["start 0.5"][-1])     # the left valley is deeper

# %% alt="The loss f(w) = w⁴/4 − w² + w/2 from −2.2 to 2: a deep valley on the left and a shallower one on the right. Gradient descent started at −0.5 (circles) runs down into the deep left valley; started at 0.5 (squares) it stops at the bottom of the shallow right valley, a local minimum, and never reaches the deeper one." slideshow={"slide_type": "subslide"}
grid = np.linspace(-2.2, 2.0, 200)
plot_descent_1d(grid, f1d(grid), paths_1d, f1d, title="gradient descent (lr = 0.1, 40 steps) finds a local minimum")
plt.show()

# %% [markdown] slideshow={"slide_type": "subslide"}
# For a network the landscape has millions of dimensions. Whether the minimum that gradient
# descent finds there is a good one is a question this one-dimensional picture cannot answer;
# for large networks, Choromanska et al. (The loss surfaces of multilayer networks, 2015) argue
# that most local minima that gradient descent reaches have similar, low losses. Their argument
# is a simplified model (a spin glass, under independence assumptions real networks break) and
# experiments that behave like it: a well-supported conjecture, not a theorem about your network.
#
# ## 2. Mini-batch gradient descent (SGD)
#
# The loss of a network is an average over the N training examples, and so is its gradient:
# g = (1/N) Σᵢ gᵢ. Computing all N per-example gradients for every single step is wasteful.
# **Stochastic gradient descent** (SGD) estimates g from a small random **mini-batch** of B
# examples instead. Every example is equally likely to be in the batch, so on average the
# estimate is g (it is unbiased), but each single estimate is off. By how much?
#
# Take a linear classifier (64 pixels → 10 scores, softmax cross-entropy) on scikit-learn's
# handwritten digits: 8×8 images whose pixels count the ink in 4×4 blocks of 32×32 scans (a
# tiny, fast example; the ConvNet of section 7 trains on photographs). For such a layer the
# chain rule gives each example's weight gradient in closed form: (softmax(yᵢ) − tᵢ) xᵢᵀ, the
# gradient of the loss with respect to the scores times the input (the outer product of
# notebook 05). We compute all N of them once:

# %% slideshow={"slide_type": "subslide"}
(x_digits, y_digits), _ = load_digits(size=8)
X = x_digits.reshape(len(x_digits), -1).astype(np.float64)     # (N, 64)
classifier = Linear(64, 10, rng=np.random.default_rng(1))
per_example = CrossEntropyLoss(reduction="none")
per_example(classifier(X), y_digits)
G = np.einsum("nc,nd->ncd", per_example.backward(), X)           # (N, 10, 64): one gradient per example

# %% [markdown] slideshow={"slide_type": "subslide"}
# The gradient of a mini-batch is the mean of its examples' gradients. We check that against the
# module on a batch of 32, then draw 400 random mini-batches for each batch size and measure the
# mean squared distance to the full gradient g.

# %%
N, g_full = len(X), G.mean(axis=0)
criterion = CrossEntropyLoss()
criterion(classifier(X[:32]), y_digits[:32])
classifier.zero_grad()
classifier.backward(criterion.backward())
assert_close(classifier.weight.grad, G[:32].mean(axis=0), rtol=1e-10)
assert N == 1437 and -(-N // 32) == 45                 # 45 mini-batches of 32 per epoch

# %% slideshow={"slide_type": "subslide"}
batch_sizes = np.array([1, 4, 16, 64, 256, 1024])
measured = minibatch_gradient_noise(lambda idx: G[idx].mean(axis=0), N, batch_sizes, trials=400, rng=rng)
sigma2 = np.mean(np.sum((G - g_full) ** 2, axis=(1, 2)))          # spread of single examples
expected = sigma2 / batch_sizes * (N - batch_sizes) / (N - 1)
for b, got, want in zip(batch_sizes, measured, expected):
    print(f"B = {b:5d}   measured {got:8.4f}   formula {want:8.4f}")

# %% [markdown]
# The variance, the mean squared error of the estimate, falls like 1/B: each 4× larger batch makes
# the squared error 4× smaller, so the typical error itself (its square root) falls only like
# 1/√B, 2× smaller. (The factor (N − B)/(N − 1) is there because the mini-batch is drawn
# without replacement: at B = N the estimate would be exact.)

# %% alt="Log-log plot of the mean squared distance between a mini-batch gradient and the full gradient against the batch size B from 1 to 1,024. The measured points lie on the line of the formula σ²/B · (N − B)/(N − 1): a straight line of slope −1, so the variance falls like 1/B, and a little faster as B approaches N." slideshow={"slide_type": "subslide"}
plot_gradient_noise(batch_sizes, measured, expected)
plt.show()

assert np.all(np.abs(measured / expected - 1) < 0.15)
assert measured[0] / measured[2] > 12          # B = 1 -> 16: about 16 times less variance

# %% [markdown] slideshow={"slide_type": "subslide"}
# So a mini-batch of 32 gives a gradient with about 1/32 of the variance of a single example (a
# typical error about 1/√32 ≈ 1/5.7 as large), at 1/45 of the cost of the full 1,437-example
# gradient. For the same amount of computation
# (one pass over the data, an **epoch**), SGD with B = 32 takes 45 noisy steps where full-batch
# gradient descent takes one exact step, and it wins by far:

# %%
runs = {}
for name, batch in (("full batch: 1 step per epoch", N), ("mini-batch B = 32: 45 steps per epoch", 32)):
    model = Sequential(Flatten(), Linear(64, 10, rng=np.random.default_rng(1)))
    runs[name] = fit_numpy(model, (x_digits, y_digits), None, SGD(model.parameters(), lr=0.5), epochs=15,
                           batch_size=batch, progress=False).train_loss

# %% alt="Training loss over 15 epochs of a linear classifier on the digits with SGD at lr 0.5. With the full batch (dashed, squares), one step per epoch, the loss falls slowly along a straight-looking line; with mini-batches of 32 (solid, circles), 45 steps per epoch, it drops steeply within two epochs and ends at less than half of the full-batch loss." slideshow={"slide_type": "subslide"}
plot_curves(np.arange(1, 16), runs, xlabel="epoch (passes over the training set)", ylabel="training loss",
            title="SGD (lr = 0.5) on the digits, linear classifier",
            styles={"full batch: 1 step per epoch": "--s", "mini-batch B = 32: 45 steps per epoch": "-o"})
plt.show()
assert runs["mini-batch B = 32: 45 steps per epoch"][-1] < 0.5 * runs["full batch: 1 step per epoch"][-1]

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 3. Momentum, step by step
#
# On a long narrow valley the gradient points mostly *across* the valley (where the walls are
# steep) and only a little *along* it (towards the minimum). Plain gradient descent then
# zig-zags between the walls and creeps forwards. **Momentum** adds a fraction γ of the previous
# update to the current one; in the lecture's form
#
# $$v_t = \gamma v_{t-1} + \eta \nabla_\theta J(\theta), \qquad \theta \leftarrow \theta - v_t ,$$
#
# with v₀ = 0, γ the momentum (typically 0.9) and η the learning rate. Components of the gradient
# that keep their sign pile up in v; components that flip sign cancel. Give a parameter with two
# entries the gradient (1, ±1): the first entry always 1, the second flipping sign every step.

# %% slideshow={"slide_type": "subslide"}
w = Parameter(np.zeros(2))
momentum = LectureMomentum([w], lr=0.1, momentum=0.9)
velocity = []
for k in range(60):
    w.grad = np.array([1.0, (-1.0) ** k])
    momentum.step()
    velocity.append(momentum.state[w]["velocity"].copy())
velocity = np.array(velocity)                       # (60, 2)

for k in (0, 1, 2, 3, 4, 59):
    print(f"step {k + 1:2d}: v = ({velocity[k, 0]:.4f}, {velocity[k, 1]:+.4f})")
assert_close(velocity[:3, 0], [0.1, 0.19, 0.271])                     # 0.1, 0.1 + 0.9 * 0.1, ...
assert abs(velocity[-1, 0] - 0.1 / (1 - 0.9)) < 0.002 and np.abs(velocity[:, 1]).max() <= 0.1
assert abs(abs(velocity[-1, 1]) - 0.1 / (1 + 0.9)) < 1e-3                  # settles to ±η/(1 + γ)

# %% [markdown] slideshow={"slide_type": "subslide"}
# Along a steady gradient the velocity grows towards η/(1 − γ) = 0.1/0.1 = 1: **ten times** the
# plain gradient-descent step. Along the flipping gradient it never exceeds the first step, 0.1,
# and settles to ±η/(1 + γ) ≈ 0.053, about half a plain step. A gradient flips sign at every step
# when plain steps are too large for the curvature and jump from one wall of a valley to the
# other: against such a zig-zagging plain step, momentum is faster along the floor and damped
# across it. Where plain steps are small enough not to zig-zag, the gradient across the valley
# does not flip, and momentum's carried velocity can make it overshoot and bounce instead
# (section 5 shows both).

# %% alt="Momentum's velocity over 60 steps with η = 0.1 and γ = 0.9. Under a steady gradient of +1 (solid) it rises from 0.1 towards the dashed line at 1, ten times a plain step. Under a gradient that flips sign every step (dots) it never exceeds the first step, 0.1, and zig-zags between the dotted lines at plus and minus η/(1 + γ), about half a plain step." slideshow={"slide_type": "subslide"}
steps = np.arange(1, 61)
plot_curves(steps, {"steady gradient +1": velocity[:, 0], "flipping gradient ±1": velocity[:, 1],
                    "η/(1 − γ) = 1": np.full(60, 1.0), "+η/(1 + γ)": np.full(60, 0.1 / 1.9),
                    "−η/(1 + γ)": np.full(60, -0.1 / 1.9)},
            xlabel="step", ylabel="velocity v", title="lecture momentum, η = 0.1, γ = 0.9",
            styles={"flipping gradient ±1": ".-", "η/(1 − γ) = 1": "--", "+η/(1 + γ)": ":", "−η/(1 + γ)": ":"})
plt.show()

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 4. Adam, step by step
#
# Adam (adaptive moment estimation) keeps two running averages per parameter, both started at 0:
#
# $$m_t = \beta_1 m_{t-1} + (1 - \beta_1)\, g_t, \qquad v_t = \beta_2 v_{t-1} + (1 - \beta_2)\, g_t^2,$$
#
# an average of the gradients (the direction, like momentum) and of their squares (their typical
# size), with β₁ = 0.9 and β₂ = 0.999. Because they start at 0, early on they are far too small:
# after one step m₁ = 0.1·g₁ and v₁ = 0.001·g₁². The **bias correction** divides that out,
#
# $$\hat m_t = \frac{m_t}{1 - \beta_1^t}, \qquad \hat v_t = \frac{v_t}{1 - \beta_2^t},$$
#
# and the update is θ ← θ − η m̂_t / (√v̂_t + ε): each parameter's step is scaled by its own
# typical gradient size. Watch `cnnlib`'s `Adam` (which is PyTorch's) on a constant gradient
# g = 0.5, reading m and v from its state:

# %% slideshow={"slide_type": "subslide"}
w = Parameter(np.zeros(1))
adam = Adam([w], lr=0.1)
history = []
for _ in range(1000):
    w.grad = np.array([0.5])
    before = w.data.copy()
    adam.step()
    history.append((adam.state[w]["exp_avg"][0], adam.state[w]["exp_avg_sq"][0], (before - w.data)[0]))
m_t, v_t, step = np.array(history).T             # (1000,) each

# %% slideshow={"slide_type": "subslide"}
t_ = np.arange(1, 1001)
m_hat, v_hat = m_t / (1 - 0.9 ** t_), v_t / (1 - 0.999 ** t_)
print(" t      m_t      v_t     m̂_t     v̂_t   step / lr")
for k in range(5):
    print(f"{t_[k]:2d}  {m_t[k]:7.4f}  {v_t[k]:7.5f}  {m_hat[k]:6.3f}  {v_hat[k]:6.3f}  {step[k] / 0.1:9.6f}")

# %% [markdown]
# The raw averages m_t and v_t start at a tenth and a thousandth of their true values (0.5 and
# 0.25); the corrected m̂_t and v̂_t are exactly right from the first step, and every step moves θ
# by the learning rate (ε = 10⁻⁸ is negligible here). What would happen without the correction?

# %% slideshow={"slide_type": "subslide"}
assert_close(m_hat, np.full(1000, 0.5), rtol=1e-12)
assert_close(v_hat, np.full(1000, 0.25), rtol=1e-12)
assert_close(step, np.full(1000, 0.1), rtol=1e-7)
no_correction = m_t / np.sqrt(v_t)                   # step / lr without any correction
m_uncorrected = m_t / np.sqrt(v_hat)                 # step / lr with only v corrected
print(f"step 1 / lr: corrected 1.0, m uncorrected {m_uncorrected[0]:.2f}, neither {no_correction[0]:.2f}")

# %% alt="Two panels for Adam under a constant gradient, steps 1 to 1,000 on a log axis. Left: the raw averages m_t (solid) and √v_t (dash-dot) start far below their true values and approach them slowly, √v_t still short after 1,000 steps, while the bias-corrected m̂_t (dashed) and √v̂_t (dotted) equal them from the first step. Right: the update divided by lr is 1 throughout for Adam; without correcting m (dashed) it starts at 0.1 and takes a few dozen steps to reach 1; correcting neither (dash-dot) starts near 3.2, rises to about 6.6 and is still above 1 after 1,000 steps." slideshow={"slide_type": "subslide"}
fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
plot_curves(t_, {"m_t / g": m_t / 0.5, "m̂_t / g": m_hat / 0.5, "√v_t / |g|": np.sqrt(v_t) / 0.5,
                 "√v̂_t / |g|": np.sqrt(v_hat) / 0.5}, xlabel="step t", ylabel="estimate / true value",
            title="running averages, constant gradient g", logx=True, ax=axes[0],
            styles={"m̂_t / g": "--", "√v_t / |g|": "-.", "√v̂_t / |g|": ":"})
plot_curves(t_, {"Adam (both corrected)": step / 0.1, "m not corrected": m_uncorrected,
                 "neither corrected": no_correction}, xlabel="step t", ylabel="step / lr",
            title="size of the update", logx=True, logy=True, ax=axes[1],
            styles={"m not corrected": "--", "neither corrected": "-."})
plt.show()

# %% [markdown] slideshow={"slide_type": "subslide"}
# Without correcting m, the first steps are **tiny**: m₁ = 0.1·g, so the first step is a tenth of
# the intended one, and it takes about 20 steps (until 0.9ᵗ is small) to get going. Correcting
# neither does not cancel out, because v is shrunk even more than m (0.001 against 0.1), so
# m/√v starts at 0.1/√0.001 ≈ 3.2 times the intended step and grows to about 6.6 before it slowly
# comes back to 1, over thousands of steps (β₂ = 0.999 forgets slowly). Adam's correction makes the
# very first step the intended size.

# %%
assert abs(m_uncorrected[0] - 0.1) < 1e-6 and abs(no_correction[0] - 0.1 / np.sqrt(0.001)) < 1e-9
assert 6.5 < no_correction.max() < 6.6 and no_correction[-1] > 1.2
assert m_uncorrected[9] < 0.7 < 0.85 < m_uncorrected[19]                  # about 20 steps to get going

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 5. SGD, momentum and Adam across a ravine
#
# `cnnlib.surfaces.ravine` is the loss f(θ₁, θ₂) = θ₁²/20 + θ₂², a valley twenty times more
# curved across (θ₂) than along (θ₁), with its minimum at (0, 0). `optimizer_path` runs our
# optimizers on it from (−4, 1.5) and returns every point visited. All three use lr = 0.1, and
# plain SGD once more with a large lr = 0.95.

# %%
paths = {"SGD, lr 0.1": optimizer_path("sgd", steps=60, surface=ravine, lr=0.1),
         "SGD, lr 0.95": optimizer_path("sgd", steps=60, surface=ravine, lr=0.95),
         "momentum 0.9, lr 0.1": optimizer_path("momentum", steps=60, surface=ravine, lr=0.1, momentum=0.9),
         "Adam, lr 0.1": optimizer_path("adam", steps=60, surface=ravine, lr=0.1)}
finals = {name: float(ravine(*path[-1])) for name, path in paths.items()}
print("loss after 60 steps:", " | ".join(f"{name}: {value:.1e}" for name, value in finals.items()))

# %% alt="Left: contour lines of the ravine f = θ₁²/20 + θ₂² with 60 steps of four optimizers from (−4, 1.5), each path with its own marker. SGD at lr 0.1 (circles) drops to the floor and creeps along it, less than half way to the minimum; SGD at lr 0.95 (squares) zig-zags from wall to wall while it moves along; momentum (triangles) swings across, overshoots the minimum and swings back; Adam (diamonds) runs diagonally down to the floor, then along it. Right: the loss per step on a log axis, one line style each: SGD at lr 0.95 ends lowest, SGD at lr 0.1 highest, and momentum's curve is bumpy." slideshow={"slide_type": "subslide"}
plot_paths(ravine, paths, title="60 steps on the ravine f = θ₁²/20 + θ₂²")
plt.show()

# %% [markdown] slideshow={"slide_type": "subslide"}
# What the figure shows:
#
# - **SGD with lr 0.1** is stable across the valley (θ₂ shrinks by a factor 1 − 0.1·2 = 0.8 per
#   step) but along it θ₁ shrinks only by 1 − 0.1/10 = 0.99 per step: after 60 steps it has
#   covered less than half of the way.
# - **SGD with lr 0.95** moves along faster (0.905 per step), but across the valley the factor is
#   1 − 0.95·2 = −0.9: θ₂ changes sign at every step, bouncing from wall to wall while the bounces
#   shrink slowly. On this valley it ends lowest of all, because 0.95 sits just below the cliff
#   edge: at lr = 1 the factor is −1 and the bouncing never dies down, and above 1 it grows
#   without limit. The steepest direction caps the learning rate, and in a network with millions
#   of directions nobody knows in advance where that cap is.
# - **Momentum** with the small lr also bounces across the valley at first (each move keeps 90%
#   of the previous one, sideways parts included), but the bounces cancel out over time, while
#   the steady pull along the floor builds up speed, up to 10 times. It overshoots the minimum and
#   swings back: the bumps in its loss curve.
# - **Adam** divides each coordinate's step by that coordinate's typical gradient size, so at
#   first it moves by about lr per step in *both* coordinates, however different their
#   curvatures: a diagonal line down to the floor, then along it.

# %% slideshow={"slide_type": "subslide"}
assert finals["SGD, lr 0.1"] > 50 * max(finals["momentum 0.9, lr 0.1"], finals["Adam, lr 0.1"])
assert paths["SGD, lr 0.1"][-1, 0] < -4 / 2                           # less than half of the way along
assert min(finals, key=finals.get) == "SGD, lr 0.95"                   # ends lowest of all
assert paths["momentum 0.9, lr 0.1"][:, 0].max() > 0                   # overshoots the minimum
assert_close(np.abs(paths["Adam, lr 0.1"][1] - paths["Adam, lr 0.1"][0]), [0.1, 0.1], rtol=1e-6)
assert np.all(np.diff(np.sign(paths["SGD, lr 0.95"][:20, 1])) != 0)   # θ₂ changes sign every step
diverged = optimizer_path("sgd", steps=60, surface=ravine, lr=1.05)
print(f"SGD with lr 1.05: |θ₂| after 60 steps = {abs(diverged[-1, 1]):.0f}")
assert abs(diverged[-1, 1]) > 100 * abs(diverged[0, 1])

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 6. The lecture's formulas beside PyTorch's
#
# ### Momentum: the same algorithm written two ways
#
# PyTorch's `torch.optim.SGD(momentum=γ)` (and `cnnlib`'s `SGD`) keeps a buffer b of gradients,
# b_t = γ b_{t−1} + ∇J, and steps θ ← θ − η b_t. Multiply the buffer's rule by η: η b_t =
# γ (η b_{t−1}) + η ∇J, which is the lecture's rule for v. So v_t = η b_t at every step, and
# with a constant learning rate both produce the same parameters. On the ravine, 100 steps:

# %%
ravine_grad = lambda w: np.array(ravine.grad(*w))   # noqa: E731
lecture = optimizer_path("lecture_momentum", steps=100, surface=ravine, lr=0.1, momentum=0.9)
pytorch = torch_descent_path(ravine_grad, ravine.start, lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9), 100)
assert np.abs(lecture - pytorch).max() < 1e-12
print("largest difference over 100 steps: below 1e-12")

# %% [markdown] slideshow={"slide_type": "subslide"}
# The difference is round-off (the two multiply by η at different moments). They stop being the
# same algorithm when the learning rate **changes** during training, as a learning-rate schedule
# does. PyTorch multiplies its whole buffer by the new η at once; the lecture's velocity still
# carries the old η in its past terms, so it slows down gradually. With a constant gradient and
# η cut from 0.1 to 0.01 before step 11:

# %%
a, b = Parameter(np.zeros(1)), Parameter(np.zeros(1))
ours, theirs = LectureMomentum([a], lr=0.1, momentum=0.9), SGD([b], lr=0.1, momentum=0.9)
positions = [(0.0, 0.0)]
for k in range(14):
    ours.lr = theirs.lr = 0.1 if k < 10 else 0.01       # the schedule: lr / 10 from step 11 on
    a.grad, b.grad = np.ones(1), np.ones(1)
    ours.step()
    theirs.step()
    positions.append((a.data[0], b.data[0]))
moves = -np.diff(np.array(positions), axis=0)           # (14, 2): how far each moved at each step

# %% slideshow={"slide_type": "subslide"}
for k in range(8, 14):
    lr = 0.1 if k < 10 else 0.01
    print(f"step {k + 1:2d}  lr {lr:4}   lecture moves {moves[k, 0]:.4f}   PyTorch moves {moves[k, 1]:.4f}")
assert_close(moves[:10, 0], moves[:10, 1], rtol=1e-12)
assert moves[10, 0] > 5 * moves[10, 1]

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Adam: where ε goes
#
# The lecture's update is θ ← θ − η m̂ / √(v̂ + ε), with ε **inside** the square root; PyTorch
# (like the Adam paper) uses η m̂ / (√v̂ + ε), ε **outside**. `cnnlib` has both: `Adam` is
# PyTorch's, `LectureAdam` the lecture's. With ε = 10⁻⁸ they agree as long as √v̂, the typical
# gradient size, is much larger than √ε = 10⁻⁴. On the ravine, whose gradient at the start is
# (−0.4, 3) and shrinks on the way down:

# %%
assert_close(ravine_grad(ravine.start), [-0.4, 3.0])
lecture_adam = optimizer_path("lecture_adam", steps=100, surface=ravine, lr=0.1)
pytorch_adam = torch_descent_path(ravine_grad, ravine.start, lambda p: torch.optim.Adam(p, lr=0.1), 100)
ours_adam = optimizer_path("adam", steps=100, surface=ravine, lr=0.1)
print("cnnlib Adam vs PyTorch:      below 1e-12" if np.abs(ours_adam - pytorch_adam).max() < 1e-12 else "differ")
print(f"lecture's Adam vs PyTorch:   {np.abs(lecture_adam - pytorch_adam).max():.0e}")

# %%
assert np.abs(ours_adam - pytorch_adam).max() < 1e-12
assert 1e-10 < np.abs(lecture_adam - pytorch_adam).max() < 1e-4

# %% [markdown] slideshow={"slide_type": "subslide"}
# A tiny but real difference. It becomes large when the gradients are tiny, of the order of
# √ε = 10⁻⁴ or below: then √(v̂ + ε) ≈ √ε = 10⁻⁴ while √v̂ + ε ≈ |g|. The first step, for a
# constant gradient of size |g|, as a fraction of the learning rate:

# %%
scales = np.logspace(-8, 0, 33)
first_step = lambda make, g: -descent_path(lambda w: g, 0.0, make, steps=1)[1]   # noqa: E731
torch_step = [-torch_descent_path(lambda w: g, 0.0, lambda p: torch.optim.Adam(p, lr=1.0), 1)[1] for g in scales]
lecture_step = [first_step(lambda p: LectureAdam(p, lr=1.0), g) for g in scales]

# %% alt="Adam's first step divided by lr against the gradient size from 1e-8 to 1, on log-log axes. PyTorch's form with ε outside the root (solid) stays near 1 at every size and falls to one half only at 1e-8. The lecture's form with ε inside the root (dashed) matches it for large gradients but, below the dotted line at √ε = 1e-4, shrinks in proportion to the gradient, to about a hundredth of PyTorch's step at 1e-6." slideshow={"slide_type": "subslide"}
plot_curves(scales, {"PyTorch: m̂ / (√v̂ + ε)": torch_step, "lecture: m̂ / √(v̂ + ε)": lecture_step},
            xlabel="gradient size |g|", ylabel="first step / lr", logx=True, logy=True,
            title="Adam's first step with ε = 1e-8 outside or inside the root",
            styles={"lecture: m̂ / √(v̂ + ε)": "--"})
_ = plt.axvline(1e-4, color="0.5", ls=":")   # |g| = √ε
plt.show()

# %% slideshow={"slide_type": "subslide"}
ratio = np.array(lecture_step) / np.array(torch_step)
shown = [32, 30, 28, 24, 16, 8, 0]                  # |g| = 1, 0.32, 0.1, 0.01, 1e-4, 1e-6, 1e-8
for g, r in zip(scales[shown], ratio[shown]):
    print(f"|g| = {g:.2g}: lecture step / PyTorch step = {r:.4f}, relative difference {abs(1 - r):.0e}")
assert np.all(np.abs(1 - ratio[scales > 0.3]) < 1e-7) and 1e-7 < abs(1 - ratio[28]) < 1e-6
assert 1e-5 < abs(1 - ratio[24]) < 1e-4 and ratio[scales == 1e-6][0] < 0.011 and torch_step[0] > 0.49

# %% [markdown] slideshow={"slide_type": "subslide"}
# For gradients of size 0.3 and larger the two steps agree to seven digits (relative difference
# below 10⁻⁷); at 0.1 they differ in the seventh digit, at 0.01 in the fifth. For gradients around
# 10⁻⁶ the lecture's step is a hundred times smaller: ε inside the root acts as a floor on the
# denominator, so parameters whose gradients are tiny barely move. PyTorch's form keeps moving
# them by about lr whatever the gradient's scale (until the gradient itself is near ε = 10⁻⁸,
# where its step halves). Which form is better depends on how small a network's gradients get;
# this notebook does not measure that. In either form ε is a hyper-parameter like the
# others: the docstring of TensorFlow 1's `tf.train.AdamOptimizer` (default 10⁻⁸; today's
# `tf.keras` Adam defaults to 10⁻⁷) says "The default value of 1e-8 for epsilon might not be a
# good default in general. For example, when training an Inception network on ImageNet a current
# good choice is 1.0 or 0.1."

#
# ## 7. A small ConvNet in NumPy, trained with each optimizer
#
# Everything comes together: a ConvNet built only from `cnnlib.numpy_nn` (forward and backward
# written in NumPy), trained with a mini-batch of 32, the cross-entropy loss and
# back-propagation through every layer, on real photographs. **Fashion-MNIST** (Zalando, 2017)
# has 28×28 grayscale pictures of clothing in ten classes: 60,000 for training and 10,000 for
# testing (its README). The repository ships all 10,000 test images and 12,800 of the training
# images (`data/fashion-mnist/README.md` says how they were drawn); to keep this notebook quick
# we train on a class-balanced 2,560 of those (256 per class) and test on all
# 10,000.

# %% slideshow={"slide_type": "subslide"}
train_images, train_labels, classes = fashion_mnist("train", source="shipped")
test_images, test_labels, _ = fashion_mnist("test", source="shipped")
subset = balanced_subset(train_labels, per_class=256, seed=0)
x_train, y_train = to_float_images(train_images[subset]), train_labels[subset]   # (2560, 1, 28, 28)
x_test, y_test = to_float_images(test_images), test_labels                        # (10000, 1, 28, 28)
print("train", x_train.shape, " test", x_test.shape, " classes:", ", ".join(classes))
assert np.all(np.bincount(y_train) == 256) and len(y_test) == 10_000

# %% alt="Ten 28 by 28 grayscale photographs from the Fashion-MNIST training subset, the first of each class: T-shirt/top, trouser, pullover, dress, coat, sandal, shirt, sneaker, bag and ankle boot, light objects on a black background. Pullover, coat and shirt have much the same outline." caption="The first training image of each of Fashion-MNIST's ten classes." slideshow={"slide_type": "subslide"}
first = [np.flatnonzero(y_train == c)[0] for c in range(10)]      # the first training image of each class
show_images(x_train[first], titles=[classes[c] for c in range(10)], ncols=10)
plt.show()

# %% [markdown] slideshow={"slide_type": "subslide"}
# The network has one convolution with 5×5 filters (the size of LeNet-5's first layer, notebook
# 07), then ReLU, 2×2 max pooling and a linear layer:
#
# Conv2d(1 → 8, 5×5) → ReLU → MaxPool2d(2) → Flatten → Linear(8·12·12 → 10).
#
# `fit_numpy` (in `cnnlib.train`) runs the loop of this notebook for every mini-batch: forward,
# loss, `optimizer.zero_grad()`, `model.backward(criterion.backward())`, `optimizer.step()`. Its
# layers compute in float64 (the images are cast to it), which makes every number below the same
# on any CPU. Momentum gets lr = 0.01 so that its long-run step η/(1 − γ) = 0.1 matches plain
# SGD's lr = 0.1. Adam's step is about lr whatever the gradient's size (section 4), so its lr is
# not comparable with theirs; it gets 0.003. None of the three was tuned.
#
# One training run is one draw: its starting weights and the order of its mini-batches are
# random, and a difference between two single runs may be that luck. So each optimizer trains
# from 5 seeds, the seed fixing both the starting weights and the batch order, and the three
# optimizers share the seeds: seed k gives all three the same start and the same batches.

# %% slideshow={"slide_type": "subslide"}
make_net = lambda seed: Sequential(Conv2d(1, 8, 5, rng=np.random.default_rng(seed)), ReLU(),  # noqa: E731
                                   MaxPool2d(2), Flatten(),
                                   Linear(8 * 12 * 12, 10, rng=np.random.default_rng(seed + 100)))
optimizers = {"SGD (lr 0.1)": lambda p: SGD(p, lr=0.1),
              "momentum 0.9 (lr 0.01)": lambda p: SGD(p, lr=0.01, momentum=0.9),
              "Adam (lr 0.003)": lambda p: Adam(p, lr=0.003)}
seeds, epochs = range(5), 5
print(make_net(0))
n_weights = sum(p.data.size for p in make_net(0).parameters())
print(f"{n_weights:,} parameters; {epochs} epochs of {len(x_train) // 32} mini-batches of 32")
assert n_weights == 8 * 25 + 8 + 8 * 12 * 12 * 10 + 10

# %% slideshow={"slide_type": "subslide"}
train_loss, accuracy = {}, {}            # name -> (seeds, epochs) training loss; (seeds,) test accuracy
for name, make_optimizer in optimizers.items():
    curves, accs = [], []
    for seed in seeds:
        net = make_net(seed)
        curves.append(fit_numpy(net, (x_train, y_train), None, make_optimizer(net.parameters()),
                                epochs=epochs, batch_size=32, seed=seed, progress=False).train_loss)
        accs.append(evaluate_numpy(net, (x_test, y_test))[1])     # on all 10,000 test images
    train_loss[name], accuracy[name] = np.array(curves), np.array(accs)

# %% alt="Training loss per epoch of the NumPy ConvNet on Fashion-MNIST over 5 epochs: for each optimizer the mean of 5 seeds, with a band from the lowest to the highest seed. The curves of SGD at lr 0.1 (circles) and momentum at lr 0.01 (squares) lie almost on top of each other; Adam at lr 0.003 (diamonds) lies below both at every epoch, from about 0.94 after the first epoch to 0.40 after the fifth." slideshow={"slide_type": "subslide"}
compare_seeds(train_loss, ylabel="training loss (mean over the epoch)",
              title="the NumPy ConvNet on Fashion-MNIST, 5 seeds per optimizer")
plt.show()

# %% slideshow={"slide_type": "subslide"}
print("epoch" + "".join(f"{name:>25s}" for name in train_loss))
for e in range(epochs):
    print(f"{e + 1:5d}" + "".join(f"{c[:, e].mean():17.3f} ± {c[:, e].std():.3f}" for c in train_loss.values()))
print("\ntest accuracy on the 10,000 test images, seeds 0-4:")
for name, a in accuracy.items():
    print(f"{name:>23s}: " + "  ".join(f"{v:.4f}" for v in a) + f"   mean {a.mean():.3f} ± {a.std():.3f}")

# %% [markdown] slideshow={"slide_type": "subslide"}
# The training losses are means over the 5 seeds ± their standard deviation; the test accuracies
# are one per seed. What these numbers show, and no more:
#
# - Adam's training loss is the lowest of the three **at every epoch in every seed**: the
#   comparison is paired (same start, same batches), and the smallest gap is printed below.
# - Adam's test accuracy is the highest of the three in every seed too, but by very different
#   margins: over SGD by 4.8 points in one seed and by less than half a point (fewer than 50 of
#   the 10,000 images) in two others.
# - SGD (lr 0.1) and momentum (lr 0.01, the same long-run step) end with training losses and test
#   accuracies whose difference is smaller than the spread of the seeds: 5 seeds cannot tell them
#   apart.
# - Every run lands between 0.77 and 0.83 test accuracy: 400 steps of a one-convolution network
#   on 2,560 images. Fashion-MNIST's README lists 0.876 and 0.916 (submitted, and by its own
#   words not tested by its authors) for networks with two convolution and pooling layers.
#
# Each learning rate could be tuned, and one small network is not evidence about a deep one; the
# claim that one optimizer is better in general would need more networks, more seeds, and settings
# tuned for each.

# %% slideshow={"slide_type": "subslide"}
sgd, mom, adam = train_loss.values()
acc_sgd, acc_mom, acc_adam = accuracy.values()
gap = np.minimum(sgd, mom) - adam                   # (seeds, epochs): how far Adam is ahead
print(f"smallest training-loss gap to Adam, over all seeds and epochs: {gap.min():.3f}")
print("Adam − SGD test accuracy per seed, in points:", np.round(100 * (acc_adam - acc_sgd), 1))
print("Adam − momentum test accuracy per seed, in points:", np.round(100 * (acc_adam - acc_mom), 1))
assert gap.min() > 0.03 and np.all(acc_adam > np.maximum(acc_sgd, acc_mom) + 0.001)
assert (acc_adam - acc_sgd).max() > 0.04 and np.sum(acc_adam - acc_sgd < 0.005) == 2
assert abs(sgd[:, -1].mean() - mom[:, -1].mean()) < min(sgd[:, -1].std(), mom[:, -1].std())
assert abs(acc_sgd.mean() - acc_mom.mean()) < min(acc_sgd.std(), acc_mom.std())
assert 0.77 < min(a.min() for a in accuracy.values()) and max(a.max() for a in accuracy.values()) < 0.83

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Interactive explorer
#
# Change the learning rate, the momentum, Adam's β₁ and β₂ and the number of steps, and watch
# SGD, momentum and Adam walk across the ravine of section 5.

# %% alt="The optimizer explorer as it opens: the ravine's contour lines with 50 steps of SGD (circles), momentum 0.9 (squares) and Adam (triangles) from the same start at lr 0.1, and their loss per step, each in its own line style, with sliders for the learning rate, the momentum, Adam's β₁ and β₂ and the number of steps." caption="Try: raise the learning rate until plain SGD zig-zags across the valley, and lower the momentum to see the bounces and the speed-up along the floor go together."
# NBVAL_IGNORE_OUTPUT
optimizer_explorer()

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Summary
#
# - **Gradient descent** W ← W − η ∂L/∂W steps against the steepest direction and finds a local
#   minimum. **Mini-batch SGD** estimates the gradient from B examples; the variance of that
#   estimate falls like 1/B, its typical error like 1/√B.
# - **Momentum** (v = γv + η∇J, θ −= v) speeds up steady directions by up to 1/(1 − γ) = 10×
#   and shrinks the moves of a component whose gradient flips sign at every step (a zig-zag) to
#   about half a plain step. **Adam** scales each parameter's step by its typical gradient size;
#   its bias correction makes the first steps the intended size.
# - The lecture's momentum is PyTorch's SGD momentum rewritten (v = η·b): identical for a
#   constant learning rate. The lecture's Adam (ε inside the root) equals PyTorch's to seven
#   digits for gradients of size 0.3 and larger, less closely below, and takes much smaller steps
#   for gradients below 10⁻⁴.
# - Comparing optimizers takes several seeds and paired runs: on Fashion-MNIST, over 5 seeds,
#   Adam had the lowest training loss at every epoch and the highest test accuracy in every
#   seed, while SGD and momentum stayed within each other's spread.
#
# ## Exercises

# %% [markdown]
# **Exercise 1.** Write one step of PyTorch's SGD with momentum,
# `sgd_momentum_step(theta, grad, buffer, lr, momentum)`, returning the new (theta, buffer):
# b ← momentum · b + grad, then θ ← θ − lr · b (section 6; `buffer` holds zeros before the first
# step). The rules the check holds you to:
#
# - return new arrays and leave `theta`, `grad` and `buffer` as they are. (`torch.optim.SGD`
#   updates its parameters and buffer in place; here a step is a function of its inputs, like the
#   layers you write, and a step that changes an argument fails with a message that names it.
#   `theta = theta - lr * buffer` makes a new array; `theta -= lr * buffer` does not.)
# - `theta` may have any shape (a bias vector, a weight matrix, a convolution's filters) and may
#   be float32;
# - NumPy only: a function that calls anything from `cnnlib` or PyTorch fails before any case runs.
#
# The check compares yours with `cnnlib`'s on 21 cases (first and later steps, a zero gradient,
# large gradients) to a relative tolerance of 10⁻⁶ (float32 results at float32 precision).

# %% tags=["exercise"] slideshow={"slide_type": "subslide"}
def sgd_momentum_step(theta, grad, buffer, lr, momentum):
    raise NotImplementedError  # your code here: return new_theta, new_buffer

# %% tags=["solution"] jupyter={"source_hidden": true} slideshow={"slide_type": "skip"}
def sgd_momentum_step(theta, grad, buffer, lr, momentum):
    buffer = momentum * buffer + grad              # no lr inside: that is the lecture's v = lr * b
    assert buffer.shape == theta.shape
    return theta - lr * buffer, buffer

# %% tags=["check"]
_ = check_sgd_momentum_step(sgd_momentum_step)

# %% [markdown]
# **Exercise 2.** Write one step of Adam with bias correction,
# `adam_step(theta, grad, m, v, step, lr, betas, eps)`, returning the new (theta, m, v), as
# `torch.optim.Adam` computes it (section 4): ε outside the root. `m` and `v` are the running
# averages so far (zeros before the first step), and you return them updated but not
# bias-corrected. `step` is the number of steps taken before this one, so this step's t is
# step + 1. The rules are those of Exercise 1: new arrays, the arguments left as they are
# (`torch.optim.Adam` updates `m` and `v` in place; here that fails, naming the argument), any
# shape, NumPy only. The check runs 21 cases (steps 1 to 1,000, zero and large gradients,
# float32) at the same tolerance.

# %% tags=["exercise"]
def adam_step(theta, grad, m, v, step, lr, betas, eps):
    raise NotImplementedError  # your code here: return new_theta, new_m, new_v

# %% tags=["solution"] jupyter={"source_hidden": true} slideshow={"slide_type": "skip"}
def adam_step(theta, grad, m, v, step, lr, betas, eps):
    beta1, beta2 = betas
    t = step + 1
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad ** 2
    m_hat, v_hat = m / (1 - beta1 ** t), v / (1 - beta2 ** t)
    assert np.all(v_hat >= 0)
    return theta - lr * m_hat / (np.sqrt(v_hat) + eps), m, v

# %% tags=["check"]
_ = check_adam_step(adam_step)

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Your optimizers train a classifier
#
# Each step function that passes its check is kept in the folder `my_layers/`, and `my_layers(...)`
# loads it back (or `cnnlib`'s, until yours has passed; the table says which). `StepSGD` and
# `StepAdam` (in `cnnlib.numpy_nn.optim_steps`) are optimizers that call such a function for every
# parameter at every step. Section 2's linear classifier on the digits trains for 8 epochs
# (mini-batches of 32, the same starting weights and batch order) four times: with your momentum
# step and with `cnnlib`'s `SGD`, with your Adam step and with `cnnlib`'s `Adam`. The labels say
# whose step ran: "(yours)", or "(cnnlib's)" until yours has passed its check.

# %% slideshow={"slide_type": "subslide"}
layers = my_layers("sgd_momentum_step", "adam_step")
sgd_name, adam_name = (f"{step} ({layers.whose[step]})" for step in ("sgd_momentum_step", "adam_step"))
contenders = {sgd_name: lambda p: StepSGD(p, layers.sgd_momentum_step, lr=0.05, momentum=0.9),
              "cnnlib's SGD, momentum 0.9": lambda p: SGD(p, lr=0.05, momentum=0.9),
              adam_name: lambda p: StepAdam(p, layers.adam_step, lr=0.01),
              "cnnlib's Adam": lambda p: Adam(p, lr=0.01)}
curves = {}
for name, make_optimizer in contenders.items():
    model = Sequential(Flatten(), Linear(64, 10, rng=np.random.default_rng(1)))
    curves[name] = fit_numpy(model, (x_digits, y_digits), None, make_optimizer(model.parameters()), epochs=8,
                             batch_size=32, progress=False).train_loss

# %% slideshow={"slide_type": "subslide"}
for name, curve in curves.items():
    print(f"{name:>28s}: mean training loss {curve[0]:.3f} over epoch 1, {curve[-1]:.3f} over epoch 8")
names = list(curves)
gaps = [np.abs(np.subtract(curves[names[k]], curves[names[k + 1]])).max() for k in (0, 2)]
assert max(gaps) < 1e-4
print("largest difference between the step functions' curves and cnnlib's optimizers': below 1e-4")

# %% alt="Training loss per epoch, epochs 1 to 8, of the linear classifier on the digits trained four times: with the momentum step function from my_layers, labelled yours or cnnlib's (solid, circles), and cnnlib's SGD with momentum (dashed, squares), whose curves lie on top of each other, and with the Adam step function from my_layers (solid, triangles) and cnnlib's Adam (dashed, diamonds), also on top of each other. Both pairs fall steeply over the first two epochs and end near 0.2." slideshow={"slide_type": "subslide"}
plot_curves(np.arange(1, 9), curves, xlabel="epoch", ylabel="training loss",
            title="the digits classifier: step functions from my_layers beside cnnlib's optimizers",
            styles={sgd_name: "-o", "cnnlib's SGD, momentum 0.9": "--s", adam_name: "-^", "cnnlib's Adam": "--D"})
plt.show()

# %% [markdown]
# With your steps right, each pair of curves agrees to 10⁻⁴ (the cell above asserts it), whichever
# code computed them: your optimizer trains this classifier as `cnnlib`'s does.

# %% [markdown] slideshow={"slide_type": "subslide"}
# **Exercise 3.** Minimise f(θ) = θ² (gradient 2θ) with the lecture's momentum, starting from
# θ₀ = `THETA0_3` = 1 with η = `LR_3` = 0.1 and γ = `MOMENTUM_3` = 0.9. Give θ₁, θ₂, θ₃ (two
# decimals are enough). Then compare with plain gradient descent, which multiplies θ by 1 − 2η at
# every step.

# %%
print("theta0 =", THETA0_3, " lr =", LR_3, " momentum =", MOMENTUM_3)

# %% tags=["exercise"]
answer = None  # your answer here: [theta1, theta2, theta3]

# %% tags=["solution"] jupyter={"source_hidden": true} slideshow={"slide_type": "skip"}
path = descent_path(lambda theta: 2 * theta, THETA0_3, lambda p: LectureMomentum(p, lr=LR_3, momentum=MOMENTUM_3), 3)
answer = path[1:]
assert len(answer) == 3

# %% tags=["check"]
_ = check_momentum_steps(answer)

# %% [markdown]
# **Exercise 4.** By hand this time: Adam with β = `BETAS_2` = (0.9, 0.999) receives the
# gradients `GRADS_2` = (1, −2, 0.5) on one scalar parameter. Give the bias-corrected moments
# (m̂₃, v̂₃) after the third step (1% is close enough).

# %%
print("gradients:", GRADS_2, " betas:", BETAS_2)

# %% tags=["exercise"] slideshow={"slide_type": "subslide"}
answer = None  # your answer here: (m_hat, v_hat)

# %% tags=["solution"] jupyter={"source_hidden": true} slideshow={"slide_type": "skip"}
m3 = v3 = 0.0
for g in GRADS_2:
    m3, v3 = BETAS_2[0] * m3 + (1 - BETAS_2[0]) * g, BETAS_2[1] * v3 + (1 - BETAS_2[1]) * g ** 2
answer = (m3 / (1 - BETAS_2[0] ** 3), v3 / (1 - BETAS_2[1] ** 3))
assert answer[1] > 0

# %% tags=["check"]
_ = check_adam_moments(answer)
