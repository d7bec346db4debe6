"""Winograd's fast convolution F(2x2, 3x3): a 3x3, stride-1 convolution with 2.25x fewer multiplies.

Taught in 02_convolution ("Beyond im2col"). im2col spends 3*3 = 9 multiply-adds per input
channel on every output pixel. Winograd's minimal filtering (Lavin & Gray, "Fast Algorithms for
Convolutional Neural Networks", 2016) computes a 2x2 block of outputs from the 4x4 input tile
under it with 16 products per channel instead of 4*9 = 36:

    Y = A^T [ (G g G^T) * (B^T d B) ] A          (* is the elementwise product)

``g`` is the 3x3 filter, ``d`` the 4x4 input tile, ``Y`` the 2x2 output block, and B^T, G, A^T
are the small constant matrices below. Summed over the input channels, the elementwise product
becomes 16 matrix multiplies, one per position xi of the 4x4 tile:

    M[xi] = U[xi] @ V[xi]      U = G g G^T as (C_out, C_in),  V = B^T d B as (C_in, tiles)

B^T and A^T hold only 0 and +-1, so the transforms are additions and subtractions; what is left
for BLAS is 16/36 of im2col's multiplies. The result is the same convolution up to round-off
(exact in exact arithmetic); the backward pass runs the same steps transposed.

How the transforms stay fast in NumPy: the padded input is split into its four *parity planes*
(even/odd rows x even/odd columns), each laid out as a grid of (tiles_h+1) x (tiles_w+1) and
flattened. Entry (r, s) of every 4x4 tile is then one contiguous slice of plane (r%2, s%2),
shifted by (r//2) grid rows and (s//2) grid columns, so each transform is a few whole-array
additions. The extra grid row and column hold "tiles" that straddle two rows: their outputs are
dropped and their gradients are zero.
"""
from __future__ import annotations

import numpy as np

BT = np.array([[1, 0, -1, 0],
               [0, 1, 1, 0],
               [0, -1, 1, 0],
               [0, 1, 0, -1]])           # input transform B^T (4x4): V = B^T d B
G = np.array([[1.0, 0.0, 0.0],
              [0.5, 0.5, 0.5],
              [0.5, -0.5, 0.5],
              [0.0, 0.0, 1.0]])          # filter transform G (4x3): U = G g G^T
AT = np.array([[1, 1, 1, 0],
               [0, 1, -1, -1]])          # output transform A^T (2x4): Y = A^T M A


def all_finite(x, weight) -> bool:
    """Whether Winograd gives the direct sum here: no inf or NaN in the input or the weight.

    The transforms subtract inputs from one another, so one +inf gives inf - inf = NaN across its
    tile, where the direct sum (and torch.nn) gives inf, or finite values for outputs whose window
    misses it. Such calls take im2col instead. A sum is cheaper than a mask; it is non-finite if any
    element is (a huge finite sum that overflows only sends the call to im2col too).
    """
    with np.errstate(over="ignore", invalid="ignore"):  # inf + -inf, or an overflow: not finite, no warning
        return bool(np.isfinite(x.sum()) and np.isfinite(weight.sum()))


def tiles_for(out_hw) -> tuple[int, int]:
    """How many 2x2 output blocks cover an (H_out, W_out) output: (ceil(H_out/2), ceil(W_out/2))."""
    return tuple(-(-size // 2) for size in out_hw)


# -- the transforms, as additions of whole arrays -------------------------------------------------
def combine(matrix, terms, out):
    """``out[i] = sum_k matrix[i, k] * terms[k]`` for a matrix of 0 and +-1, by additions only."""
    for i, row in enumerate(matrix):
        first, *rest = np.flatnonzero(row)
        if row[first] > 0 and rest:                  # out = a +- b in one pass
            second, *rest = rest
            (np.add if row[second] > 0 else np.subtract)(terms[first], terms[second], out=out[i])
        elif row[first] > 0:
            np.copyto(out[i], terms[first])
        else:
            np.negative(terms[first], out=out[i])
        for k in rest:
            (np.add if row[k] > 0 else np.subtract)(out[i], terms[k], out=out[i])
    return out


def transform_tiles(matrix, planes, step, length, out):
    """Apply ``matrix`` (rows x 4) along one axis of every tile at once.

    ``planes[p]`` holds the flattened grid of parity p along that axis; tile entry k is
    ``planes[k % 2]`` shifted by ``(k // 2) * step`` (step = 1 along a row, the grid width down
    a column). ``out[i] = sum_k matrix[i, k] * entry_k``, each of ``length`` values.
    """
    terms = [planes[k % 2][..., (k // 2) * step:(k // 2) * step + length] for k in range(4)]
    return combine(matrix, terms, out)


def transform_tiles_adjoint(matrix, grad_out, step, planes):
    """The adjoint of `transform_tiles`: add ``matrix[i, k] * grad_out[i]`` onto tile entry k's slice."""
    length = grad_out.shape[-1]
    for i, k in zip(*np.nonzero(matrix)):
        entry = planes[k % 2][..., (k // 2) * step:(k // 2) * step + length]
        (np.add if matrix[i, k] > 0 else np.subtract)(entry, grad_out[i], out=entry)
    return planes


# -- images <-> parity planes ---------------------------------------------------------------------
def to_planes(x, padding, tiles, slack=0):
    """(N, C, H, W) -> (2, 2, C*N*(tH+1)*(tW+1) + slack) with plane[pr, pc][c, n, i, j] = x_pad[n, c, 2i+pr, 2j+pc].

    ``x_pad`` is ``x`` with ``padding`` zeros on each side (and more zeros below and to the right
    up to the grid's size); ``slack`` zeros at the end let shifted slices run past the last tile.
    """
    n, c, h, w = x.shape
    size = c * n * (tiles[0] + 1) * (tiles[1] + 1)
    flat = np.zeros((2, 2, size + slack), dtype=x.dtype)
    grid = flat[..., :size].reshape(2, 2, c, n, tiles[0] + 1, tiles[1] + 1)
    for pr in (0, 1):
        for pc in (0, 1):
            rows, cols = parity_slices(pr, pc, padding, (h, w))
            grid[pr, pc, :, :, rows[1], cols[1]] = x[:, :, rows[0], cols[0]].transpose(1, 0, 2, 3)
    return flat


def from_planes(flat, padding, tiles, out):
    """The inverse of `to_planes` on the image's own pixels: write the planes into ``out`` (N, C, H, W)."""
    n, c, h, w = out.shape
    size = c * n * (tiles[0] + 1) * (tiles[1] + 1)
    grid = flat[..., :size].reshape(2, 2, c, n, tiles[0] + 1, tiles[1] + 1)
    for pr in (0, 1):
        for pc in (0, 1):
            rows, cols = parity_slices(pr, pc, padding, (h, w))
            out[:, :, rows[0], cols[0]] = grid[pr, pc, :, :, rows[1], cols[1]].transpose(1, 0, 2, 3)
    return out


def parity_slices(pr, pc, padding, hw):
    """For parity (pr, pc) of the padded grid: (image slice, grid slice) for rows, then for columns."""
    slices = []
    for parity, pad, size in ((pr, padding[0], hw[0]), (pc, padding[1], hw[1])):
        start = (parity - pad) % 2                   # first image row (column) with that padded parity
        count = len(range(start, size, 2))
        first = (start + pad) // 2                   # its position on the grid
        slices.append((slice(start, None, 2), slice(first, first + count)))
    return slices


# -- filters --------------------------------------------------------------------------------------
def transform_filters(weight):
    """U = G g G^T for every filter: (C_out, C_in, 3, 3) -> (16, C_out, C_in).

    Flattened, G g G^T is the Kronecker product (G x G) (16x9) times the filter's 9 entries, so
    one matrix multiply transforms every filter at once.
    """
    c_out, c_in = weight.shape[:2]
    gg = np.kron(G, G).astype(weight.dtype)                         # (16, 9)
    return (gg @ weight.reshape(c_out * c_in, 9).T).reshape(16, c_out, c_in)


def transform_filters_adjoint(grad_u):
    """The adjoint of `transform_filters`: (16, C_out, C_in) -> (C_out, C_in, 3, 3), G^T dU G per filter."""
    _, c_out, c_in = grad_u.shape
    gg = np.kron(G, G).astype(grad_u.dtype)
    return (grad_u.reshape(16, -1).T @ gg).reshape(c_out, c_in, 3, 3)


# -- forward and backward, a slice of channels at a time ----------------------------------------
def transform_input(x, padding, tiles, v, channels):
    """Write V = B^T d B for every 4x4 tile of input ``channels`` into ``v`` (16, C_in, P)."""
    width = tiles[1] + 1
    planes = to_planes(x[:, channels], padding, tiles, slack=width + 1)           # (2, 2, length + slack)
    length = planes.shape[-1] - width - 1
    rows = transform_tiles(BT, planes, width, length + 1, np.empty((4, 2, length + 1), x.dtype))  # B^T d
    out = v[:, channels].reshape(4, 4, length)                                     # a view into v
    transform_tiles(BT, rows.transpose(1, 0, 2), 1, length, out.transpose(1, 0, 2))  # (B^T d) B


def transform_output(m, tiles, out, channels):
    """Write Y = A^T M A for output ``channels`` from M (16, C_out, P) into ``out`` (N, C_out, H_out, W_out)."""
    mc = m[:, channels].reshape(4, 4, -1)
    rows = combine(AT, list(mc), np.empty((2, 4, mc.shape[-1]), m.dtype))         # A^T M
    y = np.empty((2, 2, mc.shape[-1]), m.dtype)
    combine(AT, [rows[:, k] for k in range(4)], y.transpose(1, 0, 2))             # (A^T M) A
    from_planes(y, (0, 0), tiles, out[:, channels])


def transform_grad_output(grad_output, tiles, grad_m, channels):
    """Write dM = A dY A^T for output ``channels`` into ``grad_m`` (16, C_out, P); zero on the extra grid tiles."""
    g = to_planes(grad_output[:, channels], (0, 0), tiles)                        # (2, 2, length)
    rows = combine(AT.T, list(g), np.empty((4, 2, g.shape[-1]), g.dtype))         # A dY
    out = grad_m[:, channels].reshape(4, 4, -1)
    combine(AT.T, [rows[:, b] for b in range(2)], out.transpose(1, 0, 2))         # (A dY) A^T


def transform_input_adjoint(grad_v, padding, tiles, grad_input, channels):
    """Add dV (16, C_in, P) back through the input transform onto the pixels of ``grad_input``'s ``channels``."""
    width = tiles[1] + 1
    gv = grad_v[:, channels].reshape(4, 4, -1)
    length = gv.shape[-1]
    grad_rows = np.zeros((2, 4, length + 1), gv.dtype)                            # (parity of column, a, grid)
    transform_tiles_adjoint(BT, gv.transpose(1, 0, 2), 1, grad_rows)
    grad_planes = np.zeros((2, 2, length + width + 1), gv.dtype)
    transform_tiles_adjoint(BT, grad_rows.transpose(1, 0, 2), width, grad_planes)
    from_planes(grad_planes, padding, tiles, grad_input[:, channels])


def winograd_forward(x, weight, bias, padding, out_hw):
    """The convolution (N, C_in, H, W) -> (N, C_out, H_out, W_out) for 3x3 filters, stride 1; returns (out, cache).

    Arguments are assumed checked (see ``conv2d_forward(..., algorithm="winograd")``).
    """
    (n, c_in), c_out, tiles = x.shape[:2], weight.shape[0], tiles_for(out_hw)
    p = n * (tiles[0] + 1) * (tiles[1] + 1)                                        # grid points per channel
    v = np.empty((16, c_in, p), x.dtype)                                           # (16, C_in, P)
    in_chunks(lambda channels: transform_input(x, padding, tiles, v, channels), c_in, p)
    m = np.matmul(transform_filters(weight), v)                                    # (16, C_out, P): 16 GEMMs
    del v
    out = np.empty((n, c_out, *out_hw), x.dtype)
    in_chunks(lambda channels: transform_output(m, tiles, out, channels), c_out, p)
    if bias is not None:
        out += bias[:, None, None]
    return out, (x, weight, bias is not None, padding, out_hw)


def winograd_backward(grad_output, cache, need_input_grad: bool = True):
    """Gradients from `winograd_forward`'s cache: (grad_input or None, grad_weight, grad_bias or None).

    Every forward step, transposed: dM = A dY A^T, dU[xi] = dM[xi] @ V[xi]^T, dV[xi] = U[xi]^T @ dM[xi],
    grad_weight = G^T dU G, and dV goes back through the input transform onto the pixels.
    The transformed input V is computed again rather than kept from the forward pass, so, as with
    im2col, only one transformed copy of the input is alive at a time.
    """
    x, weight, has_bias, padding, out_hw = cache
    (n, c_in), c_out, tiles = x.shape[:2], weight.shape[0], tiles_for(out_hw)
    grad_bias = grad_output.sum(axis=(0, 2, 3)) if has_bias else None
    p = n * (tiles[0] + 1) * (tiles[1] + 1)
    grad_m = np.empty((16, c_out, p), x.dtype)
    in_chunks(lambda channels: transform_grad_output(grad_output, tiles, grad_m, channels), c_out, p)
    v = np.empty((16, c_in, p), x.dtype)
    in_chunks(lambda channels: transform_input(x, padding, tiles, v, channels), c_in, p)
    grad_weight = transform_filters_adjoint(np.matmul(grad_m, v.transpose(0, 2, 1)))  # 16 GEMMs
    if not need_input_grad:                                                           # a first layer
        return None, grad_weight, grad_bias
    grad_v = np.matmul(transform_filters(weight).transpose(0, 2, 1), grad_m, out=v)   # 16 GEMMs, into v
    del grad_m
    grad_input = np.empty(x.shape, x.dtype)
    in_chunks(lambda channels: transform_input_adjoint(grad_v, padding, tiles, grad_input, channels), c_in, p)
    return grad_input, grad_weight, grad_bias


# -- cache-sized pieces ---------------------------------------------------------------------------
CHUNK = 1 << 16  # grid points per piece (x 4-16 arrays of them): the transforms' temporaries stay in cache


def in_chunks(work, count, per_channel):
    """Run ``work(channels)`` over range(count) in slices of about `CHUNK` / ``per_channel`` channels.

    The transforms make several temporary arrays per slice; slices keep them small (a bounded
    amount of memory whatever the layer) and more of them in the CPU's cache (10-15% faster on
    the VGG and ResNet benchmark layers here).
    """
    step = max(1, CHUNK // max(1, per_channel))  # an empty batch has no grid points
    for start in range(0, count, step):
        work(slice(start, min(count, start + step)))
