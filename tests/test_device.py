import pytest
import torch

from cnnlib.device import available_devices, describe_device, env_report, get_device


def test_default_is_the_best_available(monkeypatch):
    monkeypatch.delenv("CNNLIB_DEVICE", raising=False)
    expected = "cuda" if torch.cuda.is_available() else "mps" if "mps" in available_devices() else "cpu"
    assert get_device().type == expected


def test_argument_and_environment_override(monkeypatch):
    monkeypatch.setenv("CNNLIB_DEVICE", "cpu")
    assert get_device() == torch.device("cpu")
    assert get_device("cpu") == torch.device("cpu")


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message on a machine without CUDA")
def test_asking_for_a_missing_gpu_is_an_error(monkeypatch):
    with pytest.raises(ValueError, match="no CUDA GPU"):
        get_device("cuda")
    monkeypatch.setenv("CNNLIB_DEVICE", "cuda")
    with pytest.raises(ValueError, match="no CUDA GPU"):
        get_device()


def test_nonsense_device_is_an_error():
    with pytest.raises(ValueError, match="device must be"):
        get_device("tpu9")


def test_report_is_one_line_naming_the_device():
    line = env_report("cpu")
    assert "\n" not in line and line.startswith("Environment: cnnlib")
    assert line.endswith("device cpu") and describe_device("cpu") == "cpu"
    assert available_devices()[0] == "cpu"
