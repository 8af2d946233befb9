"""`scratchgen.nn.functional`: the op vocabulary under torch.nn.functional's module name, so
that `import scratchgen.nn.functional as F` works as `import torch.nn.functional as F` does.
It holds exactly the public names of scratchgen.functional (where each op is gathered from
scratchgen/ops/, next to its gradient); read that module, not this one."""
from ..functional import *  # noqa: F401,F403 (the whole public vocabulary, by its __all__)
from ..functional import __all__  # noqa: F401
