"""Tests for cnnlab.data: the dataset loaders and the synthetic inputs.

The loaders are checked against facts that do not come from our code: the
checksums of data/README.md, an independent parse of the IDX bytes with
``numpy.frombuffer``, and published properties of MNIST and Fashion-MNIST
(class counts, first labels, the usual normalisation constants).
"""

from __future__ import annotations

import gzip
import hashlib
import os
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cnnlab import data

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "data"
STEMS = ["train-images-idx3-ubyte", "train-labels-idx1-ubyte",
         "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"]
ALL_FILES = [f"{ds}/{stem}" for ds in ("mnist", "fashion-mnist") for stem in STEMS]


def readme_checksums() -> dict[str, str]:
    """The SHA-256 table of data/README.md as {"mnist/train-images-idx3-ubyte": hex}."""
    text = (DATA / "README.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\|\s*((?:fashion-)?mnist/[\w-]+)\s*\|\s*([0-9a-f]{64})\s*\|", text, re.M)
    return dict(rows)


def pixel_mean_std(images: np.ndarray) -> tuple[float, float]:
    """Mean and standard deviation of the pixels scaled to [0, 1] (as E[x^2] - E[x]^2)."""
    mean = images.mean(dtype=np.float64)
    mean_square = np.square(images, dtype=np.uint16).mean(dtype=np.float64)
    return mean / 255.0, np.sqrt(mean_square - mean**2) / 255.0


def idx_bytes(dataset: str, stem: str) -> bytes:
    return gzip.decompress((DATA / dataset / f"{stem}.gz").read_bytes())


@pytest.fixture(scope="module")
def mnist():
    return data.load_mnist()


@pytest.fixture(scope="module")
def fashion():
    return data.load_fashion_mnist()


# --- the files and their checksums ---------------------------------------------

def test_readme_lists_every_file_once():
    assert sorted(readme_checksums()) == sorted(ALL_FILES)


@pytest.mark.parametrize("name", ALL_FILES)
def test_file_on_disk_matches_readme_checksum(name):
    dataset, stem = name.split("/")
    assert hashlib.sha256(idx_bytes(dataset, stem)).hexdigest() == readme_checksums()[name]


def test_module_checksums_match_readme():
    in_module = {f"{ds}/{stem}": sha for (ds, stem), (_, sha) in data.FILES.items()}
    assert in_module == readme_checksums()


# --- what the loaders return -------------------------------------------------------

@pytest.mark.parametrize("which", ["mnist", "fashion"])
def test_load_shapes_dtypes_and_label_range(which, request):
    (x_train, y_train), (x_test, y_test) = request.getfixturevalue(which)
    assert x_train.shape == (60000, 28, 28) and y_train.shape == (60000,)
    assert x_test.shape == (10000, 28, 28) and y_test.shape == (10000,)
    for arr in (x_train, y_train, x_test, y_test):
        assert arr.dtype == np.uint8
        assert arr.flags.writeable and arr.flags.c_contiguous
    assert set(np.unique(y_train)) == set(range(10)) == set(np.unique(y_test))
    assert x_train.min() == 0 and x_train.max() == 255


@pytest.mark.parametrize("dataset, which", [("mnist", "mnist"), ("fashion-mnist", "fashion")])
def test_load_equals_independent_parse(dataset, which, request):
    (x_train, y_train), (x_test, y_test) = request.getfixturevalue(which)
    images = np.frombuffer(idx_bytes(dataset, "t10k-images-idx3-ubyte"), np.uint8, offset=16)
    labels = np.frombuffer(idx_bytes(dataset, "train-labels-idx1-ubyte"), np.uint8, offset=8)
    np.testing.assert_array_equal(x_test, images.reshape(10000, 28, 28))
    np.testing.assert_array_equal(y_train, labels)


def test_mnist_published_facts(mnist):
    (x_train, y_train), (_, y_test) = mnist
    assert y_train[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    assert y_test[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]
    assert np.bincount(y_train).tolist() == [5923, 6742, 5958, 6131, 5842,
                                             5421, 5918, 6265, 5851, 5949]
    assert np.bincount(y_test).tolist() == [980, 1135, 1032, 1010, 982,
                                            892, 958, 1028, 974, 1009]
    mean, std = pixel_mean_std(x_train)
    assert mean == pytest.approx(0.1307, abs=1e-4)  # the usual normalisation constants
    assert std == pytest.approx(0.3081, abs=1e-4)


def test_fashion_mnist_published_facts(fashion):
    (x_train, y_train), (_, y_test) = fashion
    assert y_train[:10].tolist() == [9, 0, 0, 3, 0, 2, 7, 2, 5, 5]
    assert np.bincount(y_train).tolist() == [6000] * 10
    assert np.bincount(y_test).tolist() == [1000] * 10
    mean, std = pixel_mean_std(x_train)
    assert mean == pytest.approx(0.2860, abs=1e-4)
    assert std == pytest.approx(0.3530, abs=1e-4)


def test_load_returns_fresh_copies(mnist):
    (x_train, y_train), _ = data.load_mnist()
    x_train[0] = 0
    y_train[:] = 3
    (x_again, y_again), _ = data.load_mnist()
    np.testing.assert_array_equal(x_again, mnist[0][0])
    np.testing.assert_array_equal(y_again, mnist[0][1])


# --- limit -----------------------------------------------------------------------------

@pytest.mark.parametrize("limit, n_train, n_test", [
    (100, 100, 100),
    (20000, 20000, 10000),
    ((50, 7), 50, 7),
    ((None, 5), 60000, 5),
    ([3, None], 3, 10000),
    (np.int64(12), 12, 12),
])
def test_limit_takes_the_first_examples(mnist, limit, n_train, n_test):
    (x_train, y_train), (x_test, y_test) = data.load_mnist(limit)
    assert len(x_train) == len(y_train) == n_train
    assert len(x_test) == len(y_test) == n_test
    np.testing.assert_array_equal(x_train, mnist[0][0][:n_train])
    np.testing.assert_array_equal(y_test, mnist[1][1][:n_test])


@pytest.mark.parametrize("limit, error, match", [
    (0, ValueError, "`limit` must be at least 1, got 0"),
    (-5, ValueError, "`limit` must be at least 1"),
    (60001, ValueError, "`limit` must be at most 60000"),
    ((70000, 5), ValueError, "`limit` asks for 70000 training examples"),
    ((5, 10001), ValueError, "`limit` asks for 10001 test examples"),
    ((1, 2, 3), ValueError, "`limit` must be None, an int or a pair"),
    (2.5, TypeError, "`limit` must be an integer, got 2.5"),
    ("100", TypeError, "`limit` must be an integer"),
    (True, TypeError, "`limit` must be an integer"),
    ((10, 0.5), TypeError, "`limit` must be an integer"),
])
def test_bad_limit(limit, error, match):
    with pytest.raises(error, match=re.escape(match)):
        data.load_fashion_mnist(limit)


# --- where the files are -----------------------------------------------------------

@pytest.fixture
def tmp_mnist(tmp_path):
    """A private copy of data/mnist under tmp_path; the cache is emptied afterwards."""
    shutil.copytree(DATA / "mnist", tmp_path / "mnist")
    yield tmp_path
    data._read_idx_cached.cache_clear()  # drop the copies' arrays from memory


def test_env_variable_points_to_another_folder(tmp_mnist, monkeypatch, mnist):
    monkeypatch.setenv("CNNLAB_DATA", str(tmp_mnist))
    _, (x_test, _) = data.load_mnist(limit=5)
    np.testing.assert_array_equal(x_test, mnist[1][0][:5])
    (tmp_mnist / "mnist" / "t10k-images-idx3-ubyte.gz").unlink()
    with pytest.raises(data.DataFileError, match=re.escape(str(tmp_mnist))):
        data.load_mnist()


def test_env_variable_naming_missing_folder(tmp_path, monkeypatch):
    missing = tmp_path / "nowhere"
    monkeypatch.setenv("CNNLAB_DATA", str(missing))
    with pytest.raises(data.DataFileError, match=r"CNNLAB_DATA is set to .*nowhere"):
        data.load_mnist()


def test_missing_data_dir_argument(tmp_path):
    expected = r"`data_dir` .*nowhere.* is not an existing folder"
    with pytest.raises(data.DataFileError, match=expected):
        data.load_mnist(data_dir=tmp_path / "nowhere")


def test_data_dir_of_wrong_type():
    with pytest.raises(TypeError, match="`data_dir` must be a path"):
        data.load_mnist(data_dir=3)


# --- damaged files -------------------------------------------------------------------

def load_error(folder: Path, stem: str) -> str:
    """Load from ``folder`` expecting a DataFileError about ``stem``; return its message."""
    with pytest.raises(data.DataFileError) as info:
        data.load_mnist(data_dir=folder)
    message = str(info.value)
    path = folder / "mnist" / f"{stem}.gz"
    assert str(path) in message
    assert info.value.path == path
    assert f"`git checkout -- data/mnist/{stem}.gz`" in message
    assert "yann.lecun.com/exdb/mnist" in message
    return message


def rewrite(path: Path, content: bytes) -> None:
    path.write_bytes(gzip.compress(content, compresslevel=1))


def test_data_file_error_is_os_error_and_value_error():
    assert issubclass(data.DataFileError, OSError)
    assert issubclass(data.DataFileError, ValueError)


def test_missing_file(tmp_mnist):
    (tmp_mnist / "mnist" / "train-labels-idx1-ubyte.gz").unlink()
    assert "file not found" in load_error(tmp_mnist, "train-labels-idx1-ubyte")


def test_folder_in_place_of_file(tmp_mnist):
    target = tmp_mnist / "mnist" / "t10k-labels-idx1-ubyte.gz"
    target.unlink()
    target.mkdir()
    assert "not a file" in load_error(tmp_mnist, "t10k-labels-idx1-ubyte")


def test_file_that_is_not_gzip(tmp_mnist):
    target = tmp_mnist / "mnist" / "t10k-labels-idx1-ubyte.gz"
    target.write_bytes(idx_bytes("mnist", "t10k-labels-idx1-ubyte"))  # plain IDX
    message = load_error(tmp_mnist, "t10k-labels-idx1-ubyte")
    assert "expected a gzip-compressed IDX file" in message and "found 00 00" in message


def test_empty_file(tmp_mnist):
    (tmp_mnist / "mnist" / "t10k-labels-idx1-ubyte.gz").write_bytes(b"")
    assert "found an empty file" in load_error(tmp_mnist, "t10k-labels-idx1-ubyte")


def test_gzip_file_cut_short(tmp_mnist):
    target = tmp_mnist / "mnist" / "t10k-images-idx3-ubyte.gz"
    packed = target.read_bytes()
    target.write_bytes(packed[: len(packed) // 2])
    assert "cut short or damaged" in load_error(tmp_mnist, "t10k-images-idx3-ubyte")


def test_content_shorter_than_header_promises(tmp_mnist):
    raw = idx_bytes("mnist", "t10k-images-idx3-ubyte")
    rewrite(tmp_mnist / "mnist" / "t10k-images-idx3-ubyte.gz", raw[:-100])
    message = load_error(tmp_mnist, "t10k-images-idx3-ubyte")
    assert f"expected {16 + 10000 * 28 * 28} bytes" in message
    assert f"found {16 + 10000 * 28 * 28 - 100}" in message


def test_header_only_partly_there(tmp_mnist):
    rewrite(tmp_mnist / "mnist" / "t10k-labels-idx1-ubyte.gz", b"\x00\x00\x08")
    message = load_error(tmp_mnist, "t10k-labels-idx1-ubyte")
    assert "8-byte IDX header, found only 3 bytes" in message


def test_wrong_magic_number(tmp_mnist):
    raw = bytearray(idx_bytes("mnist", "t10k-images-idx3-ubyte"))
    raw[:4] = (2049).to_bytes(4, "big")
    rewrite(tmp_mnist / "mnist" / "t10k-images-idx3-ubyte.gz", bytes(raw))
    message = load_error(tmp_mnist, "t10k-images-idx3-ubyte")
    assert "wrong magic number: expected 2051, found 2049" in message


def test_wrong_dimensions_in_header(tmp_mnist):
    raw = bytearray(idx_bytes("mnist", "t10k-labels-idx1-ubyte"))
    raw[4:8] = (9999).to_bytes(4, "big")
    rewrite(tmp_mnist / "mnist" / "t10k-labels-idx1-ubyte.gz", bytes(raw))
    message = load_error(tmp_mnist, "t10k-labels-idx1-ubyte")
    assert "the header gives the shape (9999,), expected (10000,)" in message


def test_one_changed_pixel_fails_the_checksum(tmp_mnist):
    raw = bytearray(idx_bytes("mnist", "t10k-images-idx3-ubyte"))
    raw[16 + 5000 * 784 + 400] ^= 0xFF
    rewrite(tmp_mnist / "mnist" / "t10k-images-idx3-ubyte.gz", bytes(raw))
    message = load_error(tmp_mnist, "t10k-images-idx3-ubyte")
    expected = readme_checksums()["mnist/t10k-images-idx3-ubyte"]
    assert f"checksum mismatch: expected SHA-256 {expected}" in message
    assert f"found {hashlib.sha256(bytes(raw)).hexdigest()}" in message


def test_image_and_label_counts_differ(tmp_mnist, monkeypatch):
    # Declare 60000 test labels valid, then ship the training labels as test labels.
    key = ("mnist", "t10k-labels-idx1-ubyte")
    train_labels = data.FILES[("mnist", "train-labels-idx1-ubyte")]
    monkeypatch.setitem(data.FILES, key, train_labels)
    folder = tmp_mnist / "mnist"
    shutil.copyfile(folder / "train-labels-idx1-ubyte.gz", folder / "t10k-labels-idx1-ubyte.gz")
    message = load_error(tmp_mnist, "t10k-labels-idx1-ubyte")
    assert "10000 images but 60000 labels" in message


def test_files_are_verified_once_and_again_after_a_change(tmp_mnist, monkeypatch):
    data.load_mnist(data_dir=tmp_mnist)

    def no_reading(*args):
        raise AssertionError("a verified, unchanged file was read again")

    with monkeypatch.context() as patch:
        patch.setattr(data, "_decompress", no_reading)
        data.load_mnist(data_dir=tmp_mnist)  # every file comes from memory

    target = tmp_mnist / "mnist" / "t10k-labels-idx1-ubyte.gz"
    raw = bytearray(idx_bytes("mnist", "t10k-labels-idx1-ubyte"))
    raw[-1] = (raw[-1] + 1) % 10
    rewrite(target, bytes(raw))
    stamp = target.stat().st_mtime_ns + 10**9
    os.utime(target, ns=(stamp, stamp))
    assert "checksum mismatch" in load_error(tmp_mnist, "t10k-labels-idx1-ubyte")


# --- class names and single digits -------------------------------------------------

def test_class_names():
    assert data.class_names("fashion_mnist") == [
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
        "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
    assert data.class_names("fashion-mnist") == data.class_names("fashion_mnist")
    assert data.class_names("mnist") == [str(d) for d in range(10)]
    assert data.CLASS_NAMES["fashion_mnist"][9] == "Ankle boot"


def test_class_names_unknown_dataset():
    with pytest.raises(ValueError, match="`dataset` must be one of .*got 'cifar10'"):
        data.class_names("cifar10")


@pytest.mark.parametrize("index, split, which", [(0, "test", 1), (9999, "test", 1),
                                                 (59999, "train", 0)])
def test_digit_is_the_scaled_mnist_image(mnist, index, split, which):
    image = data.digit(index, split)
    assert image.shape == (28, 28) and image.dtype == np.float64
    np.testing.assert_array_equal(image, mnist[which][0][index] / 255.0)


@pytest.mark.parametrize("kwargs, error, match", [
    ({"index": 10000}, ValueError, "`index` must be below 10000"),
    ({"index": 60000, "split": "train"}, ValueError, "`index` must be below 60000"),
    ({"index": -1}, ValueError, "`index` must be at least 0"),
    ({"index": 1.0}, TypeError, "`index` must be an integer"),
    ({"split": "validation"}, ValueError, "`split` must be one of 'test', 'train'"),
])
def test_digit_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=re.escape(match)):
        data.digit(**kwargs)


# --- synthetic signals and images ----------------------------------------------------

def test_bump_signal_default():
    signal = data.bump_signal()
    np.testing.assert_array_equal(signal, [0, 0, 0, 1, 1, 0, 0, 0])
    assert signal.dtype == np.float64


def test_bump_signal_custom():
    np.testing.assert_array_equal(data.bump_signal(length=6, start=0, width=3),
                                  [1, 1, 1, 0, 0, 0])
    np.testing.assert_array_equal(data.bump_signal(5, 4, 1), [0, 0, 0, 0, 1])


@pytest.mark.parametrize("kwargs, error, match", [
    ({"length": 0}, ValueError, "`length` must be at least 1"),
    ({"length": 8.0}, TypeError, "`length` must be an integer"),
    ({"start": -1}, ValueError, "`start` must be at least 0"),
    ({"width": 0}, ValueError, "`width` must be at least 1"),
    ({"start": 7}, ValueError, "`start` + `width` = 7 + 2 = 9 exceeds `length` = 8"),
])
def test_bump_signal_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=re.escape(match)):
        data.bump_signal(**kwargs)


def test_line_image_vertical_default():
    expected = np.zeros((8, 8))
    expected[:, 3:5] = 1.0  # columns 3 and 4
    image = data.line_image()
    np.testing.assert_array_equal(image, expected)
    assert image.dtype == np.float64


def test_line_image_horizontal():
    expected = np.zeros((6, 6))
    expected[1, :] = 0.5
    np.testing.assert_array_equal(data.line_image("horizontal", 6, 1, 1, value=0.5), expected)


def test_line_image_diagonals_through_the_corners():
    np.testing.assert_array_equal(data.line_image("diagonal", 8, position=4, thickness=1),
                                  np.eye(8))
    np.testing.assert_array_equal(data.line_image("anti_diagonal", 8, position=3, thickness=1),
                                  np.fliplr(np.eye(8)))
    np.testing.assert_array_equal(data.line_image("diagonal", 7, position=3, thickness=1),
                                  np.eye(7))


line_args = st.integers(1, 30).flatmap(lambda size: st.tuples(
    st.just(size), st.integers(1, size)).flatmap(lambda s_t: st.tuples(
        st.just(s_t[0]), st.integers(0, s_t[0] - s_t[1]), st.just(s_t[1]))))


@settings(max_examples=50, deadline=None)
@given(args=line_args)
def test_line_image_symmetries(args):
    size, position, thickness = args
    mirrored = size - position - thickness  # the same line seen in a mirror
    line = {o: data.line_image(o, size, position, thickness)
            for o in ("vertical", "horizontal", "diagonal", "anti_diagonal")}
    np.testing.assert_array_equal(line["horizontal"], line["vertical"].T)
    np.testing.assert_array_equal(np.fliplr(line["vertical"]),
                                  data.line_image("vertical", size, mirrored, thickness))
    np.testing.assert_array_equal(np.fliplr(line["diagonal"]),
                                  data.line_image("anti_diagonal", size, mirrored, thickness))
    middle = size // 2  # every line crosses the middle row at the same columns
    for name in ("diagonal", "anti_diagonal"):
        np.testing.assert_array_equal(line[name][middle], line["vertical"][middle])
    assert line["vertical"].sum() == size * thickness
    assert set(np.unique(line["diagonal"])) <= {0.0, 1.0}


@pytest.mark.parametrize("kwargs, error, match", [
    ({"orientation": "slanted"}, ValueError, "`orientation` must be one of 'vertical'"),
    ({"size": 0}, ValueError, "`size` must be at least 1"),
    ({"position": 7}, ValueError, "`position` + `thickness` = 7 + 2 = 9 exceeds `size` = 8"),
    ({"position": -1}, ValueError, "`position` must be at least 0"),
    ({"thickness": 0}, ValueError, "`thickness` must be at least 1"),
    ({"thickness": 9, "position": 0}, ValueError, "exceeds `size` = 8"),
    ({"value": float("nan")}, ValueError, "`value` must hold finite numbers"),
    ({"value": "white"}, TypeError, "`value` must hold numbers"),
    ({"value": [1.0, 2.0]}, ValueError, "`value` must have 0 dimensions"),
])
def test_line_image_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=re.escape(match)):
        data.line_image(**kwargs)


# --- the sample photo -------------------------------------------------------------

def reference_photo() -> np.ndarray:
    """Grace Hopper (512 wide, 600 high) in grey by the ITU-R 601 luma weights, centre crop."""
    from matplotlib import cbook
    from PIL import Image

    with Image.open(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)) as im:
        rgb = np.asarray(im.convert("RGB"), dtype=np.float64)  # (600, 512, 3)
    grey = rgb @ [0.299, 0.587, 0.114] / 255.0  # (600, 512)
    return grey[44:556]  # (512, 512), rows (600 - 512) / 2 from the top


def test_sample_photo_is_the_grey_centre_crop():
    photo = data.sample_photo()
    assert photo.shape == (512, 512) and photo.dtype == np.float64
    assert 0.0 <= photo.min() and photo.max() <= 1.0
    np.testing.assert_allclose(photo, reference_photo(), atol=1.01 / 255)  # rounding to uint8


def test_sample_photo_resized_is_deterministic():
    small = data.sample_photo(64)
    assert small.shape == (64, 64)
    assert 0.0 <= small.min() and small.max() <= 1.0
    np.testing.assert_array_equal(small, data.sample_photo(64))
    assert small.mean() == pytest.approx(data.sample_photo().mean(), abs=0.01)
    photo = data.sample_photo()
    photo[:] = 0  # the caller's array is its own
    assert data.sample_photo().max() > 0


@pytest.mark.parametrize("size, error, match", [
    (0, ValueError, "`size` must be at least 1"),
    (2.5, TypeError, "`size` must be an integer"),
    ("big", TypeError, "`size` must be an integer"),
])
def test_sample_photo_bad_size(size, error, match):
    with pytest.raises(error, match=re.escape(match)):
        data.sample_photo(size)
