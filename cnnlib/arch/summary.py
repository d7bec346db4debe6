"""A network's table from code: output shape, parameters, activations and multiply-adds per layer.

Taught in 07_case_studies_lenet to 09_case_studies_googlenet_resnet.

    >>> from cnnlib.models import vgg16
    >>> s = summary(vgg16(), (3, 224, 224), depth=1)
    >>> s["conv1_1"].output_shape, s["conv1_1"].params
    ((64, 224, 224), 1792)

How the numbers are found: one image (zeros) goes through the model, and forward hooks on
every module record the shape of what each module returns. The model's own device is used,
so a model built under ``with torch.device("meta"):`` is summarized from shapes alone, with
no memory for weights or activations.

Multiply-adds are counted by cnnlib from the layer arithmetic: every output value of a
convolution or linear layer is one dot product of a filter (or a weight row) with its input
window, so

    macs = (output values per image) * (weights in one filter) = H_out * W_out * C_out * (C_in/groups * kH * kW)

Biases are not counted, and pooling, normalization, activations, dropout and the additions
and concatenations between layers count as 0: they are cheap next to the dot products, and
the papers leave them out too.
"""
from __future__ import annotations

import html
import itertools
import math
from dataclasses import dataclass

import torch
import torch.nn as nn

from cnnlib.checks import check_int

# Layers whose output values are each one dot product with a filter (or weight row): counted by name,
# so cnnlib.torch_nn's layers of the same name count the same as torch.nn's.
DOT_PRODUCT_LAYERS = ("Conv1d", "Conv2d", "Conv3d", "Linear")


@dataclass(frozen=True)
class LayerRow:
    """One row of a summary: a layer (or, with ``depth=``, a group of layers)."""

    name: str                 # the module's dotted name in the model, e.g. "conv1" or "conv2_x.block1.conv1"
    layer: str                # its class name, e.g. "Conv2d"
    output_shape: tuple       # without the batch dimension, e.g. (96, 55, 55)
    params: int               # parameters inside it (counted at its first call only)
    activations: int          # output values per image (the lecture's "memory")
    macs: int                 # multiply-adds per image
    depth: int                # nesting depth: 1 for a child of the model, 2 for a grandchild, ...


def layer_macs(module: nn.Module, inputs: tuple, output) -> int:
    """Multiply-adds per image of one leaf layer; 0 for layers that compute no dot products."""
    weight = getattr(module, "weight", None)
    kind = type(module).__name__
    if weight is None or not isinstance(output, torch.Tensor):
        return 0
    if kind in DOT_PRODUCT_LAYERS or isinstance(module, (nn.modules.conv._ConvNd, nn.Linear)):
        if isinstance(module, nn.modules.conv._ConvTransposeNd):
            # Each input value is spread over C_out/groups * kH * kW outputs by one filter slice.
            return _per_image(inputs[0]) * weight[0].numel()
        return _per_image(output) * weight[0].numel()  # weight[0]: one filter, (C_in/groups, kH, kW)
    return 0


def _per_image(tensor: torch.Tensor) -> int:
    return math.prod(tensor.shape[1:])


def _shape(output):
    if isinstance(output, torch.Tensor):
        return tuple(output.shape[1:])
    if isinstance(output, (tuple, list)):
        return tuple(_shape(o) for o in output)
    return ()


def _activations(output) -> int:
    if isinstance(output, torch.Tensor):
        return _per_image(output)
    if isinstance(output, (tuple, list)):
        return sum(_activations(o) for o in output)
    return 0


class Summary:
    """The rows of a model's table and their totals; prints as text, renders as HTML in a notebook.

    ``total_params`` counts every parameter of the model once; ``total_macs`` adds the
    multiply-adds of all the layers; ``total_activations`` adds the ``activations`` of the rows
    shown (so it depends on ``depth``: a conv and its ReLU are two rows at leaf level, one
    group at depth 1). Index a summary by row name (``s["conv1"]``) or position (``s[0]``).
    """

    def __init__(self, title: str, input_shape: tuple, rows: list[LayerRow], total_params: int, total_macs: int):
        self.title = title
        self.input_shape = input_shape
        self.rows = rows
        self.total_params = total_params
        self.total_macs = total_macs

    @property
    def total_activations(self) -> int:
        return sum(row.activations for row in self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self):
        return iter(self.rows)

    def __getitem__(self, key) -> LayerRow:
        if isinstance(key, str):
            for row in self.rows:
                if row.name == key:
                    return row
            raise KeyError(f"no row named {key!r}; the rows are {[row.name for row in self.rows]}")
        return self.rows[key]

    def _table(self) -> tuple[list[str], list[list[str]], list[str]]:
        header = ["layer", "type", "output shape", "params", "activations", "multiply-adds"]
        body = [[row.name, row.layer, _format_shape(row.output_shape), f"{row.params:,}",
                 f"{row.activations:,}", f"{row.macs:,}"] for row in self.rows]
        total = ["total", "", "", f"{self.total_params:,}", f"{self.total_activations:,}", f"{self.total_macs:,}"]
        return header, body, total

    def __str__(self) -> str:
        header, body, total = self._table()
        widths = [max(len(line[i]) for line in [header, *body, total]) for i in range(len(header))]

        def fmt(line):  # text columns left-aligned, numbers right-aligned
            return "  ".join(c.ljust(w) if i < 3 else c.rjust(w) for i, (c, w) in enumerate(zip(line, widths)))

        rule = "-" * len(fmt(header))
        lines = [f"{self.title}, input {_format_shape(self.input_shape)}", rule, fmt(header), rule,
                 *map(fmt, body), rule, fmt(total), rule, self._footnote()]
        return "\n".join(lines)

    __repr__ = __str__

    def _repr_html_(self) -> str:
        header, body, total = self._table()
        right = ' style="text-align:right"'

        def cells(line, tag):
            return "".join(f"<{tag}{right if i >= 3 else ''}>{html.escape(c)}</{tag}>" for i, c in enumerate(line))

        rows = "".join(f"<tr>{cells(line, 'td')}</tr>" for line in body)
        return (f"<table><caption>{html.escape(self.title)}, input {_format_shape(self.input_shape)}</caption>"
                f"<thead><tr>{cells(header, 'th')}</tr></thead><tbody>{rows}</tbody>"
                f"<tfoot><tr>{cells(total, 'th')}</tr></tfoot></table>"
                f"<p>{html.escape(self._footnote())}</p>")

    def _footnote(self) -> str:
        return (f"{_si(self.total_params)} parameters, {_si(self.total_macs)} multiply-adds and "
                f"{_si(self.total_activations)} activations per image ({_si(4 * self.total_activations)}B "
                f"in float32); multiply-adds count convolutions and linear layers only.")


def resolution(row: LayerRow) -> str:
    """Where a row of a summary works: its output's height x width, "56×56" for shape (256, 56, 56);
    "flat" for an output without height and width (the classifier's linear layers). Used in
    10_appendix_fast_convolution."""
    return "×".join(str(side) for side in row.output_shape[1:]) if len(row.output_shape) == 3 else "flat"


def macs_by_resolution(table: Summary) -> dict[str, int]:
    """The multiply-adds of a summary's rows added up by `resolution`, in the order the rows come."""
    totals: dict[str, int] = {}
    for row in table:
        totals[resolution(row)] = totals.get(resolution(row), 0) + row.macs
    return totals


def _si(n: int) -> str:
    """A count the way the lecture writes it: 61.7K, 3.2M, 15.47G."""
    for unit, scale in (("G", 1e9), ("M", 1e6), ("K", 1e3)):
        if n >= scale:
            return f"{n / scale:.{2 if unit == 'G' else 1}f}{unit}"
    return str(n)


def _format_shape(shape) -> str:
    if shape and isinstance(shape[0], tuple):
        return ", ".join(_format_shape(s) for s in shape)
    return "(" + ", ".join(str(s) for s in shape) + ")"


def summary(model: nn.Module, input_size, depth: int | None = None, dtype=torch.float32,
            title: str | None = None) -> Summary:
    """The table of ``model`` for one input of shape ``input_size`` (without the batch), e.g. ``(3, 224, 224)``.

    Args:
        model: any ``torch.nn.Module``; left unchanged (it runs once in eval mode, without gradients).
        input_size: the shape of one example, ``(C, H, W)`` for images.
        depth: ``None`` for one row per leaf layer; ``k`` for one row per module at nesting depth
            ``k`` (leaves above that depth stay rows of their own), with the parameters and
            multiply-adds inside it summed and the shape of what it returns.
        dtype: dtype of the zero input.
        title: the caption of the table (default: the model's class name).

    Returns:
        a ``Summary`` with ``rows`` (``LayerRow``: name, layer, output_shape, params, activations,
        macs, depth), ``total_params``, ``total_macs`` and ``total_activations``.
    """
    if not isinstance(model, nn.Module):
        raise ValueError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if isinstance(input_size, int) or not isinstance(input_size, (tuple, list, torch.Size)) or not input_size:
        raise ValueError(f"input_size must be the shape of one example without the batch, "
                         f"such as (3, 224, 224), got {input_size!r}")
    input_size = tuple(check_int(s, "input_size", minimum=1) for s in input_size)
    if depth is not None:
        depth = check_int(depth, "depth", minimum=1)

    records = _run_with_hooks(model, input_size, dtype)
    has_children = any(True for _ in model.children())
    rows, seen = [], set()
    for name, module, row_depth, is_leaf, output, macs in records:
        if has_children and name == "":
            continue  # the model itself is the totals line, not a row
        wanted = is_leaf if depth is None else (row_depth == depth or (is_leaf and row_depth < depth))
        if not wanted:
            continue
        params = 0 if id(module) in seen else sum(p.numel() for p in module.parameters())
        seen.add(id(module))
        rows.append(LayerRow(name or type(module).__name__, type(module).__name__, _shape(output),
                             params, _activations(output), macs, row_depth))
    total_params = sum(p.numel() for p in {id(p): p for p in model.parameters()}.values())
    total_macs = sum(rec[5] for rec in records if rec[3])
    return Summary(title or type(model).__name__, input_size, rows, total_params, total_macs)


def _run_with_hooks(model: nn.Module, input_size: tuple, dtype) -> list[tuple]:
    """Run one zero image through ``model``; return (name, module, depth, is_leaf, output, macs) per call.

    A stack of counters follows the nesting of the calls: a leaf adds its multiply-adds to its
    own counter, and every module hands its total to the module that called it.
    """
    first = next(itertools.chain(model.parameters(), model.buffers()), None)
    device = first.device if first is not None else torch.device("cpu")
    records, open_calls = [], []

    def make_hooks(name, module):
        is_leaf = not any(True for _ in module.children())
        depth = 0 if name == "" else name.count(".") + 1

        def pre_hook(mod, inputs):
            open_calls.append(0)

        def post_hook(mod, inputs, output):
            macs = open_calls.pop() + (layer_macs(mod, inputs, output) if is_leaf else 0)
            if open_calls:
                open_calls[-1] += macs
            # Keep the shape only (a meta tensor of that shape), never the values.
            shell = _shells(output)
            records.append((name, mod, depth, is_leaf, shell, macs))

        return pre_hook, post_hook

    handles, modes = [], [(m, m.training) for m in model.modules()]
    try:
        for name, module in model.named_modules():
            pre, post = make_hooks(name, module)
            handles.append(module.register_forward_pre_hook(pre))
            handles.append(module.register_forward_hook(post))
        model.eval()
        with torch.no_grad():
            model(torch.zeros((1, *input_size), dtype=dtype, device=device))
    finally:
        for handle in handles:
            handle.remove()
        for module, mode in modes:
            module.training = mode
    return records


def _shells(output):
    if isinstance(output, torch.Tensor):
        return torch.empty(output.shape, device="meta")
    if isinstance(output, (tuple, list)):
        return tuple(_shells(o) for o in output)
    return None
