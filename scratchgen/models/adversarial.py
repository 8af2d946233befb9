"""AdversarialModel: the one training loop of every GAN-like model (gan.py, dcgan.py, cgan.py,
wgan.py, and those to come), and the hooks through which a model says what differs.

The loop is Algorithm 1 of Goodfellow et al. 2014, "Generative Adversarial Nets":

    for number of training iterations do
        for k steps do
            sample a minibatch of m noise samples z from the noise prior p_g(z)
            sample a minibatch of m examples x from the data distribution p_data(x)
            update D by ascending  grad_theta_d 1/m sum [log D(x) + log(1 - D(G(z)))]
        sample a minibatch of m noise samples z from p_g(z)
        update G by descending  grad_theta_g 1/m sum log(1 - D(G(z)))

with the losses, k and the networks left to the model. WGAN (Arjovsky et al. 2017) and WGAN-GP
(Gulrajani et al. 2017) write their Algorithm 1 in this shape too (n_critic for k); DCGAN's
reference code (the PyTorch DCGAN example) has k = 1 and updates G on the fake batch D just saw.
"""
import abc
import contextlib
import math

import numpy

from .. import optim
from .. import Tensor, as_tensor, no_grad, set_grad_enabled
from .base import GenerativeModel


class AdversarialModel(GenerativeModel):
    """A generator G and a critic (discriminator) D trained by `train_step`, Algorithm 1 above:

        rounds = the batch unpack()ed and split into critic_steps (k) fresh real batches
        for real, labels in rounds:                                             # k times
            fake = generate(len(real), rng, labels)                             # z ~ latent()
            loss_d = critic_losses(real, fake, labels)["loss_d"] + sum(critic_terms(...))
            D (and the heads) descend loss_d; after_critic_step()
        unless generator_reuses_critic_fake: fake = generate(...) on fresh z
        critic = critic_for_generator(rounds, fake)                             # D by default
        loss_g = generator_loss(fake, labels, critic) + sum(generator_terms(...))
        G descends loss_g, with D's weights frozen; after_generator_step()

    Subclasses say what their networks are (build_generator, build_critic, build_heads,
    initialise, make_optimizers) and what their losses are (critic_losses, generator_loss, and
    the optional critic_terms, generator_terms, after_critic_step, after_generator_step,
    critic_for_generator).
    The attributes G, D, optimizer_d and optimizer_g name the checkpoint's entries.

    Extra heads. A model that owns more networks than G and D (InfoGAN's Q, Chen et al. 2016)
    returns them from build_heads(); each becomes an attribute (so checkpoints keep it), is
    initialised, updated by D's optimizer (make_optimizers uses critic_parameters()) and frozen
    with D while G updates; the terms use them. InfoGAN plugs in so: its code c travels as the
    labels (its unpack draws c for each batch; generator_input appends c to z, discriminator_input
    ignores it); build_heads() gives {"Q": a head on D's trunk}; critic_terms and generator_terms
    both return {"info_cat_*": ..., "info_cont_*": ...}, each -lambda L_I (Eq. 5, H(c) included)
    of one code type, so D with Q, and G, each minimise them (models/infogan.py).
    """
    critic_steps_setting = None  # the setting that holds k (GAN's "k", WGAN's "n_critic"); None: k = 1
    generator_reuses_critic_fake = False  # True: G's update reuses the last critic round's fake batch

    def __init__(self, config):
        super().__init__(config)
        self.z_dim = config["z_dim"]
        self.G = self.build_generator().to(self.device)
        self.D = self.build_critic().to(self.device)
        heads = {name: head.to(self.device) for name, head in self.build_heads().items()}
        vars(self).update(heads)  # attributes, so state_dict and networks() include them
        self.head_names = tuple(heads)
        for network in (self.G, *self.critic_networks()):
            self.initialise(network)
        self.optimizer_d, self.optimizer_g = self.make_optimizers()

    # ---- networks -----------------------------------------------------------------------
    @abc.abstractmethod
    def build_generator(self):
        """G: generator_input(z, labels) -> data of shape (N, *data_shape)."""

    @abc.abstractmethod
    def build_critic(self):
        """D: discriminator_input(x, labels) -> one score (a logit, or a critic value) per sample."""

    def build_heads(self):
        """{attribute name: Module}: networks beside G and D that D's optimizer updates (InfoGAN's Q)."""
        return {}

    def initialise(self, network):
        """Initialise `network`'s weights in place; by default its layers' own (PyTorch's) initialisation."""

    def critic_networks(self):
        """D and the heads: what D's optimizer updates and what G's update freezes."""
        return [self.D, *(getattr(self, name) for name in self.head_names)]

    def critic_parameters(self):
        """The parameters of D and of the heads."""
        return [parameter for network in self.critic_networks() for parameter in network.parameters()]

    def make_optimizers(self):
        """(optimizer of D and the heads, optimizer of G); by default Adam with the run's lr and betas."""
        settings = dict(lr=self.config["lr"], betas=tuple(self.config["betas"]))
        return optim.Adam(self.critic_parameters(), **settings), optim.Adam(self.G.parameters(), **settings)

    # ---- losses and the other hooks of the loop -----------------------------------------
    @property
    def critic_steps(self):
        """k: critic updates per generator update (the setting critic_steps_setting names, else 1)."""
        return 1 if self.critic_steps_setting is None else self.config[self.critic_steps_setting]

    @property
    def batches_per_step(self):
        return self.critic_steps  # one fresh real batch per critic update

    @abc.abstractmethod
    def critic_losses(self, real, fake, labels):
        """{"loss_d": the loss D minimises, other names: values to report}, as Tensors."""

    def critic_terms(self, real, fake, labels):
        """{name: Tensor}: extra terms added to loss_d and reported (Improved GAN's, InfoGAN's); none by default."""
        return {}

    def after_critic_step(self):
        """Called after every update of D (WGAN clips its weights here)."""

    def after_generator_step(self):
        """Called after every update of G (Improved GAN's historical average takes G's new weights here)."""

    def critic_features(self, x, labels=None):
        """D's last hidden layer for x, (N, features): what feature matching compares (Salimans et
        al. 2016, Sec. 3.1); a model whose G matches features gives it."""
        raise NotImplementedError(f"{self.name}: this model's D does not give its features")

    def critic_for_generator(self, rounds, fake):
        """The critic (x, labels) -> scores that G's loss goes through, given this step's (real,
        labels) rounds and G's batch `fake` (with its graph back to G); by default D itself, as a
        CriticView that also gives D's features and the last round's real batch. Called
        with D's weights frozen, after D's updates: Unrolled GAN (unrolled_gan.py) returns D
        evaluated at weights moved k more optimizer steps by its differentiable_step on the last
        round's real batch and `fake`, so G's gradient flows through those steps."""
        return CriticView(self, rounds[-1][0])

    @abc.abstractmethod
    def generator_loss(self, fake, labels, critic):
        """The loss G minimises, from `critic`'s scores of G's samples `fake`."""

    def generator_terms(self, fake, labels, critic):
        """{name: Tensor}: extra terms added to loss_g and reported (feature matching, InfoGAN's); none by default."""
        return {}

    # ---- the loop -----------------------------------------------------------------------
    def train_step(self, batch):
        """One iteration of Algorithm 1 (module docstring); returns {loss name: float}."""
        rounds = self.critic_rounds(*self.unpack(batch))
        for real, labels in rounds:
            with set_grad_enabled(self.generator_reuses_critic_fake):  # a graph only where G will reuse it
                fake = self.generate(len(real), self.rng, labels)
            losses = self.critic_step(real, fake.detach(), labels)
        if not self.generator_reuses_critic_fake:
            fake = self.generate(len(real), self.rng, labels)  # fresh noise for G
        losses.update(self.generator_step(fake, labels, rounds))
        return {name: value.item() for name, value in losses.items()}

    def critic_rounds(self, data, labels):
        """[(real, labels)]: the batch split into one part per critic update."""
        reals = data.chunk(self.critic_steps)
        return list(zip(reals, [None] * len(reals) if labels is None else labels.chunk(self.critic_steps)))

    def critic_step(self, real, fake, labels):
        """One update of D (and the heads) on its losses and terms; returns them, loss_d the total."""
        losses = self.critic_losses(real, fake, labels)
        terms = self.critic_terms(real, fake, labels)
        losses["loss_d"] = sum(terms.values(), losses["loss_d"])
        self.optimizer_d.zero_grad()
        losses["loss_d"].backward()
        self.optimizer_d.step()
        self.after_critic_step()
        return {**losses, **terms}

    def generator_step(self, fake, labels, rounds):
        """One update of G through the critic_for_generator; returns {"loss_g": the total, terms}."""
        with frozen(*self.critic_networks()):  # gradients flow through D to G, but D's weights need none
            critic = self.critic_for_generator(rounds, fake)
            loss = self.generator_loss(fake, labels, critic)
            terms = self.generator_terms(fake, labels, critic)
            loss = sum(terms.values(), loss)
            self.optimizer_g.zero_grad()
            loss.backward()
        self.optimizer_g.step()
        self.after_generator_step()
        return {"loss_g": loss, **terms}

    # ---- checkpoints --------------------------------------------------------------------
    def extra_state(self):
        """{checkpoint entry: an object with state_dict() and load_state_dict()}: state beside the
        networks, optimizers and generators (Improved GAN's parameter averages); none by default."""
        return {}

    def state_dict(self):
        return {**super().state_dict(), **{name: owner.state_dict() for name, owner in self.extra_state().items()}}

    def load_state_dict(self, state):
        extra = self.extra_state()
        missing = sorted(set(extra) - set(state))
        if missing:
            raise ValueError(f"{self.name}.load_state_dict: the state has no entries {missing}, which this model's "
                             f"settings need")
        super().load_state_dict({name: value for name, value in state.items() if name not in extra})
        for name, owner in extra.items():
            owner.load_state_dict(state[name])

    # ---- data ---------------------------------------------------------------------------
    def unpack(self, batch):
        """(data shaped (N, *data_shape), labels or None) from a batch (data[, labels])."""
        data = batch[0]
        if data.ndim < 2 or math.prod(data.shape[1:]) != self.data_size:
            raise ValueError(f"{self.name}.train_step: expected a batch shaped (N, "
                             f"{', '.join(map(str, self.data_shape))}), got shape {tuple(data.shape)}")
        return data.reshape(len(data), *self.data_shape), batch[1] if len(batch) > 1 else None

    def latent(self, n, generator=None):
        """z ~ N(0, I), (n, z_dim), from `generator` (default: the model's own)."""
        return self.noise(n, self.z_dim, generator)

    def generator_input(self, z, labels):
        """What G reads: z (a conditional model appends the labels)."""
        return z

    def discriminator_input(self, x, labels):
        """What D reads: x (a conditional model adds the labels)."""
        return x

    def generate(self, n, generator, labels=None):
        return self.generate_from(self.latent(n, generator), labels)

    def generate_from(self, z, labels=None):
        """G(z): samples in data space, (N, *data_shape)."""
        return self.G(self.generator_input(z, labels))

    def discriminate(self, x, labels=None):
        """D's score of each sample (for a GAN the logit log D(x) / (1 - D(x)))."""
        return self.D(self.discriminator_input(x, labels))

    def decode(self, z, labels=None):
        """G(z) for chosen latent vectors `z` (a Tensor or an array (N, z_dim)), with every network
        in eval mode, as `sample` returns them (images: NumPy (N, 1, 28, 28) in [0, 1])."""
        z = z if isinstance(z, Tensor) else as_tensor(numpy.asarray(z, numpy.float32))
        with self.evaluating(), no_grad():
            data = self.generate_from(z.to(self.device), labels).numpy()
        return self.data_to_output(data)


class CriticView:
    """The critic G's loss goes through by default: D's scores, critic(x, labels); D's last hidden
    layer, critic.features(x, labels); critic.real, the real batch of the step's last critic round."""

    def __init__(self, model, real):
        self.model, self.real = model, real

    def __call__(self, x, labels=None):
        return self.model.discriminate(x, labels)

    def features(self, x, labels=None):
        return self.model.critic_features(x, labels)


@contextlib.contextmanager
def frozen(*modules):
    """Parameters of `modules` do not require grad inside the block."""
    for module in modules:
        module.requires_grad_(False)
    try:
        yield
    finally:
        for module in modules:
            module.requires_grad_(True)
