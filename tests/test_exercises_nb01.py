import numpy as np

from cnnlib.exercises import nb01


def test_fc_parameters(capsys):
    assert nb01.check_fc_parameters(23_040_100) is True
    assert "23,040,100 parameters" in capsys.readouterr().out
    assert nb01.check_fc_parameters(23_040_000) is False
    assert "bias" in capsys.readouterr().out
    assert nb01.check_fc_parameters(7_680_100) is False
    assert "3 numbers per pixel" in capsys.readouterr().out
    assert nb01.check_fc_parameters(None) is False
    assert "not attempted" in capsys.readouterr().out


def test_collapsed_matrix(capsys):
    w1, w2, w3 = nb01.collapse_exercise_weights()
    assert (w1.shape, w2.shape, w3.shape) == ((4, 3), (5, 4), (2, 5))
    assert np.array_equal(w1, np.round(w1)) and np.abs(w1).max() <= 2
    x = np.array([1.0, -2.0, 0.5])
    assert nb01.check_collapsed_matrix(w3 @ w2 @ w1) is True
    assert np.allclose((w3 @ w2 @ w1) @ x, w3 @ (w2 @ (w1 @ x)))
    assert nb01.check_collapsed_matrix((w3 @ w2 @ w1).T) is False
    assert "transpose" in capsys.readouterr().out
    assert nb01.check_collapsed_matrix(w3 @ w2 @ w1 + 1) is False
    assert "6 of 6 entries are off" in capsys.readouterr().out


def test_sigmoid_depth(capsys):
    assert 0.25 ** 10 < 1e-6 < 0.25 ** 9
    assert nb01.check_sigmoid_depth(10) is True
    assert nb01.check_sigmoid_depth(9) is False
    assert "3.81e-06" in capsys.readouterr().out
    assert nb01.check_sigmoid_depth(20) is False
