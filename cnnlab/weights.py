"""The trained models the course ships in ``data/weights``, and how to open them.

Every lesson that shows a trained network loads it from here, so its pictures
are the same on every run and learners can skip training:

==========================  ======  ======================================================
file                        lesson  made again (from the course folder) by
==========================  ======  ======================================================
``mnist_cnn.keras``         07      ``python -m cnnlab.train mnist-cnn``
``mnist_cnn.json``          07      (written with ``mnist_cnn.keras``)
``lenet5_modern.keras``     09      ``python -m cnnlab.train lenet5 --variant modern``
``lenet5_classic.keras``    09      ``python -m cnnlab.train lenet5 --variant classic``
``resnet_14.keras``         11      ``python -m cnnlab.train resnet --name 14 ...``
``resnet_14.json``          11      (written with ``resnet_14.keras``)
``plain_14.json``           11      ``python -m cnnlab.train resnet --plain --name 14 ...``
``degradation.json``        11      ``python -m cnnlab.train degradation ...``
``denoiser.keras``          12      ``python -m cnnlab.train denoiser``
``style_features.keras``    12      ``python -m cnnlab.train style-features``
==========================  ======  ======================================================

Lesson 11's ``degradation_gradients.json`` (gradient norms per layer at initialisation)
is written by ``python -m cnnlab.train gradient-norms``. ``data/README.md``
gives each file's full command, figures and SHA-256.

Every shipped file is checked when it is opened (:func:`load_model`,
:func:`load_json`, :func:`verify`, ``weights_path(name, verify=True)``): it
must exist, not be empty, not be a Git LFS pointer, be a zip archive (the
``.keras`` files) and have the SHA-256 of :data:`CHECKSUMS`. The checksum is
computed once per file per process (kept by path, size and modification
time). A file that fails gets a :class:`ModelFileError` naming it, the
problem and the two fixes: ``git checkout -- data/weights/<file>`` or the
command that makes it again.

A training command that writes a shipped file again (``python -m cnnlab.train``,
:func:`save_model`) notes the new file's SHA-256 in
``data/weights/.made_again.json`` (:func:`note_made_again`), so the loaders
accept it; ``git checkout -- data/weights`` brings the shipped files back.

:func:`load_model` opens a model in Keras once this module has checked its
file; it lives with the models (:func:`cnnlab.models.load_model`, which
registers the course's custom layers first) and is reachable here too.

Tests (or anyone) can point the module at another folder by setting
``cnnlab.weights.WEIGHTS_DIR``; every function reads it when called.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import zipfile
from pathlib import Path

from ._validate import describe

__all__ = ["WEIGHTS_DIR", "SHIPPED", "RECORDS", "CHECKSUMS", "ModelFileError", "weights_path",
           "verify", "load_model", "load_json", "save_model", "model_path", "model_file_error",
           "how_to_fix", "file_sha256", "note_made_again"]

#: The folder of the models the course ships.
WEIGHTS_DIR = Path(__file__).resolve().parent.parent / "data" / "weights"

#: Each shipped model and the command that makes it again (run from the course folder).
SHIPPED = {
    "mnist_cnn": "python -m cnnlab.train mnist-cnn",
    "lenet5_modern": "python -m cnnlab.train lenet5 --variant modern "
                     "--out data/weights/lenet5_modern.keras",
    "lenet5_classic": "python -m cnnlab.train lenet5 --variant classic "
                      "--out data/weights/lenet5_classic.keras",
    "resnet_14": "python -m cnnlab.train resnet --name 14 --depth 14 --epochs 8 --shift 0 "
                 "--label-smoothing 0.1",
    "denoiser": "python -m cnnlab.train denoiser",
    "style_features": "python -m cnnlab.train style-features",
}

#: Each shipped record (JSON) and the command that writes it again.
RECORDS = {
    "mnist_cnn.json": SHIPPED["mnist_cnn"],
    "resnet_14.json": SHIPPED["resnet_14"],
    "plain_14.json": "python -m cnnlab.train resnet --plain --name 14 --depth 14 --epochs 8 "
                     "--shift 0 --label-smoothing 0.1",
    "degradation.json": "python -m cnnlab.train degradation --depths 20,56 --widths 8,16,32 "
                        "--epochs 6 --seeds 0,1",
    "degradation_gradients.json": "python -m cnnlab.train gradient-norms",
}

#: SHA-256 of every file in ``data/weights`` as the course ships it (also in data/README.md).
CHECKSUMS = {
    "mnist_cnn.keras": "bae04e34e4707c7d1facdbe13c29fe5900712a01223eb272a8cba28801912c25",
    "mnist_cnn.json": "0a55a9c0c413dfc372475ecdce67851c1667a7b972fa0659b6ed1de92e2b6351",
    "lenet5_modern.keras": "b095e45f31e81beca2fb3a7d54cb81b5fc2450819dfb4a6b8fc8c0dd9d704527",
    "lenet5_classic.keras": "2c9bb28418ed97505cde031894a69d83b2ed3883e67bb22a8714433294e5063a",
    "resnet_14.keras": "6efe1bba5e68055afc0fbf9e9ae9b35a6086d7c15d3e944b6c711d9654bc828e",
    "denoiser.keras": "dd9e2be87835acfe34346d7be6b7690cad0576063496a6298e14929981d66d47",
    "style_features.keras": "2bba428de8aca8c5b9da70606e6ce48ce84e8c50f296ba849fc69abb97e6df68",
    "resnet_14.json": "827b929c1224c9eae978b5445562c8dc1d248705c7725e650443d01dec798108",
    "plain_14.json": "4082d970df18d8cd8e2be123f53034c01db1aa1d3a89c345cabaa1d28cea5f1c",
    "degradation.json": "1a899cc76b31ed380b570133e775e5ba5fd2699723fd74a87ef8cf0bb7beaae7",
    "degradation_gradients.json": "c2dae599d25bedf769db4478fc580a72b5e8fe8aaa84c7f2447be5df746b96b8",
}

#: File in WEIGHTS_DIR where the training commands note the SHA-256 of files they made again.
MADE_AGAIN = ".made_again.json"

_LFS_POINTER = b"version https://git-lfs"


class ModelFileError(OSError, ValueError):
    """A model or record file is missing, damaged or not the file the course ships.

    A subclass of both ``OSError`` and ``ValueError``, like
    :class:`cnnlab.data.DataFileError`. The message names the file, the
    problem and how to restore it.

    Attributes
    ----------
    path : pathlib.Path
    kind : str
        ``"missing"``, ``"not_a_file"``, ``"unreadable"``, ``"empty"``,
        ``"lfs_pointer"``, ``"not_zip"``, ``"checksum"`` or ``"damaged"``.
    problem, fix : str
        The two halves of the message.
    """

    def __init__(self, message, path=None, *, kind="damaged", problem="", fix=""):
        super().__init__(message)
        self.path = None if path is None else Path(path)
        self.kind, self.problem, self.fix = kind, problem or message, fix


class MissingModelFileError(ModelFileError, FileNotFoundError):
    """A :class:`ModelFileError` for a file that does not exist (also a ``FileNotFoundError``)."""


# ----------------------------------------------------------------- names and paths

def _check_name(name, label="name") -> str:
    if not isinstance(name, str):
        raise TypeError(f"`{label}` must be a model name such as 'denoiser', got {describe(name)}")
    if (not name or "/" in name or os.sep in name or "\\" in name or "\x00" in name
            or name in (".", "..")):
        raise ValueError(f"`{label}` must be a model name such as 'denoiser' (no folders), "
                         f"got {name!r}")
    return name


def weights_path(name, *, verify=False) -> Path:
    """Path of a file in ``data/weights``: ``"denoiser"`` -> ``data/weights/denoiser.keras``.

    Parameters
    ----------
    name : str
        A plain file name; ``.keras`` is added when it has no suffix
        (``"resnet_14.json"`` keeps its own).
    verify : bool
        Also check the file as :func:`verify` does (present, whole, the
        shipped checksum) before returning its path. Off by default, since
        the training commands use this function to name the files they write.

    Raises
    ------
    ModelFileError
        With ``verify=True``, when the file is missing or damaged.
    """
    name = _check_name(name)
    path = Path(WEIGHTS_DIR) / (name if Path(name).suffix else f"{name}.keras")
    if not isinstance(verify, bool):
        raise TypeError(f"`verify` must be True or False, got {describe(verify)}")
    return _check_file(path) if verify else path


def _shipped_name(path: Path):
    """The file name when ``path`` is one of the files shipped in WEIGHTS_DIR, else None."""
    if path.name not in CHECKSUMS:
        return None
    try:
        inside = path.absolute().parent.resolve() == Path(WEIGHTS_DIR).absolute().resolve()
    except (OSError, RuntimeError):
        return None
    return path.name if inside else None


def _command(shipped: str) -> str:
    return RECORDS.get(shipped) or SHIPPED[Path(shipped).stem]


def how_to_fix(path: Path, shipped, kind="") -> str:
    """What to do about a bad file: for a shipped one (its name ``shipped``), how to restore it.

    ``kind`` is the problem's :attr:`ModelFileError.kind` (``"lfs_pointer"``
    adds ``git lfs pull``); ``shipped`` is None for a file of the learner's own.
    """
    if shipped is None:
        if kind == "lfs_pointer":
            return "run `git lfs pull` in the repository it came from, or check the path"
        if path.suffix != ".keras":
            return "check the path"
        return ("check the path, or save the model again with "
                "`cnnlab.weights.save_model(model, path)` (or `model.save(path)`)")
    restore = (f"restore it with `git checkout -- data/weights/{shipped}` from the course "
               f"folder, or make it again with `{_command(shipped)}`")
    if kind == "lfs_pointer":
        return (f"run `git lfs pull` in the course folder (the file is stored with Git LFS), "
                f"or {restore}")
    return restore


def model_file_error(path, problem: str, kind: str = "damaged") -> ModelFileError:
    """The :class:`ModelFileError` for ``path``: the problem, then how to fix it.

    A :class:`MissingModelFileError` for ``kind="missing"``. The fix names the
    restore and retrain commands when ``path`` is one of the shipped files.
    """
    path = Path(path)
    fix = how_to_fix(path, _shipped_name(path), kind)
    error = MissingModelFileError if kind == "missing" else ModelFileError
    return error(f"{path}: {problem}; {fix}.", path, kind=kind, problem=problem, fix=fix)


def _fail(path: Path, problem: str, kind: str):
    raise model_file_error(path, problem, kind)


# ----------------------------------------------------------------- checking a file

@functools.lru_cache(maxsize=32)
def _sha256(path_str: str, size: int, mtime_ns: int) -> str:
    # size and mtime_ns are part of the cache key only: a changed file is hashed again.
    digest = hashlib.sha256()
    with open(path_str, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def file_sha256(path: Path) -> str:
    """SHA-256 of a file, computed once per path, size and modification time."""
    st = path.stat()
    return _sha256(str(path.absolute()), st.st_size, st.st_mtime_ns)


def _made_again() -> dict:
    """File name -> SHA-256 of the shipped files a training command wrote again here."""
    try:
        record = json.loads((Path(WEIGHTS_DIR) / MADE_AGAIN).read_text())
    except (OSError, ValueError):
        return {}
    if not isinstance(record, dict):
        return {}
    return {k: v for k, v in record.items() if isinstance(k, str) and isinstance(v, str)}


def note_made_again(path) -> None:
    """After a command wrote ``path``: if it is a shipped file, note its new SHA-256."""
    path = Path(path)
    shipped = _shipped_name(path)
    if shipped is None or not path.is_file():
        return
    digest = file_sha256(path)
    record = _made_again()
    if digest == CHECKSUMS[shipped]:
        record.pop(shipped, None)
    else:
        record[shipped] = digest
    try:
        (Path(WEIGHTS_DIR) / MADE_AGAIN).write_text(json.dumps(record, indent=1, sort_keys=True)
                                                    + "\n")
    except OSError:  # a read-only course folder: the new file then fails its checksum, with a
        pass         # message saying how to bring back the shipped one


def _check_file(path: Path) -> Path:
    """Check one file (a shipped one against its checksum); return its path or raise."""
    shipped = _shipped_name(path)
    model = path.suffix == ".keras"
    if not path.exists():
        _fail(path, "model file not found" if model else "file not found", "missing")
    if not path.is_file():
        _fail(path, "expected a file, found a folder (or something that is not a file)",
              "not_a_file")
    try:
        st = path.stat()
        with open(path, "rb") as f:
            head = f.read(len(_LFS_POINTER))
    except OSError as exc:
        _fail(path, f"could not read the file ({exc.strerror or exc})", "unreadable")
    if st.st_size == 0:
        _fail(path, "the file is empty (0 bytes)", "empty")
    if head.startswith(_LFS_POINTER):
        _fail(path, "the file is a Git LFS pointer (a small text file standing in for "
                    "the real one), not the file itself", "lfs_pointer")
    if model and not zipfile.is_zipfile(path):
        _fail(path, "not a Keras model file (not a zip archive: cut short or damaged)",
              "not_zip")
    if shipped is not None:
        digest = _sha256(str(path.absolute()), st.st_size, st.st_mtime_ns)
        if digest != CHECKSUMS[shipped] and digest != _made_again().get(shipped):
            _fail(path, f"wrong checksum: expected SHA-256 {CHECKSUMS[shipped]}, found "
                        f"{digest} (the file is damaged or not the one the course ships)",
                  "checksum")
    return path


def verify(name_or_path) -> Path:
    """Check a shipped file (by name or path) or any model file, without opening it in Keras.

    Parameters
    ----------
    name_or_path : str or pathlib.Path
        A name from :data:`SHIPPED` or :data:`RECORDS` (``"denoiser"``,
        ``"resnet_14.json"``) or the path of a file.

    Returns
    -------
    pathlib.Path
        The path, once it is known to exist and be whole (for a shipped file:
        to have the SHA-256 of :data:`CHECKSUMS`, or of a copy a training
        command made again here).

    Raises
    ------
    ModelFileError
        Naming the file, the problem and how to restore it.
    """
    return _check_file(_resolve(name_or_path, (".keras", ".json")))


def _resolve(name_or_path, suffixes, label="name_or_path") -> Path:
    """A name (``"denoiser"``) or a path with one of ``suffixes`` -> the file's path."""
    if not isinstance(name_or_path, (str, os.PathLike)):
        kinds = " or ".join(suffixes)
        raise TypeError(f"`{label}` must be a model name or a path to a {kinds} file, "
                        f"got {describe(name_or_path)}")
    text = os.fspath(name_or_path)
    if isinstance(text, bytes) or "\x00" in text or not text.strip():
        raise ValueError(f"`{label}` must be a model name such as 'lenet5_modern' or a path, "
                         f"got {text!r}")
    path = Path(text)
    if (isinstance(name_or_path, str) and len(path.parts) == 1 and path.name in CHECKSUMS
            and path.suffix in suffixes and not path.exists()):
        return Path(WEIGHTS_DIR) / path.name        # "resnet_14.json": the shipped file
    if path.suffix not in suffixes:
        if path.suffix or len(path.parts) > 1:
            kinds = " or ".join(suffixes)
            raise ValueError(f"`{label}` must be a model name such as 'lenet5_modern' or a path "
                             f"ending in {kinds}, got {str(path)!r}")
        name = _check_name(text, label)
        suffix = next((s for s in suffixes if f"{name}{s}" in CHECKSUMS), suffixes[0])
        path = Path(WEIGHTS_DIR) / f"{name}{suffix}"
        if name not in SHIPPED and path.name not in RECORDS and not path.exists():
            known = ", ".join(list(SHIPPED) if suffixes[0] == ".keras" else list(RECORDS))
            problem = (f"`{label}` {name!r} is not a file the course ships ({known}) and "
                       f"{path} does not exist")
            fix = "check the spelling, or pass the path of a file"
            raise MissingModelFileError(f"{problem}; {fix}.", path, kind="missing",
                                        problem=problem, fix=fix)
    return path


# ----------------------------------------------------------------- opening and saving

def model_path(name_or_path, label="name_or_path") -> Path:
    """The checked path of a model: a shipped name (``"lenet5_classic"``) or a ``.keras`` path.

    As :func:`verify` for ``.keras`` files, naming the argument ``label`` in
    its messages; :func:`cnnlab.models.load_model` then opens the file in Keras.

    Raises
    ------
    ModelFileError
        When the file is missing, damaged or not the shipped one.
    """
    return _check_file(_resolve(name_or_path, (".keras",), label))


def load_json(name_or_path) -> dict:
    """Read a shipped record (``"resnet_14.json"``, ``"degradation"``) or any JSON file, checked.

    Returns
    -------
    dict
        The parsed record.

    Raises
    ------
    ModelFileError
        When the file is missing, damaged, differs from the shipped one or
        does not hold JSON.
    """
    path = _check_file(_resolve(name_or_path, (".json",)))
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        _fail(path, f"not a readable JSON file ({exc})", "damaged")


def save_model(model, path) -> Path:
    """Save architecture and weights only (a fresh, uncompiled copy of ``model``); return the path.

    Parameters
    ----------
    model : keras.Model
    path : str or pathlib.Path
        Ending in ``.keras``; missing folders are made. Writing a shipped
        file again (``data/weights/denoiser.keras``) notes its new SHA-256 so
        the loaders accept it.
    """
    from .session import import_keras

    keras = import_keras()
    if not isinstance(model, keras.Model):
        raise TypeError(f"`model` must be a keras.Model, got {describe(model)}")
    if not isinstance(path, (str, os.PathLike)) or isinstance(os.fspath(path), bytes):
        raise TypeError(f"`path` must be a path ending in .keras (str or Path), got "
                        f"{describe(path)}")
    if "\x00" in os.fspath(path):
        raise ValueError(f"`path` must be a file path, got {os.fspath(path)!r} (a NUL character)")
    path = Path(path)
    if path.suffix != ".keras":
        raise ValueError(f"`path` must end in .keras, got {str(path)!r}")
    if path.is_dir():
        raise ValueError(f"`path` {str(path)!r} is a folder; give a file name ending in .keras")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ValueError(f"`path`: cannot make the folder {str(path.parent)!r} "
                         f"({exc.strerror or exc}); choose another place") from None
    copy = keras.Model.from_config(model.get_config())
    copy.set_weights(model.get_weights())
    try:
        copy.save(path)
    except OSError as exc:
        raise ValueError(f"`path`: cannot write {str(path)!r} ({exc.strerror or exc}); "
                         "choose another place") from None
    note_made_again(path)
    return path


def __getattr__(name):
    if name == "load_model":
        from .models.saved import load_model

        return load_model
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
