"""`scratchgen.utils`, as torch.utils: `scratchgen.utils.data` holds torch.utils.data's
Dataset, TensorDataset and DataLoader (samples collated into batches)."""
from . import data

__all__ = ["data"]
