import pytest


@pytest.fixture(autouse=True)
def _offline_caches(tmp_path_factory, monkeypatch):
    """Every test gets its own empty weight caches, so nothing is read from (or written to) the user's."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("MEDTL_HOME", str(home / "medtl"))
    monkeypatch.setenv("TORCH_HOME", str(home / "torch"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
