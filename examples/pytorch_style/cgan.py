"""A conditional GAN on MNIST (Mirza & Osindero 2014) after PyTorch-GAN's implementations/cgan/cgan.py, with
its pre-0.4 idioms (Variable, torch.FloatTensor, imgs.type(FloatTensor)): `python cgan.py --mnist DIR`
(PyTorch) or `python -m scratchgen.as_torch cgan.py --mnist DIR` (scratchgen)."""
import numpy as np
import torch
import torch.nn as nn
from torch.autograd import Variable
from torch.utils.data import DataLoader, TensorDataset

import common

parser = common.parser("conditional GAN on MNIST", steps=500, batch_size=64)
parser.add_argument("--lr", type=float, default=0.0002, help="adam: learning rate")
parser.add_argument("--b1", type=float, default=0.5, help="adam: decay of first order momentum of gradient")
parser.add_argument("--b2", type=float, default=0.999, help="adam: decay of second order momentum of gradient")
parser.add_argument("--latent_dim", type=int, default=100, help="dimensionality of the latent space")
parser.add_argument("--n_classes", type=int, default=10, help="number of classes for dataset")
parser.add_argument("--dropout", type=float, default=0.4, help="0 makes the run repeatable across frameworks")
opt = parser.parse_args()
common.setup(opt)
img_shape = (1, 28, 28)
cuda = True if torch.cuda.is_available() and not opt.cpu else False


class Generator(nn.Module):
    def __init__(self):
        super(Generator, self).__init__()
        self.label_emb = nn.Embedding(opt.n_classes, opt.n_classes)

        def block(in_feat, out_feat, normalize=True):
            layers = [nn.Linear(in_feat, out_feat)]
            if normalize:
                layers.append(nn.BatchNorm1d(out_feat, 0.8))
            layers.append(nn.LeakyReLU(0.2, inplace=True))
            return layers

        self.model = nn.Sequential(*block(opt.latent_dim + opt.n_classes, 128, normalize=False), *block(128, 256),
                                   *block(256, 512), *block(512, 1024), nn.Linear(1024, int(np.prod(img_shape))),
                                   nn.Tanh())

    def forward(self, noise, labels):
        # Concatenate label embedding and image to produce input
        gen_input = torch.cat((self.label_emb(labels), noise), -1)
        img = self.model(gen_input)
        img = img.view(img.size(0), *img_shape)
        return img


class Discriminator(nn.Module):
    def __init__(self):
        super(Discriminator, self).__init__()
        self.label_embedding = nn.Embedding(opt.n_classes, opt.n_classes)
        self.model = nn.Sequential(
            nn.Linear(opt.n_classes + int(np.prod(img_shape)), 512), nn.LeakyReLU(0.2, inplace=True),
            nn.Linear(512, 512), nn.Dropout(opt.dropout), nn.LeakyReLU(0.2, inplace=True),
            nn.Linear(512, 512), nn.Dropout(opt.dropout), nn.LeakyReLU(0.2, inplace=True),
            nn.Linear(512, 1),
        )

    def forward(self, img, labels):
        # Concatenate label embedding and image to produce input
        d_in = torch.cat((img.view(img.size(0), -1), self.label_embedding(labels)), -1)
        validity = self.model(d_in)
        return validity


adversarial_loss = torch.nn.MSELoss()
generator = Generator()
discriminator = Discriminator()
common.init_weights(opt, G=generator, D=discriminator)
if opt.double:
    generator.double()
    discriminator.double()
if cuda:
    generator.cuda()
    discriminator.cuda()
    adversarial_loss.cuda()

images, labels = common.training_data(opt)
dataloader = DataLoader(TensorDataset(torch.Tensor(images * 2 - 1), torch.tensor(labels)),
                        batch_size=opt.batch_size, shuffle=False, drop_last=True)
optimizer_G = torch.optim.Adam(generator.parameters(), lr=opt.lr, betas=(opt.b1, opt.b2))
optimizer_D = torch.optim.Adam(discriminator.parameters(), lr=opt.lr, betas=(opt.b1, opt.b2))

FloatTensor = (torch.cuda if cuda else torch).DoubleTensor if opt.double else \
    (torch.cuda.FloatTensor if cuda else torch.FloatTensor)
LongTensor = torch.cuda.LongTensor if cuda else torch.LongTensor

for batches_done, (imgs, labels) in common.batches(dataloader, opt.steps):
    batch_size = imgs.shape[0]
    # Adversarial ground truths
    valid = Variable(FloatTensor(batch_size, 1).fill_(1.0), requires_grad=False)
    fake = Variable(FloatTensor(batch_size, 1).fill_(0.0), requires_grad=False)
    # Configure input
    real_imgs = Variable(imgs.type(FloatTensor))
    labels = Variable(labels.type(LongTensor))

    #  Train Generator
    optimizer_G.zero_grad()
    # Sample noise and labels as generator input
    z = Variable(FloatTensor(np.random.normal(0, 1, (batch_size, opt.latent_dim))))
    gen_labels = Variable(LongTensor(np.random.randint(0, opt.n_classes, batch_size)))
    # Generate a batch of images
    gen_imgs = generator(z, gen_labels)
    # Loss measures generator's ability to fool the discriminator
    validity = discriminator(gen_imgs, gen_labels)
    g_loss = adversarial_loss(validity, valid)
    g_loss.backward()
    optimizer_G.step()

    #  Train Discriminator
    optimizer_D.zero_grad()
    # Loss for real images
    validity_real = discriminator(real_imgs, labels)
    d_real_loss = adversarial_loss(validity_real, valid)
    # Loss for fake images
    validity_fake = discriminator(gen_imgs.detach(), gen_labels)
    d_fake_loss = adversarial_loss(validity_fake, fake)
    # Total discriminator loss
    d_loss = (d_real_loss + d_fake_loss) / 2
    d_loss.backward()
    optimizer_D.step()

    if batches_done % opt.log_interval == 0:
        common.report(batches_done, opt.steps, D_loss=d_loss.item(), G_loss=g_loss.item())
