"""Two-block transformers registered with timm under `medtl_toy_*` names, so tests can build `timm:<name>`
backbones in milliseconds: a ViT at a native 64^2 (patch 16, class token) and a DINOv2-shaped ViT (patch 14,
layer scale, native 56^2) for the Hugging Face key map."""
from timm.models import register_model
from timm.models._registry import _model_default_cfgs, _model_pretrained_cfgs
from timm.models._pretrained import DefaultCfg, PretrainedCfg
from timm.models.vision_transformer import _create_vision_transformer


def _register(name: str, size: int, **kwargs) -> None:
    if name in _model_default_cfgs:
        return
    cfg = PretrainedCfg(input_size=(3, size, size), fixed_input_size=True, mean=(0.5, 0.5, 0.5),
                        std=(0.5, 0.5, 0.5), first_conv="patch_embed.proj", classifier="head", num_classes=10)

    def build(pretrained: bool = False, **overrides):
        return _create_vision_transformer(name, pretrained=pretrained, **{**kwargs, "img_size": size, **overrides})

    build.__name__ = name
    register_model(build)
    _model_default_cfgs[name] = DefaultCfg(tags=[""], cfgs={"": cfg})
    _model_pretrained_cfgs[name] = cfg


_register("medtl_toy_vit", 64, patch_size=16, embed_dim=32, depth=2, num_heads=2, num_classes=10)
_register("medtl_toy_dinov2", 56, patch_size=14, embed_dim=32, depth=2, num_heads=2, init_values=1e-5,
          num_classes=0)
