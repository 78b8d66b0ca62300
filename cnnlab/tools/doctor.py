"""Check that the course can run here: ``cnnlab.doctor()`` (lesson 00).

It looks at everything a lesson needs and prints one line per check:

- Python and the versions of the main packages, compared with the pins in
  ``requirements.lock``;
- the JupyterLab widgets front-end (without it sliders show as plain text);
- every data file, opened and verified with :mod:`cnnlab.data`, and every
  file in ``data/weights``: checked against its SHA-256 with
  :func:`cnnlab.weights.verify` and, when TensorFlow is checked too, each
  model opened and run once on an image of zeros;
- TensorFlow and Keras, by running one small convolution and comparing it
  with :func:`cnnlab.kernels.conv2d`.

Problems are reported with what to do about them, never raised, so the
check itself always finishes. The printed table has no timings, so it reads
the same on every run of the same installation.
"""

from __future__ import annotations

import importlib.metadata as metadata
import re
import sys
from pathlib import Path
from typing import NamedTuple

__all__ = ["Check", "Report", "doctor"]

ROOT = Path(__file__).resolve().parents[2]
OK, WARNING, PROBLEM = "ok", "warning", "PROBLEM"

#: (label, distribution names tried in order) of the packages whose versions are reported.
PACKAGES = (
    ("numpy", ("numpy",)),
    ("TensorFlow", ("tensorflow-cpu", "tensorflow", "tensorflow-macos", "tf-nightly")),
    ("Keras", ("keras",)),
    ("matplotlib", ("matplotlib",)),
    ("ipywidgets", ("ipywidgets",)),
    ("JupyterLab", ("jupyterlab",)),
)
WIDGETS_EXTENSION = "@jupyter-widgets/jupyterlab-manager"
SETUP_HINT = "run `make setup` in the course folder (it installs the versions in requirements.lock)"


class Check(NamedTuple):
    """One line of the report."""

    name: str
    status: str      # "ok", "warning" or "PROBLEM"
    detail: str      # what was found
    fix: str = ""    # what to do, when the status is not ok


class Report:
    """The result of :func:`doctor`: a list of :class:`Check` and a printable table.

    Attributes
    ----------
    checks : list of Check
    ok : bool
        True when nothing has the status "PROBLEM" (warnings are allowed).
    problems : list of Check
        The checks that are not ok (problems and warnings).
    """

    def __init__(self, checks):
        self.checks = list(checks)

    @property
    def ok(self) -> bool:
        return all(c.status != PROBLEM for c in self.checks)

    @property
    def problems(self) -> list[Check]:
        return [c for c in self.checks if c.status != OK]

    def __getitem__(self, name: str) -> Check:
        for c in self.checks:
            if c.name == name:
                return c
        raise KeyError(f"no check named {name!r}; the checks are {[c.name for c in self.checks]}")

    def table(self) -> str:
        """The report as aligned text: one line per check, then what to fix."""
        width = max(len(c.name) for c in self.checks)
        lines = [f"{c.name:<{width}}  {c.status:<7}  {c.detail}" for c in self.checks]
        fixes = [f"- {c.name}: {c.fix}" for c in self.problems if c.fix]
        verdict = ("Everything the course needs is in place." if self.ok and not fixes else
                   "Usable, with warnings:" if self.ok else "Some things need fixing:")
        return "\n".join(lines + ["", verdict] + fixes)

    def __str__(self) -> str:
        return self.table()

    def __repr__(self) -> str:
        n = len(self.problems)
        return f"<cnnlab.doctor report: {len(self.checks)} checks, {n} not ok>"


# ---------------------------------------------------------------------------
# The checks
# ---------------------------------------------------------------------------

def _python_check() -> Check:
    version = ".".join(map(str, sys.version_info[:3]))
    if sys.version_info[:2] in ((3, 11), (3, 12)):
        return Check("Python", OK, version)
    return Check("Python", PROBLEM, version,
                 "the course needs Python 3.11 or 3.12 (TensorFlow has no wheels for others); "
                 "create the environment with `make setup PYTHON=python3.11`")


def _locked_versions() -> dict[str, str]:
    """Package -> version pinned in requirements.lock (empty if the file is absent)."""
    lock = ROOT / "requirements.lock"
    pins = {}
    if lock.is_file():
        for line in lock.read_text().splitlines():
            m = re.match(r"^([A-Za-z0-9_.-]+)==([^\s;]+)", line.strip())
            if m:
                pins[re.sub(r"[-_.]+", "-", m.group(1)).lower()] = m.group(2)
    return pins


def _package_check(label: str, dists, pins) -> Check:
    for dist in dists:
        try:
            version = metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
        pinned = pins.get(dist)
        if pinned and pinned != version:
            return Check(label, WARNING, f"{version} (requirements.lock pins {pinned})", SETUP_HINT)
        return Check(label, OK, version)
    return Check(label, PROBLEM, "not installed", SETUP_HINT)


def _labextension_dirs() -> list[Path]:
    """The folders where JupyterLab looks for prebuilt extensions."""
    try:
        from jupyter_core.paths import jupyter_path
    except ImportError:
        return [Path(sys.prefix) / "share" / "jupyter" / "labextensions"]
    return [Path(p) for p in jupyter_path("labextensions")]


def _widgets_check() -> Check:
    name = "widgets front-end"
    for folder in _labextension_dirs():
        if (folder / WIDGETS_EXTENSION / "package.json").is_file():
            return Check(name, OK, f"{WIDGETS_EXTENSION} installed")
    return Check(name, PROBLEM, f"{WIDGETS_EXTENSION} not found",
                 "widgets will show as text such as 'VBox(children=...)'; install it with "
                 "`.venv/bin/pip install jupyterlab_widgets` (or `make setup`), then restart "
                 "JupyterLab and reload the browser tab")


def _data_checks() -> list[Check]:
    from .. import data

    try:
        folder = data.data_folder()
    except data.DataFileError as exc:
        return [Check("data folder", PROBLEM, "missing", str(exc))]
    checks = []
    for dataset, stem in data.FILES:
        name = f"data {dataset}/{stem}"
        try:
            shape = data.read_idx(folder, dataset, stem).shape
        except data.DataFileError as exc:
            problem, _, fix = str(exc).partition(". To fix it, ")
            checks.append(Check(name, PROBLEM, problem.split(": ", 1)[-1],
                                fix.rstrip(".") or str(exc)))
            continue
        checks.append(Check(name, OK, f"verified, {' x '.join(map(str, shape))}"))
    return checks


def _model_checks(load: bool = True) -> list[Check]:
    """One line per file of ``data/weights``: checksum, then (``load``) open and run each model."""
    from .. import weights

    keras_error = None
    if load:
        try:
            from ..session import import_keras

            import_keras()
        except Exception as exc:  # reported by the TensorFlow check; do the checksums only
            keras_error = f"{type(exc).__name__}: {exc}".splitlines()[0][:80]
    checks = []
    for filename in weights.CHECKSUMS:
        model = filename.endswith(".keras")
        name = f"{'model' if model else 'record'} {filename}"
        checks.append(_model_check(weights, name, Path(weights.WEIGHTS_DIR) / filename, model,
                                   load and keras_error is None, keras_error))
    return checks


def _model_check(weights, name, path, model, load, keras_error) -> Check:
    try:
        weights.verify(path)
    except weights.ModelFileError as exc:
        detail = {"missing": "missing",
                  "checksum": "wrong checksum: damaged, or not the file the course ships"}
        return Check(name, PROBLEM, detail.get(exc.kind, exc.problem), exc.fix)
    made_again = weights.file_sha256(path) != weights.CHECKSUMS[path.name]
    verified = "verified (made again here)" if made_again else "verified"
    restore = weights.how_to_fix(path, path.name)
    if not model:
        try:
            weights.load_json(path)
        except weights.ModelFileError as exc:
            return Check(name, PROBLEM, exc.problem, exc.fix)
        return Check(name, OK, verified)
    if not load:
        why = f" (not opened: {keras_error})" if keras_error else ""
        return Check(name, OK, f"{verified}{why}")
    try:
        net = weights.load_model(path)
        _run_on_zeros(net)
    except weights.ModelFileError as exc:
        return Check(name, PROBLEM, exc.problem, exc.fix)
    except Exception as exc:  # a model that opens but does not run
        problem = f"opens but does not run: {type(exc).__name__}: {exc}".splitlines()[0][:160]
        return Check(name, PROBLEM, problem, restore)
    return Check(name, OK, f"{verified}, opens and runs ({net.count_params():,} parameters)")


def _run_on_zeros(net) -> None:
    """One forward pass on an image of zeros; raise if the output is not finite."""
    import numpy as np

    shape = tuple(28 if n is None else int(n) for n in net.inputs[0].shape[1:])
    out = np.asarray(net(np.zeros((1, *shape), np.float32), training=False))
    if not np.all(np.isfinite(out)):
        raise ValueError(f"its output on an image of zeros is not finite ({out.ravel()[:3]} ...)")


def _tensorflow_check() -> Check:
    import numpy as np

    from .. import kernels
    from ..session import native_stderr_silenced

    name = "TensorFlow runs"
    try:
        with native_stderr_silenced():
            import keras
            import tensorflow as tf
        backend = keras.backend.backend()
        if backend != "tensorflow":
            return Check(name, PROBLEM, f"Keras uses the {backend!r} backend",
                         "unset the KERAS_BACKEND environment variable (the course uses TensorFlow)")
        rng = np.random.default_rng(0)
        x = rng.standard_normal((1, 8, 8, 2)).astype(np.float32)  # (N, H, W, C_in)
        k = rng.standard_normal((3, 3, 2, 4)).astype(np.float32)  # (KH, KW, C_in, C_out)
        got = tf.nn.conv2d(x, k, strides=1, padding="VALID").numpy()  # (1, 6, 6, 4)
        if not np.allclose(got, kernels.conv2d(x, k), atol=1e-4):
            return Check(name, PROBLEM, "a 3x3 convolution gives wrong numbers",
                         "reinstall TensorFlow with `make clean setup`")
        gpus = len(tf.config.list_physical_devices("GPU"))
        where = f" (and sees {gpus} GPU{'s' * (gpus != 1)})" if gpus else ""
        return Check(name, OK, f"a 3x3 convolution matches cnnlab.kernels.conv2d{where}")
    except Exception as exc:  # report anything, never raise
        return Check(name, PROBLEM, f"{type(exc).__name__}: {exc}".splitlines()[0][:120],
                     "TensorFlow does not start: see 'Troubleshooting' in README.md "
                     "(Apple silicon and Windows need the `tensorflow` package; on Windows "
                     "use WSL2 for a GPU)")


def _guarded(step, name) -> list[Check]:
    """Run one group of checks; turn any unexpected error into a reported problem."""
    try:
        result = step()
    except Exception as exc:  # the doctor reports, it never raises
        return [Check(name, PROBLEM, f"{type(exc).__name__}: {exc}".splitlines()[0][:120],
                      "please report this message to the course maintainers")]
    return result if isinstance(result, list) else [result]


def doctor(*, tensorflow: bool = True, quiet: bool = False) -> Report:
    """Check the environment of the course and print what is missing, with fixes.

    Parameters
    ----------
    tensorflow : bool
        Also start TensorFlow, run a small convolution and open and run
        every shipped model once (a few seconds). Without it the model files
        are only checked against their SHA-256.
    quiet : bool
        Return the report without printing it.

    Returns
    -------
    Report
        ``report.ok`` is True when nothing needs fixing; ``print(report)``
        shows the table again.
    """
    for value, label in ((tensorflow, "tensorflow"), (quiet, "quiet")):
        if not isinstance(value, bool):
            raise TypeError(f"`{label}` must be True or False, got {value!r} "
                            f"({type(value).__name__})")
    pins = _locked_versions()
    checks = _guarded(_python_check, "Python")
    for label, dists in PACKAGES:
        checks += _guarded(lambda: _package_check(label, dists, pins), label)
    checks += _guarded(_widgets_check, "widgets front-end")
    checks += _guarded(_data_checks, "data")
    checks += _guarded(lambda: _model_checks(load=tensorflow), "models")
    if tensorflow:
        checks += _guarded(_tensorflow_check, "TensorFlow runs")
    report = Report(checks)
    if not quiet:
        print(report.table())
    return report
