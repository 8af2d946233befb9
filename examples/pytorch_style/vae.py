"""A variational autoencoder on MNIST (Kingma & Welling 2014), after pytorch/examples' vae/main.py.

    python vae.py --mnist path/to/mnist                         # PyTorch
    python -m scratchgen.as_torch vae.py --mnist path/to/mnist  # the same script on scratchgen
"""
import torch
import torch.nn.functional as F
from torch import nn, optim
from torch.utils.data import DataLoader, TensorDataset

import common

parser = common.parser("VAE on MNIST", steps=200, batch_size=128)
parser.add_argument("--latent", type=int, default=20)
args = parser.parse_args()
device, dtype = common.setup(args)


class VAE(nn.Module):
    def __init__(self, latent):
        super().__init__()
        self.fc1 = nn.Linear(784, 400)
        self.fc21 = nn.Linear(400, latent)
        self.fc22 = nn.Linear(400, latent)
        self.fc3 = nn.Linear(latent, 400)
        self.fc4 = nn.Linear(400, 784)

    def encode(self, x):
        h1 = F.relu(self.fc1(x))
        return self.fc21(h1), self.fc22(h1)

    def reparameterize(self, mu, logvar):
        std = torch.exp(0.5 * logvar)
        eps = common.randn(*std.shape, dtype=std.dtype, device=std.device)  # torch.randn_like(std), from NumPy
        return mu + eps * std

    def decode(self, z):
        h3 = F.relu(self.fc3(z))
        return torch.sigmoid(self.fc4(h3))

    def forward(self, x):
        mu, logvar = self.encode(x.view(-1, 784))
        z = self.reparameterize(mu, logvar)
        return self.decode(z), mu, logvar


# Reconstruction + KL divergence losses summed over all elements and batch
def loss_function(recon_x, x, mu, logvar):
    BCE = F.binary_cross_entropy(recon_x, x.view(-1, 784), reduction='sum')
    # see Appendix B from VAE paper: 0.5 * sum(1 + log(sigma^2) - mu^2 - sigma^2)
    KLD = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
    return BCE + KLD


model = VAE(args.latent)
common.init_weights(args, model=model)
model = model.to(device, dtype)
optimizer = optim.Adam(model.parameters(), lr=1e-3)

images, labels = common.training_data(args)
dataset = TensorDataset(torch.tensor(images, dtype=dtype), torch.tensor(labels))
train_loader = DataLoader(dataset, batch_size=args.batch_size, shuffle=False, drop_last=True)

model.train()
for step, (data, _) in common.batches(train_loader, args.steps):
    data = data.to(device)
    optimizer.zero_grad()
    recon_batch, mu, logvar = model(data)
    loss = loss_function(recon_batch, data, mu, logvar)
    loss.backward()
    optimizer.step()
    if step % args.log_interval == 0:
        common.report(step, args.steps, loss=loss.item() / len(data))

model.eval()
with torch.no_grad():
    sample = common.randn(64, args.latent, dtype=dtype, device=device)
    sample = model.decode(sample).cpu()
    print(f"64 samples decoded: mean pixel {sample.mean().item():.12g}")
