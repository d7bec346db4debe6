"""IDX files, the format of MNIST and Fashion-MNIST, read and checked (plain or gzipped).

IDX: two zero bytes, a type code (0x08 for unsigned bytes), the number of dimensions, each size
as a big-endian 32-bit integer, then the values, one byte each. The official files are gzipped
(``train-images-idx3-ubyte.gz``); torchvision unpacks them beside the archives. Every reader here
checks the header against the shape the caller expects and the data against the header's sizes,
so a wrong, truncated or too long file is a ``ValueError`` that names it -- never an array of the
wrong shape, and never a huge allocation from a few bytes of header.

Used by ``cnnlib.data.load_mnist`` and ``cnnlib.fashion.fashion_mnist``.
"""
from __future__ import annotations

import gzip
import math
import zlib
from pathlib import Path

import numpy as np

IDX_UNSIGNED_BYTE = 0x08  # the IDX type code of MNIST's images and labels
GZIP_MAGIC = b"\x1f\x8b"
_CHUNK = 1 << 20  # a gzipped file is read 1 MiB at a time, so a lying header allocates nothing


def is_gzip(path) -> bool:
    """Whether the file starts with gzip's two magic bytes (its name is not trusted)."""
    with open(path, "rb") as f:
        return f.read(2) == GZIP_MAGIC


def check_idx_header(path, header: bytes, shape) -> tuple[int, ...]:
    """The sizes in an IDX header of unsigned bytes, checked against ``shape`` (``None`` accepts any size)."""
    ndim = len(shape)
    if len(header) < 4 or header[:2] != b"\0\0":
        raise ValueError(f"{path} is not an IDX file: it must start with two zero bytes, got {header[:4]!r}")
    if header[2] != IDX_UNSIGNED_BYTE:
        raise ValueError(f"{path}: the IDX type code must be 0x08 (unsigned bytes) as in MNIST, got 0x{header[2]:02x}")
    if header[3] != ndim:
        raise ValueError(f"{path}: expected an IDX file of {ndim} dimensions, got {header[3]}")
    if len(header) < 4 + 4 * ndim:
        raise ValueError(f"{path}: the IDX header is cut short ({len(header)} bytes, {4 + 4 * ndim} expected)")
    sizes = tuple(int.from_bytes(header[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim))
    if any(want is not None and got != want for got, want in zip(sizes, shape)):
        expected = ", ".join("N" if w is None else str(w) for w in shape)
        raise ValueError(f"{path}: the IDX sizes are {sizes}, expected ({expected})")
    return sizes


def _length_error(path, length: int, sizes, needed: int, header_bytes: int, what: str = "has") -> ValueError:
    """The error for a file whose length is not what its header calls for."""
    return ValueError(f"{path} {what} {length} bytes, but its IDX header {sizes} calls for {needed} "
                      f"({header_bytes} of header and one per value): the file is "
                      f"{'truncated' if length < needed else 'too long'}")


def idx_sizes(path, shape) -> tuple[int, ...]:
    """The sizes in the header of a plain (not gzipped) IDX file, checked against ``shape`` and the file's length.

    Only the header is read; a wrong, truncated or too long file is a ``ValueError`` naming it.
    """
    path, ndim = Path(path), len(shape)
    with open(path, "rb") as f:
        header = f.read(4 + 4 * ndim)
    sizes = check_idx_header(path, header, shape)
    needed, length = len(header) + math.prod(sizes), path.stat().st_size
    if length != needed:
        raise _length_error(path, length, sizes, needed, len(header))
    return sizes


def read_idx(path, shape) -> np.ndarray:
    """The values of an IDX file of unsigned bytes, plain or gzipped, checked against ``shape``.

    Shape: ``shape`` with each ``None`` replaced by the size in the file, e.g. (None, 28, 28) -> (N, 28, 28).
    """
    path = Path(path)
    if is_gzip(path):
        return _read_gzipped_idx(path, shape)
    sizes = idx_sizes(path, shape)
    with open(path, "rb") as f:
        f.seek(4 + 4 * len(sizes))
        return np.fromfile(f, dtype=np.uint8, count=math.prod(sizes)).reshape(sizes)


def _read_gzipped_idx(path: Path, shape) -> np.ndarray:
    """A gzipped IDX file: header checked first, then the data read in chunks up to one byte past the end."""
    header_bytes = 4 + 4 * len(shape)
    try:
        with gzip.open(path, "rb") as f:
            header = f.read(header_bytes)
            sizes = check_idx_header(path, header, shape)
            count = math.prod(sizes)
            data = bytearray()
            while len(data) <= count:  # one byte more than the header asks for tells "too long"
                chunk = f.read(min(_CHUNK, count + 1 - len(data)))
                if not chunk:
                    break
                data += chunk
    except EOFError as err:  # the gzip stream stops before its end marker
        raise ValueError(f"{path} is truncated: its gzip stream ends early ({err})") from err
    except (gzip.BadGzipFile, zlib.error) as err:
        raise ValueError(f"{path} is a damaged gzip file ({type(err).__name__}: {err})") from err
    if len(data) < count:
        raise _length_error(path, header_bytes + len(data), sizes, header_bytes + count, header_bytes,
                            what="unpacks to")
    if len(data) > count:
        raise ValueError(f"{path} unpacks to more than the {header_bytes + count} bytes that its IDX header "
                         f"{sizes} calls for ({header_bytes} of header and one per value): the file is too long")
    return np.frombuffer(data, dtype=np.uint8).reshape(sizes)  # writable: a bytearray's memory
