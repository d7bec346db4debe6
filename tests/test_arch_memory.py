"""cnnlib.arch.memory.activation_memory: the bytes per image that training keeps, counted two ways."""
from __future__ import annotations

import pytest
import torch
import torch.nn as nn

from cnnlib import models
from cnnlib.arch import summary
from cnnlib.arch.memory import activation_memory


def small_net():
    return nn.Sequential(nn.Conv2d(1, 2, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(32, 3))


def saved_by_hooks(model, input_size, batch):
    """Bytes autograd saves for backward, from torch's own saved_tensors_hooks, each storage once."""
    seen = {}

    def pack(t):
        seen[t.untyped_storage()._cdata] = t.untyped_storage().nbytes()
        return t

    x = torch.empty((batch, *input_size), device=next(model.parameters()).device)
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        out = model(x)
    weights = {p.untyped_storage()._cdata for p in model.parameters()}
    return sum(n for key, n in seen.items() if key not in weights), out[0].numel() * out.element_size()


def test_small_net_by_hand():
    m = activation_memory(small_net(), (1, 8, 8))
    # per image: the input 8*8*4 (the convolution keeps it for its weight gradient), the ReLU's output
    # 2*8*8*4 (kept by the ReLU and by the max pooling, once), the pooled 2*4*4*4 (kept by the linear
    # layer as a flat view) and its int64 winners 2*4*4*8, and the 3 output scores
    assert m.saved_by_dtype == {"float32": 256 + 512 + 128 + 12, "int64": 256}
    assert m.saved == 1164
    # at the max pooling's backward the ReLU output's gradient (512) and the pooled gradient (128) are
    # alive beside everything still saved
    assert m.peak == 1164 + 512 + 128


@pytest.mark.parametrize("build", [small_net, lambda: nn.Sequential(
    nn.Conv2d(3, 4, 3), nn.ReLU(), nn.MaxPool2d(2, 2), nn.Flatten(), nn.Linear(4 * 3 * 3, 8), nn.ReLU(),
    nn.Dropout(0.5), nn.Linear(8, 2))])
def test_saved_agrees_with_torchs_saved_tensors_hooks(build):
    torch.manual_seed(0)
    model = build()
    size = (1, 8, 8) if model[0].in_channels == 1 else (3, 8, 8)
    (b1, out1), (b2, out2) = saved_by_hooks(model, size, 1), saved_by_hooks(model, size, 3)
    assert activation_memory(model, size, batches=(1, 3)).saved == (b2 - b1) / 2 + out1 == (b2 - b1) / 2 + out2


def test_vgg16_on_meta_matches_its_table():
    with torch.device("meta"):
        vgg = models.vgg16()
    m = activation_memory(vgg, (3, 224, 224))
    s = summary(vgg, (3, 224, 224), depth=1)
    pooled = sum(row.activations for row in s.rows if row.name.startswith("pool"))
    assert m.saved_by_dtype["int64"] == 8 * pooled == 12_242_944           # one winner's index per pooled value
    # every row's output, the input image, and FC6/FC7's ReLU outputs and dropout masks (4 x 4,096)
    assert m.saved_by_dtype["float32"] == 4 * (s.total_activations + 3 * 224 * 224 + 4 * 4096)
    assert m.saved == 73_258_912 and m.saved < m.peak < m.saved + 1e6
    assert all(p.grad is None for p in vgg.parameters())


def test_bad_batches():
    with pytest.raises(ValueError, match="batches must be two sizes"):
        activation_memory(small_net(), (1, 8, 8), batches=(2, 2))
