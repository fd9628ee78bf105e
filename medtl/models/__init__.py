"""The backbone zoo: pick a pretrained 2D or 3D backbone, adapt it, and know exactly what was loaded.

Example:
    >>> from medtl.models import create_model, list_backbones
    >>> "resnet18_3d" in list_backbones()
    True
    >>> model = create_model("resnet18_3d", in_chans=1, num_classes=2)
    >>> model.spec.input_size
    (96, 96, 96)
"""
from medtl.models.adapt import adapt_input_conv
from medtl.models.checkpoints.cache import cached_weights, medtl_home, store_weights
from medtl.models.create import create_model
from medtl.models.checkpoints.fetch import fetch_weights
from medtl.models.flops import conv_macs
from medtl.models.checkpoints.load_report import LoadReport
from medtl.models.registry import get_spec, list_backbones
from medtl.models.checkpoints.safe_load import UnsafeCheckpointError
from medtl.models.checkpoints.sources import MissingWeightsError
from medtl.models.spec import BackboneSpec, PretrainedWeights
from medtl.models.checkpoints.weights import WeightMismatchError

__all__ = [
    "BackboneSpec", "LoadReport", "MissingWeightsError", "PretrainedWeights", "UnsafeCheckpointError",
    "WeightMismatchError", "adapt_input_conv", "cached_weights", "conv_macs", "create_model", "fetch_weights",
    "get_spec", "list_backbones", "medtl_home", "store_weights",
]
