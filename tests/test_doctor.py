"""cnnlab.doctor reports problems instead of raising them."""

from __future__ import annotations

import importlib.metadata

import pytest

import cnnlab
from cnnlab import data
from cnnlab.tools import doctor as doctor_module


def data_copy_without(tmp_path, missing: str):
    """A data folder of symbolic links to the real files, one left out."""
    real = data.data_folder()
    for dataset in ("mnist", "fashion-mnist"):
        (tmp_path / dataset).mkdir()
        for f in (real / dataset).glob("*.gz"):
            if f"{dataset}/{f.name}" != missing:
                (tmp_path / dataset / f.name).symlink_to(f)
    return tmp_path


def test_cnnlab_doctor_is_callable_and_returns_a_report(capsys):
    report = cnnlab.doctor(tensorflow=False)
    assert isinstance(report, doctor_module.Report)
    printed = capsys.readouterr().out
    assert printed.strip() == report.table().strip()
    assert "Python" in printed and "numpy" in printed
    assert cnnlab.doctor.__doc__ and callable(cnnlab.doctor)


def test_healthy_environment_reports_ok():
    report = cnnlab.doctor(quiet=True)
    assert report.ok, report.table()
    assert report["TensorFlow runs"].status == "ok"
    assert report["widgets front-end"].status == "ok"
    names = [c.name for c in report.checks]
    assert sum(n.startswith("data ") for n in names) == len(data.FILES)
    for stem in ("lenet5_modern", "lenet5_classic", "resnet_14", "denoiser", "style_features"):
        assert report[f"model {stem}.keras"].detail.startswith("verified, opens and runs"), stem
    assert report["record resnet_14.json"].detail == "verified"
    for label, dists in doctor_module.PACKAGES:
        installed = [d for d in dists if _installed(d)]
        assert report[label].detail.startswith(importlib.metadata.version(installed[0]))


def _installed(dist):
    try:
        importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


def test_missing_data_file_is_reported_not_raised(tmp_path, monkeypatch):
    folder = data_copy_without(tmp_path, "mnist/t10k-labels-idx1-ubyte.gz")
    monkeypatch.setenv(data.DATA_ENV, str(folder))
    report = cnnlab.doctor(tensorflow=False, quiet=True)
    bad = report["data mnist/t10k-labels-idx1-ubyte"]
    assert bad.status == "PROBLEM" and "file not found" in bad.detail
    assert "git checkout -- data/mnist/t10k-labels-idx1-ubyte.gz" in bad.fix
    assert not report.ok
    assert report["data mnist/t10k-images-idx3-ubyte"].status == "ok"
    assert "Some things need fixing" in report.table()


def test_damaged_data_file_is_reported(tmp_path, monkeypatch):
    folder = data_copy_without(tmp_path, "fashion-mnist/train-labels-idx1-ubyte.gz")
    (folder / "fashion-mnist" / "train-labels-idx1-ubyte.gz").write_bytes(b"not gzip")
    monkeypatch.setenv(data.DATA_ENV, str(folder))
    report = cnnlab.doctor(tensorflow=False, quiet=True)
    assert "gzip" in report["data fashion-mnist/train-labels-idx1-ubyte"].detail


def test_missing_data_folder_is_reported(tmp_path, monkeypatch):
    monkeypatch.setenv(data.DATA_ENV, str(tmp_path / "nowhere"))
    report = cnnlab.doctor(tensorflow=False, quiet=True)
    assert report["data folder"].status == "PROBLEM"
    assert "CNNLAB_DATA" in report["data folder"].fix


def test_missing_widget_front_end_is_reported(tmp_path, monkeypatch):
    monkeypatch.setattr(doctor_module, "_labextension_dirs", lambda: [tmp_path])
    report = cnnlab.doctor(tensorflow=False, quiet=True)
    check = report["widgets front-end"]
    assert check.status == "PROBLEM" and "not found" in check.detail
    assert "jupyterlab_widgets" in check.fix and "restart" in check.fix


def test_missing_model_file_is_reported(tmp_path, monkeypatch):
    import cnnlab.weights

    (tmp_path / "style_features.keras").write_bytes(b"not a zip")
    monkeypatch.setattr(cnnlab.weights, "WEIGHTS_DIR", tmp_path)
    report = cnnlab.doctor(tensorflow=False, quiet=True)
    assert report["model denoiser.keras"].detail == "missing"
    assert "not a Keras model file" in report["model style_features.keras"].detail


def test_damaged_model_file_is_reported_with_the_restore_command(tmp_path, monkeypatch):
    import shutil

    import cnnlab.weights

    for name in cnnlab.weights.CHECKSUMS:
        shutil.copy(cnnlab.weights.WEIGHTS_DIR / name, tmp_path / name)
    path = tmp_path / "resnet_14.keras"
    good = bytearray(path.read_bytes())
    good[len(good) // 2] ^= 0xFF                      # one flipped byte: still a zip archive
    path.write_bytes(bytes(good))
    monkeypatch.setattr(cnnlab.weights, "WEIGHTS_DIR", tmp_path)
    report = cnnlab.doctor(tensorflow=False, quiet=True)
    bad = report["model resnet_14.keras"]
    assert bad.status == "PROBLEM" and "wrong checksum" in bad.detail
    assert "git checkout -- data/weights/resnet_14.keras" in bad.fix
    assert cnnlab.weights.SHIPPED["resnet_14"] in bad.fix
    assert report["model denoiser.keras"].status == "ok"
    assert not report.ok


def test_doctor_refuses_flags_that_are_not_booleans():
    with pytest.raises(TypeError, match="`tensorflow` must be True or False"):
        cnnlab.doctor(tensorflow="no")


def test_version_differing_from_the_lock_is_a_warning(monkeypatch):
    monkeypatch.setattr(doctor_module, "_locked_versions", lambda: {"numpy": "0.0.1"})
    report = cnnlab.doctor(tensorflow=False, quiet=True)
    assert report["numpy"].status == "warning"
    assert "requirements.lock pins 0.0.1" in report["numpy"].detail
    assert "make setup" in report["numpy"].fix


def test_a_crashing_check_is_reported_not_raised(monkeypatch):
    def broken():
        raise RuntimeError("boom")

    monkeypatch.setattr(doctor_module, "_widgets_check", broken)
    report = cnnlab.doctor(tensorflow=False, quiet=True)
    assert report["widgets front-end"].status == "PROBLEM"
    assert "RuntimeError: boom" in report["widgets front-end"].detail


def test_unknown_check_name():
    report = cnnlab.doctor(tensorflow=False, quiet=True)
    with pytest.raises(KeyError, match="no check named 'nope'"):
        report["nope"]
