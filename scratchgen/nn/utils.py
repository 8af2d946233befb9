"""nn.utils, as in PyTorch: weight normalisation (Salimans & Kingma 2016)."""
from .weight_norm import remove_weight_norm, weight_norm

__all__ = ["weight_norm", "remove_weight_norm"]
