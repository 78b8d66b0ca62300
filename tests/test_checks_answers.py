"""checks.answer_or_reference: the learner's answer where it works, the course's version where it raises."""

import numpy as np
import pytest

from cnnlab import checks, kernels


def test_a_working_answer_is_used(capsys):
    calls = []

    def mine(x, k):
        calls.append(1)
        return kernels.conv2d(x, k) + 1

    conv = checks.answer_or_reference(mine, kernels.conv2d, exercise="ex02-conv2d")
    out = conv(np.eye(4), np.ones((2, 2)))
    assert calls == [1]
    np.testing.assert_array_equal(out, kernels.conv2d(np.eye(4), np.ones((2, 2))) + 1)
    assert capsys.readouterr().out == ""


def test_a_stub_falls_back_once_with_a_note(capsys):
    calls = []

    def stub(x, k):
        calls.append(1)
        raise NotImplementedError("Exercise ex02-conv2d")

    conv = checks.answer_or_reference(stub, kernels.conv2d, exercise="ex02-conv2d")
    for _ in range(3):
        np.testing.assert_array_equal(conv(np.eye(4), np.ones((2, 2))),
                                      kernels.conv2d(np.eye(4), np.ones((2, 2))))
    assert calls == [1]                       # not tried again after the first failure
    out = capsys.readouterr().out
    assert out.count("ex02-conv2d: not answered yet") == 1


def test_a_failing_answer_is_named(capsys):
    def broken(x, k):
        return x[100]

    conv = checks.answer_or_reference(broken, kernels.conv2d, exercise="ex02-conv2d")
    conv(np.eye(4), np.ones((2, 2)))
    assert "your answer raised IndexError" in capsys.readouterr().out


def test_none_means_not_defined_yet(capsys):
    conv = checks.answer_or_reference(None, kernels.conv2d, exercise="ex02-conv2d")
    assert conv(np.eye(3), np.ones((1, 1))).shape == (3, 3)
    assert "not answered yet" in capsys.readouterr().out


@pytest.mark.parametrize("kwargs, word", [
    (dict(answer=3, reference=kernels.conv2d, exercise="e"), "answer"),
    (dict(answer=None, reference="conv", exercise="e"), "reference"),
    (dict(answer=None, reference=kernels.conv2d, exercise=""), "exercise"),
])
def test_bad_arguments_are_named(kwargs, word):
    with pytest.raises(TypeError, match=word):
        checks.answer_or_reference(**kwargs)
