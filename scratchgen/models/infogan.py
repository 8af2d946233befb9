"""InfoGAN (Chen, Duan, Houthooft, Schulman, Sutskever & Abbeel 2016, "InfoGAN: Interpretable
Representation Learning by Information Maximizing Generative Adversarial Nets") on MNIST.

G reads a noise vector z and a latent code c, and the GAN game (Goodfellow et al. 2014, gan.py)
is regularised by a variational lower bound of the mutual information between c and G's output,
computed by an auxiliary network Q(c|x) (Sec. 5):

    L_I(G, Q) = E_{c ~ P(c), x ~ G(z, c)}[log Q(c|x)] + H(c)  <=  I(c; G(z, c))           (Eq. 5)
    min_{G, Q} max_D  V(D, G) - lambda L_I(G, Q)                                           (Eq. 6)

The layout of the paper's MNIST experiment (Appendix C.1) and of its code (openai/InfoGAN:
infogan/models/regularized_gan.py, launchers/run_mnist_exp.py), with w = `width` = 64:

    G reads 74 = z: 62 noise ~ U(-1, 1) | c1: 10-way categorical, one-hot | c2, c3 ~ U(-1, 1)
    G: 74 -> FC 16w BN ReLU -> FC 2w x 7 x 7 BN ReLU -> deconv 4x4 s2 w BN ReLU -> deconv 4x4 s2 1 -> sigmoid
    D trunk: 1x28x28 -> conv 4x4 s2 w lReLU -> conv 4x4 s2 2w BN lReLU -> FC 16w BN lReLU
    D head: FC 1 (a logit);   Q head on the same trunk: FC 2w BN lReLU -> FC 10 + 2
    Q(c1|x) = softmax(the 10 logits); Q(c2, c3|x) = N(the 2 means, 1): the code's fix_std=True
    Adam beta1 0.5: lr 2e-4 for D and Q (Q's weights sit in D's scope in the code), 1e-3 for G;
    lambda 1 for every code (info_reg_coeff); batch 128; 50 epochs of 100 updates = 5000 steps;
    pixels in [0, 1] (G's output is the mean of a Bernoulli); weights ~ N(0, 0.02) (dcgan.py's init)

Both D (with Q) and G descend -lambda L_I on top of their GAN losses (critic_terms and
generator_terms of adversarial.py's loop), as the code subtracts info_reg_coeff * MI from both.
The step draws c for each batch (unpack) and passes it to the loop as the labels.

Departures: lReLU slope 0.1 as the paper's appendix says (the code's leaky_rectify uses 0.01);
H(c2), H(c3) are the entropy of U(-1, 1), ln 2 each (the code takes E[-log N(c; 0, 1)] there, which
differs by a constant and changes no gradient); G's update draws a fresh z but keeps the step's c
(the code draws both again).
"""
import contextlib
import math

import numpy

from .. import functional as F
from .. import nn, optim
from .. import as_tensor, no_grad, rand, randint
from ..functional import cat
from ..metrics import code_classification_errors, image_sample_metrics
from ..nn.conv import Conv2d, ConvTranspose2d
from ..nn.normalization import BatchNorm1d, BatchNorm2d
from .adversarial import AdversarialModel
from .dcgan import dcgan_init_
from .gan import GANLosses
from .settings import MAX_UNITS, Setting, declare

CATEGORIES = 10          # c1
CONTINUOUS = 2           # c2, c3
CODE_DIM = CATEGORIES + CONTINUOUS
CODE_NAMES = ("c1", "c2", "c3")
LEAK = 0.1               # lReLU slope in D and Q (Appendix C)
CONTINUOUS_ENTROPY = math.log(2.0)   # H(U(-1, 1)) = ln 2 nats
TRAVERSAL_VALUES = numpy.linspace(-2.0, 2.0, 10)  # Fig. 2 (c), (d) sweep c2, c3 over [-2, 2], past the prior's [-1, 1]
EVAL_CHUNK = 500


# ---- the lower bound L_I of Eq. 5, one term per kind of code -------------------------------------
def categorical_information(logits, codes):
    """L_I of a uniform categorical code (Eq. 5): H(c) + E[log Q(c|x)] with H(c) = ln K; `logits`
    (N, K) are Q's, `codes` (N, K) the one-hot c that G was given. At most ln K (Q always right)."""
    return math.log(codes.shape[1]) + (F.log_softmax(logits, 1) * codes).sum(1).mean()


def gaussian_information(means, codes):
    """L_I of codes ~ U(-1, 1) under Q(c|x) = N(means, 1) (Eq. 5; the code's fixed standard
    deviation): sum over the D codes of H(c) + E[log N(c; mean, 1)], with H(c) = ln 2."""
    log_q = -0.5 * math.log(2 * math.pi) - 0.5 * (codes - means).square()
    return codes.shape[1] * CONTINUOUS_ENTROPY + log_q.sum(1).mean()


# ---- the networks -------------------------------------------------------------------------------
class Discriminator(nn.Module):
    """D of the module docstring: the trunk Q shares, and D's head (one logit per image)."""

    def __init__(self, trunk, head):
        super().__init__()
        self.trunk, self.head = trunk, head

    def forward(self, input):
        return self.head(self.trunk(input))


def infogan_generator(input_dim, width, image_shape):
    """G of the module docstring for (C, S, S) images, S a multiple of 4: [z | c] -> C x S x S in [0, 1]."""
    channels, size = image_shape[0], image_shape[1] // 4
    return nn.Sequential(
        nn.Linear(input_dim, 16 * width, bias=False), BatchNorm1d(16 * width), nn.ReLU(),
        nn.Linear(16 * width, 2 * width * size * size, bias=False), BatchNorm1d(2 * width * size * size), nn.ReLU(),
        nn.Unflatten(1, (2 * width, size, size)),
        ConvTranspose2d(2 * width, width, 4, 2, 1, bias=False), BatchNorm2d(width), nn.ReLU(),
        ConvTranspose2d(width, channels, 4, 2, 1), nn.Sigmoid())


def infogan_trunk(width, image_shape):
    """D's trunk of the module docstring, which Q shares: C x S x S -> 16 width features."""
    channels, size = image_shape[0], image_shape[1] // 4
    return nn.Sequential(
        Conv2d(channels, width, 4, 2, 1), nn.LeakyReLU(LEAK),
        Conv2d(width, 2 * width, 4, 2, 1, bias=False), BatchNorm2d(2 * width), nn.LeakyReLU(LEAK),
        nn.Flatten(), nn.Linear(2 * width * size * size, 16 * width, bias=False), BatchNorm1d(16 * width),
        nn.LeakyReLU(LEAK))


# ---- the model ----------------------------------------------------------------------------------
class InfoGAN(GANLosses, AdversarialModel):
    """InfoGAN of the module docstring. Settings: z_dim (the noise, 62), width, lr (D and Q), lr_g,
    betas, lambda_cat, lambda_cont, batch_size, steps. Reported per step besides loss_d and loss_g:
    info_cat_d, info_cont_d (D and Q's terms) and info_cat_g, info_cont_g (G's): each -lambda L_I
    in nats, so -info_cat / lambda_cat climbs to H(c1) = ln 10 = 2.30 as Q reads c1 back from G's
    images (Fig. 1)."""
    name = "infogan"
    paper = ("Chen et al. 2016, InfoGAN: Interpretable Representation Learning by Information Maximizing "
             "Generative Adversarial Nets")
    datasets = ("mnist",)
    image_layout = "chw"
    defaults = dict(z_dim=62, width=64, lr=2e-4, lr_g=1e-3, betas=[0.5, 0.999], lambda_cat=1.0, lambda_cont=1.0)
    dataset_defaults = {"mnist": dict(batch_size=128, steps=5000, pixels="unit")}
    settings = declare(
        "width", "betas", "batch_size", "steps",
        z_dim=Setting(int, "dimension of the noise z beside the 12 code dimensions (62 in the paper)", at_least=1,
                      at_most=MAX_UNITS),
        lr=Setting(float, "learning rate of D's Adam, which also updates Q", above=0),
        lr_g=Setting(float, "learning rate of G's Adam", above=0),
        lambda_cat=Setting(float, "lambda of Eq. 6 for the categorical code c1", at_least=0),
        lambda_cont=Setting(float, "lambda of Eq. 6 for the continuous codes c2, c3", at_least=0),
        pixels=Setting(str, "MNIST pixel scaling: unit [0, 1], the mean of G's Bernoulli output", choices=("unit",)))

    def __init__(self, config):
        self.width = config["width"]
        self.latent_dim = config["z_dim"] + CODE_DIM
        self._scored = None  # (the batch D scored last, its trunk features), until Q reads them
        super().__init__(config)

    # ---- networks and optimizers --------------------------------------------------------------
    def build_generator(self):
        return infogan_generator(self.latent_dim, self.width, self.data_shape)

    def build_critic(self):
        return Discriminator(infogan_trunk(self.width, self.data_shape),
                             nn.Sequential(nn.Linear(16 * self.width, 1), nn.Flatten(0)))

    def build_heads(self):
        return {"Q": nn.Sequential(nn.Linear(16 * self.width, 2 * self.width, bias=False),
                                   BatchNorm1d(2 * self.width), nn.LeakyReLU(LEAK),
                                   nn.Linear(2 * self.width, CODE_DIM))}

    def initialise(self, network):
        dcgan_init_(network, self.rng)

    def make_optimizers(self):
        betas = tuple(self.config["betas"])
        return (optim.Adam(self.critic_parameters(), lr=self.config["lr"], betas=betas),
                optim.Adam(self.G.parameters(), lr=self.config["lr_g"], betas=betas))

    # ---- the codes ----------------------------------------------------------------------------
    def prior_codes(self, n, generator=None):
        """c ~ P(c), (n, 12): c1 one-hot of a uniform category, then c2, c3 ~ U(-1, 1)."""
        generator = self.rng if generator is None else generator
        categories = randint(0, CATEGORIES, (n,), device=self.device, generator=generator)
        continuous = rand(n, CONTINUOUS, device=self.device, generator=generator) * 2 - 1
        return cat([F.one_hot(categories, CATEGORIES).to(dtype=continuous.dtype), continuous], 1)

    def noise_vector(self, n, generator=None):
        """z ~ U(-1, 1), (n, z_dim), the code's Uniform(62)."""
        generator = self.rng if generator is None else generator
        return rand(n, self.z_dim, device=self.device, generator=generator) * 2 - 1

    def latent(self, n, generator=None):
        """What G reads, [z | c], (n, z_dim + 12), as `sample` draws it (explore's latent interface)."""
        return cat([self.noise_vector(n, generator), self.prior_codes(n, generator)], 1)

    def unpack(self, batch):
        """(real images, c ~ P(c)): the digits' labels are not used (InfoGAN learns without them)."""
        images, _ = super().unpack(batch)
        return images, self.prior_codes(len(images))

    def generate(self, n, generator, labels=None):
        """G([z | c]) for a fresh z: c is `labels` (the codes of the step's batch), else drawn too."""
        if labels is None:
            return self.generate_from(self.latent(n, generator))
        return self.generate_from(self.noise_vector(n, generator), labels)

    def generator_input(self, z, labels):
        """[z | c]: `z` is the whole latent (labels None) or its first z_dim columns are kept and
        `labels` (N, 12) give c."""
        if labels is None:
            if z.shape[1] != self.latent_dim:
                raise ValueError(f"{self.name}: G reads [z | c] of {self.latent_dim} columns (z_dim "
                                 f"{self.z_dim} + {CODE_DIM} code), got shape {tuple(z.shape)}")
            return z
        return cat([z[:, :self.z_dim], labels.to(dtype=z.dtype)], 1)

    # ---- the information terms (Eqs. 5-6) ------------------------------------------------------
    def discriminate(self, x, labels=None):
        """D's logits, through the trunk whose features Q reads next (code_parameters): the loop
        scores G's batch with D and then reads its code with Q, with no update between, so the
        trunk runs once per batch, as the code's discriminate returns D's and Q's outputs together."""
        features = self.D.trunk(x)
        self._scored = (x, features)
        return self.D.head(features)

    def code_parameters(self, images):
        """Q's outputs for `images` through D's trunk (the features of the batch D just scored, if it
        is this one): (the logits of c1 (N, 10), the means of c2, c3 (N, 2))."""
        scored, self._scored = self._scored, None
        features = scored[1] if scored is not None and scored[0] is images else self.D.trunk(images)
        output = self.Q(features)
        return output[:, :CATEGORIES], output[:, CATEGORIES:]

    def information(self, images, codes):
        """(L_I of c1, L_I of c2 and c3) for G's `images` made from `codes` (Eq. 5)."""
        logits, means = self.code_parameters(images)
        return (categorical_information(logits, codes[:, :CATEGORIES]),
                gaussian_information(means, codes[:, CATEGORIES:]))

    def information_terms(self, fake, codes, who):
        """{"info_cat_" + who: -lambda_cat L_I(c1), "info_cont_" + who: -lambda_cont L_I(c2, c3)}:
        what Eq. 6 adds to the loss of D and Q (who "d") or of G (who "g")."""
        categorical, continuous = self.information(fake, codes)
        return {f"info_cat_{who}": -self.config["lambda_cat"] * categorical,
                f"info_cont_{who}": -self.config["lambda_cont"] * continuous}

    def critic_terms(self, real, fake, labels):
        return self.information_terms(fake, labels, "d")  # Eq. 6: Q (and D's trunk) ascend L_I

    def generator_terms(self, fake, labels, critic):
        return self.information_terms(fake, labels, "g")  # Eq. 6: G ascends L_I too

    # ---- pictures of the codes: explore --traverse, sample --code --sweep (Fig. 2) ---------------
    def code_traversals(self, n, generator=None):
        """{code: [(value, codes (n, 12))]}: for `scratchgen explore --traverse`, each code at each
        of its values (c1: the 10 categories; c2, c3: -2 to 2 as Fig. 2), the other codes drawn
        from `generator` once per row and held along it; decode(z, codes) sets them."""
        held = self.prior_codes(n, generator).numpy()
        swept = [round(float(value), 2) for value in TRAVERSAL_VALUES]
        values = {"c1": list(range(CATEGORIES)), "c2": swept, "c3": swept}
        return {name: [(value, as_tensor(set_code(held.copy(), name, value), device=self.device))
                       for value in values[name]] for name in CODE_NAMES}

    def code_grid(self, rows, fixed=(), sweep=None, generator=None):
        """Latents [z | c], NumPy (rows, columns, z_dim + 12), for the pictures of Fig. 2
        (`scratchgen sample RUN --code c1=3 --sweep c2=-2:2:10`): each row its own z and codes drawn
        from `generator` and held along the row, c1 = r % 10 in row r unless it is fixed or swept;
        `fixed` {code: value} set in every row; column j sets the code of `sweep` (name, values) to
        values[j] (one column without a sweep)."""
        fixed = dict(fixed)
        for name, value in fixed.items():
            check_code(name, value, "--code")
        swept = None if sweep is None else sweep[0]
        if sweep is not None:
            for value in sweep[1]:
                check_code(swept, value, "--sweep")
            if swept in fixed:
                raise ValueError(f"{self.name}: code {swept} is both fixed (--code) and swept (--sweep)")
        latents = self.latent(rows, generator).numpy()
        codes = latents[:, self.z_dim:]  # a view: set_code writes into latents
        if "c1" not in fixed and swept != "c1":
            set_code(codes, "c1", numpy.arange(rows) % CATEGORIES)
        for name, value in fixed.items():
            set_code(codes, name, value)
        if sweep is None:
            return latents[:, None].astype(numpy.float32)
        columns = []
        for value in sweep[1]:
            column = latents.copy()
            set_code(column[:, self.z_dim:], swept, value)
            columns.append(column)
        return numpy.stack(columns, axis=1).astype(numpy.float32)

    # ---- scratchgen eval ----------------------------------------------------------------------
    test_uses_labels = True  # train/evaluation.py passes the test digits

    def test_metrics(self, x, k, generator, labels, progress=None):
        """`scratchgen eval`'s numbers on the MNIST test images x and their digits `labels` (k, the
        likelihood models' importance samples, has no use here): c1 used as a classifier of the
        digits (Sec. 7.1; metrics.code_classification_errors), L_I of as many fresh samples beside
        H(c1) = ln 10, and the sample metrics of every MNIST GAN (FID on LeNet features, ...)."""
        errors = code_classification_errors(self.categories(x), labels, CATEGORIES, 10)
        results = {"n_test": len(x), **{f"c1_test_{key}": value for key, value in errors.items()},
                   **self.sample_information(len(x), generator)}
        samples = self.sample(len(x), generator=generator)
        return {**results, **image_sample_metrics(samples, data_dir=self.config["data_dir"], progress=progress)}

    def categories(self, images):
        """Q's most likely c1 for each of `images` (N,), read in batches of 500 as read_codes says (mixed
        digits, as the test set): InfoGAN's code as a classifier."""
        with self.read_codes():
            return numpy.concatenate([self.code_parameters(images[rows])[0].argmax(1).numpy()
                                      for rows in batches(len(images))])

    @contextlib.contextmanager
    def read_codes(self):
        """No graph, G in eval mode, and D's trunk and Q normalising each batch by its own
        statistics without updating their running averages: as they saw batches in training, real
        and generated ones apart (their running averages blend the two, so Q would read shifted
        features of either). Batches must therefore be mixed as the training ones are: a batch of
        one category alone loses, in its own statistics, what sets it apart."""
        norms = [layer for network in (self.D, self.Q) for layer in network.modules()
                 if isinstance(layer, (BatchNorm1d, BatchNorm2d))]
        with self.evaluating(), no_grad():
            for layer in norms:
                layer.training, layer.track_running_stats = True, False
            try:
                yield
            finally:
                for layer in norms:
                    layer.track_running_stats = True

    def sample_information(self, n, generator):
        """{"l_i_c1", "h_c1", "l_i_c2_c3", "c1_recovery_accuracy"} on n fresh samples: L_I (Eq. 5) in
        nats, H(c1) = ln 10 (its most), and how often Q's most likely c1 is the one G was given."""
        sums = numpy.zeros(3)
        with self.read_codes():
            for rows in batches(n):
                size = rows.stop - rows.start
                latent = self.latent(size, generator)
                codes = latent[:, self.z_dim:]
                logits, means = self.code_parameters(self.generate_from(latent))
                right = (logits.argmax(1) == codes[:, :CATEGORIES].argmax(1)).sum()
                sums += size * numpy.array([categorical_information(logits, codes[:, :CATEGORIES]).item(),
                                            gaussian_information(means, codes[:, CATEGORIES:]).item(),
                                            right.item() / size])
        l_i_c1, l_i_c2_c3, accuracy = (float(value) for value in sums / n)
        return {"l_i_c1": l_i_c1, "h_c1": math.log(CATEGORIES), "l_i_c2_c3": l_i_c2_c3, "c1_recovery_accuracy": accuracy}


def batches(n):
    """Slices cutting n rows into near-equal batches of at most EVAL_CHUNK (so that no batch whose
    statistics normalise it is a lone leftover row)."""
    bounds = numpy.linspace(0, n, math.ceil(n / EVAL_CHUNK) + 1).round().astype(int)
    return [slice(int(start), int(stop)) for start, stop in zip(bounds, bounds[1:])]


def check_code(name, value, flag):
    """c1 takes a category 0-9, c2 and c3 a number; ValueError naming the flag otherwise."""
    if name not in CODE_NAMES:
        raise ValueError(f"{flag}: InfoGAN's codes are c1 (categorical, 0-9), c2 and c3 (continuous), got {name!r}")
    if not math.isfinite(value) or (name == "c1" and (value != int(value) or not 0 <= value < CATEGORIES)):
        wanted = f"a category 0 to {CATEGORIES - 1}" if name == "c1" else "a finite number"
        raise ValueError(f"{flag}: {name} must be {wanted}, got {value!r}")


def set_code(codes, name, value):
    """Set code `name` of the codes (N, 12), a NumPy array, to `value` (one, or one per row) in
    place: c1 as one-hot columns 0-9, c2 and c3 as columns 10 and 11; returns `codes`."""
    if name == "c1":
        codes[:, :CATEGORIES] = 0
        codes[numpy.arange(len(codes)), numpy.asarray(value, numpy.int64)] = 1
    else:
        codes[:, CATEGORIES + CODE_NAMES.index(name) - 1] = value
    return codes
