"""The file side of `cnnlib.checkpoint`: atomic writes, and zip archives checked before they are read.

- `atomic_write` writes a checkpoint to a temporary file in the target's folder and moves it over
  the target with ``os.replace``, so a save that fails halfway leaves the old checkpoint as it was.
- `check_zip` reads the zip directory first: the sizes it declares must fit the model, so a small
  file that would inflate to gigabytes (a "zip bomb") is refused before anything is decompressed.
  Then every member's CRC-32 checksum is verified.
- `read_npz` reads each ``.npy`` member's header (shape, dtype) before its data, so an array of the
  wrong shape, of Python objects, or a member that is not ``.npy`` data at all is refused first.

A checkpoint can also be an open binary stream (``io.BytesIO``); it is read from where it stands
and put back there after each check, and messages name it by its type.
"""
from __future__ import annotations

import os
import secrets
import zipfile
from contextlib import contextmanager
from typing import NamedTuple

import numpy as np

WIDEST_ITEMSIZE = 16          # bytes per element of the widest dtype a checkpoint may hold (complex128)
SLACK_BYTES = 16 * 2**20      # pickles, .npy headers and the meta data (a training history) fit in 16 MiB


def describe(source) -> str:
    """How error messages name a checkpoint: its path, or the stream's type (and name, if it has one)."""
    if isinstance(source, (str, bytes, os.PathLike)):
        return os.fsdecode(source)
    name = getattr(source, "name", None)
    return f"the {type(source).__name__} stream" + (f" {name!r}" if isinstance(name, str) else "")


def is_stream(source) -> bool:
    return not isinstance(source, (str, bytes, os.PathLike))


def atomic_write(path, write) -> None:
    """Call ``write(f)`` on a temporary file beside ``path``, then move it over ``path`` in one step.

    If ``write`` raises, the temporary file is removed and ``path`` is untouched. An open stream
    (``io.BytesIO``) is written to directly: there is no file to replace.
    """
    if is_stream(path):
        write(path)
        return
    target = os.fspath(path)
    folder, base = os.path.split(os.path.abspath(target))
    temp = os.path.join(folder, f".{os.fsdecode(base)}.{secrets.token_hex(4)}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)  # the umask applies, as for open()
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temp, target)
    except BaseException:
        os.unlink(temp)
        raise


@contextmanager
def rewound(source):
    """Open ``source`` for reading; a stream is given back at the position it had (it must be seekable)."""
    if not is_stream(source):
        yield source
        return
    if not (hasattr(source, "seek") and hasattr(source, "tell") and source.seekable()):
        raise ValueError(f"{describe(source)} cannot be read: a checkpoint stream must be seekable "
                         f"(read it into io.BytesIO first)")
    start = source.tell()
    try:
        yield source
    finally:
        source.seek(start)


def size_budget(own_state, copies: int) -> int:
    """The most bytes a genuine checkpoint of this state dict can declare: ``copies`` of it, widest dtype."""
    elements = sum(int(np.prod(np.shape(value))) for value in own_state.values())
    return elements * WIDEST_ITEMSIZE * copies + SLACK_BYTES


def check_zip(source, budget: int) -> None:
    """Sizes from the zip directory within ``budget``, then every member's CRC-32, or a ValueError naming the file."""
    name = describe(source)
    with rewound(source):
        try:
            with zipfile.ZipFile(source) as archive:
                infos = archive.infolist()
                declared = sum(info.file_size for info in infos)
                if declared > budget:
                    biggest = max(infos, key=lambda info: info.file_size)
                    raise ValueError(
                        f"refusing to load {name}: its zip directory declares {declared:,} bytes once "
                        f"decompressed ({biggest.filename!r} alone {biggest.file_size:,}, stored in "
                        f"{biggest.compress_size:,}), more than a checkpoint of this model can hold "
                        f"({budget:,}); nothing was decompressed")
                bad = archive.testzip()  # reads every member (at most its declared size) and checks its CRC
        except FileNotFoundError:
            raise
        except (zipfile.BadZipFile, EOFError, OSError, RuntimeError) as err:
            raise ValueError(f"{name} is damaged or not a checkpoint: it is not a complete zip archive ({err})") from err
    if bad is not None:
        raise ValueError(f"{name} is damaged: the bytes of {bad!r} do not match their stored CRC-32 checksum "
                         f"(the file changed after it was written); nothing was loaded")


class Header(NamedTuple):
    """What a ``.npy`` header says about its array, read without reading the data."""

    shape: tuple
    dtype: object


def read_npz_headers(source) -> dict:
    """``{key: Header}`` for every member of an ``.npz`` (key = member name less ``.npy``), data unread.

    A member named ``*.npy`` must hold ``.npy`` data; a member with another name is kept as raw bytes
    (``Header((), "raw bytes")``), as ``np.load`` would give it.
    """
    name = describe(source)
    headers = {}
    with rewound(source), zipfile.ZipFile(source) as archive:
        for member in archive.namelist():
            if not member.endswith(".npy"):
                headers[member] = Header((), "raw bytes")
                continue
            with archive.open(member) as f:
                try:
                    version = np.lib.format.read_magic(f)
                    if version == (1, 0):
                        shape, _, dtype = np.lib.format.read_array_header_1_0(f)
                    elif version == (2, 0):
                        shape, _, dtype = np.lib.format.read_array_header_2_0(f)
                    else:
                        raise ValueError(f".npy format version {version} is not read here")
                except (ValueError, EOFError, SyntaxError) as err:
                    raise ValueError(f"{name} is damaged or not a cnnlib NumPy checkpoint: its member {member!r} "
                                     f"is named like an array but does not hold .npy data ({err}); "
                                     f"nothing was loaded") from err
            headers[member[:-len(".npy")]] = Header(tuple(shape), dtype)
    return headers


def read_npz_arrays(source) -> dict:
    """Every ``.npy`` member of an ``.npz`` as an array (no pickles); call after `read_npz_headers` passed."""
    with rewound(source), np.load(source, allow_pickle=False) as npz:
        return {key: npz[key] for key in npz.files}
