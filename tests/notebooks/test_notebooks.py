"""The three notebooks run start to finish in a fresh kernel and print what they promise."""
import base64
import os
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

REPO = Path(__file__).resolve().parents[2]
NOTEBOOKS = REPO / "notebooks"
SALIENCY = "03_inspect_saliency.ipynb"  # stored with its rendered outputs, from the run `make demo` writes
RUN_TO_READ = ("01_finetune_xray.ipynb", "02_mri_3d.ipynb")  # stored without outputs
AUC_LINE = "Pooled out-of-fold, patient level: AUC"


def execute(name: str, tmp_path: Path) -> nbformat.NotebookNode:
    notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
    NotebookClient(notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": tmp_path}}).execute()
    return notebook


def text_of(notebook: nbformat.NotebookNode) -> str:
    parts = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            parts.append(output.get("text", "") + str(output.get("data", {}).get("text/plain", "")))
    return "\n".join(parts)


def mime_types(notebook: nbformat.NotebookNode) -> list[str]:
    return [kind for cell in notebook.cells for output in cell.get("outputs", []) for kind in output.get("data", {})]


@pytest.fixture(autouse=True)
def notebook_tmp(monkeypatch, tmp_path_factory):
    """The kernel's environment: medtl imported from this checkout (the kernel starts in tmp_path, outside it),
    and TMPDIR under pytest's own temporary folder, where the notebooks' `tempfile.mkdtemp` folders land."""
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])))
    folder = tmp_path_factory.mktemp("notebook-tmp")
    monkeypatch.setenv("TMPDIR", str(folder))
    return folder


def test_notebooks_point_medtl_home_at_a_temporary_folder_first():
    for path in sorted(NOTEBOOKS.glob("*.ipynb")):
        notebook = nbformat.read(path, as_version=4)
        nbformat.validate(notebook)
        code = [c for c in notebook.cells if c.cell_type == "code"]
        assert "MEDTL_HOME" in code[0].source, f"{path.name} must point MEDTL_HOME at a temporary folder first"


def test_runnable_notebooks_are_stored_without_outputs():
    for name in RUN_TO_READ:
        code = [c for c in nbformat.read(NOTEBOOKS / name, as_version=4).cells if c.cell_type == "code"]
        assert all(not c.outputs and c.execution_count is None for c in code), name


def test_saliency_notebook_is_stored_with_the_demo_runs_small_rendered_outputs():
    notebook = nbformat.read(NOTEBOOKS / SALIENCY, as_version=4)
    code = [c for c in notebook.cells if c.cell_type == "code"]
    assert [c.execution_count for c in code] == list(range(1, len(code) + 1)), "run in order, start to finish"
    assert not [o for c in code for o in c.outputs if o.output_type == "error"]
    text = text_of(notebook)
    assert "runs/demo" in text and "pointing game hit rate" in text
    pngs = [base64.b64decode(o["data"]["image/png"]) for c in code for o in c.outputs if "image/png" in o.get("data", {})]
    assert len(pngs) >= 2 and all(len(png) < 100_000 for png in pngs)
    assert "flagged maps" in text


@pytest.mark.slow
def test_xray_notebook_prints_the_pooled_auc_and_draws_figures(tmp_path, notebook_tmp):
    notebook = execute("01_finetune_xray.ipynb", tmp_path)
    text = text_of(notebook)
    assert AUC_LINE in text and "95% bootstrap CI" in text
    assert "report:" in text and "index.html" in text
    assert mime_types(notebook).count("image/png") >= 2  # ROC curve and the top case's overlay
    assert not any(tmp_path.iterdir()), "the notebook must write into its own temporary folder"
    work = next(notebook_tmp.glob("medtl-xray-*"))
    assert (work / "run" / "reports" / "index.html").is_file()


@pytest.mark.slow
def test_mri_notebook_shows_a_slice_and_the_three_plane_montage(tmp_path):
    notebook = execute("02_mri_3d.ipynb", tmp_path)
    text = text_of(notebook)
    assert AUC_LINE in text
    assert "volume (16, 16, 16) heatmap peak at z =" in text
    assert mime_types(notebook).count("image/png") >= 2  # the two slices and the montage


@pytest.mark.slow
def test_saliency_notebook_builds_the_browser_and_compares_methods(tmp_path):
    notebook = execute(SALIENCY, tmp_path)
    kinds = mime_types(notebook)
    assert "application/vnd.jupyter.widget-view+json" in kinds
    text = text_of(notebook)
    assert "pointing game hit rate" in text and "runs/demo" not in text  # a run of its own, made in the notebook
    assert "pointing_hit" in text  # the table of explained cases
    assert kinds.count("image/png") >= 1
