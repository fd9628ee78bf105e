"""`txv:<name>`: TorchXRayVision's chest X-ray weights, read where torchxrayvision itself caches them
(`~/.torchxrayvision/models_data/<file>`), with their input convention (1 channel, 224 or 512 px, values in
[-1024, 1024]) carried by the spec so that a run's transforms follow it."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import torch

from medtl.errors import MissingWeightsError
from medtl.models.checkpoints.safe_load import load_pickled_module_state
from medtl.models.spec import BackboneSpec

TXV_RELEASES = "https://github.com/mlmed/torchxrayvision/releases/download/v1/"
TXV_LICENSE = "Apache-2.0 (torchxrayvision); trained on public chest X-ray data sets, whose terms of use apply"
# [0, 1] after medtl's intensity scaling -> [-1024, 1024]: (x - 0.5) / (1 / 2048)
TXV_MEAN, TXV_STD = (0.5,), (1 / 2048,)
# Buffers of TorchXRayVision's modules that are not network weights (operating points of its 18 outputs).
_NOT_WEIGHTS = ("op_threshs",)


@dataclass(frozen=True)
class TxvWeights:
    """One published TorchXRayVision checkpoint: the medtl backbone it loads into, its file and resolution."""

    name: str
    backbone: str
    file_name: str
    input_size: int

    @property
    def url(self) -> str:
        return TXV_RELEASES + self.file_name


def _densenet(dataset: str, prefix: str) -> TxvWeights:
    return TxvWeights(f"densenet121-res224-{dataset}", "densenet121",
                      f"{prefix}-densenet121-d121-tw-lr001-rot45-tr15-sc15-seed0-best.pt", 224)


TXV_WEIGHTS = {w.name: w for w in (
    _densenet("all", "nih-pc-chex-mimic_ch-google-openi-kaggle"), _densenet("nih", "nih"), _densenet("pc", "pc"),
    _densenet("chex", "chex"), _densenet("rsna", "kaggle"), _densenet("mimic_nb", "mimic_nb"),
    _densenet("mimic_ch", "mimic_ch"),
    TxvWeights("resnet50-res512-all", "resnet50", "pc-nih-rsna-siim-vin-resnet50-test512-e400-state.pt", 512),
)}


def txv_folder() -> Path:
    """torchxrayvision's own weights folder, `~/.torchxrayvision/models_data`.

    Example:
        >>> txv_folder().parts[-2:]
        ('.torchxrayvision', 'models_data')
    """
    return Path("~").expanduser() / ".torchxrayvision" / "models_data"


def txv_weights(spec: BackboneSpec, name: str) -> TxvWeights:
    """The TorchXRayVision checkpoint `name`, checked to fit backbone `spec`.

    Example:
        >>> from medtl.models import get_spec
        >>> txv_weights(get_spec("densenet121"), "densenet121-res224-rsna").file_name
        'kaggle-densenet121-d121-tw-lr001-rot45-tr15-sc15-seed0-best.pt'
    """
    fitting = sorted(n for n, w in TXV_WEIGHTS.items() if w.backbone == spec.name)
    if name not in fitting:
        raise ValueError(f"{spec.name}: txv weights must be one of {fitting}. Got {name!r} instead.")
    return TXV_WEIGHTS[name]


def txv_spec(spec: BackboneSpec, name: str) -> BackboneSpec:
    """`spec` with TorchXRayVision's input convention: 1 channel, its resolution, [0, 1] mapped to [-1024, 1024].

    Example:
        >>> from medtl.models import get_spec
        >>> s = txv_spec(get_spec("resnet50"), "resnet50-res512-all")
        >>> s.in_chans, s.input_size, s.normalization(1)
        (1, (512, 512), ((0.5,), (0.00048828125,)))
    """
    weights = txv_weights(spec, name)
    return dataclasses.replace(spec, in_chans=1, input_size=(weights.input_size,) * 2, mean=TXV_MEAN, std=TXV_STD,
                               license=TXV_LICENSE)


def txv_file(spec: BackboneSpec, name: str) -> Path:
    """Where torchxrayvision keeps checkpoint `name`, after checking it is there (else `MissingWeightsError`
    with the file name and folder).

    Example:
        >>> txv_file(get_spec("densenet121"), "densenet121-res224-all")  # doctest: +SKIP
        PosixPath('/home/me/.torchxrayvision/models_data/nih-pc-chex-mimic_ch-google-openi-kaggle-densenet121-d121-tw-lr001-rot45-tr15-sc15-seed0-best.pt')
    """
    weights = txv_weights(spec, name)
    path = txv_folder() / weights.file_name
    if not path.is_file():
        raise MissingWeightsError(
            f"{spec.name}: txv weights {name} are not on this machine. Put the file '{weights.file_name}' "
            f"(from {weights.url}) in the folder {path.parent}, where torchxrayvision keeps it, or run "
            f"`medtl weights fetch {spec.name} --source txv:{name}` where a network is available "
            "(building a model never downloads).")
    return path


def read_txv(spec: BackboneSpec, name: str) -> tuple[dict[str, torch.Tensor], str]:
    """The state dict of TorchXRayVision checkpoint `name` from torchxrayvision's cache, and where it came from.
    Its DenseNets are whole pickled modules (read by `load_pickled_module_state`, no code run), its ResNet a
    plain state dict.

    Example:
        >>> state, where = read_txv(get_spec("densenet121"), "densenet121-res224-all")  # doctest: +SKIP
    """
    path = txv_file(spec, name)
    state = {key: value for key, value in load_pickled_module_state(path).items() if key not in _NOT_WEIGHTS}
    return state, f"txv:{name} from {path}"
