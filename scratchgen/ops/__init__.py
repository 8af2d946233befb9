"""The differentiable ops: each a Function with its forward (arrays) and its backward
(Tensor ops) side by side. `scratchgen.functional` is the public vocabulary over them."""
