"""medtl.viz on a tiny finished X-ray run: reading it back, recomputing heatmaps, and drawing them."""
import dataclasses

import matplotlib.pyplot as plt
import nibabel as nib
import numpy as np
import pytest

from medtl.config import ExperimentConfig
from medtl.engine.workflows.cv import run_cv
from medtl.explain import explain_paths
from medtl.io.image import ImageData
from medtl.synth import make_xray
from medtl.viz import (CaseSaliency, auc_text, browse, case_saliency, compare_methods, display_plane, load_run,
                       plot_roc, show_case)



@pytest.fixture(scope="module")
def run(tmp_path_factory):
    root = tmp_path_factory.mktemp("viz")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MEDTL_HOME", str(root / "cache"))
        data = make_xray(root / "data", patients=10, size=32, images_per_patient=(1, 2), seed=1)
        cfg = ExperimentConfig.from_dict({
            "data": {"root": str(data), "layout": "csv"},
            "transforms": {"input_size": [32, 32]},
            "train": {"epochs": 1, "batch_size": 8},
            "cv": {"folds": 2},
            "explain": {"cases": 2, "target_layer": "layer2"},  # layer4 is 1 x 1 at 32 x 32: a flat map
        })
        result = run_cv(cfg, root / "run", progress=False)
    return load_run(result.run_dir)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def volume_saliency(case_id: str, peak: tuple[int, int, int], shape=(4, 5, 6)) -> CaseSaliency:
    volume = np.arange(np.prod(shape), dtype=np.float32).reshape(shape)
    heatmap = np.zeros(shape, np.float32)
    heatmap[peak] = 1.0
    image = ImageData(volume, np.diag([1.0, 2.0, 3.0, 1.0]), (1.0, 2.0, 3.0))
    return CaseSaliency(case_id, "gradcam", "lesion", 0, "lesion", 0.9, image, heatmap, volume > 100)


def test_load_run_reads_config_cases_predictions_and_summaries(run):
    assert run.config["cv.folds"] == 2
    assert sorted(run.oof["case_id"]) == sorted(run.cases.df["case_id"])
    assert run.classes == ["normal", "nodule"] and run.target == "nodule"
    assert run.explain_summary["n_cases"] == 2
    assert repr(run).startswith(f"Run({str(run.run_dir)!r}, {len(run.oof)} cases, 10 patients")


def test_top_cases_rank_every_case_by_target_probability(run):
    ranked = run.top_cases()
    probability = run.oof.set_index("case_id").loc[ranked, "p_nodule"].to_numpy()
    assert sorted(ranked) == sorted(run.oof["case_id"])
    assert np.all(np.diff(probability) <= 0)
    assert run.top_cases(2) == ranked[:2]


def test_explained_joins_each_explained_case_with_its_prediction_highest_first(run):
    explained = run.explained()
    scored = {c["case_id"]: c for c in run.explain_summary["cases"]}
    assert sorted(explained["case_id"]) == sorted(scored)
    assert np.all(np.diff(explained["p_nodule"].to_numpy()) <= 0)
    for row in explained.itertuples():
        assert row.degenerate == scored[row.case_id]["degenerate"]
        assert row.fold == int(run.prediction(row.case_id)["fold"])


def test_explained_says_when_the_run_explained_nothing(run):
    with pytest.raises(ValueError, match="explained no case"):
        dataclasses.replace(run, explain_summary=None).explained()


def test_load_run_names_what_is_missing_or_unsupported(tmp_path):
    with pytest.raises(FileNotFoundError, match="config.yaml is missing"):
        load_run(tmp_path)
    ExperimentConfig.from_dict({}).to_yaml(tmp_path / "config.yaml")
    with pytest.raises(FileNotFoundError, match="cases.csv is missing"):
        load_run(tmp_path)
    ExperimentConfig.from_dict({"task": "segmentation"}).to_yaml(tmp_path / "config.yaml")
    with pytest.raises(ValueError, match="classification runs only"):
        load_run(tmp_path)


def test_unknown_case_is_refused_with_the_file_it_was_looked_up_in(run):
    with pytest.raises(ValueError, match="'nope' is not in .*oof_predictions.csv"):
        case_saliency(run, "nope")


def test_recomputed_heatmap_is_the_one_run_cv_saved_for_that_case(run):
    for explained in run.explain_summary["cases"]:
        result = case_saliency(run, explained["case_id"])
        _, nifti = explain_paths(run.run_dir / "explain", explained["case_id"])
        saved = np.asarray(nib.load(nifti).dataobj)[..., 0]
        prediction = run.prediction(explained["case_id"])
        assert result.heatmap.shape == result.image.array.shape == saved.shape
        assert result.heatmap.max() - result.heatmap.min() > 0.5
        np.testing.assert_allclose(result.heatmap, saved, atol=1e-4)  # batched differently: float rounding
        assert result.fold == prediction["fold"] and result.probability == pytest.approx(prediction["p_nodule"])


def test_a_computed_map_is_kept_and_reused(run):
    case = run.top_cases(1)[0]
    assert case_saliency(run, case, "gradcampp") is case_saliency(run, case, "gradcampp")
    assert (case, "gradcampp") in run.heatmaps


def test_show_case_draws_the_image_the_heatmap_at_the_given_opacity_and_the_lesion(run):
    nodule = next(c for c in run.top_cases()
                  if run.prediction(c)["label"] == "nodule" and not case_saliency(run, c).flag)  # a map that is drawn
    normal = next(c for c in run.top_cases() if run.prediction(c)["label"] == "normal")
    ax = show_case(run, nodule, alpha=0.7)
    result = case_saliency(run, nodule)
    assert len(ax.images) == 2 and ax.images[1].get_alpha() == 0.7
    np.testing.assert_array_equal(ax.images[0].get_array(), result.image.array)
    np.testing.assert_array_equal(ax.images[1].get_array(), result.heatmap)
    assert nodule in ax.get_title() and "verified: p(nodule) =" in ax.get_title()  # the measured default
    assert len(ax.collections) == 1  # the lesion outline
    assert len(show_case(run, normal).collections) == 0  # an empty mask draws no outline


def test_compare_methods_draws_one_panel_per_method(run):
    case = run.top_cases(1)[0]
    figure = compare_methods(run, case, methods=("gradcam", "gradcampp"))
    titles = [ax.get_title() for ax in figure.axes]
    assert len(titles) == 2 and "gradcam:" in titles[0] and "gradcampp:" in titles[1]


def test_plot_roc_draws_the_pooled_curve_with_auc_and_ci_in_the_title(run):
    ax = plot_roc(run)
    curve = ax.lines[0]
    np.testing.assert_allclose(curve.get_xdata(), run.summary["roc"]["fpr"])
    np.testing.assert_allclose(curve.get_ydata(), run.summary["roc"]["tpr"])
    assert auc_text(run.summary) in ax.get_title()
    with pytest.raises(ValueError, match="binary tasks only"):
        plot_roc(dataclasses.replace(run, summary={**run.summary, "roc": None}))


def test_auc_text_reads_the_pooled_patient_auc_and_its_bootstrap_ci():
    summary = {"ci_level": 0.9, "pooled": {"patient": {"auc": 0.8125, "bootstrap_ci": [0.6, 0.95]}}}
    assert auc_text(summary) == "AUC 0.812 (90% bootstrap CI 0.600-0.950)"
    assert auc_text({"pooled": {"patient": {"auc": None}}}) == "AUC not available"


def test_display_plane_cuts_a_volume_axially_through_the_peak_the_radiological_way():
    result = volume_saliency("v", peak=(1, 2, 4))
    image, heatmap, mask, aspect = display_plane(result)
    np.testing.assert_array_equal(image, result.image.array[:, :, 4].T[::-1, ::-1])
    assert image.shape == heatmap.shape == mask.shape == (5, 4) and aspect == 2.0
    assert heatmap[5 - 1 - 2, 4 - 1 - 1] == 1.0  # anterior up, patient right on the viewer's left
    np.testing.assert_array_equal(display_plane(result, slice_index=0)[0], result.image.array[:, :, 0].T[::-1, ::-1])
    with pytest.raises(ValueError, match=r"slice_index must be in \[0, 5\] for case 'v'"):
        display_plane(result, slice_index=6)


def test_show_case_draws_a_volumes_axial_slice_and_says_when_its_map_is_flat(run):
    case = run.top_cases(1)[0]
    flat = volume_saliency(case, (0, 0, 0))
    flat.heatmap[:] = 0.0
    volumes = dataclasses.replace(run, heatmaps={(case, "auto"): flat})
    ax = show_case(volumes, case, slice_index=2)
    np.testing.assert_array_equal(ax.images[0].get_array(), flat.image.array[:, :, 2].T[::-1, ::-1])
    assert len(ax.images) == 1  # the flat map is not drawn
    assert ", z=2" in ax.get_title() and "not shown: empty map" in ax.get_title()


def test_browse_hides_the_slice_slider_for_2d_and_computes_the_chosen_method(run):
    ui = browse(run)
    (case, method), (_, axial) = ui.children[0].children, ui.children[1].children
    assert list(case.options) == run.top_cases()
    assert axial.layout.display == "none"
    method.value = "gradcam"
    case.value = case.options[-1]
    assert (case.options[-1], "gradcam") in run.heatmaps


def test_browse_moves_the_slice_slider_to_each_volumes_peak(run):
    first, second = run.top_cases(2)
    volumes = dataclasses.replace(run, heatmaps={(first, "gradcam"): volume_saliency(first, (0, 0, 1)),
                                                 (second, "gradcam"): volume_saliency(second, (0, 0, 3))})
    ui = browse(volumes, methods=("gradcam",))
    case, axial = ui.children[0].children[0], ui.children[1].children[1]
    assert axial.layout.display is None and (axial.max, axial.value) == (5, 1)
    case.value = second
    assert axial.value == 3
    axial.value = 5
    assert case.value == second and axial.value == 5
