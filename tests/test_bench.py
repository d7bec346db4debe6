"""The benchmark's machinery on tiny sizes: timing, arithmetic, ratios, tables, JSON, plot, CLI.

Nothing here asserts a speed (that is what ``make bench`` reports). What is asserted: medians and
extrapolations are computed right, FLOP and byte counts match hand arithmetic, ratios point the
right way, every output has its fields, float32 stays float32 in the reference layers, and the
convolution keeps at most one unfolded copy of its input alive.
"""
from __future__ import annotations

import json
import tracemalloc

import numpy as np
import pytest
import torch

from cnnlib.bench import cases, conv_table
from cnnlib.bench.__main__ import main, parse_args
from cnnlib.bench.cases import ConvCase, PoolCase, conv_flops, pool_bytes
from cnnlib.bench.ceiling import bench_copy, bench_gemm, gemm_flops
from cnnlib.bench.layers import (IM2COL, IMPLS, NAIVE, NUMPY, REFERENCE, TORCH_NN, bench_conv, bench_pool,
                                 check_outputs)
from cnnlib.bench.models import _check_logits, bench_inference, bench_training
from cnnlib.bench.report import Table, fmt, fmt_ratio, layer_table, plot, report, write_json
from cnnlib.bench.results import Measurement, add_ratios, fraction_of
from cnnlib.bench.timing import Task, interleaved, median, peak_rss, strict_float32, thread_info, threads
from cnnlib.numpy_nn import conv as np_conv
from cnnlib.numpy_nn import pooling as np_pool

TINY_CONV = ConvCase("tiny", batch=4, in_channels=2, size=9, out_channels=3, kernel_size=3, padding=1, naive_batch=2)
TINY_POOL = PoolCase("tiny pool", "max", batch=4, channels=2, size=9, kernel_size=3, stride=2, naive_batch=2)


# -- timing ---------------------------------------------------------------------------------------
def test_interleaved_rotates_the_order_and_warms_up_once():
    calls = []
    tasks = {name: Task(run=lambda _, name=name: calls.append(name)) for name in "abc"}
    times = interleaved(tasks, repeats=3)
    assert calls == list("abc") + list("abc") + list("bca") + list("cab")  # warm-up, then rotated rounds
    assert {name: len(t) for name, t in times.items()} == {"a": 3, "b": 3, "c": 3}
    assert all(t >= 0 for ts in times.values() for t in ts)


def test_interleaved_lets_the_other_librarys_threads_settle(monkeypatch):
    from cnnlib.bench import timing

    events = []
    monkeypatch.setattr(timing.time, "sleep", lambda seconds: events.append(("sleep", seconds)))
    tasks = {"a": Task(run=lambda _: events.append("a"), library="numpy"),
             "b": Task(run=lambda _: events.append("b"), library="numpy", warmup=False),
             "c": Task(run=lambda _: events.append("c"), library="torch"),
             "d": Task(run=lambda _: events.append("d"))}  # no library: never waits, never makes others wait
    times = interleaved(tasks, repeats=2)
    pause = ("sleep", timing.SETTLE_S)
    # after a pause a task runs once untimed (its threads are woken), unless it takes no warm-up
    assert events == ["a", pause, "c", "c", "d",                      # warm-up (b takes none)
                      pause, "a", "a", "b", pause, "c", "c", "d",     # round 1
                      pause, "b", pause, "c", "c", "d", pause, "a", "a"]  # round 2, rotated
    assert {name: len(t) for name, t in times.items()} == {"a": 2, "b": 2, "c": 2, "d": 2}
    assert timing.SETTLE_S >= 0.15  # OpenBLAS spins for about 0.1 s


def test_interleaved_caps_a_slow_task_and_skips_its_warmup():
    calls = []
    tasks = {"fast": Task(run=lambda _: calls.append("fast")),
             "slow": Task(run=lambda _: calls.append("slow"), repeats=1, warmup=False)}
    times = interleaved(tasks, repeats=4)
    assert len(times["fast"]) == 4 and len(times["slow"]) == 1
    assert calls.count("slow") == 1 and calls.count("fast") == 5


def test_task_setup_is_not_timed_and_keep_stores_the_first_value():
    import time

    values = iter([10, 20])
    task = Task(setup=lambda: time.sleep(0.05), run=lambda _: next(values), keep=True)
    assert task.call() < 0.05
    task.call()
    assert task.result == 10


def test_median_of_the_timed_calls():
    assert median([3.0, 1.0, 2.0]) == 2.0
    assert median([4.0, 1.0, 2.0, 3.0]) == 2.5
    with pytest.raises(ValueError, match="times must hold at least one"):
        median([])


def test_threads_sets_and_restores_both_thread_pools():
    before = torch.get_num_threads()
    with threads(1):
        info = thread_info()
        assert torch.get_num_threads() == 1
    assert info["torch"] == 1
    assert all(pool["threads"] == 1 for pool in info["pools"])
    assert torch.get_num_threads() == before
    with pytest.raises(ValueError, match="threads"):
        with threads(0):
            pass


def test_strict_float32_turns_tf32_off_and_back():
    torch.backends.cudnn.allow_tf32 = True
    with strict_float32():
        assert not torch.backends.cudnn.allow_tf32 and not torch.backends.cuda.matmul.allow_tf32
    assert torch.backends.cudnn.allow_tf32


def test_peak_rss_sees_a_large_temporary_array():
    with peak_rss() as peak:
        block = np.ones(64 * 2 ** 20 // 8)  # 64 MiB, touched
        del block
    if peak["bytes"] is None:
        pytest.skip("this system does not let a process reset its peak resident size")
    assert 60 * 2 ** 20 <= peak["bytes"] < 200 * 2 ** 20


# -- arithmetic -----------------------------------------------------------------------------------
def test_conv_flops_by_hand():
    lenet = cases.find(cases.CONV_CASES, ["LeNet-5 C1"])[0]
    assert conv_flops(lenet) == 2 * 64 * 6 * 28 * 28 * 1 * 5 * 5 == 15_052_800
    alexnet = cases.find(cases.CONV_CASES, ["AlexNet CONV1"])[0]
    assert alexnet.out_size == 55
    assert conv_flops(alexnet) == 2 * 8 * 96 * 55 * 55 * 3 * 11 * 11
    assert conv_flops(alexnet, "backward") == 2 * conv_flops(alexnet)
    assert conv_flops(alexnet, "forward+backward") == 3 * conv_flops(alexnet)
    assert conv_flops(alexnet, batch=1) == conv_flops(alexnet) // 8
    with pytest.raises(ValueError, match="which must be one of"):
        conv_flops(alexnet, "sideways")


def test_reference_cases_are_the_ones_asked_for():
    shapes = {c.name: (c.input_shape, c.weight_shape, c.stride, c.padding, c.output_shape) for c in cases.CONV_CASES}
    assert shapes["LeNet-5 C1"] == ((64, 1, 32, 32), (6, 1, 5, 5), 1, 0, (64, 6, 28, 28))
    assert shapes["AlexNet CONV1"] == ((8, 3, 227, 227), (96, 3, 11, 11), 4, 0, (8, 96, 55, 55))
    assert shapes["VGG conv3-64"] == ((8, 64, 56, 56), (64, 64, 3, 3), 1, 1, (8, 64, 56, 56))
    assert shapes["ResNet 3x3-256"] == ((16, 256, 14, 14), (256, 256, 3, 3), 1, 1, (16, 256, 14, 14))
    assert {(p.kernel_size, p.stride) for p in cases.POOL_CASES} >= {(2, 2), (3, 2)}
    assert cases.CONV_CASES[0].describe() == "64x1x32x32, 6@5x5"
    with pytest.raises(ValueError, match="unknown case 'LeNet-6'"):
        cases.find(cases.CONV_CASES, ["LeNet-6"])


def test_pool_bytes_and_gemm_flops_by_hand():
    case = PoolCase("p", "max", batch=2, channels=3, size=4, kernel_size=2, stride=2)
    assert pool_bytes(case) == 2 * 3 * (16 + 4) * 4 == 480
    assert pool_bytes(case, "forward+backward") == 960
    assert pool_bytes(case, itemsize=8) == 960
    assert gemm_flops(1000) == 2_000_000_000


def test_measurement_extrapolates_and_derives_rates():
    m = Measurement("conv", "c", NAIVE, "cpu", "forward", [1.0, 3.0, 2.0], batch=8, measured_batch=2,
                    flops=16_000_000_000, bytes=4_000_000_000, items=8, item="image")
    assert m.scale == 4.0 and m.extrapolated
    assert m.seconds == 8.0  # median 2 s on 2 images -> 8 s for 8
    assert m.gflops == 2.0 and m.gbytes == 0.5 and m.per_second == 1.0
    ceiling = Measurement("ceiling", "GEMM", "NumPy", "cpu", "forward", [2.0, 1.0, 4.0], flops=1, statistic="min")
    assert ceiling.seconds == 1.0  # a ceiling is the best the machine reached
    full = Measurement("conv", "c", NUMPY, "cpu", "forward", [0.5], flops=3_000_000_000)
    assert not full.extrapolated and full.gflops == 6.0 and full.gbytes is None
    assert fraction_of(30.0, 120.0) == 0.25 and fraction_of(None, 1.0) is None and fraction_of(1.0, 0) is None


def test_ratios_are_throughput_relative_to_torch_nn():
    def m(impl, seconds, case="c", which="forward"):
        return Measurement("conv", case, impl, "cpu", which, [seconds])
    results = add_ratios([m(REFERENCE, 2.0), m(NUMPY, 1.0), m(NAIVE, 200.0), m(NUMPY, 1.0, which="backward")])
    assert [r.ratio for r in results] == [1.0, 2.0, 0.01, None]  # no torch.nn backward to compare with


# -- the layers, on tiny sizes --------------------------------------------------------------------
@pytest.fixture(scope="module")
def tiny_results():
    with threads(1):
        results = bench_gemm(64, repeats=1) + bench_copy(1, repeats=1)
        results += bench_conv([TINY_CONV], repeats=2) + bench_pool([TINY_POOL], repeats=2)
    return add_ratios(results)


def test_bench_conv_measures_every_implementation_and_pass(tiny_results):
    conv = [m for m in tiny_results if m.section == "conv"]
    assert sorted((m.impl, m.pass_) for m in conv) == sorted((i, p) for i in IMPLS for p in cases.PASSES)
    for m in conv:
        assert m.flops == conv_flops(TINY_CONV, m.pass_) and m.ratio > 0
        if m.impl == NAIVE:
            assert m.measured_batch == 2 and m.seconds == pytest.approx(2 * median(m.times_s))
            assert len(m.times_s) == 1 and "2 of 4 images" in m.note
        else:
            assert m.measured_batch is None and len(m.times_s) == 2
    naive = {m.pass_: m for m in conv if m.impl == NAIVE}
    assert naive["forward+backward"].times_s[0] == pytest.approx(naive["forward"].times_s[0] + naive["backward"].times_s[0])
    assert [m.ratio for m in conv if m.impl == REFERENCE] == [1.0, 1.0, 1.0]


def test_the_im2col_row_appears_only_where_auto_picks_winograd():
    five = cases.ConvCase("five", batch=2, in_channels=1, size=8, out_channels=2, kernel_size=5, naive_batch=1)
    strided = cases.ConvCase("strided", batch=2, in_channels=1, size=8, out_channels=2, kernel_size=3, stride=2,
                             naive_batch=1)
    with threads(1):
        results = bench_conv([five, strided], impls=[NUMPY, IM2COL, REFERENCE], repeats=1)
    assert {m.impl for m in results} == {NUMPY, REFERENCE}


def test_bench_pool_rates_bytes(tiny_results):
    pool = [m for m in tiny_results if m.section == "pool"]
    assert len(pool) == 12
    assert all(m.bytes == pool_bytes(TINY_POOL, m.pass_) and m.flops is None for m in pool)


def test_bench_rejects_an_unknown_implementation():
    with pytest.raises(ValueError, match="impls must be chosen from"):
        bench_conv([TINY_CONV], impls=("cudnn",))


def test_check_outputs_catches_a_wrong_or_upcast_result():
    def contenders(ours):
        good = Task(run=None)
        good.result = np.ones((2, 3), dtype=np.float32)
        bad = Task(run=None)
        bad.result = ours
        return {REFERENCE: {"forward": good}, NUMPY: {"forward": bad}}
    check_outputs(contenders(np.ones((2, 3), dtype=np.float32)), lambda impl: 2)
    with pytest.raises(RuntimeError, match="cnnlib.numpy_nn's forward output differs"):
        check_outputs(contenders(np.full((2, 3), 1.1, dtype=np.float32)), lambda impl: 2)
    with pytest.raises(RuntimeError, match="float32 must stay float32"):
        check_outputs(contenders(np.ones((2, 3))), lambda impl: 2)


def test_check_logits_catches_a_different_model():
    ref, other = Task(run=None), Task(run=None)
    ref.result, other.result = torch.ones(2, 5), torch.ones(2, 5)
    _check_logits({REFERENCE: ref, TORCH_NN: other})
    other.result = torch.zeros(2, 5)
    with pytest.raises(RuntimeError, match="cnnlib.torch_nn's logits differ"):
        _check_logits({REFERENCE: ref, TORCH_NN: other})


# -- float32 stays float32; one unfolded copy at a time --------------------------------------------
def test_reference_layers_keep_float32():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, 8, 8), dtype=np.float32)
    w = rng.standard_normal((4, 3, 3, 3), dtype=np.float32)
    b = rng.standard_normal(4, dtype=np.float32)
    out, cache = np_conv.conv2d_forward(x, w, b, stride=2, padding=1)
    grads = np_conv.conv2d_backward(np.ones_like(out), cache)
    assert out.dtype == np.float32 and [g.dtype for g in grads] == [np.float32] * 3
    assert np_conv.conv2d_naive(x, w, b, 2, 1).dtype == np.float32
    for name in ("max_pool2d", "avg_pool2d"):
        pooled, cache = getattr(np_pool, name + "_forward")(x, 2)
        assert pooled.dtype == np.float32
        assert getattr(np_pool, name + "_backward")(np.ones_like(pooled), cache).dtype == np.float32


def _float32_pairs():
    """(name, forward arguments, gradient of the output) for every forward/backward pair of the reference."""
    from cnnlib.numpy_nn import functional as F

    rng = np.random.default_rng(1)
    x = rng.standard_normal((4, 6), dtype=np.float32)
    classes = np.array([0, 5, 2, 3])
    cases = [(name, (x,)) for name in ("relu", "sigmoid", "tanh", "leaky_relu", "elu", "softmax", "log_softmax")]
    cases += [("linear", (x, rng.standard_normal((3, 6), dtype=np.float32), np.zeros(3, np.float32))),
              ("maxout", (x, rng.standard_normal((6, 6), dtype=np.float32), np.zeros(6, np.float32))),
              ("cross_entropy", (x, classes)), ("multiclass_hinge_loss", (x, classes)),
              ("multi_margin_loss", (x, classes)), ("mse_loss", (x, np.zeros_like(x))),
              ("l1_loss", (x, np.zeros_like(x))), ("smooth_l1_loss", (x, np.zeros_like(x))),
              ("hinge_loss", (x[:, 0], np.sign(x[:, 1])))]
    return [pytest.param(name, getattr(F, name + "_forward"), getattr(F, name + "_backward"), args, id=name)
            for name, args in cases]


@pytest.mark.parametrize("name, forward, backward, args", _float32_pairs())
def test_every_reference_pair_keeps_float32(name, forward, backward, args):
    out, cache = forward(*args)
    grad_output = np.ones_like(out) if np.ndim(out) else np.float32(1.0)
    grads = backward(grad_output, cache)
    grads = grads if isinstance(grads, tuple) else (grads,)
    assert np.asarray(out).dtype == np.float32, f"{name} forward upcast float32 to {np.asarray(out).dtype}"
    assert [g.dtype for g in grads if g is not None] == [np.float32] * sum(g is not None for g in grads), name


@pytest.mark.parametrize("keep_limit", [0, None])
def test_convolution_keeps_at_most_one_unfolded_copy_alive(monkeypatch, keep_limit):
    """Over np_conv.KEEP_COLUMNS_BYTES (patched to 0 here) backward unfolds again into one copy; under it
    (the default, for this small layer) the kept columns and the column gradients make two, and no more."""
    if keep_limit is not None:
        monkeypatch.setattr(np_conv, "KEEP_COLUMNS_BYTES", keep_limit)
    rng = np.random.default_rng(0)
    n, c, size, c_out, k, pad = 2, 8, 16, 4, 5, 2
    x = rng.standard_normal((n, c, size, size), dtype=np.float32)
    w = rng.standard_normal((c_out, c, k, k), dtype=np.float32)
    unfolded = n * size * size * c * k * k * 4  # (C*kH*kW, N*H_out*W_out) float32: 409,600 bytes
    output = n * c_out * size * size * 4        # 8,192 bytes
    bound = 1.3 * (unfolded + output)           # two unfolded copies would need 1.9x this
    tracemalloc.start()
    try:
        out, cache = np_conv.conv2d_forward(x, w, None, 1, pad)
        _, forward_peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        np_conv.conv2d_backward(np.ones_like(out), cache)
        _, backward_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    kept = cache[1][-1]
    assert (kept is None) == (keep_limit == 0)
    assert unfolded < forward_peak < bound
    alive = out.nbytes + cache[1][0].nbytes + (0 if kept is None else kept.nbytes)  # what forward left alive
    assert unfolded < backward_peak < bound + alive


# -- whole networks, smallest settings -------------------------------------------------------------
def test_bench_training_runs_lenet5_three_ways():
    with threads(1):
        results = add_ratios(bench_training(repeats=1, steps=1))
    assert [m.impl for m in results] == [NUMPY, TORCH_NN, REFERENCE]
    # the FLOP count: 3 forward passes of LeNet-5's convolutions and linear layers on 64 images
    forward = 64 * 2 * (6 * 28 * 28 * 25 + 16 * 10 * 10 * 150 + 120 * 400 + 84 * 120 + 10 * 84)
    for m in results:
        assert m.items == 1 and m.item == "step" and m.batch == 64 and m.per_second > 0
        assert m.flops == 3 * forward


def test_the_training_breakdown_adds_up_to_the_step_and_leaves_the_layers_as_they_were():
    from cnnlib.bench.breakdown import CATEGORIES, breakdown_table, leaf_layers, numpy_step_breakdown
    from cnnlib.bench.models import _float32_numpy_copy, _numpy_step
    from cnnlib.models import lenet5

    torch.manual_seed(0)
    step = _numpy_step(_float32_numpy_copy(lenet5()), lr=0.05)
    rng = np.random.default_rng(0)
    batches = [(rng.standard_normal((8, 1, 32, 32)).astype(np.float32), rng.integers(0, 10, 8)) for _ in range(2)]
    with threads(1):
        found = numpy_step_breakdown(step, batches, rounds=3, steps=2)
    parts = found["parts"]
    assert tuple(parts) == CATEGORIES and found["rounds"] == 3
    assert all(seconds >= 0 for seconds in parts.values()), parts
    assert all(parts[c] > 0 for c in CATEGORIES if c != "rest"), parts  # every part of LeNet-5 was timed
    assert sum(parts.values()) == pytest.approx(found["total"], rel=1e-9, abs=1e-12)
    layers = [step.parts.loss_fn, *leaf_layers(step.parts.model)]
    assert not any({"forward", "backward"} & set(vars(layer)) for layer in layers)  # the wrappers are gone
    assert callable(step.parts.sgd) and step.parts.sgd.__name__ == "sgd"
    table = str(breakdown_table(found))
    assert all(c in table for c in CATEGORIES)
    # through bench_training and the report
    meta = {}
    with threads(1):
        bench_training(repeats=1, steps=1, impls=(NUMPY,), breakdown=meta)
    assert sum(meta["train_breakdown"]["parts"].values()) == pytest.approx(meta["train_breakdown"]["total"])
    assert "training step spends its time" in str(report([], meta))


def test_timed_adds_each_call_to_its_category_and_restores_the_attribute():
    from cnnlib.bench.breakdown import timed

    class Thing:
        def work(self, n):
            return sum(range(n))

    thing, own = Thing(), type("Own", (), {})()
    own.job = lambda: 7
    totals = {"a": 0.0, "b": 0.0}
    with timed([(thing, "work", "a"), (own, "job", "b")], totals):
        assert thing.work(10_000) == sum(range(10_000)) and own.job() == 7
    assert totals["a"] > 0 and totals["b"] > 0
    assert "work" not in vars(thing) and own.job() == 7 and own.job.__name__ == "<lambda>"


def test_the_mixed_precision_training_step_runs_on_the_cpu_in_bfloat16():
    from cnnlib.bench.models import _torch_step
    from cnnlib.models import lenet5
    from cnnlib.train import Precision

    torch.manual_seed(0)
    model = lenet5()
    before = model[0].weight.detach().clone()  # C1
    step = _torch_step(model, 0.05, Precision("cpu", amp=True, channels_last=True))
    x, y = torch.randn(8, 1, 32, 32), torch.randint(0, 10, (8,))
    losses = [float(step(x, y).detach()) for _ in range(5)]
    after = model[0].weight
    assert all(np.isfinite(losses)) and losses[-1] < losses[0]
    assert not torch.equal(before, after.detach()) and after.is_contiguous(memory_format=torch.channels_last)


def test_bench_inference_counts_images_and_flops():
    case = cases.find(cases.MODEL_CASES, ["ResNet-18"])
    with threads(1):
        (m,) = add_ratios(bench_inference(case, repeats=1, batch=1))
    assert (m.impl, m.items, m.item, m.ratio) == (REFERENCE, 1, "image", 1.0)
    assert m.flops == pytest.approx(3.64e9, rel=0.01)  # ResNet-18: 1.8 G multiply-adds at 224x224


# -- output ---------------------------------------------------------------------------------------
def test_numbers_are_formatted_to_three_digits():
    assert (fmt(1234.5), fmt(12.345), fmt(0.0012345), fmt(None)) == ("1234", "12.3", "0.00123", "-")
    assert (fmt_ratio(0.854), fmt_ratio(1.5), fmt_ratio(0.00213), fmt_ratio(None)) == ("x0.85", "x1.50", "x0.0021", "-")


def test_table_renders_as_text_and_html():
    table = Table("T", ["layer", "impl", "ms"], [["a", "numpy", "1.5"], ["b", "torch<nn>", "10"]], ["note"])
    text = str(table).splitlines()
    assert text[0] == "T" and text[-1] == "note"
    assert text[2].split() == ["layer", "impl", "ms"] and text[5].endswith(" 10")
    assert "<td>torch&lt;nn&gt;</td>" in table._repr_html_()


def test_layer_table_shows_times_rates_and_ratios(tiny_results):
    (table,) = layer_table(tiny_results, "conv")
    text = str(table)
    assert "tiny" in text and "(4x2x9x9, 3@3x3 p1)" in text and "naive loops*" in text
    reference_row = next(row for row in table.rows if row[1] == REFERENCE)
    assert reference_row[-2:] == ["x1.00", "x1.00"]
    numpy_row = next(row for row in table.rows if row[1] == NUMPY)
    both = next(m for m in tiny_results if (m.section, m.impl, m.pass_) == ("conv", NUMPY, "forward+backward"))
    assert numpy_row[4] == fmt(both.seconds * 1e3) and numpy_row[5] == fmt(both.gflops)
    assert any("naive loops" in note for note in table.notes)
    assert any(row[1] == IM2COL for row in table.rows) and any("Winograd" in note for note in table.notes)
    full = str(report(tiny_results, None))
    assert "The machine's ceiling" in full and "Pooling, float32, cpu" in full and "GB/s" in full


def test_json_has_every_raw_time_and_the_derived_figures(tiny_results, tmp_path):
    path = write_json(tiny_results, {"threads": {"torch": 1}}, tmp_path / "out" / "bench.json")
    data = json.loads(path.read_text())
    assert data["meta"] == {"threads": {"torch": 1}}
    assert len(data["results"]) == len(tiny_results)
    first = data["results"][0]
    for key in ("section", "case", "impl", "device", "pass", "times_s", "median_s", "seconds", "gflops",
                "gbytes_per_s", "ratio", "extrapolated", "batch", "measured_batch", "peak_bytes"):
        assert key in first
    naive = next(r for r in data["results"] if r["impl"] == NAIVE)
    assert naive["extrapolated"] and naive["seconds"] == pytest.approx(2 * naive["median_s"])


def test_plot_writes_a_png(tiny_results, tmp_path):
    path = plot(tiny_results, tmp_path / "bench.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_command_line_defaults_and_bad_values(capsys):
    args = parse_args([])
    assert (args.threads, args.device, args.out, args.quick, args.repeats) == (2, "auto", "bench-results", False, None)
    with pytest.raises(SystemExit):
        parse_args(["--threads", "0"])
    assert "--threads must be at least 1" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        parse_args(["--only", "everything"])
    with pytest.raises(SystemExit):
        parse_args(["--device", "tpu"])
    assert "--device: device must be 'cpu', 'cuda'" in capsys.readouterr().err


def test_command_line_quick_run_writes_its_files(tmp_path, capsys):
    assert main(["--quick", "--only", "ceiling", "--device", "cpu", "--threads", "1", "--repeats", "1",
                 "--out", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    assert "The machine's ceiling" in printed and "Threads: PyTorch 1" in printed
    data = json.loads((tmp_path / "bench.json").read_text())
    assert data["meta"]["quick"] and data["meta"]["threads"]["torch"] == 1
    assert {r["impl"] for r in data["results"]} == {"NumPy", "PyTorch"}
    assert (tmp_path / "bench.png").exists() and (tmp_path / "bench.txt").read_text().startswith("Machine:")


def test_conv_table_for_the_notebook():
    table = conv_table(quick=True, cases=["LeNet-5 C1"], impls=(NUMPY, REFERENCE), n_threads=1, repeats=1)
    text = str(table)
    assert "LeNet-5 C1" in text and NUMPY in text and "GEMM" in text
    assert "<table>" in table._repr_html_() and repr(table) == text


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_bench_conv_on_cuda_runs_the_torch_contenders_only():
    results = add_ratios(bench_conv([TINY_CONV], device="cuda", repeats=1))
    assert {m.impl for m in results} == {TORCH_NN, REFERENCE}
    assert all(m.device == "cuda" for m in results)
