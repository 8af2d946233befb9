"""torch.linalg's names for scratchgen's linear algebra (defined, with their gradients, in
scratchgen/ops/linalg.py and ops/reduction.py):

    import scratchgen as sg
    sign, logabsdet = sg.linalg.slogdet(A)
    L = sg.linalg.cholesky(A)
"""
from .ops.linalg import cholesky, det, inv, linalg_norm as norm, matrix_norm, slogdet
from .ops.reduction import vector_norm

__all__ = ["cholesky", "det", "inv", "matrix_norm", "norm", "slogdet", "vector_norm"]
