"""Data for the notebooks: real images that ship with the libraries, so nothing is downloaded.

- ``load_digits(size=32)``: scikit-learn's 1,797 real handwritten digits (8x8 scans), resized for
  LeNet-5 and split into train and test sets. The default data of every training notebook.
- ``fashion_mnist(split="train")``: Zalando's Fashion-MNIST, 28x28 photographs of clothing, read
  offline from Debian's package or the subset shipped in ``data/fashion-mnist`` (``cnnlib.fashion``,
  re-exported here with ``to_float_images``).
- ``load_sample_image("camera")``: scikit-image's sample photographs, for 02_convolution.
- ``load_mnist`` / ``load_cifar10``: the classic data sets, fetched by torchvision, for readers who
  are online; their files are checked and read here. They are never needed on the default path;
  ``data/README.md`` says how to fetch them.

Every loader returns NumPy arrays in the layout the layers expect: images ``(N, C, H, W)`` float32
in [0, 1], labels ``(N,)`` int64. ``to_tensors`` and ``make_loader`` hand them to PyTorch, and
``random_affine`` makes randomly shifted, turned and zoomed copies of a batch (data augmentation).
Introduced in 07_case_studies_lenet (digits) and 02_convolution (photographs).

    >>> (x_train, y_train), (x_test, y_test) = load_digits()
    >>> x_train.shape, x_test.shape
    ((1437, 1, 32, 32), (360, 1, 32, 32))
"""
from __future__ import annotations

import codecs
import importlib
import math
import pickle
from pathlib import Path

import numpy as np

from cnnlib.checks import check_int
from cnnlib.fashion import (  # noqa: F401 -- re-exported: cnnlib.data is where a notebook looks for data
    FASHION_CLASSES,
    FashionMNIST,
    balanced_subset,
    fashion_mnist,
    to_float_images,
)
from cnnlib.idx import idx_sizes, read_idx  # noqa: F401 -- read_idx and idx_sizes lived here first
from cnnlib.labels import class_labels

MAX_DIGITS_SIZE = 256  # load_digits(size=256) needs about 0.9 GiB while resizing
SAMPLE_IMAGES = ("camera", "astronaut", "chelsea", "coffee")
CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")


# -- the embedded default: scikit-learn's digits --------------------------------------------------
def load_digits(size: int = 32, test_fraction: float = 0.2, seed: int = 0):
    """scikit-learn's real handwritten digits, resized to ``size`` x ``size``, split train/test.

    The 1,797 scans are 8x8 with 17 grey levels (0..16); each is divided by 16 and resized
    bilinearly (deterministic, no randomness). The split is stratified: every digit is
    ``test_fraction`` of the test set, so the ten classes stay balanced. Same seed, same split.

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: images float32 in [0, 1], labels int64 in 0..9.

    Shape:
        - x_train: (N_train, 1, size, size), y_train: (N_train,); N_train + N_test = 1797
        - x_test: (N_test, 1, size, size), y_test: (N_test,); N_test = ceil(1797 * test_fraction)
    """
    from sklearn.datasets import load_digits as sklearn_digits
    from sklearn.model_selection import train_test_split

    size = check_int(size, "size")
    if size < 8:
        raise ValueError(f"size must be >= 8 (the digits are 8x8 scans, only enlarged), got {size}")
    if size > MAX_DIGITS_SIZE:  # the resize works in float64: 1,797 * size**2 * 8 bytes
        raise ValueError(f"size must be at most {MAX_DIGITS_SIZE} (8x8 scans enlarged further show nothing new, and "
                         f"size={size} would need {1797 * size * size * 8 / 2**30:.1f} GiB), got {size}")
    if isinstance(test_fraction, bool) or not isinstance(test_fraction, (int, float)) or not 0 < test_fraction < 1:
        raise ValueError(f"test_fraction must be a number strictly between 0 and 1 (e.g. 0.2), got {test_fraction!r}")
    seed = check_int(seed, "seed", minimum=0)

    bunch = sklearn_digits()
    images = bunch.images / 16.0  # (1797, 8, 8), in [0, 1]
    if size != 8:
        images = _resize(images, (len(images), size, size))  # (1797, size, size)
    x = images[:, None].astype(np.float32)  # (1797, 1, size, size)
    y = bunch.target.astype(np.int64)  # (1797,)
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=test_fraction, random_state=seed, stratify=y
    )
    return (x_train, y_train), (x_test, y_test)


def _resize(images: np.ndarray, shape: tuple[int, ...], anti_aliasing: bool = False) -> np.ndarray:
    """Bilinear resize (scikit-image, order=1); values clipped to [0, 1]."""
    from skimage.transform import resize

    out = resize(images, shape, order=1, mode="edge", anti_aliasing=anti_aliasing, preserve_range=True)
    return np.clip(out, 0.0, 1.0)


# -- sample photographs from scikit-image --------------------------------------------------------
def load_sample_image(name: str = "camera", size=None, as_gray: bool = False) -> np.ndarray:
    """One of scikit-image's bundled photographs as floats in [0, 1] (for 02_convolution).

    ``"camera"`` is greyscale (a man with a camera); ``"astronaut"``, ``"chelsea"`` (a cat) and
    ``"coffee"`` are RGB unless ``as_gray=True`` (luminance, 0.2125 R + 0.7154 G + 0.0721 B).
    ``size`` as in ``torchvision.transforms.Resize``: an int scales the shorter side to ``size``
    and keeps the aspect ratio; a pair ``(height, width)`` is exact; ``None`` keeps the original.

    Shape:
        - greyscale: (H, W); colour: (H, W, 3) -- the layout of ``plt.imshow``, not NCHW.
          camera and astronaut are 512 x 512, chelsea 300 x 451, coffee 400 x 600.
    """
    import skimage.data

    if name not in SAMPLE_IMAGES:
        raise ValueError(f"name must be one of {', '.join(map(repr, SAMPLE_IMAGES))}, got {name!r}")
    image = getattr(skimage.data, name)().astype(np.float64) / 255.0  # uint8 -> [0, 1]
    if as_gray and image.ndim == 3:
        from skimage.color import rgb2gray

        image = rgb2gray(image)
    if size is not None:
        height, width = image.shape[:2]
        if isinstance(size, (tuple, list)):
            if len(size) != 2:
                raise ValueError(f"size must be an int or a pair (height, width), got {size!r}")
            new = (check_int(size[0], "size", minimum=1), check_int(size[1], "size", minimum=1))
        else:
            short = check_int(size, "size", minimum=1)
            scale = short / min(height, width)
            new = (max(1, round(height * scale)), max(1, round(width * scale)))
        image = _resize(image, new + image.shape[2:], anti_aliasing=new[0] < height or new[1] < width)
    return image.astype(np.float32)


# -- handing arrays to PyTorch --------------------------------------------------------------------
def to_tensors(x: np.ndarray, y: np.ndarray, device=None):
    """``(images, labels)`` as torch tensors (float32, int64), on ``device`` if given."""
    import torch

    x = torch.as_tensor(np.asarray(x, dtype=np.float32))
    y = torch.as_tensor(np.asarray(y, dtype=np.int64))
    if device is not None:
        x, y = x.to(device), y.to(device)
    return x, y


def make_loader(x: np.ndarray, y: np.ndarray, batch_size: int = 64, shuffle: bool = False, seed: int = 0):
    """A ``torch.utils.data.DataLoader`` over the arrays; shuffling is seeded (same seed, same order)."""
    import torch
    from torch.utils.data import DataLoader, TensorDataset

    batch_size = check_int(batch_size, "batch_size", minimum=1)
    generator = torch.Generator().manual_seed(check_int(seed, "seed", minimum=0)) if shuffle else None
    return DataLoader(TensorDataset(*to_tensors(x, y)), batch_size=batch_size, shuffle=shuffle, generator=generator)


# -- data augmentation ----------------------------------------------------------------------------
def random_affine(x, degrees: float = 10.0, translate: float = 0.0625, scale=(0.9, 1.1), generator=None):
    """Each image turned, shifted and zoomed by its own random amount: new training images for free.

    Like ``torchvision.transforms.RandomAffine`` (same argument names), but with a fresh draw for
    every image of the batch: an angle in [-degrees, degrees], a shift of up to ``translate`` of
    the width and height (0.0625 of 32 pixels is 2 pixels), a zoom factor in ``scale``. Pixels are
    read bilinearly; outside the image they are 0. Randomness comes from ``generator`` (default:
    torch's global generator, which ``cnnlib.train.fit`` seeds).

    Shape: x (N, C, H, W) tensor -> (N, C, H, W), on the same device.
    """
    import torch
    import torch.nn.functional as F

    if not 0 <= translate < 1:
        raise ValueError(f"translate must be a fraction of the image size in [0, 1), e.g. 0.0625, got {translate}")
    if not (isinstance(scale, (tuple, list)) and len(scale) == 2 and 0 < scale[0] <= scale[1]):
        raise ValueError(f"scale must be a range (low, high) with 0 < low <= high, e.g. (0.9, 1.1), got {scale!r}")
    n = x.shape[0]

    def uniform(low, high, size):
        return (low + (high - low) * torch.rand(size, generator=generator, dtype=torch.float64)).to(x)

    angle = uniform(-degrees, degrees, n) * (math.pi / 180)  # (N,) radians
    zoom = uniform(scale[0], scale[1], n)  # (N,)
    shift = uniform(-2 * translate, 2 * translate, (n, 2))  # (N, 2); the image spans [-1, 1]
    cos, sin = torch.cos(angle) / zoom, torch.sin(angle) / zoom
    # For every output pixel, where to read in the input: [x_in, y_in] = theta @ [x_out, y_out, 1].
    theta = torch.stack([torch.stack([cos, -sin, shift[:, 0]], dim=1),
                         torch.stack([sin, cos, shift[:, 1]], dim=1)], dim=1)  # (N, 2, 3)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)  # (N, H, W, 2)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


# -- the classic data sets, for readers who are online -------------------------------------------
def load_mnist(root="data", train: bool = True, download: bool = False):
    """MNIST's 28x28 handwritten digits, read from the four IDX files in ``root/MNIST/raw``.

    Never used on the default path (``load_digits`` needs no download). With ``download=True``
    torchvision fetches the files (and checks their MD5 sums); with ``download=False`` they must
    already be there, else a ``FileNotFoundError`` says how to get them. The files are read here,
    not by torchvision: each header is checked against the format (magic number, unsigned-byte
    data, 28x28 images, one label per image, file size) before anything is allocated, and the
    labels must lie in 0..9; any mismatch is a ``ValueError`` naming the file.

    Only ``raw/`` is read. A ``root/MNIST/processed`` folder (the ``.pt`` cache of torchvision
    before 0.9) is ignored, so it can never stand in for the raw files.

    Returns:
        ``(x, y)``: the training set (60,000 images) or, with ``train=False``, the test set (10,000).

    Shape:
        - x: (N, 1, 28, 28) float32 in [0, 1]; y: (N,) int64 in 0..9
    """
    raw = Path(root) / "MNIST" / "raw"
    files = [f"{split}-{kind}" for split in ("train", "t10k") for kind in ("images-idx3-ubyte", "labels-idx1-ubyte")]
    if download and not all((raw / f).is_file() for f in files):
        from torchvision.datasets import MNIST

        MNIST(root, train=train, download=True)
    if not all((raw / f).is_file() for f in files):
        message = _missing("MNIST", raw, files, f"load_mnist(root={str(root)!r}, download=True)")
        if (raw.parent / "processed").is_dir():
            message += (f" {raw.parent / 'processed'} (torchvision's old .pt cache) is never read, and while it "
                        f"exists torchvision skips the download: move it away first")
        raise FileNotFoundError(message)
    split = "train" if train else "t10k"
    image_file, label_file = raw / f"{split}-images-idx3-ubyte", raw / f"{split}-labels-idx1-ubyte"
    n_images = idx_sizes(image_file, (None, 28, 28))[0]   # both headers checked before any data is read
    n_labels = idx_sizes(label_file, (None,))[0]
    if n_labels != n_images:
        raise ValueError(f"{label_file} holds {n_labels} labels, but {image_file} holds {n_images} images: "
                         f"one label per image is needed")
    images, labels = read_idx(image_file, (None, 28, 28)), read_idx(label_file, (None,))
    labels = class_labels(labels, 10, name=f"the labels in {label_file}")
    return images[:, None].astype(np.float32) / 255.0, labels  # (N, 1, 28, 28), (N,)


def load_cifar10(root="data", train: bool = True, download: bool = False):
    """CIFAR-10's 32x32 colour photographs (ten classes, ``CIFAR10_CLASSES``), cached under ``root``.

    torchvision fetches the archive (``download=True``) and checks its checksum; the batches in
    ``root/cifar-10-batches-py`` are then read here with a restricted unpickler that builds only
    NumPy arrays, lists and strings -- a pickle can run code, and a data file should not.

    Returns:
        ``(x, y)``: the five training batches (50,000 images) or, with ``train=False``, the test batch (10,000).

    Shape:
        - x: (N, 3, 32, 32) float32 in [0, 1]; y: (N,) int64 in 0..9
    """
    folder = Path(root) / "cifar-10-batches-py"
    files = [f"data_batch_{i}" for i in range(1, 6)] if train else ["test_batch"]
    if download:
        from torchvision.datasets import CIFAR10

        CIFAR10(root, train=train, download=True)
    if not all((folder / f).is_file() for f in files):
        raise FileNotFoundError(_missing("CIFAR-10", folder, files, f"load_cifar10(root={str(root)!r}, download=True)"))
    xs, ys = [], []
    for name in files:
        batch = _read_cifar_batch(folder / name)
        xs.append(np.asarray(batch["data"], dtype=np.uint8).reshape(-1, 3, 32, 32))  # rows are R, G, B planes
        ys.append(np.asarray(batch["labels"], dtype=np.int64))
    return np.concatenate(xs).astype(np.float32) / 255.0, np.concatenate(ys)


class _ArraysOnlyUnpickler(pickle.Unpickler):
    """Unpickles dicts, lists, strings, numbers and NumPy arrays; refuses every other class."""

    def find_class(self, module, name):
        # Arrays are rebuilt by these few functions; old files (like CIFAR's) name numpy.core.
        if (module, name) == ("numpy", "dtype"):
            return np.dtype
        if (module, name) == ("numpy", "ndarray"):  # only as _reconstruct's argument, never called
            return _NDARRAY
        if module in ("numpy.core.multiarray", "numpy._core.multiarray") and name == "_reconstruct":
            return _empty_array
        if module in ("numpy.core.numeric", "numpy._core.numeric") and name == "_frombuffer":
            return _numpy_core("numeric")._frombuffer
        if (module, name) == ("_codecs", "encode"):  # how Python 3's protocol 2 stores bytes
            return codecs.encode
        raise pickle.UnpicklingError(f"refusing to unpickle {module}.{name}: a CIFAR batch holds only arrays")


class _NDArrayName:
    """Stands for numpy.ndarray in a pickle: calling ndarray(shape) would allocate any size unread."""


_NDARRAY = _NDArrayName()


def _empty_array(subtype, shape, dtype):
    """numpy's _reconstruct, as pickles use it: an empty array whose bytes come from the file itself.

    Pickled arrays start as shape (0,) and get their data (checked against its shape) from the
    file; any other shape here could allocate gigabytes from a few bytes, so it is refused.
    """
    if subtype is not _NDARRAY or math.prod(tuple(shape)) != 0:
        raise pickle.UnpicklingError(f"refusing to build an array of shape {tuple(shape)} that is not in the file")
    return _numpy_core("multiarray")._reconstruct(np.ndarray, shape, dtype)


def _numpy_core(submodule: str):
    try:  # NumPy 2
        return importlib.import_module(f"numpy._core.{submodule}")
    except ImportError:  # NumPy 1.26
        return importlib.import_module(f"numpy.core.{submodule}")


def _read_cifar_batch(path: Path) -> dict:
    """One CIFAR-10 python batch: a dict with "data" (N, 3072) uint8 and "labels" (N ints)."""
    try:
        with open(path, "rb") as f:
            batch = _ArraysOnlyUnpickler(f, encoding="latin1").load()
    except (pickle.UnpicklingError, EOFError, TypeError, ValueError, AttributeError, IndexError, KeyError) as err:
        raise ValueError(f"{path} is not a CIFAR-10 python batch ({type(err).__name__}: {err})") from err
    if not isinstance(batch, dict):
        raise ValueError(f"{path} is not a CIFAR-10 python batch: it holds a {type(batch).__name__}, not a dict")
    # The official files were pickled by Python 2, so keys arrive as bytes or str.
    batch = {k.decode() if isinstance(k, bytes) else k: v for k, v in batch.items()}
    data, labels = batch.get("data"), batch.get("labels")
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3072:
        what = f"{data.dtype} array of shape {data.shape}" if isinstance(data, np.ndarray) else type(data).__name__
        raise ValueError(f"{path}: 'data' must be a uint8 array (N, 3072) of 32x32 RGB rows, got {what}")
    if not isinstance(labels, list) or len(labels) != len(data):
        count = len(labels) if isinstance(labels, list) else type(labels).__name__
        raise ValueError(f"{path}: 'labels' must be a list of {len(data)} labels, one per image, got {count}")
    batch["labels"] = class_labels(np.array(labels), 10, name=f"the labels in {path}")
    return batch


def _missing(what: str, folder: Path, files: list[str], call: str) -> str:
    return (
        f"{what} is not in {folder} (expected {', '.join(files)}). Fetch it once with {call} "
        f"(needs the internet; see data/README.md). "
        f"The notebooks' default data, load_digits(), ships with scikit-learn and needs no download."
    )
