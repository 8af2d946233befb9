"""Unrolled GAN (models/unrolled_gan.py; Metz et al. 2016): G's gradient through K steps of D's
Adam. In float64 on tiny networks it matches finite differences for K = 1, 2, 3 (so every second
derivative through every step is there) and torch differentiating through its own functional
Adam; the first-order variant is the gradient with theta_D^K held constant, which finite
differences tell apart; K = 0 is the plain GAN's gradient; the unrolled steps are D's own update
and leave D as it is. (Training: test_unrolled_gan_training.py; resume: test_train_resume.py.)"""
import numpy as np
import pytest
import torch
from torch.optim import adam as torch_adam

import scratchgen as sg
from scratchgen import nn
from scratchgen.models.gan import minimax_generator_loss
from scratchgen.models.unrolled_gan import CriticAt, UnrolledGAN
from scratchgen.train.config import resolve_config

BATCH = 5


def tiny(unroll, **overrides):
    """A float64 Unrolled GAN with 3 and 4 hidden units after one training step (so D's Adam
    has moments and a step count), large learning rates so that the unrolled steps matter."""
    config = resolve_config(UnrolledGAN, "8gaussians", dict(hidden_g=[3], hidden_d=[4], z_dim=2, batch_size=BATCH,
                                                            unroll=unroll, lr=0.05, lr_g=0.05, **overrides), seed=0)
    sg.manual_seed(0)
    model = UnrolledGAN(config)
    model.G.double()
    model.D.double()
    model.train_step((points(1),))
    return model


def points(seed):
    return sg.tensor(sg.data.EIGHT_GAUSSIANS.sample(BATCH, sg.Generator(seed)).astype(np.float64))


REAL, Z = points(2), sg.randn(BATCH, 2, dtype=sg.float64, generator=sg.Generator(3))


def generator_loss(model):
    """G's loss (the loop's generator_step: critic_for_generator, then generator_loss) as a
    function of G's weights, on fixed real points and noise."""
    names = [name for name, _ in model.G.named_parameters()]

    def loss(*weights):
        fake = nn.functional_call(model.G, dict(zip(names, weights)), Z)
        return model.generator_loss(fake, None, model.critic_for_generator([(REAL, None)], fake))
    return loss


def g_weights(model):
    return [p.detach().clone().requires_grad_() for p in model.G.parameters()]


def gradient(loss, weights):
    return [g.numpy() for g in sg.grad(loss(*weights), weights)]


@pytest.mark.parametrize("unroll", [1, 2, 3])
@pytest.mark.parametrize("g_loss", ["minimax", "non-saturating"])
def test_the_unrolled_gradient_matches_finite_differences(unroll, g_loss):
    model = tiny(unroll, g_loss=g_loss)
    assert sg.gradcheck(generator_loss(model), g_weights(model))


def test_first_order_holds_theta_d_k_constant_which_finite_differences_tell_apart():
    second, first = tiny(3), tiny(3, unroll_gradient="first-order")
    weights = g_weights(first)
    assert not sg.gradcheck(generator_loss(first), weights, raise_exception=False)

    def with_constant_critic(*w):  # the second-order model's theta_D^K, detached
        fake = nn.functional_call(second.G, dict(zip([n for n, _ in second.G.named_parameters()], w)), Z)
        theta = {name: t.detach() for name, t in second.unrolled_weights(REAL, fake, None).items()}
        return second.generator_loss(fake, None, CriticAt(second, theta, REAL))
    for ours, expected in zip(gradient(generator_loss(first), weights), gradient(with_constant_critic, weights)):
        np.testing.assert_allclose(ours, expected, rtol=1e-12, atol=1e-14)


def test_with_k_0_the_generators_gradient_is_the_plain_gans():
    model = tiny(0)
    weights = g_weights(model)
    names = [name for name, _ in model.G.named_parameters()]

    def plain(*w):  # log(1 - D(G(z))): Goodfellow et al.'s minimax loss through D as it is
        return minimax_generator_loss(model.D(nn.functional_call(model.G, dict(zip(names, w)), Z)))
    for ours, expected in zip(gradient(generator_loss(model), weights), gradient(plain, weights)):
        np.testing.assert_allclose(ours, expected, rtol=1e-12, atol=1e-14)


def test_one_unrolled_step_is_ds_own_update_and_leaves_d_as_it_is():
    model = tiny(1)
    fake = model.generate(BATCH, sg.Generator(4)).detach()
    before = {name: p.detach().numpy().copy() for name, p in model.D.named_parameters()}
    state = {k: v.numpy().copy() if isinstance(v, sg.Tensor) else v
             for k, v in model.optimizer_d.state[model.D[0].weight].items()}
    unrolled = model.unrolled_weights(REAL, fake, None)
    for name, p in model.D.named_parameters():
        np.testing.assert_array_equal(p.detach().numpy(), before[name])
    assert model.optimizer_d.state[model.D[0].weight]["step"] == state["step"]
    np.testing.assert_array_equal(model.optimizer_d.state[model.D[0].weight]["exp_avg"].numpy(), state["exp_avg"])
    model.critic_step(REAL, fake, None)  # the loop's update of D, on the same batch
    for name, p in model.D.named_parameters():
        np.testing.assert_allclose(unrolled[name].detach().numpy(), p.detach().numpy(), rtol=1e-13, atol=1e-15)


# ---- torch, differentiating through its own functional Adam ---------------------------------------
def torch_mlp(network):
    """`network` (Linear-activation-...-Linear) in torch with the same float64 weights."""
    layers = [torch.nn.Linear(m.in_features, m.out_features) if isinstance(m, nn.Linear) else torch.nn.Tanh()
              for m in network]
    twin = torch.nn.Sequential(*layers).double()
    with torch.no_grad():
        for (_, ours), theirs in zip(network.named_parameters(), twin.parameters()):
            theirs.copy_(torch.tensor(ours.detach().numpy()))
    return twin


def torch_generator_gradient(model):
    """G's gradient of f(theta_G, theta_D^K) with theta_D^K from K steps of torch.optim's
    functional Adam (differentiable=True), from D's weights and Adam state."""
    G, D = torch_mlp(model.G), torch_mlp(model.D)
    real, z = torch.tensor(REAL.numpy()), torch.tensor(Z.numpy())
    bce = torch.nn.functional.binary_cross_entropy_with_logits

    def loss_d(weights, fake):  # -f, D's loss
        real_logits, fake_logits = (torch.func.functional_call(D, weights, x) for x in (real, fake))
        return bce(real_logits, torch.ones_like(real_logits)) + bce(fake_logits, torch.zeros_like(fake_logits))
    fake = G(z)
    names = [name for name, _ in D.named_parameters()]
    states = [model.optimizer_d.state[p] for p in model.D.parameters()]
    weights = [p.detach().clone().requires_grad_() for p in D.parameters()]
    m = [torch.tensor(s["exp_avg"].numpy()) for s in states]
    v = [torch.tensor(s["exp_avg_sq"].numpy()) for s in states]
    steps = [torch.tensor(float(s["step"]), dtype=torch.float64) for s in states]
    beta1, beta2 = model.config["betas"]
    for _ in range(model.config["unroll"]):
        grads = torch.autograd.grad(loss_d(dict(zip(names, weights)), fake), weights, create_graph=True)
        weights, m, v = [w.clone() for w in weights], [x.clone() for x in m], [x.clone() for x in v]
        torch_adam.adam(weights, list(grads), m, v, [], steps, foreach=False, differentiable=True, amsgrad=False,
                        beta1=beta1, beta2=beta2, lr=model.config["lr"], weight_decay=0.0, eps=1e-8, maximize=False)
    (-loss_d(dict(zip(names, weights)), fake)).backward()
    return [p.grad.numpy() for p in G.parameters()]


@pytest.mark.parametrize("unroll", [1, 2])
def test_the_unrolled_gradient_is_torchs_through_its_own_adam(unroll):
    model = tiny(unroll)
    expected = torch_generator_gradient(model)
    for ours, theirs in zip(gradient(generator_loss(model), g_weights(model)), expected):
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-13)
