"""The few labelled training examples of a semi-supervised model (improved_gan.py's K+1 GAN,
semi_supervised_vae.py's M2): `labels / 10` of each digit, the first of a permutation of the
MNIST training set drawn from the seed, and batches of them in fresh random orders."""
import numpy

from .. import functional as F
from .. import as_tensor, randperm
from ..data import load_mnist, to_unit_range

CLASSES = 10
LABELLED_STREAM = 9  # the labelled examples are chosen from SeedSequence([seed, 9]) (train/datasets.py uses 2-8)


class LabelledSubset:
    """A mixin for a GenerativeModel whose config has `labels` (a multiple of 10), `seed` and
    `data_dir`; it draws batch orders from the model's generator."""

    @property
    def labelled(self):
        """(images (labels, 784) in [0, 1], digits (labels,)): `labels / 10` of each digit, the first of
        a permutation of the training set drawn from the seed (as the Improved GAN code's data_rng)."""
        if getattr(self, "_labelled", None) is None:
            images, digits = load_mnist("train", data_dir=self.config["data_dir"])
            order = numpy.random.default_rng(numpy.random.SeedSequence([self.config["seed"], LABELLED_STREAM]))
            order = order.permutation(len(digits))
            per_class = self.config["labels"] // CLASSES
            chosen = numpy.concatenate([order[digits[order] == digit][:per_class] for digit in range(CLASSES)])
            self._labelled = (as_tensor(to_unit_range(images[chosen]).reshape(len(chosen), -1), device=self.device),
                              as_tensor(digits[chosen].astype(numpy.int64), device=self.device))
        return self._labelled

    def labelled_batch(self, n):
        """n labelled examples: the labelled set in fresh random orders, one after another (the code's batches)."""
        images, digits = self.labelled
        orders = [randperm(len(digits), device=self.device, generator=self.rng) for _ in range(-(-n // len(digits)))]
        index = F.cat(orders)[:n]
        return images.index_select(0, index), digits.index_select(0, index)
