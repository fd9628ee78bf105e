"""Two-block transformers registered with timm under `medtl_toy_*` names, so tests can build `timm:<name>`
backbones in milliseconds: a ViT at a native 64^2 (patch 16, class token) and a DINOv2-shaped ViT (patch 14,
layer scale, native 56^2) for the Hugging Face key map."""
import timm
from timm.models import generate_default_cfgs, register_model
from timm.models.vision_transformer import _create_vision_transformer


def _cfg(size: int) -> dict:
    return {"input_size": (3, size, size), "fixed_input_size": True, "mean": (0.5, 0.5, 0.5),
            "std": (0.5, 0.5, 0.5), "first_conv": "patch_embed.proj", "classifier": "head", "num_classes": 10}


# timm's register_model reads the pretrained configs from `default_cfgs` in the registering module.
default_cfgs = generate_default_cfgs({"medtl_toy_vit": _cfg(64), "medtl_toy_dinov2": _cfg(56)})

if not timm.is_model("medtl_toy_vit"):
    @register_model
    def medtl_toy_vit(pretrained: bool = False, **kwargs):
        args = {"img_size": 64, "patch_size": 16, "embed_dim": 32, "depth": 2, "num_heads": 2}
        return _create_vision_transformer("medtl_toy_vit", pretrained=pretrained, **{**args, **kwargs})

    @register_model
    def medtl_toy_dinov2(pretrained: bool = False, **kwargs):
        args = {"img_size": 56, "patch_size": 14, "embed_dim": 32, "depth": 2, "num_heads": 2, "init_values": 1e-5}
        return _create_vision_transformer("medtl_toy_dinov2", pretrained=pretrained, **{**args, **kwargs})
