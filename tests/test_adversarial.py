"""The one adversarial loop (scratchgen/models/adversarial.py): every GAN-like model trains through
AdversarialModel.train_step, and each of its hooks changes what that loop does: the critic's
terms, the generator's terms, the critic G's loss goes through, what follows a critic update,
extra heads, and which fake batch G's update uses. (test_train_resume.py resumes each of these
models mid-run; test_models_*.py check their losses against the papers and PyTorch twins.)"""
import numpy
import pytest

import scratchgen as sg
from scratchgen import nn
from scratchgen.models import MODELS, model_class
from scratchgen.models.adversarial import AdversarialModel
from scratchgen.models.gan import GAN, non_saturating_generator_loss
from scratchgen.nn.conv import Conv2d, ConvTranspose2d
from scratchgen.train.config import resolve_config

GAN_LIKE = [name for name in MODELS if issubclass(model_class(name), AdversarialModel)]
LOOP_METHODS = {"train_step", "critic_rounds", "critic_step", "generator_step"}


def tiny_gan(cls=GAN, **overrides):
    """A small `cls` (a GAN subclass) on the 8-Gaussians toy, its weights seeded."""
    config = resolve_config(cls, "8gaussians", dict(hidden=[8], z_dim=2, batch_size=16, **overrides), seed=0)
    sg.manual_seed(0)
    return cls(config)


def toy_batch(model, seed=0):
    """One step's real points: batch_size for each critic update."""
    n = model.config["batch_size"] * model.batches_per_step
    return (sg.tensor(sg.data.EIGHT_GAUSSIANS.sample(n, sg.Generator(seed))),)


def parameters(network):
    return [parameter.detach().numpy().copy() for parameter in network.parameters()]


def same(first, second):
    return all(numpy.array_equal(a, b) for a, b in zip(first, second))


def step_both(cls, **overrides):
    """(the GAN's losses, a `cls`'s losses, the GAN, the `cls` model) after one step from the same
    weights, noise and batch."""
    plain, hooked = tiny_gan(**overrides), tiny_gan(cls, **overrides)
    batch = toy_batch(plain)
    return plain.train_step(batch), hooked.train_step(batch), plain, hooked


# ---- one loop, networks said by the models ------------------------------------------------------
def test_every_gan_like_model_trains_through_the_one_loop():
    assert sorted(GAN_LIKE) == ["cdcgan", "cgan", "dcgan", "dcgan-upsample", "ddgm", "gan", "improved-gan",
                                "infogan", "unrolled-gan", "wgan", "wgan-gp", "wgan-gp-lm"]
    for name in GAN_LIKE:
        cls = model_class(name)
        above_the_loop = cls.__mro__[:cls.__mro__.index(AdversarialModel)]
        assert not [base for base in above_the_loop if LOOP_METHODS & vars(base).keys()], name


@pytest.mark.parametrize("name", GAN_LIKE)
def test_no_mlp_model_inherits_from_a_convolutional_one(name):
    cls = model_class(name)
    settings = resolve_config(cls, "mnist" if "mnist" in cls.datasets else None, {"z_dim": 4})
    model = cls(settings)
    convolutional = any(isinstance(layer, (Conv2d, ConvTranspose2d))
                        for network in (model.G, model.D) for layer in network.modules())
    conv_bases = [base.__name__ for base in cls.__mro__ if base.__module__ == "scratchgen.models.dcgan"]
    assert convolutional or conv_bases == [], f"{name} has MLP networks but inherits from {conv_bases}"


# ---- the hooks ----------------------------------------------------------------------------------
class WithCriticTerm(GAN):
    def critic_terms(self, real, fake, labels):
        return {"score_penalty": self.discriminate(real, labels).square().mean()}


def test_critic_terms_are_added_to_the_critics_loss_and_reported():
    plain_losses, losses, plain, hooked = step_both(WithCriticTerm)
    assert list(losses) == ["loss_d", "score_penalty", "loss_g"]
    assert losses["loss_d"] == pytest.approx(plain_losses["loss_d"] + losses["score_penalty"], rel=1e-6)
    assert losses["score_penalty"] > 0
    assert not same(parameters(plain.D), parameters(hooked.D))  # D descended the term too


class WithGeneratorTerm(GAN):
    def generator_terms(self, fake, labels, critic):
        return {"spread": fake.square().mean()}


def test_generator_terms_are_added_to_the_generators_loss_and_reach_only_its_update():
    plain_losses, losses, plain, hooked = step_both(WithGeneratorTerm)
    assert list(losses) == ["loss_d", "loss_g", "spread"]
    assert losses["loss_d"] == plain_losses["loss_d"]
    assert losses["loss_g"] == pytest.approx(plain_losses["loss_g"] + losses["spread"], rel=1e-6)
    assert same(parameters(plain.D), parameters(hooked.D))  # D updates before G's terms exist
    assert not same(parameters(plain.G), parameters(hooked.G))


class WithFlatCritic(GAN):
    """G's loss goes through a critic that scores every sample 0, so G gets no gradient."""
    calls = None

    def critic_for_generator(self, rounds, fake):
        self.calls = [(real.numpy().copy(), labels) for real, labels in rounds]
        return lambda fake, labels: fake.sum(1, keepdim=True) * 0


def test_the_generators_loss_goes_through_critic_for_generator_which_sees_the_critics_batches():
    plain_losses, losses, plain, hooked = step_both(WithFlatCritic, k=3)
    batch = toy_batch(hooked)[0].numpy()
    assert [real.shape for real, _ in hooked.calls] == [(16, 2)] * 3
    numpy.testing.assert_array_equal(numpy.concatenate([real for real, _ in hooked.calls]), batch)
    assert losses["loss_g"] == pytest.approx(non_saturating_generator_loss(sg.zeros(1)).item())  # log 2
    assert same(parameters(plain.D), parameters(hooked.D))
    initial = tiny_gan(WithFlatCritic, k=3)
    assert same(parameters(initial.G), parameters(hooked.G))  # zero gradient: Adam leaves G where it was
    assert not same(parameters(initial.G), parameters(plain.G))


class CountingCriticSteps(GAN):
    def after_critic_step(self):
        self.seen.append(self.d_steps)


def test_after_critic_step_follows_each_of_the_k_critic_updates():
    model = tiny_gan(CountingCriticSteps, k=3)
    model.seen, model.d_steps, step = [], 0, model.optimizer_d.step

    def counted_step():
        model.d_steps += 1
        step()
    model.optimizer_d.step = counted_step
    model.train_step(toy_batch(model))
    assert model.seen == [1, 2, 3]


class WithHead(GAN):
    """An extra network Q, as InfoGAN's, updated with D on a term of its own."""

    def build_heads(self):
        return {"Q": nn.Linear(2, 1)}

    def critic_terms(self, real, fake, labels):
        return {"q_term": (self.Q(fake) - 1).square().mean()}

    def generator_terms(self, fake, labels, critic):
        self.frozen_during_g = [p.requires_grad for p in [*self.D.parameters(), *self.Q.parameters()]]
        return {"q_term": (self.Q(fake) - 1).square().mean()}


def test_extra_heads_are_checkpointed_updated_with_the_critic_and_frozen_for_the_generator():
    model = tiny_gan(WithHead)
    assert "Q" in model.state_dict() and "Q" not in tiny_gan().state_dict()
    q_parameters = {id(p) for p in model.Q.parameters()}
    assert q_parameters <= {id(p) for group in model.optimizer_d.param_groups for p in group["params"]}
    before = parameters(model.Q)
    losses = model.train_step(toy_batch(model))
    assert not same(before, parameters(model.Q))
    assert model.frozen_during_g == [False] * 6  # D's two Linear layers and Q's, weights and biases
    assert all(p.requires_grad for p in [*model.D.parameters(), *model.Q.parameters()])  # thawed again
    assert {"q_term", "loss_d", "loss_g"} <= losses.keys()


class RecordingFakes(GAN):
    def generate(self, n, generator, labels=None):
        self.fakes_made = getattr(self, "fakes_made", 0) + 1
        return super().generate(n, generator, labels)

    def critic_losses(self, real, fake, labels):
        self.critic_fake = fake
        return super().critic_losses(real, fake, labels)

    def generator_loss(self, fake, labels, critic):
        self.generator_fake = fake
        return super().generator_loss(fake, labels, critic)


class ReusingFakes(RecordingFakes):
    generator_reuses_critic_fake = True


@pytest.mark.parametrize("cls, reuses", [(RecordingFakes, False), (ReusingFakes, True)])
def test_the_generator_updates_on_fresh_noise_or_on_the_critics_fake_batch(cls, reuses):
    model = tiny_gan(cls)
    model.train_step(toy_batch(model))
    assert model.fakes_made == (1 if reuses else 2)
    assert model.generator_fake.requires_grad and not model.critic_fake.requires_grad
    same_batch = numpy.array_equal(model.generator_fake.detach().numpy(), model.critic_fake.numpy())
    assert same_batch == reuses


def test_dcgan_family_reuses_the_critics_fake_and_the_mlp_gans_draw_fresh_noise():
    reusing = {name for name in GAN_LIKE if model_class(name).generator_reuses_critic_fake}
    assert reusing == {"dcgan", "dcgan-upsample", "cdcgan", "cgan"}
    assert {name: model_class(name).critic_steps_setting for name in GAN_LIKE if name not in reusing} == \
        {"gan": "k", "wgan": "n_critic", "wgan-gp": "n_critic", "wgan-gp-lm": "n_critic", "unrolled-gan": None,
         "infogan": None, "improved-gan": None, "ddgm": None}
