"""cnnlib.data: the offline digits and photographs, and the MNIST/CIFAR-10 loaders on tiny files in their real formats."""
from __future__ import annotations

import pickle
import struct

import numpy as np
import pytest
import torch

from cnnlib.data import (
    CIFAR10_CLASSES,
    load_cifar10,
    load_digits,
    load_mnist,
    load_sample_image,
    make_loader,
    random_affine,
    to_tensors,
)


# -- load_digits ------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def digits():
    return load_digits()


def test_digits_shapes_dtypes_and_range(digits):
    (x_train, y_train), (x_test, y_test) = digits
    assert x_train.shape == (1437, 1, 32, 32) and x_test.shape == (360, 1, 32, 32)
    assert x_train.dtype == np.float32 and y_train.dtype == np.int64
    assert y_train.shape == (1437,) and y_test.shape == (360,)
    assert x_train.min() == 0.0 and x_train.max() == 1.0
    assert set(np.unique(y_test)) == set(range(10))


def test_digits_are_the_real_scikit_learn_digits_at_size_8():
    from sklearn.datasets import load_digits as sklearn_digits

    (x_train, y_train), (x_test, y_test) = load_digits(size=8)
    ours = np.concatenate([x_train, x_test])[:, 0]  # (1797, 8, 8)
    labels = np.concatenate([y_train, y_test])
    bunch = sklearn_digits()
    # The same 1,797 scans divided by 16, only reordered by the split: match them up by content.
    order_ours = np.lexsort(ours.reshape(1797, -1).T)
    order_ref = np.lexsort((bunch.images / 16).reshape(1797, -1).T)
    np.testing.assert_array_equal(ours[order_ours], (bunch.images / 16).astype(np.float32)[order_ref])
    np.testing.assert_array_equal(labels[order_ours], bunch.target[order_ref])


def test_digits_resize_is_bilinear_and_keeps_the_image():
    (x8, _), _ = load_digits(size=8, seed=3)
    (x16, _), _ = load_digits(size=16, seed=3)  # same seed: same images in the same order
    # Bilinear 8 -> 16 (half-pixel centres): interior output pixel 2k+1 lies between inputs k and k+1, 1/4 from k.
    a, b = x8[5, 0, 3, 3], x8[5, 0, 3, 4]
    assert x16[5, 0, 7, 7] == pytest.approx(0.75 * (0.75 * a + 0.25 * b)
                                            + 0.25 * (0.75 * x8[5, 0, 4, 3] + 0.25 * x8[5, 0, 4, 4]), abs=1e-6)
    # Enlarging keeps each image's mean brightness, and 2x2 block averages follow the 8x8 scan closely.
    np.testing.assert_allclose(x16.mean(axis=(1, 2, 3)), x8.mean(axis=(1, 2, 3)), atol=1e-6)
    pooled = x16.reshape(-1, 1, 8, 2, 8, 2).mean(axis=(3, 5))
    assert np.corrcoef(pooled.ravel(), x8.ravel())[0, 1] > 0.95


def test_digits_split_is_stratified_and_seeded(digits):
    (_, y_train), (_, y_test) = digits
    counts = np.bincount(y_test, minlength=10)
    assert counts.min() >= 35 and counts.max() <= 37  # 20% of 174..183 per digit
    (x_again, y_again), _ = load_digits()
    np.testing.assert_array_equal(y_again, y_train)
    np.testing.assert_array_equal(x_again, digits[0][0])
    (_, y_other), _ = load_digits(seed=1)
    assert not np.array_equal(y_other, y_train)


def test_digits_test_fraction():
    (x_train, _), (x_test, _) = load_digits(size=8, test_fraction=0.5)
    assert len(x_test) == 899 and len(x_train) == 898


@pytest.mark.parametrize(
    "kwargs, words",
    [
        ({"size": 7}, "size must be >= 8"),
        ({"size": 32.0}, "size must be an integer"),
        ({"test_fraction": 0}, "strictly between 0 and 1"),
        ({"test_fraction": 1.0}, "strictly between 0 and 1"),
        ({"test_fraction": "0.2"}, "strictly between 0 and 1"),
        ({"seed": -1}, "seed must be non-negative"),
    ],
)
def test_digits_bad_arguments(kwargs, words):
    with pytest.raises(ValueError, match=words):
        load_digits(**kwargs)


# -- sample photographs ------------------------------------------------------------------------------
def test_sample_image_camera_is_grey_in_unit_range():
    import skimage.data

    image = load_sample_image("camera")
    assert image.shape == (512, 512) and image.dtype == np.float32
    np.testing.assert_allclose(image, skimage.data.camera() / 255.0, atol=1e-7)


def test_sample_image_colour_grey_and_sizes():
    cat = load_sample_image("chelsea")
    assert cat.shape == (300, 451, 3) and 0 <= cat.min() and cat.max() <= 1
    grey = load_sample_image("chelsea", as_gray=True)
    assert grey.shape == (300, 451)
    np.testing.assert_allclose(grey, cat @ np.array([0.2125, 0.7154, 0.0721]), atol=1e-6)
    small = load_sample_image("chelsea", size=100)  # shorter side 100, aspect kept
    assert small.shape == (100, 150, 3)
    assert load_sample_image("coffee", size=(64, 48), as_gray=True).shape == (64, 48)
    assert load_sample_image("astronaut", size=64).shape == (64, 64, 3)
    # Down-scaling averages: the mean brightness hardly moves.
    assert abs(float(small.mean()) - float(cat.mean())) < 0.01


def test_sample_image_bad_arguments():
    with pytest.raises(ValueError, match="name must be one of 'camera', 'astronaut'"):
        load_sample_image("lena")
    with pytest.raises(ValueError, match="size must be positive"):
        load_sample_image("camera", size=0)
    with pytest.raises(ValueError, match=r"size must be an int or a pair \(height, width\)"):
        load_sample_image("camera", size=(1, 2, 3))


# -- handing arrays to PyTorch -----------------------------------------------------------------------
def test_to_tensors_and_make_loader():
    x = np.arange(10 * 4, dtype=np.float64).reshape(10, 1, 2, 2)
    y = np.arange(10) % 3
    xt, yt = to_tensors(x, y)
    assert xt.dtype == torch.float32 and yt.dtype == torch.int64 and xt.shape == (10, 1, 2, 2)
    loader = make_loader(x, y, batch_size=4, shuffle=True, seed=0)
    batches = [yb.tolist() for _, yb in loader]
    assert [len(b) for b in batches] == [4, 4, 2]
    assert sorted(sum(batches, [])) == sorted(y.tolist())
    assert [yb.tolist() for _, yb in make_loader(x, y, batch_size=4, shuffle=True, seed=0)] == batches
    assert [yb.tolist() for _, yb in make_loader(x, y, batch_size=10)] == [y.tolist()]
    with pytest.raises(ValueError, match="batch_size must be positive"):
        make_loader(x, y, batch_size=0)


# -- data augmentation -------------------------------------------------------------------------------
def test_random_affine_without_movement_is_the_identity():
    x = torch.rand(4, 2, 9, 11)
    out = random_affine(x, degrees=0, translate=0, scale=(1, 1))
    torch.testing.assert_close(out, x, atol=1e-6, rtol=0)


def test_random_affine_moves_each_image_by_its_own_amount():
    x = torch.zeros(64, 1, 32, 32)
    x[:, :, 14:18, 14:18] = 1.0  # a 4x4 square in the middle
    g = torch.Generator().manual_seed(0)
    out = random_affine(x, degrees=0, translate=0.0625, scale=(1, 1), generator=g)
    assert out.shape == x.shape and out.min() >= 0 and out.max() <= 1
    rows = torch.arange(32.0).view(1, 32, 1)
    centre = (out[:, 0] * rows).sum(dim=(1, 2)) / out[:, 0].sum(dim=(1, 2))  # (64,) row of the centre of mass
    shift = centre - 15.5
    assert shift.abs().max() <= 2.0 + 1e-4  # translate 0.0625 of 32 pixels: at most 2 pixels
    assert shift.abs().max() > 1.5 and len(set(shift.round(decimals=3).tolist())) > 50  # each image differs
    torch.testing.assert_close(out.sum(dim=(1, 2, 3)), x.sum(dim=(1, 2, 3)))  # a shift keeps the ink inside
    again = random_affine(x, degrees=0, translate=0.0625, scale=(1, 1), generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(again, out)


def test_random_affine_zoom_and_turn():
    grid = torch.arange(33.0) - 16
    blob = torch.exp(-(grid.view(-1, 1) ** 2 + grid.view(1, -1) ** 2) / 50).expand(16, 1, 33, 33)
    turned = random_affine(blob, degrees=180, translate=0, scale=(1, 1), generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(turned, blob, atol=0.01, rtol=0)  # a round blob looks the same at any angle
    line = torch.zeros(16, 1, 33, 33)
    line[:, 0, 16, :] = 1.0  # a horizontal line through the centre
    turned = random_affine(line, degrees=90, translate=0, scale=(1, 1), generator=torch.Generator().manual_seed(0))
    assert (turned[:, 0, 16, 16] > 0.99).all()  # the centre stays where it is
    assert (turned[:, 0, 16].sum(dim=1) < 0.5 * 33).sum() >= 12  # most lines now leave the centre row
    half = random_affine(line, degrees=0, translate=0, scale=(0.5, 0.5))  # zoom out: the line is half as long
    assert half[0, 0, 16].sum().item() == pytest.approx(33 / 2, abs=1)
    double = random_affine(blob[:1], degrees=0, translate=0, scale=(2, 2))  # zoom in: the blob twice as wide
    assert double[0, 0, 16, 16 + 6].item() == pytest.approx(blob[0, 0, 16, 16 + 3].item(), abs=1e-3)


def test_random_affine_bad_arguments():
    x = torch.zeros(1, 1, 8, 8)
    with pytest.raises(ValueError, match="translate must be a fraction"):
        random_affine(x, translate=2)
    with pytest.raises(ValueError, match=r"scale must be a range \(low, high\)"):
        random_affine(x, scale=1.1)


# -- MNIST: tiny files in the real IDX format ----------------------------------------------------------
def write_idx(path, array: np.ndarray) -> None:
    """IDX: magic (0, 0, type 0x08 = unsigned byte, number of dimensions), sizes as big-endian int32, bytes."""
    header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    path.write_bytes(header + array.astype(np.uint8).tobytes())


@pytest.fixture
def tiny_mnist(tmp_path):
    raw = tmp_path / "MNIST" / "raw"  # the layout torchvision.datasets.MNIST reads
    raw.mkdir(parents=True)
    rng = np.random.default_rng(0)
    sets = {}
    for split, n in (("train", 5), ("t10k", 3)):
        images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
        labels = rng.integers(0, 10, size=n, dtype=np.uint8)
        write_idx(raw / f"{split}-images-idx3-ubyte", images)
        write_idx(raw / f"{split}-labels-idx1-ubyte", labels)
        sets[split] = images, labels
    return tmp_path, sets


@pytest.mark.parametrize("train, split", [(True, "train"), (False, "t10k")])
def test_load_mnist_reads_idx_files(tiny_mnist, train, split):
    root, sets = tiny_mnist
    x, y = load_mnist(root=root, train=train)
    images, labels = sets[split]
    assert x.shape == (len(images), 1, 28, 28) and x.dtype == np.float32 and y.dtype == np.int64
    np.testing.assert_array_equal(x[:, 0], images / np.float32(255))
    np.testing.assert_array_equal(y, labels)


def test_load_mnist_missing_data_says_how_to_download(tmp_path):
    with pytest.raises(FileNotFoundError, match="download=True") as info:
        load_mnist(root=tmp_path)
    assert "train-images-idx3-ubyte" in str(info.value)
    assert "load_digits()" in str(info.value) and "needs no download" in str(info.value)


def _header(type_code, sizes, ndim=None):
    ndim = len(sizes) if ndim is None else ndim
    return struct.pack(">BBBB", 0, 0, type_code, ndim) + struct.pack(f">{len(sizes)}I", *sizes)


IMAGES_OK = _header(0x08, (5, 28, 28)) + bytes(5 * 28 * 28)
CORRUPT_IDX = {  # what the train images file holds -> what the error says
    "wrong magic": (b"\x01\x02" + IMAGES_OK[2:], "must start with two zero bytes"),
    "empty file": (b"", "must start with two zero bytes"),
    "float type code": (_header(0x0D, (5, 28, 28)) + bytes(4 * 5 * 28 * 28), r"type code must be 0x08.*0x0d"),
    "two dimensions": (_header(0x08, (5, 784)) + bytes(5 * 784), "expected an IDX file of 3 dimensions, got 2"),
    "28x27 images": (_header(0x08, (5, 28, 27)) + bytes(5 * 28 * 27), r"sizes are \(5, 28, 27\), expected \(N, 28, 28\)"),
    "cut header": (IMAGES_OK[:10], "header is cut short"),
    "truncated": (IMAGES_OK[:-1], "is truncated"),
    "too long": (IMAGES_OK + b"\0", "is too long"),
    "huge count, tiny file": (_header(0x08, (2**31, 28, 28)), "is truncated"),  # refused before allocating
}


@pytest.mark.parametrize("case", sorted(CORRUPT_IDX))
def test_load_mnist_refuses_corrupt_image_files_naming_them(tiny_mnist, case):
    root, _ = tiny_mnist
    content, match = CORRUPT_IDX[case]
    path = root / "MNIST" / "raw" / "train-images-idx3-ubyte"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=match) as info:
        load_mnist(root=root)
    assert str(path) in str(info.value)


def test_load_mnist_refuses_label_counts_that_differ_from_image_counts(tiny_mnist):
    root, _ = tiny_mnist
    path = root / "MNIST" / "raw" / "train-labels-idx1-ubyte"
    write_idx(path, np.zeros(4, dtype=np.uint8))  # 5 images
    with pytest.raises(ValueError, match="holds 4 labels, but .* holds 5 images") as info:
        load_mnist(root=root)
    assert str(path) in str(info.value)
    path.write_bytes(_header(0x08, (5,), ndim=2) + bytes(5))
    with pytest.raises(ValueError, match="expected an IDX file of 1 dimensions, got 2"):
        load_mnist(root=root)


def test_load_mnist_refuses_labels_outside_0_to_9(tiny_mnist):
    root, _ = tiny_mnist
    path = root / "MNIST" / "raw" / "t10k-labels-idx1-ubyte"
    write_idx(path, np.array([3, 10, 0], dtype=np.uint8))
    with pytest.raises(ValueError, match="label 10, out of range") as info:
        load_mnist(root=root, train=False)
    assert str(path) in str(info.value)
    load_mnist(root=root, train=True)  # the other split is unaffected


def test_a_legacy_processed_cache_never_overrides_raw(tiny_mnist):
    root, sets = tiny_mnist
    processed = root / "MNIST" / "processed"
    processed.mkdir()
    fake = (torch.full((2, 28, 28), 7, dtype=torch.uint8), torch.tensor([1, 1]))
    for name in ("training.pt", "test.pt"):  # what torchvision < 0.9 wrote and torchvision still prefers
        torch.save(fake, processed / name)
    x, y = load_mnist(root=root)
    np.testing.assert_array_equal(y, sets["train"][1])
    np.testing.assert_array_equal(x[:, 0], sets["train"][0] / np.float32(255))
    for f in (root / "MNIST" / "raw").iterdir():
        f.unlink()
    with pytest.raises(FileNotFoundError, match="old .pt cache.* is never read"):
        load_mnist(root=root)


# -- CIFAR-10: tiny pickled batches in the real format ------------------------------------------------
def write_cifar_batch(path, data: np.ndarray, labels: list[int], numpy_core: str = "numpy._core") -> None:
    """A batch as the "python version" stores it: a pickled dict, data (N, 3072) uint8 rows of R, G, B planes."""
    batch = {"batch_label": "tiny batch", "labels": labels, "data": data,
             "filenames": [f"img_{i}.png" for i in range(len(labels))]}
    blob = pickle.dumps(batch, protocol=2)
    # The official files were written by NumPy 1.x and name numpy.core; the test covers both spellings.
    path.write_bytes(blob.replace(b"numpy._core.multiarray", f"{numpy_core}.multiarray".encode()))


@pytest.fixture
def tiny_cifar(tmp_path):
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    rng = np.random.default_rng(1)
    sets = {}
    names = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
    for i, name in enumerate(names):
        data = rng.integers(0, 256, size=(2, 3072), dtype=np.uint8)
        labels = [int(v) for v in rng.integers(0, 10, size=2)]
        write_cifar_batch(folder / name, data, labels, numpy_core="numpy.core" if i % 2 else "numpy._core")
        sets[name] = data, labels
    with open(folder / "batches.meta", "wb") as f:
        pickle.dump({"label_names": list(CIFAR10_CLASSES), "num_cases_per_batch": 2, "num_vis": 3072}, f, protocol=2)
    return tmp_path, sets


def test_load_cifar10_reads_pickled_batches(tiny_cifar):
    root, sets = tiny_cifar
    x, y = load_cifar10(root=root, train=True)
    assert x.shape == (10, 3, 32, 32) and x.dtype == np.float32 and y.dtype == np.int64
    first, labels = sets["data_batch_1"]
    # Row layout: 1024 red values, 1024 green, 1024 blue, each plane row-major.
    assert x[0, 1, 0, 5] == pytest.approx(first[0, 1024 + 5] / 255)
    assert x[1, 2, 31, 31] == pytest.approx(first[1, 3071] / 255)
    assert y.tolist() == sum((sets[f"data_batch_{i}"][1] for i in range(1, 6)), [])
    x_test, y_test = load_cifar10(root=root, train=False)
    assert x_test.shape == (2, 3, 32, 32) and y_test.tolist() == sets["test_batch"][1]


def test_load_cifar10_agrees_with_torchvision(tiny_cifar, monkeypatch):
    from torchvision.datasets import CIFAR10

    root, _ = tiny_cifar
    # torchvision checks the official MD5 sums; switch that off for the tiny files (the format is what we test).
    monkeypatch.setattr(CIFAR10, "train_list", [[f"data_batch_{i}", None] for i in range(1, 6)])
    monkeypatch.setattr(CIFAR10, "test_list", [["test_batch", None]])
    monkeypatch.setattr(CIFAR10, "meta", {**CIFAR10.meta, "md5": None})
    ref = CIFAR10(root, train=True)
    x, y = load_cifar10(root=root, train=True)
    np.testing.assert_array_equal((x * 255).round().astype(np.uint8), ref.data.transpose(0, 3, 1, 2))
    assert y.tolist() == ref.targets
    assert ref.classes == list(CIFAR10_CLASSES)


def test_load_cifar10_refuses_a_pickle_that_would_run_code(tiny_cifar, tmp_path):
    root, _ = tiny_cifar
    marker = tmp_path / "ran"

    class Payload:
        def __reduce__(self):
            return (open, (str(marker), "w"))  # would create the marker file when unpickled

    (root / "cifar-10-batches-py" / "test_batch").write_bytes(pickle.dumps({"data": Payload(), "labels": [0]}))
    with pytest.raises(ValueError, match="test_batch is not a CIFAR-10 python batch .*refusing to unpickle .*open"):
        load_cifar10(root=root, train=False)
    assert not marker.exists()


def test_load_cifar10_download_goes_through_torchvision(tiny_cifar, monkeypatch):
    import torchvision.datasets

    root, _ = tiny_cifar
    calls = []
    monkeypatch.setattr(torchvision.datasets, "CIFAR10", lambda *args, **kwargs: calls.append((args, kwargs)))
    x, _ = load_cifar10(root=root, train=False, download=True)
    assert calls == [((root,), {"train": False, "download": True})]
    assert x.shape == (2, 3, 32, 32)


def test_load_cifar10_missing_data_says_how_to_download(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"load_cifar10\(root=.*, download=True\)") as info:
        load_cifar10(root=tmp_path, train=False)
    assert "test_batch" in str(info.value) and "needs no download" in str(info.value)


# -- damaged or hostile CIFAR batches: a clear error naming the file, before any big allocation -----------
def _hostile_pickle(call_ndarray: bool) -> bytes:
    """A few bytes that would allocate 10**12 elements: ndarray((10**12,)) or _reconstruct(ndarray, (10**12,), b)."""
    if call_ndarray:
        return b"\x80\x02cnumpy\nndarray\n\x8a\x06\x00\x10\xa5\xd4\xe8\x00\x85\x85R."
    return (b"\x80\x02cnumpy._core.multiarray\n_reconstruct\ncnumpy\nndarray\n\x8a\x06\x00\x10\xa5\xd4\xe8\x00\x85"
            b"C\x01b\x87R.")


@pytest.mark.parametrize("call_ndarray", [True, False])
def test_a_tiny_cifar_file_cannot_allocate_a_huge_array(tiny_cifar, call_ndarray):
    root, _ = tiny_cifar
    path = root / "cifar-10-batches-py" / "test_batch"
    path.write_bytes(_hostile_pickle(call_ndarray))
    assert path.stat().st_size < 130
    with pytest.raises(ValueError, match="test_batch is not a CIFAR-10 python batch"):
        load_cifar10(root=root, train=False)


@pytest.mark.parametrize("data, labels, words", [
    (np.zeros((2, 3072), np.uint8), [1, 2, 3], "'labels' must be a list of 2 labels, one per image, got 3"),
    (np.zeros((2, 3072), np.uint8), [1, 10], "holds the label 10, out of range: labels must be in [0, 9]"),
    (np.zeros((2, 3072), np.uint8), [1, -1], "holds the label -1"),
    (np.zeros((2, 3072), np.int32) + 300, [1, 2], "'data' must be a uint8 array (N, 3072)"),
    (np.zeros((2, 3071), np.uint8), [1, 2], "got uint8 array of shape (2, 3071)"),
])
def test_a_cifar_batch_that_breaks_the_format_is_refused(tiny_cifar, data, labels, words):
    root, _ = tiny_cifar
    path = root / "cifar-10-batches-py" / "test_batch"
    write_cifar_batch(path, data, labels)
    with pytest.raises(ValueError) as info:
        load_cifar10(root=root, train=False)
    assert str(path) in str(info.value) and words in str(info.value)


@pytest.mark.parametrize("damage", [b"", b"not a pickle", None])
def test_a_damaged_cifar_file_names_the_file(tiny_cifar, damage):
    root, _ = tiny_cifar
    path = root / "cifar-10-batches-py" / "test_batch"
    path.write_bytes(path.read_bytes()[:100] if damage is None else damage)
    with pytest.raises(ValueError, match="test_batch is not a CIFAR-10 python batch"):
        load_cifar10(root=root, train=False)


def test_load_digits_refuses_a_size_that_would_need_gigabytes():
    with pytest.raises(ValueError, match=r"size must be at most 256 .*size=100000 would need"):
        load_digits(size=100_000)
