"""Winograd's F(2x2, 3x3) in PyTorch tensor operations: the same steps and names as ``cnnlib.numpy_nn.winograd``.

A 3x3, stride-1 convolution with 16 products per 2x2 output block and input channel instead of
36: ``Y = A^T [ (G g G^T) * (B^T d B) ] A``, summed over channels as 16 matrix multiplies. Read
``cnnlib.numpy_nn.winograd`` for the derivation and for the parity-plane layout that turns every
transform into additions of whole tensors; this module repeats it line for line on tensors of
any device and dtype. `winograd_backward` is written by hand (``conv2d(..., algorithm="winograd")``
hands the pair to autograd through ``Conv2dFunction``). Taught in 02_convolution.
"""
from __future__ import annotations

import torch

from cnnlib.numpy_nn.winograd import AT, BT, CHUNK, G, parity_slices, tiles_for  # shared: no arrays involved

__all__ = ["AT", "BT", "G", "CHUNK", "all_finite", "tiles_for", "parity_slices", "combine", "transform_tiles",
           "transform_tiles_adjoint", "to_planes", "from_planes", "transform_filters", "transform_filters_adjoint",
           "transform_input", "transform_output", "transform_grad_output", "transform_input_adjoint",
           "winograd_forward", "winograd_backward", "in_chunks"]


def all_finite(x, weight) -> bool:
    """Whether Winograd gives the direct sum here: no inf or NaN in the input or the weight.

    As in ``cnnlib.numpy_nn.winograd.all_finite``: one inf gives inf - inf = NaN across its tile in the
    transforms, so `cnnlib.torch_nn.conv` takes im2col then. Reading the answer is a host read, so
    conv2d asks only on the CPU, where it costs no device sync.
    """
    return bool(torch.isfinite(x.sum()) and torch.isfinite(weight.sum()))


# -- the transforms, as additions of whole tensors ------------------------------------------------
def combine(matrix, terms, out):
    """``out[i] = sum_k matrix[i, k] * terms[k]`` for a matrix of 0 and +-1, by additions only."""
    for i, row in enumerate(matrix):
        first, *rest = [k for k in range(len(row)) if row[k] != 0]
        if row[first] > 0 and rest:                  # out = a +- b in one pass
            second, *rest = rest
            (torch.add if row[second] > 0 else torch.sub)(terms[first], terms[second], out=out[i])
        elif row[first] > 0:
            out[i].copy_(terms[first])
        else:
            torch.neg(terms[first], out=out[i])
        for k in rest:
            out[i].add_(terms[k], alpha=int(row[k]))
    return out


def transform_tiles(matrix, planes, step, length, out):
    """Apply ``matrix`` (rows x 4) along one axis of every tile at once; tile entry k is
    ``planes[k % 2]`` shifted by ``(k // 2) * step``."""
    terms = [planes[k % 2][..., (k // 2) * step:(k // 2) * step + length] for k in range(4)]
    return combine(matrix, terms, out)


def transform_tiles_adjoint(matrix, grad_out, step, planes):
    """The adjoint of `transform_tiles`: add ``matrix[i, k] * grad_out[i]`` onto tile entry k's slice."""
    length = grad_out.shape[-1]
    for i in range(len(matrix)):
        for k in range(4):
            if matrix[i][k] != 0:
                planes[k % 2][..., (k // 2) * step:(k // 2) * step + length].add_(grad_out[i], alpha=int(matrix[i][k]))
    return planes


# -- images <-> parity planes ---------------------------------------------------------------------
def to_planes(x, padding, tiles, slack=0):
    """(N, C, H, W) -> (2, 2, C*N*(tH+1)*(tW+1) + slack) with plane[pr, pc][c, n, i, j] = x_pad[n, c, 2i+pr, 2j+pc]."""
    n, c, h, w = x.shape
    size = c * n * (tiles[0] + 1) * (tiles[1] + 1)
    flat = x.new_zeros(2, 2, size + slack)
    grid = flat[..., :size].view(2, 2, c, n, tiles[0] + 1, tiles[1] + 1)
    for pr in (0, 1):
        for pc in (0, 1):
            rows, cols = parity_slices(pr, pc, padding, (h, w))
            grid[pr, pc, :, :, rows[1], cols[1]] = x[:, :, rows[0], cols[0]].permute(1, 0, 2, 3)
    return flat


def from_planes(flat, padding, tiles, out):
    """The inverse of `to_planes` on the image's own pixels: write the planes into ``out`` (N, C, H, W)."""
    n, c, h, w = out.shape
    size = c * n * (tiles[0] + 1) * (tiles[1] + 1)
    grid = flat[..., :size].view(2, 2, c, n, tiles[0] + 1, tiles[1] + 1)
    for pr in (0, 1):
        for pc in (0, 1):
            rows, cols = parity_slices(pr, pc, padding, (h, w))
            out[:, :, rows[0], cols[0]] = grid[pr, pc, :, :, rows[1], cols[1]].permute(1, 0, 2, 3)
    return out


# -- filters --------------------------------------------------------------------------------------
def _gg(like):
    """The Kronecker product G x G (16x9) on ``like``'s device and dtype."""
    g = torch.tensor(G, dtype=like.dtype, device=like.device)
    return torch.kron(g, g)


def transform_filters(weight):
    """U = G g G^T for every filter: (C_out, C_in, 3, 3) -> (16, C_out, C_in), one matrix multiply."""
    c_out, c_in = weight.shape[:2]
    return (_gg(weight) @ weight.reshape(c_out * c_in, 9).t()).reshape(16, c_out, c_in)


def transform_filters_adjoint(grad_u):
    """The adjoint of `transform_filters`: (16, C_out, C_in) -> (C_out, C_in, 3, 3), G^T dU G per filter."""
    _, c_out, c_in = grad_u.shape
    return (grad_u.reshape(16, -1).t() @ _gg(grad_u)).reshape(c_out, c_in, 3, 3)


# -- forward and backward, a slice of channels at a time ----------------------------------------
def transform_input(x, padding, tiles, v, channels):
    """Write V = B^T d B for every 4x4 tile of input ``channels`` into ``v`` (16, C_in, P)."""
    width = tiles[1] + 1
    planes = to_planes(x[:, channels], padding, tiles, slack=width + 1)
    length = planes.shape[-1] - width - 1
    rows = transform_tiles(BT, planes, width, length + 1, x.new_empty(4, 2, length + 1))       # B^T d
    out = v[:, channels].view(4, 4, length)                                                     # a view into v
    transform_tiles(BT, rows.transpose(0, 1), 1, length, out.transpose(0, 1))                   # (B^T d) B


def transform_output(m, tiles, out, channels):
    """Write Y = A^T M A for output ``channels`` from M (16, C_out, P) into ``out`` (N, C_out, H_out, W_out)."""
    mc = m[:, channels].reshape(4, 4, -1)
    rows = combine(AT, list(mc), m.new_empty(2, 4, mc.shape[-1]))
    y = m.new_empty(2, 2, mc.shape[-1])
    combine(AT, [rows[:, k] for k in range(4)], y.transpose(0, 1))
    from_planes(y, (0, 0), tiles, out[:, channels])


def transform_grad_output(grad_output, tiles, grad_m, channels):
    """Write dM = A dY A^T for output ``channels`` into ``grad_m`` (16, C_out, P); zero on the extra grid tiles."""
    g = to_planes(grad_output[:, channels], (0, 0), tiles)
    rows = combine(AT.T, list(g), g.new_empty(4, 2, g.shape[-1]))
    out = grad_m[:, channels].view(4, 4, -1)
    combine(AT.T, [rows[:, b] for b in range(2)], out.transpose(0, 1))


def transform_input_adjoint(grad_v, padding, tiles, grad_input, channels):
    """Add dV (16, C_in, P) back through the input transform onto the pixels of ``grad_input``'s ``channels``."""
    width = tiles[1] + 1
    gv = grad_v[:, channels].reshape(4, 4, -1)
    length = gv.shape[-1]
    grad_rows = gv.new_zeros(2, 4, length + 1)
    transform_tiles_adjoint(BT, gv.transpose(0, 1), 1, grad_rows)
    grad_planes = gv.new_zeros(2, 2, length + width + 1)
    transform_tiles_adjoint(BT, grad_rows.transpose(0, 1), width, grad_planes)
    from_planes(grad_planes, padding, tiles, grad_input[:, channels])


@torch.no_grad()
def winograd_forward(x, weight, bias, padding, out_hw):
    """The convolution (N, C_in, H, W) -> (N, C_out, H_out, W_out) for 3x3 filters, stride 1; returns (out, cache).

    It writes into preallocated tensors, which autograd cannot follow, so it runs without autograd:
    its gradient is `winograd_backward` (``conv2d`` wires the two together for ``loss.backward()``).
    """
    (n, c_in), c_out, tiles = x.shape[:2], weight.shape[0], tiles_for(out_hw)
    p, dev = n * (tiles[0] + 1) * (tiles[1] + 1), x.device.type
    v = x.new_empty(16, c_in, p)
    in_chunks(lambda channels: transform_input(x, padding, tiles, v, channels), c_in, p, dev)
    m = torch.matmul(transform_filters(weight), v)                     # (16, C_out, P): 16 GEMMs
    del v
    out = x.new_empty(n, c_out, *out_hw)
    in_chunks(lambda channels: transform_output(m, tiles, out, channels), c_out, p, dev)
    if bias is not None:
        out += bias[:, None, None]
    return out, (x, weight, bias is not None, padding, out_hw)


@torch.no_grad()
def winograd_backward(grad_output, cache, need_input_grad: bool = True):
    """Gradients from `winograd_forward`'s cache: (grad_input or None, grad_weight, grad_bias or None).

    V is computed again; ``need_input_grad=False`` skips the input gradient."""
    x, weight, has_bias, padding, out_hw = cache
    (n, c_in), c_out, tiles = x.shape[:2], weight.shape[0], tiles_for(out_hw)
    grad_bias = grad_output.sum(dim=(0, 2, 3)) if has_bias else None
    p, dev = n * (tiles[0] + 1) * (tiles[1] + 1), x.device.type
    grad_m = x.new_empty(16, c_out, p)
    in_chunks(lambda channels: transform_grad_output(grad_output, tiles, grad_m, channels), c_out, p, dev)
    v = x.new_empty(16, c_in, p)
    in_chunks(lambda channels: transform_input(x, padding, tiles, v, channels), c_in, p, dev)
    grad_weight = transform_filters_adjoint(torch.matmul(grad_m, v.transpose(1, 2)))    # 16 GEMMs
    if not need_input_grad:                                                             # a first layer
        return None, grad_weight, grad_bias
    grad_v = torch.matmul(transform_filters(weight).transpose(1, 2), grad_m, out=v)     # 16 GEMMs, into v
    del grad_m
    grad_input = x.new_empty(x.shape)
    in_chunks(lambda channels: transform_input_adjoint(grad_v, padding, tiles, grad_input, channels), c_in, p, dev)
    return grad_input, grad_weight, grad_bias


def in_chunks(work, count, per_channel, device_type="cpu"):
    """Run ``work(channels)`` over range(count) in slices of about `CHUNK` / ``per_channel`` channels.

    Slices keep a CPU's caches warm; on a GPU they would only add kernel launches, so it gets one.
    """
    step = max(1, CHUNK // max(1, per_channel)) if device_type == "cpu" else max(1, count)  # N=0: no grid points
    for start in range(0, count, step):
        work(slice(start, min(count, start + step)))
