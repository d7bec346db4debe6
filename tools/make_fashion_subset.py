"""Rebuild the Fashion-MNIST subset shipped in data/fashion-mnist/ from the four official IDX files.

    python tools/make_fashion_subset.py                      # from Debian's package, into data/fashion-mnist
    python tools/make_fashion_subset.py --fit 10000000       # the largest per-class count within 10,000,000 bytes

The subset is all 10,000 test images and labels, and ``--per-class`` training images of every
class, drawn by ``cnnlib.fashion.balanced_subset(labels, per_class, seed)`` and kept in the order
of the official file. Each part is written as a gzipped IDX file under its official name
(gzip level 9, no file name and time in the gzip header), so the same reader reads the subset and
the full set, and the same command always writes the same bytes.

The source is a folder of the four IDX files, gzipped or not; the default is Debian's package
(``apt-get install dataset-fashion-mnist``, /usr/share/datasets/fashion-mnist).
"""
from __future__ import annotations

import argparse
import gzip
import struct
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # this checkout's cnnlib, also when run from another folder

from cnnlib.fashion import DEBIAN_FOLDER, balanced_subset, fashion_mnist  # noqa: E402

PER_CLASS = 1280  # the largest multiple of 10 within FIT_BYTES (--fit 10000000); see data/fashion-mnist/README.md
SEED = 0
FIT_BYTES = 10_000_000


def idx_gz(array: np.ndarray) -> bytes:
    """An array of unsigned bytes as a gzipped IDX file: magic 0x00000801/0x00000803, sizes, values."""
    header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    return gzip.compress(header + np.ascontiguousarray(array, dtype=np.uint8).tobytes(), compresslevel=9, mtime=0)


def test_files(source) -> dict[str, bytes]:
    """The official test set (all 10,000 images and labels) as two gzipped IDX files, by name."""
    test = fashion_mnist("test", source=source)
    return {"t10k-images-idx3-ubyte.gz": idx_gz(test.images),
            "t10k-labels-idx1-ubyte.gz": idx_gz(test.labels.astype(np.uint8))}


def train_files(source, per_class: int, seed: int) -> dict[str, bytes]:
    """``per_class`` training images of every class (``balanced_subset``) as two gzipped IDX files, by name."""
    train = fashion_mnist("train", source=source)
    picked = balanced_subset(train.labels, per_class, seed)  # (10 * per_class,) indices in file order
    return {"train-images-idx3-ubyte.gz": idx_gz(train.images[picked]),
            "train-labels-idx1-ubyte.gz": idx_gz(train.labels[picked].astype(np.uint8))}


def subset_files(source, per_class: int, seed: int) -> dict[str, bytes]:
    """The four files of the subset, by name: gzipped IDX bytes."""
    return {**train_files(source, per_class, seed), **test_files(source)}


def largest_fit(source, budget: int, seed: int, step: int = 10) -> tuple[int, int]:
    """The largest per-class count, a multiple of ``step``, whose four files take at most ``budget`` bytes.

    Bisection over the multiples of ``step`` up to 6,000 (a class's training images): the compressed
    size grows with the count, so each try halves the range.
    """
    fixed = sum(map(len, test_files(source).values()))
    print(f"test set: {fixed:,} bytes", flush=True)

    def total(per_class):
        size = fixed + sum(map(len, train_files(source, per_class, seed).values()))
        print(f"per class {per_class:5d}: {size:,} bytes in all", flush=True)
        return size

    low, high = 0, 6000 // step  # the answer is low * step: low fits (0 trivially), high + 1 does not
    while low < high:
        middle = (low + high + 1) // 2
        if total(middle * step) <= budget:
            low = middle
        else:
            high = middle - 1
    if low == 0:
        raise SystemExit(f"not even {step} training images per class fit in {budget:,} bytes")
    return low * step, total(low * step)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", default=str(DEBIAN_FOLDER), help="folder of the four official IDX files")
    parser.add_argument("--out", default=str(ROOT / "data" / "fashion-mnist"), help="where to write the subset")
    parser.add_argument("--per-class", type=int, default=PER_CLASS, help="training images of each class")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--fit", type=int, metavar="BYTES",
                        help="only measure: the largest per-class count (a multiple of 10) within BYTES")
    args = parser.parse_args(argv)
    if args.fit is not None:
        per_class, total = largest_fit(args.source, args.fit, args.seed)
        print(f"largest fit: {per_class} per class, {total:,} bytes")
        return 0
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    files = subset_files(args.source, args.per_class, args.seed)
    for name, data in files.items():
        (out / name).write_bytes(data)
        print(f"{out / name}: {len(data):,} bytes")
    print(f"total {sum(map(len, files.values())):,} bytes; {args.per_class} training images per class, seed {args.seed}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
