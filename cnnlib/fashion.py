"""Fashion-MNIST: 28x28 grayscale photographs of clothing in ten classes, read offline.

Zalando's data set (2017, MIT licence): 60,000 training and 10,000 test images, the same format
and size as MNIST, but much harder to classify. Nothing is ever downloaded here:

- ``source="shipped"``: the subset in the repository's ``data/fashion-mnist/``, all 10,000 test
  images and a class-balanced, seeded part of the training set (``data/fashion-mnist/README.md``
  says how it was drawn; ``tools/make_fashion_subset.py`` rebuilds it);
- ``source="debian"``: the full set from Debian's package ``dataset-fashion-mnist``
  (``apt-get install dataset-fashion-mnist``), in ``/usr/share/datasets/fashion-mnist/``;
- ``source="auto"`` (the default): Debian's full set when it is installed, else the shipped subset;
- a folder: the four IDX files, gzipped or not, under their official names -- such as
  torchvision's ``root/FashionMNIST/raw``.

Every file is checked as it is read (``cnnlib.idx``): the IDX magic, 28x28 images, one label per
image, labels in 0..9, and the file's length. A bad file is a ``ValueError`` naming it.
The data for the experiments whose point is what a network learns (issue 24 moves them here).

    >>> images, labels, classes = fashion_mnist("train", source="shipped")
    >>> images.shape, images.dtype, labels[:3].tolist(), classes[labels[0]]
    ((12800, 28, 28), dtype('uint8'), [0, 2, 7], 'T-shirt/top')
"""
from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import numpy as np

from cnnlib.checks import check_int
from cnnlib.idx import read_idx
from cnnlib.labels import class_labels

FASHION_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                   "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")  # label 0..9, Zalando's names
DEBIAN_FOLDER = Path("/usr/share/datasets/fashion-mnist")
SHIPPED_FOLDER = Path(__file__).resolve().parents[1] / "data" / "fashion-mnist"
SOURCES = ("auto", "shipped", "debian")
SPLITS = {"train": "train", "test": "t10k"}  # our name -> the official file prefix
IMAGE_SHAPE = (28, 28)


class FashionMNIST(NamedTuple):
    """One split of Fashion-MNIST: unpack it as ``images, labels, classes = fashion_mnist()``.

    Shape:
        - images: (N, 28, 28) uint8, 0 (background) .. 255 (ink)
        - labels: (N,) int64 in 0..9; ``classes[label]`` is its name
        - classes: the ten class names, ``FASHION_CLASSES``
    """

    images: np.ndarray
    labels: np.ndarray
    classes: tuple[str, ...]


def fashion_mnist(split: str = "train", source="auto") -> FashionMNIST:
    """Fashion-MNIST's training or test images with their labels and the class names, read offline.

    ``split`` is ``"train"`` or ``"test"``. ``source`` is ``"auto"``, ``"shipped"``, ``"debian"``
    or a folder of IDX files (see the module's docstring); ``fashion_folder(source)`` says which
    folder that is. The full training set has 60,000 images, the shipped subset fewer (balanced
    over the classes); both test sets are the official 10,000.

    Returns:
        ``FashionMNIST(images, labels, classes)``: images (N, 28, 28) uint8, labels (N,) int64.
    """
    if split not in SPLITS:
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    folder = fashion_folder(source)
    prefix = SPLITS[split]
    image_file = idx_file(folder, f"{prefix}-images-idx3-ubyte")
    label_file = idx_file(folder, f"{prefix}-labels-idx1-ubyte")
    images = read_idx(image_file, (None,) + IMAGE_SHAPE)  # (N, 28, 28)
    labels = read_idx(label_file, (None,))  # (N,)
    if len(labels) != len(images):
        raise ValueError(f"{label_file} holds {len(labels)} labels, but {image_file} holds {len(images)} images: "
                         f"one label per image is needed")
    labels = class_labels(labels, len(FASHION_CLASSES), name=f"the labels in {label_file}")
    return FashionMNIST(images, labels, FASHION_CLASSES)


def fashion_folder(source="auto") -> Path:
    """The folder that ``fashion_mnist(source=source)`` reads; ``FileNotFoundError`` if it is not there."""
    if isinstance(source, str) and source in SOURCES:
        if source == "debian" or (source == "auto" and DEBIAN_FOLDER.is_dir()):
            if not DEBIAN_FOLDER.is_dir():
                raise FileNotFoundError(f"Debian's Fashion-MNIST is not installed (no {DEBIAN_FOLDER}): "
                                        f"apt-get install dataset-fashion-mnist, or use source='shipped'")
            return DEBIAN_FOLDER
        if not SHIPPED_FOLDER.is_dir():
            raise FileNotFoundError(f"the shipped Fashion-MNIST subset is not in {SHIPPED_FOLDER}: it lives in the "
                                    f"repository's data/ folder, so use cnnlib from a clone of the repository")
        return SHIPPED_FOLDER
    if not isinstance(source, (str, Path)):
        raise TypeError(f"source must be 'auto', 'shipped', 'debian' or a folder (str or Path), "
                        f"got {type(source).__name__}")
    folder = Path(source)
    if not folder.is_dir():
        raise FileNotFoundError(f"source must be 'auto', 'shipped', 'debian' or a folder of Fashion-MNIST's "
                                f"IDX files; {str(source)!r} is none of these (no such folder)")
    return folder


def idx_file(folder: Path, name: str) -> Path:
    """``folder/name``, or ``folder/name.gz`` when only the gzipped file is there (as downloaded)."""
    for candidate in (folder / name, folder / f"{name}.gz"):
        if candidate.is_file():
            return candidate
    message = f"{folder} has no {name} (nor {name}.gz): a Fashion-MNIST folder holds the four IDX files " \
              f"train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte"
    if (folder / "FashionMNIST" / "raw").is_dir():
        message += f"; torchvision keeps them in {folder / 'FashionMNIST' / 'raw'}: pass that folder"
    raise FileNotFoundError(message)


def balanced_subset(labels, per_class: int, seed: int = 0) -> np.ndarray:
    """The indices of ``per_class`` images of every class, drawn without replacement, seeded, in file order.

    For each class in turn (0, 1, ..., 9) one generator ``np.random.default_rng(seed)`` picks
    ``per_class`` of that class's indices (``rng.choice(..., replace=False)``); the union is sorted,
    so the subset keeps the order of the original file. How the shipped training subset was drawn.

    Shape: labels (N,) -> indices (per_class * number of classes,) int64
    """
    labels = class_labels(labels, len(FASHION_CLASSES), name="labels")
    per_class = check_int(per_class, "per_class", minimum=1)
    rng = np.random.default_rng(check_int(seed, "seed", minimum=0))
    picked = []
    for c in range(len(FASHION_CLASSES)):
        members = np.flatnonzero(labels == c)
        if len(members) < per_class:
            raise ValueError(f"per_class must be at most {len(members)} (the images of class {c}, "
                             f"{FASHION_CLASSES[c]!r}), got {per_class}")
        picked.append(rng.choice(members, size=per_class, replace=False))
    return np.sort(np.concatenate(picked)).astype(np.int64)


def to_float_images(images, pad: int = 0) -> np.ndarray:
    """uint8 images as float32 in [0, 1] with a channel axis, ready for the layers; optionally padded.

    Each value is divided by 255. ``pad`` adds that many zero (background) pixels on every side:
    ``pad=2`` turns 28x28 into the 32x32 that LeNet-5 was designed for, as LeCun padded MNIST.

    Shape: images (N, H, W) uint8 -> (N, 1, H + 2 pad, W + 2 pad) float32
    """
    images = np.asarray(images)
    if images.dtype != np.uint8 or images.ndim != 3:
        raise ValueError(f"images must be a uint8 array (N, H, W) as fashion_mnist() returns, "
                         f"got {images.dtype} of shape {images.shape}")
    pad = check_int(pad, "pad", minimum=0)
    x = images[:, None].astype(np.float32) / np.float32(255)  # (N, 1, H, W)
    if pad:
        x = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))  # (N, 1, H + 2 pad, W + 2 pad)
    return x
