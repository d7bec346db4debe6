"""cnnlib.fashion: Fashion-MNIST read offline -- the shipped subset, folders of IDX files the tests write
(gzipped and plain, torchvision's layout), damaged files, and Debian's full set where it is installed."""
from __future__ import annotations

import doctest
import gzip
import importlib.util
import shutil
import struct
from pathlib import Path

import numpy as np
import pytest

import cnnlib.fashion
from cnnlib.data import fashion_mnist as fashion_mnist_from_data
from cnnlib.fashion import (
    DEBIAN_FOLDER,
    FASHION_CLASSES,
    SHIPPED_FOLDER,
    FashionMNIST,
    balanced_subset,
    fashion_folder,
    fashion_mnist,
    to_float_images,
)

ROOT = Path(__file__).resolve().parents[1]
DEBIAN = pytest.mark.skipif(not DEBIAN_FOLDER.is_dir(), reason="Debian's dataset-fashion-mnist is not installed "
                                                               "(apt-get install dataset-fashion-mnist; .ci/run does)")
NAMES = {"train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
         "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")}


def _tool():
    spec = importlib.util.spec_from_file_location("make_fashion_subset", ROOT / "tools" / "make_fashion_subset.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def idx_bytes(array: np.ndarray) -> bytes:
    """IDX: magic (0, 0, type 0x08 = unsigned byte, number of dimensions), sizes as big-endian int32, bytes."""
    header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(np.uint8).tobytes()


def write(folder: Path, name: str, content: bytes, gz: bool) -> Path:
    path = folder / (f"{name}.gz" if gz else name)
    path.write_bytes(gzip.compress(content) if gz else content)
    return path


@pytest.fixture
def tiny(tmp_path):
    """A folder of the four IDX files: 5 training and 3 test images with random pixels and labels."""
    rng = np.random.default_rng(0)
    sets = {}
    for split, n in (("train", 5), ("test", 3)):
        images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
        labels = rng.integers(0, 10, size=n, dtype=np.uint8)
        sets[split] = images, labels
    return tmp_path, sets


def write_tiny(folder: Path, sets, gz: bool) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for split, (images, labels) in sets.items():
        write(folder, NAMES[split][0], idx_bytes(images), gz)
        write(folder, NAMES[split][1], idx_bytes(labels), gz)
    return folder


# -- the shipped subset --------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def shipped():
    return {split: fashion_mnist(split, source="shipped") for split in ("train", "test")}


def test_shipped_subset_counts_balance_dtypes_and_shapes(shipped):
    per_class = _tool().PER_CLASS
    for split, (n, each) in {"train": (10 * per_class, per_class), "test": (10_000, 1_000)}.items():
        images, labels, classes = shipped[split]
        assert isinstance(shipped[split], FashionMNIST) and classes == FASHION_CLASSES
        assert images.shape == (n, 28, 28) and images.dtype == np.uint8, split
        assert labels.shape == (n,) and labels.dtype == np.int64, split
        np.testing.assert_array_equal(np.bincount(labels, minlength=10), np.full(10, each))
        assert images.min() == 0 and images.max() == 255  # real photographs use the full range
    assert per_class == 1280  # data/fashion-mnist/README.md says so


def test_shipped_images_are_distinct_photographs(shipped):
    images = shipped["train"].images
    assert len(np.unique(images.reshape(len(images), -1), axis=0)) == len(images)
    # Trousers are tall and narrow, bags wide: the classes look different on average.
    mean = {c: images[shipped["train"].labels == c].mean(axis=0) for c in (1, 8)}
    width = {c: (mean[c].mean(axis=0) > 20).sum() for c in mean}  # columns with ink on average
    assert width[1] < 16 < width[8], width


def test_class_names_are_torchvision_s():
    from torchvision.datasets import FashionMNIST as TorchvisionFashionMNIST

    assert list(FASHION_CLASSES) == TorchvisionFashionMNIST.classes


def test_shipped_subset_reads_the_same_in_torchvision(shipped, tmp_path):
    from torchvision.datasets import FashionMNIST as TorchvisionFashionMNIST

    raw = tmp_path / "FashionMNIST" / "raw"
    raw.mkdir(parents=True)
    for gz in SHIPPED_FOLDER.glob("*.gz"):  # torchvision reads the unpacked files beside the archives
        (raw / gz.stem).write_bytes(gzip.decompress(gz.read_bytes()))
    for split in ("train", "test"):
        theirs = TorchvisionFashionMNIST(tmp_path, train=split == "train", download=False)
        np.testing.assert_array_equal(theirs.data.numpy(), shipped[split].images)
        np.testing.assert_array_equal(theirs.targets.numpy(), shipped[split].labels)
        assert fashion_mnist(split, source=raw).images.tobytes() == shipped[split].images.tobytes()


def test_fashion_mnist_is_re_exported_from_data_and_its_example_runs():
    assert fashion_mnist_from_data is fashion_mnist
    result = doctest.testmod(cnnlib.fashion)
    assert result.attempted == 2 and result.failed == 0


# -- where the data comes from -------------------------------------------------------------------------
def test_auto_reads_debian_s_folder_when_it_is_there(tiny, monkeypatch):
    root, sets = tiny
    folder = write_tiny(root / "debian", sets, gz=True)
    monkeypatch.setattr(cnnlib.fashion, "DEBIAN_FOLDER", folder)
    assert fashion_folder("auto") == folder == fashion_folder("debian")
    images, labels, _ = fashion_mnist("test")
    np.testing.assert_array_equal(images, sets["test"][0])
    np.testing.assert_array_equal(labels, sets["test"][1])


def test_auto_falls_back_to_the_shipped_subset_and_debian_says_how_to_install(tmp_path, monkeypatch):
    monkeypatch.setattr(cnnlib.fashion, "DEBIAN_FOLDER", tmp_path / "not-installed")
    assert fashion_folder("auto") == SHIPPED_FOLDER == fashion_folder("shipped")
    assert len(fashion_mnist("test").labels) == 10_000
    with pytest.raises(FileNotFoundError, match="apt-get install dataset-fashion-mnist.*source='shipped'"):
        fashion_mnist("test", source="debian")


@pytest.mark.parametrize("gz", [False, True], ids=["plain", "gzipped"])
@pytest.mark.parametrize("as_str", [False, True], ids=["Path", "str"])
def test_a_folder_of_idx_files(tiny, gz, as_str):
    root, sets = tiny
    folder = write_tiny(root / "raw", sets, gz)
    for split, (images, labels) in sets.items():
        got = fashion_mnist(split, source=str(folder) if as_str else folder)
        assert got.images.dtype == np.uint8 and got.labels.dtype == np.int64
        np.testing.assert_array_equal(got.images, images)
        np.testing.assert_array_equal(got.labels, labels)
        got.images[0, 0, 0] = 1  # writable, like any array a learner makes


def test_torchvision_s_layout_and_its_hint(tiny):
    root, sets = tiny
    raw = write_tiny(root / "FashionMNIST" / "raw", sets, gz=True)
    write_tiny(raw, sets, gz=False)  # torchvision keeps the archives and the unpacked files side by side
    np.testing.assert_array_equal(fashion_mnist("train", source=raw).labels, sets["train"][1])
    with pytest.raises(FileNotFoundError, match=r"no train-images-idx3-ubyte \(nor train-images-idx3-ubyte.gz\)"
                                                r".*torchvision keeps them in .*FashionMNIST/raw: pass that folder"):
        fashion_mnist("train", source=root)


def test_only_the_split_asked_for_is_read(tiny):
    root, sets = tiny
    folder = write_tiny(root / "raw", {"test": sets["test"]}, gz=True)
    assert len(fashion_mnist("test", source=folder).images) == 3
    with pytest.raises(FileNotFoundError, match="has no train-images-idx3-ubyte"):
        fashion_mnist("train", source=folder)


@pytest.mark.parametrize("kwargs, error, words", [
    ({"split": "validation"}, ValueError, "split must be 'train' or 'test', got 'validation'"),
    ({"source": "shiped"}, FileNotFoundError, "source must be 'auto', 'shipped', 'debian' or a folder.*'shiped'"),
    ({"source": 3}, TypeError, "source must be .* a folder .*got int"),
])
def test_bad_arguments_name_themselves(kwargs, error, words):
    with pytest.raises(error, match=words):
        fashion_mnist(**kwargs)


# -- damaged files -------------------------------------------------------------------------------------
def _header(sizes, type_code=0x08, ndim=None):
    ndim = len(sizes) if ndim is None else ndim
    return struct.pack(">BBBB", 0, 0, type_code, ndim) + struct.pack(f">{len(sizes)}I", *sizes)


IMAGES = _header((5, 28, 28)) + bytes(5 * 28 * 28)
DAMAGED = {  # which file -> what it holds -> what the error says
    "truncated images": (0, IMAGES[:-1], "truncated"),
    "truncated header": (0, IMAGES[:10], "header is cut short"),
    "too long": (0, IMAGES + b"\0", "too long"),
    "wrong magic": (0, b"\x01\x02" + IMAGES[2:], "not an IDX file: it must start with two zero bytes"),
    "float type code": (0, _header((5, 28, 28), 0x0D) + bytes(4 * 5 * 784), "type code must be 0x08"),
    "flat images": (0, _header((5, 784)) + bytes(5 * 784), "expected an IDX file of 3 dimensions, got 2"),
    "32x32 images": (0, _header((5, 32, 32)) + bytes(5 * 1024), r"sizes are \(5, 32, 32\), expected \(N, 28, 28\)"),
    "huge count, tiny file": (0, _header((2**31, 28, 28)), "truncated"),  # refused before allocating
    "label 10": (1, idx_bytes(np.array([3, 10, 0, 1, 2])), "label 10, out of range"),
    "4 labels for 5 images": (1, idx_bytes(np.zeros(4)), "holds 4 labels, but .* holds 5 images"),
    "labels in 2 dimensions": (1, _header((5, 1)) + bytes(5), "expected an IDX file of 1 dimensions, got 2"),
}


@pytest.mark.parametrize("gz", [False, True], ids=["plain", "gzipped"])
@pytest.mark.parametrize("case", sorted(DAMAGED))
def test_a_damaged_file_is_refused_naming_it(tiny, case, gz):
    root, sets = tiny
    folder = write_tiny(root / "raw", sets, gz)
    which, content, words = DAMAGED[case]
    path = write(folder, NAMES["train"][which], content, gz)
    with pytest.raises(ValueError, match=words) as info:
        fashion_mnist("train", source=folder)
    assert str(path) in str(info.value)
    assert len(fashion_mnist("test", source=folder).labels) == 3  # the other split is unaffected


@pytest.mark.parametrize("damage, words", [
    (lambda data: data[:-20], "truncated: its gzip stream ends early"),  # cut inside the deflate stream
    (lambda data: data[:-4] + bytes(4), "damaged gzip file"),  # the stored length does not match
    (lambda data: data[:-8] + bytes(4) + data[-4:], "damaged gzip file"),  # the CRC does not match
])
def test_a_damaged_gzip_stream_is_refused_naming_the_file(tiny, damage, words):
    root, sets = tiny
    folder = write_tiny(root / "raw", sets, gz=True)
    path = folder / f"{NAMES['train'][0]}.gz"
    path.write_bytes(damage(path.read_bytes()))
    with pytest.raises(ValueError, match=words) as info:
        fashion_mnist("train", source=folder)
    assert str(path) in str(info.value)


def test_a_file_is_recognised_as_gzip_by_its_content_not_its_name(tiny):
    root, sets = tiny
    folder = write_tiny(root / "raw", sets, gz=False)
    image_file = folder / NAMES["train"][0]
    shutil.move(image_file, image_file.with_suffix(".gz"))  # a plain file named .gz
    np.testing.assert_array_equal(fashion_mnist("train", source=folder).images, sets["train"][0])


# -- drawing the subset, and floats for training --------------------------------------------------------
def test_balanced_subset_is_balanced_sorted_and_seeded():
    labels = np.repeat(np.arange(10), 50)[np.random.default_rng(1).permutation(500)]
    picked = balanced_subset(labels, 7, seed=3)
    assert picked.dtype == np.int64 and len(picked) == 70 and len(np.unique(picked)) == 70
    assert np.all(np.diff(picked) > 0)  # the file's order
    np.testing.assert_array_equal(np.bincount(labels[picked]), np.full(10, 7))
    np.testing.assert_array_equal(picked, balanced_subset(labels, 7, seed=3))
    assert not np.array_equal(picked, balanced_subset(labels, 7, seed=4))
    with pytest.raises(ValueError, match="per_class must be at most 50 .*class 0, 'T-shirt/top'.*got 51"):
        balanced_subset(labels, 51)
    with pytest.raises(ValueError, match="per_class must be positive"):
        balanced_subset(labels, 0)


def test_to_float_images_scales_and_pads():
    images = np.array([[[0, 255], [51, 102]]], dtype=np.uint8)  # (1, 2, 2)
    x = to_float_images(images)
    assert x.shape == (1, 1, 2, 2) and x.dtype == np.float32
    np.testing.assert_array_equal(x[0, 0], np.array([[0, 1], [0.2, 0.4]], dtype=np.float32))
    padded = to_float_images(images, pad=2)
    assert padded.shape == (1, 1, 6, 6)
    np.testing.assert_array_equal(padded[0, 0, 2:4, 2:4], x[0, 0])
    assert padded.sum() == x.sum()  # the border is background, 0
    with pytest.raises(ValueError, match=r"images must be a uint8 array \(N, H, W\).*float32"):
        to_float_images(x[:, 0])
    with pytest.raises(ValueError, match="pad must be non-negative, got -1"):
        to_float_images(images, pad=-1)


# -- Debian's full set, where it is installed ------------------------------------------------------------
@DEBIAN
def test_debian_s_full_set_and_the_shipped_subset_agree_with_it(shipped):
    train, test = fashion_mnist("train", source="debian"), fashion_mnist("test", source="debian")
    assert train.images.shape == (60_000, 28, 28) and test.images.shape == (10_000, 28, 28)
    np.testing.assert_array_equal(np.bincount(train.labels), np.full(10, 6000))
    np.testing.assert_array_equal(shipped["test"].images, test.images)  # the official test set, unchanged
    np.testing.assert_array_equal(shipped["test"].labels, test.labels)
    picked = balanced_subset(train.labels, _tool().PER_CLASS, seed=_tool().SEED)
    np.testing.assert_array_equal(shipped["train"].images, train.images[picked])
    np.testing.assert_array_equal(shipped["train"].labels, train.labels[picked])
    assert fashion_folder("auto") == DEBIAN_FOLDER


@DEBIAN
@pytest.mark.slow
def test_the_tool_rebuilds_the_shipped_files_byte_for_byte():
    tool = _tool()
    files = tool.subset_files(DEBIAN_FOLDER, tool.PER_CLASS, tool.SEED)
    assert sorted(files) == sorted(p.name for p in SHIPPED_FOLDER.glob("*.gz"))
    for name, data in files.items():
        assert data == (SHIPPED_FOLDER / name).read_bytes(), name
    assert sum(map(len, files.values())) <= tool.FIT_BYTES


# -- what the documents say ------------------------------------------------------------------------------
def test_the_subset_s_readme_states_the_true_sizes_and_count():
    readme = (SHIPPED_FOLDER / "README.md").read_text()
    sizes = {p.name: p.stat().st_size for p in SHIPPED_FOLDER.glob("*.gz")}
    for name, size in sizes.items():
        assert f"| `{name}` |" in readme and f"| {size:,} |" in readme, name
    assert f"| total | | {sum(sizes.values()):,} |" in readme
    assert f"per_class={_tool().PER_CLASS}, seed={_tool().SEED}" in readme
    assert f"{sum(sizes.values()):,} bytes" in (ROOT / "README.md").read_text()
    assert "Copyright © [2017] Zalando SE" in (SHIPPED_FOLDER / "LICENSE").read_text()


def test_ci_installs_debian_s_fashion_mnist():
    assert "dataset-fashion-mnist" in (ROOT / ".ci" / "run").read_text()
