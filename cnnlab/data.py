"""Datasets and small synthetic inputs with known answers.

Two families of inputs feed the lessons:

- the real datasets shipped in ``data/``: :func:`load_mnist` and
  :func:`load_fashion_mnist` read the original gzip-compressed IDX files,
  check every file against the SHA-256 table of ``data/README.md`` and return
  arrays laid out like ``keras.datasets``;
- tiny inputs whose feature maps can be worked out by hand:
  :func:`bump_signal`, :func:`line_image`, plus a real photo
  (:func:`sample_photo`) and one digit (:func:`digit`) for the explorers.

The data folder is ``<course folder>/data``; set the environment variable
``CNNLAB_DATA`` (or pass ``data_dir=``) to read the files from elsewhere.

Each file is decompressed and verified once per process (about 0.2 s for all
of MNIST) and kept in memory as a read-only array, keyed on its path, size and
modification time; the loaders hand out writable copies (a few milliseconds),
so a lesson that changes its arrays never changes what the next call returns.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import os
import zlib
from pathlib import Path

import numpy as np

from ._validate import as_array, check_allocation, check_choice, check_int, check_work, describe

__all__ = [
    "CLASS_NAMES",
    "DataFileError",
    "bump_signal",
    "class_names",
    "digit",
    "line_image",
    "load_fashion_mnist",
    "load_mnist",
    "sample_photo",
    "sample_photo_rgb",
]

DATA_ENV = "CNNLAB_DATA"

IMAGES_MAGIC = 2051  # IDX: unsigned bytes, 3 dimensions
LABELS_MAGIC = 2049  # IDX: unsigned bytes, 1 dimension

#: ``(dataset folder, file stem)`` -> expected header dimensions and SHA-256 of
#: the *decompressed* content of every file; the same table is in data/README.md.
FILES = {
    ("mnist", "train-images-idx3-ubyte"): (
        (60000, 28, 28), "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db"),
    ("mnist", "train-labels-idx1-ubyte"): (
        (60000,), "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5"),
    ("mnist", "t10k-images-idx3-ubyte"): (
        (10000, 28, 28), "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7"),
    ("mnist", "t10k-labels-idx1-ubyte"): (
        (10000,), "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2"),
    ("fashion-mnist", "train-images-idx3-ubyte"): (
        (60000, 28, 28), "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888"),
    ("fashion-mnist", "train-labels-idx1-ubyte"): (
        (60000,), "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9"),
    ("fashion-mnist", "t10k-images-idx3-ubyte"): (
        (10000, 28, 28), "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b"),
    ("fashion-mnist", "t10k-labels-idx1-ubyte"): (
        (10000,), "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34"),
}

_SOURCES = {
    "mnist": "the MNIST database of handwritten digits, http://yann.lecun.com/exdb/mnist/",
    "fashion-mnist": (
        "https://github.com/zalandoresearch/fashion-mnist (folder data/fashion), "
        "also packaged by Debian as dataset-fashion-mnist"
    ),
}

FASHION_MNIST_CLASSES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)
MNIST_CLASSES = tuple(str(d) for d in range(10))

#: Class names by dataset; ``CLASS_NAMES["fashion_mnist"][label]`` names a label.
CLASS_NAMES = {"mnist": MNIST_CLASSES, "fashion_mnist": FASHION_MNIST_CLASSES}
_DATASET_ALIASES = {"mnist": "mnist", "fashion_mnist": "fashion_mnist",
                    "fashion-mnist": "fashion_mnist"}


class DataFileError(OSError, ValueError):
    """A data file is missing, unreadable or not the file the course ships.

    A subclass of both ``OSError`` and ``ValueError``. The message names the
    file, what was expected, what was found and how to restore the file.
    ``path`` holds the offending path.
    """

    def __init__(self, message: str, path=None):
        super().__init__(message)
        self.path = None if path is None else Path(path)


# ---------------------------------------------------------------------------
# Where the files are
# ---------------------------------------------------------------------------

def data_folder(data_dir=None) -> Path:
    """Return the folder holding ``mnist/`` and ``fashion-mnist/``.

    Parameters
    ----------
    data_dir : str or path-like, optional
        Explicit folder. Default: ``$CNNLAB_DATA`` if set, else the course's
        ``data/`` folder (next to the ``cnnlab`` package).

    Raises
    ------
    DataFileError
        If the folder does not exist.
    """
    if data_dir is not None:
        if not isinstance(data_dir, (str, os.PathLike)):
            raise TypeError(f"`data_dir` must be a path (str or Path), got {describe(data_dir)}")
        folder = Path(data_dir)
        if not folder.is_dir():
            raise DataFileError(
                f"`data_dir` {str(folder)!r} is not an existing folder ({_what_is_there(folder)}); "
                f"pass the folder that holds mnist/ and fashion-mnist/ (the course's is "
                f"{str(_COURSE_DATA)!r})", folder)
        return folder
    env = os.environ.get(DATA_ENV, "").strip()
    if env:
        folder = Path(env)
        if not folder.is_dir():
            raise DataFileError(
                f"the environment variable {DATA_ENV} is set to {env!r}, which is not an "
                f"existing folder ({_what_is_there(folder)}); point {DATA_ENV} at the folder "
                f"that holds mnist/ and fashion-mnist/, or unset it to use the course's data/ "
                f"folder, or pass `data_dir`", folder)
        return folder
    folder = _COURSE_DATA
    if not folder.is_dir():
        raise DataFileError(
            f"the course's data folder {str(folder)!r} is missing; restore it with "
            "`git checkout -- data` from the course folder", folder)
    return folder


#: The course's own data folder, next to the ``cnnlab`` package.
_COURSE_DATA = Path(__file__).resolve().parent.parent / "data"


def _what_is_there(path: Path) -> str:
    """``'nothing is there'`` or ``'it is a file'``, for a path that is not a folder."""
    return "it is a file" if path.exists() else "nothing is there"


def _check_dataset_folder(folder: Path, dataset: str, data_dir) -> None:
    """Explain a chosen data folder (``data_dir`` or ``$CNNLAB_DATA``) without ``<dataset>/``.

    Restoring a file with ``git checkout`` is the wrong fix when the folder is
    one level too deep (``.../data/mnist``) or not a data folder at all.
    """
    if data_dir is None and not os.environ.get(DATA_ENV, "").strip():
        return  # the course's own folder: a missing file is restored by git checkout
    if (folder / dataset).is_dir():
        return
    if data_dir is not None:
        given = f"`data_dir` {str(folder)!r}"
        fix = "pass"
    else:
        given = f"the environment variable {DATA_ENV} is set to {str(folder)!r}, which"
        fix = f"set {DATA_ENV} to"
    stems = {stem for _, stem in FILES}
    holds_idx = any(p.name.split(".")[0] in stems for p in folder.iterdir()) \
        if folder.is_dir() else False
    if holds_idx or folder.name in _SOURCES:
        raise DataFileError(
            f"{given} is the folder of one dataset ({folder.name}/, holding the IDX files "
            f"itself), one level too deep; {fix} its parent {str(folder.parent)!r}, the folder "
            "that holds mnist/ and fashion-mnist/", folder)
    raise DataFileError(
        f"{given} has no {dataset}/ folder; {fix} the folder that holds mnist/ and "
        f"fashion-mnist/ (the course's is {str(_COURSE_DATA)!r}), or copy {dataset}/ into it",
        folder)


def _restore_hint(dataset: str, filename: str) -> str:
    return (f"restore the file with `git checkout -- data/{dataset}/{filename}` from the "
            f"course folder, or copy it from the original source ({_SOURCES[dataset]})")


def _fail(path: Path, dataset: str, problem: str):
    raise DataFileError(
        f"{path}: {problem}. To fix it, {_restore_hint(dataset, path.name)}.", path)


# ---------------------------------------------------------------------------
# Reading and checking one IDX file
# ---------------------------------------------------------------------------

def _decompress(path: Path, dataset: str) -> bytes:
    if not path.exists():
        _fail(path, dataset, "file not found")
    if not path.is_file():
        _fail(path, dataset, "expected a gzip file, found something that is not a file")
    try:
        packed = path.read_bytes()
    except OSError as exc:
        _fail(path, dataset, f"could not read the file ({exc})")
    if packed[:2] != b"\x1f\x8b":
        _fail(path, dataset, "expected a gzip-compressed IDX file (starting with the bytes "
                             f"1f 8b), found {packed[:2].hex(' ') or 'an empty file'}")
    try:
        return gzip.decompress(packed)
    except (OSError, EOFError, zlib.error) as exc:
        _fail(path, dataset, f"the gzip data is cut short or damaged ({exc})")


def _parse_idx(raw: bytes, path: Path, dataset: str, shape: tuple, sha256: str) -> np.ndarray:
    """Check header, size and checksum of decompressed IDX bytes; return the array."""
    ndim = len(shape)
    magic_expected = IMAGES_MAGIC if ndim == 3 else LABELS_MAGIC
    header_len = 4 + 4 * ndim  # magic number + one uint32 per dimension
    if len(raw) < header_len:
        _fail(path, dataset, f"expected at least the {header_len}-byte IDX header, "
                             f"found only {len(raw)} bytes after decompression")
    magic = int.from_bytes(raw[:4], "big")
    if magic != magic_expected:
        _fail(path, dataset, f"wrong magic number: expected {magic_expected}, found {magic}")
    dims = tuple(int(d) for d in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    if dims != shape:
        _fail(path, dataset, f"the header gives the shape {dims}, expected {shape}")
    size_expected = header_len + int(np.prod(shape))
    if len(raw) != size_expected:
        _fail(path, dataset, f"expected {size_expected} bytes after decompression "
                             f"({header_len} header + {' x '.join(map(str, shape))} values), "
                             f"found {len(raw)}")
    digest = hashlib.sha256(raw).hexdigest()
    if digest != sha256:
        _fail(path, dataset, f"checksum mismatch: expected SHA-256 {sha256} of the "
                             f"decompressed content, found {digest}")
    arr = np.frombuffer(raw, dtype=np.uint8, offset=header_len).reshape(shape)
    assert not arr.flags.writeable  # views of bytes are read-only
    return arr


@functools.lru_cache(maxsize=16)
def _read_idx_cached(path_str: str, size: int, mtime_ns: int, dataset: str, stem: str):
    # size and mtime_ns are part of the cache key only: a changed file is read again.
    shape, sha256 = FILES[(dataset, stem)]
    path = Path(path_str)
    return _parse_idx(_decompress(path, dataset), path, dataset, shape, sha256)


def read_idx(folder: Path, dataset: str, stem: str) -> np.ndarray:
    """Read and verify ``<folder>/<dataset>/<stem>.gz`` once per process (read-only array)."""
    path = (folder / dataset / f"{stem}.gz").absolute()
    if not path.is_file():
        _decompress(path, dataset)  # raises the DataFileError that fits
    st = path.stat()
    return _read_idx_cached(str(path), st.st_size, st.st_mtime_ns, dataset, stem)


def _load_split(folder: Path, dataset: str, prefix: str):
    images = read_idx(folder, dataset, f"{prefix}-images-idx3-ubyte")
    labels = read_idx(folder, dataset, f"{prefix}-labels-idx1-ubyte")
    if len(images) != len(labels):
        path = (folder / dataset / f"{prefix}-labels-idx1-ubyte.gz").absolute()
        _fail(path, dataset, f"{len(images)} images but {len(labels)} labels; "
                             "expected one label per image")
    return images, labels


# ---------------------------------------------------------------------------
# Public loaders
# ---------------------------------------------------------------------------

def check_limit(limit, n_train: int, n_test: int) -> tuple[int, int]:
    """Turn ``limit`` into the number of training and test examples to return.

    ``limit`` is what :func:`load_mnist` takes (None, an int, or a pair whose
    entries may be None); ``n_train`` and ``n_test`` are the sizes of the two
    splits. Training functions call it to refuse a bad ``limit`` before loading.
    """
    if limit is None:
        return n_train, n_test
    if isinstance(limit, (tuple, list)):
        if len(limit) != 2:
            raise ValueError(
                f"`limit` must be None, an int or a pair (n_train, n_test), got {describe(limit)}")
        counts = []
        for value, available, split in zip(limit, (n_train, n_test), ("training", "test")):
            if value is None:
                counts.append(available)
                continue
            value = check_int(value, "limit", minimum=1)
            if value > available:
                raise ValueError(
                    f"`limit` asks for {value} {split} examples, but the {split} split "
                    f"has only {available}")
            counts.append(value)
        return counts[0], counts[1]
    value = check_int(limit, "limit", minimum=1)
    if value > n_train:
        raise ValueError(
            f"`limit` must be at most {n_train} (the size of the training split), got {value}")
    return value, min(value, n_test)


def _load(dataset: str, limit, data_dir_):
    (size_train,), _ = FILES[(dataset, "train-labels-idx1-ubyte")]
    (size_test,), _ = FILES[(dataset, "t10k-labels-idx1-ubyte")]
    n_train, n_test = check_limit(limit, size_train, size_test)
    folder = data_folder(data_dir_)
    _check_dataset_folder(folder, dataset, data_dir_)
    x_train, y_train = _load_split(folder, dataset, "train")  # (60000, 28, 28), (60000,)
    x_test, y_test = _load_split(folder, dataset, "t10k")  # (10000, 28, 28), (10000,)
    return ((x_train[:n_train].copy(), y_train[:n_train].copy()),
            (x_test[:n_test].copy(), y_test[:n_test].copy()))


def load_mnist(limit=None, *, data_dir=None):
    """Load the MNIST handwritten digits from ``data/mnist`` (used from lesson 02 on).

    The files are read and checked (header, size, SHA-256) once per process;
    later calls return fresh copies from memory.

    Parameters
    ----------
    limit : None, int or (int, int)
        ``None``: everything. An int ``n``: the first ``n`` training examples
        and the first ``min(n, 10000)`` test examples. A pair
        ``(n_train, n_test)``: that many of each (``None`` in the pair means all).
    data_dir : str or path-like, optional
        Folder holding ``mnist/``; default ``$CNNLAB_DATA`` or the course's ``data/``.

    Returns
    -------
    (x_train, y_train), (x_test, y_test)
        ``x_* : (n, 28, 28) uint8`` pixels 0-255, ``y_* : (n,) uint8`` labels
        0-9, as ``keras.datasets.mnist.load_data()`` gives them. The arrays are
        writable copies: changing them does not change later calls.

    Raises
    ------
    DataFileError
        If a file is missing, damaged or differs from the one the course ships.
    """
    return _load("mnist", limit, data_dir)


def load_fashion_mnist(limit=None, *, data_dir=None):
    """Load Fashion-MNIST (Zalando article images) from ``data/fashion-mnist``.

    Same arguments, shapes and checks as :func:`load_mnist`; the labels 0-9
    are named by ``CLASS_NAMES["fashion_mnist"]``.

    Returns
    -------
    (x_train, y_train), (x_test, y_test)
        ``x_* : (n, 28, 28) uint8``, ``y_* : (n,) uint8``.
    """
    return _load("fashion-mnist", limit, data_dir)


def class_names(dataset: str = "fashion_mnist") -> list[str]:
    """Return the ten class names of ``"mnist"`` or ``"fashion_mnist"``.

    ``"fashion-mnist"`` is accepted too. ``class_names("mnist")`` is
    ``["0", "1", ..., "9"]``.
    """
    check_choice(dataset, "dataset", tuple(_DATASET_ALIASES))
    return list(CLASS_NAMES[_DATASET_ALIASES[dataset]])


def digit(index: int = 0, split: str = "test") -> np.ndarray:
    """Return one MNIST image as floats in [0, 1] (used by the explorers of lesson 02).

    Parameters
    ----------
    index : int
        Position in the split, ``0 <= index < 10000`` (test) or ``< 60000`` (train).
    split : {"test", "train"}

    Returns
    -------
    image : (28, 28) ndarray of float64
    """
    split = check_choice(split, "split", ("test", "train"))
    index = check_int(index, "index", minimum=0)
    folder = data_folder()
    _check_dataset_folder(folder, "mnist", None)
    images, _ = _load_split(folder, "mnist", "t10k" if split == "test" else "train")
    if index >= len(images):
        raise ValueError(
            f"`index` must be below {len(images)} (the size of the {split} split), got {index}")
    return images[index].astype(np.float64) / 255.0  # (28, 28)


# ---------------------------------------------------------------------------
# Synthetic inputs with known answers
# ---------------------------------------------------------------------------

def bump_signal(length: int = 8, start: int = 3, width: int = 2) -> np.ndarray:
    """A 1D signal of zeros with a block of ones (lesson 01).

    ``bump_signal()`` is ``[0, 0, 0, 1, 1, 0, 0, 0]``.

    Parameters
    ----------
    length : int
        Number of samples, at least 1.
    start : int
        Index of the first one.
    width : int
        Number of ones; ``start + width <= length``.

    Returns
    -------
    signal : (length,) ndarray of float64
    """
    length = check_int(length, "length", minimum=1)
    start = check_int(start, "start", minimum=0)
    width = check_int(width, "width", minimum=1)
    check_allocation(length, "length", what="the signal")
    if start + width > length:
        raise ValueError(
            f"the bump must fit in the signal: `start` + `width` = {start} + {width} "
            f"= {start + width} exceeds `length` = {length}")
    signal = np.zeros(length)  # (length,)
    signal[start:start + width] = 1.0
    return signal


def line_image(orientation: str = "vertical", size: int = 8, position: int = 3,
               thickness: int = 2, value: float = 1.0) -> np.ndarray:
    """A square image of zeros with one straight line (lesson 02).

    - ``"vertical"``: columns ``position .. position + thickness - 1``;
    - ``"horizontal"``: rows ``position .. position + thickness - 1``;
    - ``"diagonal"`` (top left to bottom right) and ``"anti_diagonal"``
      (top right to bottom left): the vertical line sheared by one column per
      row around the middle row ``size // 2``, so all three cross that row at
      the same columns. ``line_image("diagonal", 8, position=4, thickness=1)``
      is ``np.eye(8)``; ``line_image("anti_diagonal", 8, 3, 1)`` is
      ``np.fliplr(np.eye(8))``.

    Parameters
    ----------
    orientation : {"vertical", "horizontal", "diagonal", "anti_diagonal"}
    size : int
        Height and width, at least 1.
    position : int
        First column (first row for ``"horizontal"``) of the line.
    thickness : int
        Width of the line in pixels, at least 1.
    value : float
        Value of the line pixels; the background is 0.

    Returns
    -------
    image : (size, size) ndarray of float64
    """
    check_choice(orientation, "orientation",
                 ("vertical", "horizontal", "diagonal", "anti_diagonal"))
    size = check_int(size, "size", minimum=1)
    position = check_int(position, "position", minimum=0)
    thickness = check_int(thickness, "thickness", minimum=1)
    value = float(as_array(value, "value", ndims=0))
    if position + thickness > size:
        raise ValueError(
            f"the line lies outside the image: `position` + `thickness` = {position} + "
            f"{thickness} = {position + thickness} exceeds `size` = {size}")
    check_allocation((size, size), "size", what="the image")
    check_work(size * size, "size", what="drawing the image")
    rows, cols = np.arange(size)[:, None], np.arange(size)[None, :]  # (size, 1), (1, size)
    middle = size // 2
    across = {  # which coordinate the line's band is measured along
        "vertical": cols,
        "horizontal": rows,
        "diagonal": cols - (rows - middle),
        "anti_diagonal": cols + (rows - middle),
    }[orientation]
    on_line = (across >= position) & (across < position + thickness)  # (size, size) or a row/column
    return np.where(np.broadcast_to(on_line, (size, size)), value, 0.0)


@functools.lru_cache(maxsize=1)
def _grey_photo_square():
    from matplotlib import cbook
    from PIL import Image

    with Image.open(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)) as im:
        grey = im.convert("L")  # ITU-R 601-2 luma, uint8
    width, height = grey.size
    side = min(width, height)
    left, top = (width - side) // 2, (height - side) // 2
    return grey.crop((left, top, left + side, top + side))


def sample_photo(size: int | None = None) -> np.ndarray:
    """A grey-scale photo (Grace Hopper, bundled with matplotlib) for lesson 02.

    The picture is converted to grey, cropped to its central square
    (512 x 512) and, if ``size`` is given, resized with Lanczos filtering.
    Same result on every call.

    Parameters
    ----------
    size : int, optional
        Side of the returned square image, at least 1; ``None`` keeps 512.

    Returns
    -------
    image : (size, size) ndarray of float64
        Brightness in [0, 1].
    """
    from PIL import Image

    if size is not None:
        size = check_int(size, "size", minimum=1)
        _check_photo_size(size, 1)
    photo = _grey_photo_square()
    if size is not None:
        photo = photo.resize((size, size), Image.Resampling.LANCZOS)
    return np.asarray(photo, dtype=np.float64) / 255.0  # (size, size)


@functools.lru_cache(maxsize=1)
def _colour_photo_square():
    from matplotlib import cbook
    from PIL import Image

    with Image.open(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)) as im:
        rgb = im.convert("RGB")
    width, height = rgb.size
    side = min(width, height)
    left, top = (width - side) // 2, (height - side) // 2
    return rgb.crop((left, top, left + side, top + side))


def sample_photo_rgb(size: int | None = None) -> np.ndarray:
    """The colour version of :func:`sample_photo`, channels last (lesson 04).

    Same picture, crop and resizing as :func:`sample_photo`, keeping the
    red, green and blue channels.

    Parameters
    ----------
    size : int, optional
        Side of the returned square image, at least 1; ``None`` keeps 512.

    Returns
    -------
    image : (size, size, 3) ndarray of float64
        Red, green and blue brightness in [0, 1].
    """
    from PIL import Image

    if size is not None:
        size = check_int(size, "size", minimum=1)
        _check_photo_size(size, 3)
    photo = _colour_photo_square()
    if size is not None:
        photo = photo.resize((size, size), Image.Resampling.LANCZOS)
    return np.asarray(photo, dtype=np.float64) / 255.0  # (size, size, 3)


def _check_photo_size(size: int, channels: int) -> None:
    """Refuse, before resizing, a photo too large for memory or too slow to make."""
    shape = (size, size) if channels == 1 else (size, size, channels)
    check_allocation(shape, "size", what="the photo")
    check_work(size * size * channels, "size", what="resizing the photo")
