"""Test-wide settings for tests/ and the docstring examples of medtl/: one thread per pytest-xdist worker, the files
with slow tests first, the gpu marker and private caches."""
import os

import pytest


def pytest_configure(config):
    """A pytest-xdist worker, and every process it starts (`medtl` commands, DDP ranks, notebook kernels), computes on
    one thread: the workers share the cores instead of each spreading over all of them."""
    if os.environ.get("PYTEST_XDIST_WORKER"):
        os.environ["OMP_NUM_THREADS"] = "1"
        import torch

        torch.set_num_threads(1)


def pytest_collection_modifyitems(config, items):
    """Files holding slow tests first (each file in its own order), so no worker is left with one at the end; tests
    marked `gpu` run only where CUDA is available."""
    slow_files = {item.path for item in items if "slow" in item.keywords}
    items.sort(key=lambda item: item.path not in slow_files)
    gpu_tests = [item for item in items if "gpu" in item.keywords]
    if not gpu_tests:
        return
    import torch

    if not torch.cuda.is_available():
        skip = pytest.mark.skip(reason="needs a CUDA GPU")
        for item in gpu_tests:
            item.add_marker(skip)


def _private_caches(monkeypatch: pytest.MonkeyPatch, home) -> None:
    monkeypatch.setenv("MEDTL_HOME", str(home / "medtl"))
    monkeypatch.setenv("TORCH_HOME", str(home / "torch"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


@pytest.fixture(autouse=True, scope="session")
def _session_caches(tmp_path_factory):
    """Caches for the whole session, so module-scoped fixtures (set up before any test's own) never touch the
    user's either."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        _private_caches(monkeypatch, tmp_path_factory.mktemp("session-home"))
        yield


@pytest.fixture(autouse=True)
def _offline_caches(tmp_path_factory, monkeypatch):
    """Every test gets its own empty weight caches, so nothing is read from (or written to) the user's."""
    _private_caches(monkeypatch, tmp_path_factory.mktemp("home"))
