"""``python -m cnnlib.bench`` (``make bench``): run the benchmark, print the tables, write JSON and a plot.

    python -m cnnlib.bench                    # everything, CPU (and CUDA if present), 2 threads
    python -m cnnlib.bench --quick            # fewer rounds, ResNet-18 only for inference
    python -m cnnlib.bench --only conv pool --threads 1 --device cpu --out /tmp/bench

Writes ``OUT/bench.json`` (every raw time), ``OUT/bench.txt`` (the tables) and ``OUT/bench.png``.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from cnnlib.bench.report import plot, report, summary_lines, write_json
from cnnlib.bench.suite import SECTIONS, devices_for, run


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m cnnlib.bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds, a smaller set of models")
    parser.add_argument("--device", default="auto", help="auto (CPU, then CUDA if present), cpu, cuda or cuda:N")
    parser.add_argument("--threads", type=int, default=2, help="threads for PyTorch and NumPy's BLAS (default 2)")
    parser.add_argument("--repeats", type=int, default=None, help="interleaved rounds (default 7, or 3 with --quick)")
    parser.add_argument("--only", nargs="+", choices=SECTIONS, default=list(SECTIONS), help="sections to run")
    parser.add_argument("--out", default="bench-results", help="folder for bench.json, bench.txt, bench.png")
    parser.add_argument("--no-plot", action="store_true", help="skip the PNG")
    args = parser.parse_args(argv)
    if args.threads < 1:
        parser.error(f"--threads must be at least 1, got {args.threads}")
    if args.repeats is not None and args.repeats < 1:
        parser.error(f"--repeats must be at least 1, got {args.repeats}")
    try:
        devices_for(args.device)
    except ValueError as err:  # e.g. --device cuda on a machine without a GPU
        parser.error(f"--device: {err}")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    start = time.perf_counter()
    results, meta = run(quick=args.quick, device=args.device, n_threads=args.threads, sections=args.only,
                        repeats=args.repeats, log=lambda line: print(line, file=sys.stderr, flush=True))
    meta["wall_seconds"] = round(time.perf_counter() - start, 1)
    meta["command"] = " ".join(["python -m cnnlib.bench", *(argv if argv is not None else sys.argv[1:])])
    text = str(report(results, meta))
    print(text)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "bench.txt").write_text(text + "\n")
    written = [write_json(results, meta, out / "bench.json"), out / "bench.txt"]
    if not args.no_plot:
        written.append(plot(results, out / "bench.png", title=" | ".join(summary_lines(meta)[:2])))
    print(f"\n{meta['wall_seconds']} s; wrote {', '.join(map(str, written))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
