"""The PyTorch twin of scratchgen's Unrolled GAN (scratchgen/models/unrolled_gan.py; Metz, Poole,
Pfau & Sohl-Dickstein 2016): G and D the MLPs of the run's hidden_g, hidden_d and activation (the
official notebook's 2 x 128 tanh on the toys), torch's default initialisation, Adam on D with lr
and on G with lr_g, and the step of adversarial.py with k = 1, in scratchgen's order:

    fake = G(z) on fresh noise, no graph; D takes one step of its Adam on -f (Eq. 11)
    fake = G(z) on fresh noise
    theta_D^K: K steps of D's Adam from D's updated weights and D's Adam state (moments and step
        count), each on -f(theta_G, theta_D^k) for the same real batch and `fake` (Eq. 7)
    G descends f(theta_G, theta_D^K) (g_loss minimax) or -log D_K(G(z)) (non-saturating) (Eq. 10)

The K steps are torch's own functional Adam (torch.optim.adam.adam, the rule torch.optim.Adam
runs) on out-of-place copies of D's weights and moments, each step's gradient taken with
create_graph=True and the rule run with differentiable=True (unroll_gradient second-order: G's
gradient goes through every step, second derivatives included), or without a graph on a detached
`fake` (first-order: theta_D^K a constant). D, its optimizer and their states are left as they are;
K = 0 is the plain GAN with G on the minimax f. Like the other twins (torch_twins_mlp.py) it takes
scratchgen's batches as NumPy arrays and every random draw goes through `noise`, so a test can
feed it the numbers its scratchgen model draws.
"""
import torch
from torch import nn
from torch.optim import adam as torch_adam

from scratchgen.models.unrolled_gan import UnrolledGAN
from torch_twins_mlp import TorchAdversarialMLP, TorchTwin, discriminator_loss, mlp, non_saturating_generator_loss

ACTIVATIONS = {"tanh": nn.Tanh, "relu": nn.ReLU}


class TorchUnrolledGAN(TorchAdversarialMLP):
    mirrors = UnrolledGAN

    def __init__(self, config):
        TorchTwin.__init__(self, config)
        self.critic_steps = 1  # Unrolled GAN has no critic-steps setting: one update of D per step
        self.z_dim = config["z_dim"]
        self.G, self.D = self.build_networks()
        self.optimizer_d, self.optimizer_g = self.make_optimizers()

    def build_networks(self):
        """(G, D): unrolled_gan.py's MLPs of the hidden_g and hidden_d sizes and the run's activation."""
        activation = ACTIVATIONS[self.config["activation"]]
        return (mlp([self.z_dim, *self.config["hidden_g"], self.data_size], activation),
                mlp([self.data_size, *self.config["hidden_d"], 1], activation))

    def make_optimizers(self):
        betas = tuple(self.config["betas"])
        return (torch.optim.Adam(self.D.parameters(), lr=self.config["lr"], betas=betas),
                torch.optim.Adam(self.G.parameters(), lr=self.config["lr_g"], betas=betas))

    def critic_losses(self, real, fake):
        """D descends -f: the two binary cross-entropies."""
        return {"loss_d": discriminator_loss(self.D(real), self.D(fake))}

    def train_step(self, batch):
        real = self.as_data(batch[0])
        losses = {name: value.item() for name, value in self.critic_step(real).items()}
        losses["loss_g"] = self.generator_step(real).item()
        return losses

    def generator_step(self, real):
        """One update of G on f at theta_D^K, unrolled on the real batch D just stepped on and G's batch."""
        fake = self.G(self.noise(len(real), self.z_dim))
        weights = self.unrolled_weights(real, fake)
        loss = self.generator_loss(real, fake, lambda x: torch.func.functional_call(self.D, weights, (x,)))
        self.optimizer_g.zero_grad()
        loss.backward()
        self.optimizer_g.step()
        return loss

    def generator_loss(self, real, fake, critic):
        """f(theta_G, theta_D^K) = -(D's loss) at theta_D^K (minimax), or -log D_K(G(z))."""
        if self.config["g_loss"] == "minimax":
            return -discriminator_loss(critic(real), critic(fake))
        return non_saturating_generator_loss(critic(fake))

    def unrolled_weights(self, real, fake):
        """theta_D^K, {name: Tensor}: `unroll` steps of torch's functional Adam with D's optimizer's
        settings, from D's weights and that optimizer's moments and step count, on D's loss for
        `real` and `fake`; a function of G's weights through `fake` (second-order) or constants."""
        second_order = self.config["unroll_gradient"] == "second-order"
        names = [name for name, _ in self.D.named_parameters()]
        parameters = [parameter for _, parameter in self.D.named_parameters()]
        states = [self.optimizer_d.state[parameter] for parameter in parameters]
        weights = [parameter.detach() for parameter in parameters]
        exp_avgs = [state["exp_avg"].detach() for state in states]
        exp_avg_sqs = [state["exp_avg_sq"].detach() for state in states]
        steps = [state["step"].detach().to(torch.float64) for state in states]  # the bias corrections in float64
        group = self.optimizer_d.param_groups[0]
        beta1, beta2 = group["betas"]
        fake = fake if second_order else fake.detach()
        for _ in range(self.config["unroll"]):
            weights = [w if w.requires_grad else w.detach().requires_grad_() for w in weights]
            critic = dict(zip(names, weights))
            loss = discriminator_loss(*(torch.func.functional_call(self.D, critic, (x,)) for x in (real, fake)))
            grads = torch.autograd.grad(loss, weights, create_graph=second_order)
            with torch.set_grad_enabled(second_order):
                # torch's adam updates its arguments in place: copies, so each step is a new node (and
                # D's own weights and state stay as they are)
                weights, exp_avgs, exp_avg_sqs, steps = ([x.clone() for x in xs]
                                                         for xs in (weights, exp_avgs, exp_avg_sqs, steps))
                torch_adam.adam(weights, list(grads), exp_avg_sqs=exp_avg_sqs, exp_avgs=exp_avgs, max_exp_avg_sqs=[],
                                state_steps=steps, foreach=False, differentiable=second_order,
                                amsgrad=group["amsgrad"], beta1=beta1, beta2=beta2, lr=group["lr"],
                                weight_decay=group["weight_decay"], eps=group["eps"], maximize=group["maximize"])
        return dict(zip(names, weights))


TWINS = (TorchUnrolledGAN,)
