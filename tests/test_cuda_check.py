import ctypes

import pytest
import torch

from lenet_lab.training import cuda_check


@pytest.fixture
def lightning_setting(monkeypatch):
    monkeypatch.setenv(cuda_check.NVML_CHECK, "1")  # what importing Lightning does
    monkeypatch.setattr(torch.backends.cuda, "is_built", lambda: True)


def test_nvml_check_is_dropped_where_nvml_cannot_load(lightning_setting, monkeypatch):
    def missing(name):
        raise OSError(f"{name}: cannot open shared object file")

    monkeypatch.setattr(ctypes, "CDLL", missing)
    assert cuda_check.drop_nvml_check_without_driver()
    assert cuda_check.NVML_CHECK not in cuda_check.os.environ


def test_nvml_check_stays_where_a_driver_exists(lightning_setting, monkeypatch):
    monkeypatch.setattr(ctypes, "CDLL", lambda name: object())
    assert not cuda_check.drop_nvml_check_without_driver()
    assert cuda_check.os.environ[cuda_check.NVML_CHECK] == "1"


def test_a_check_set_to_anything_else_is_left_alone(monkeypatch):
    monkeypatch.setenv(cuda_check.NVML_CHECK, "0")
    assert not cuda_check.drop_nvml_check_without_driver()
    assert cuda_check.os.environ[cuda_check.NVML_CHECK] == "0"
