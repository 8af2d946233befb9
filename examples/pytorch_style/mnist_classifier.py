"""A convolutional MNIST classifier, after pytorch/examples' mnist/main.py: Adadelta, StepLR,
and the test loop's `pred.eq(target.view_as(pred))`.

    python mnist_classifier.py --mnist path/to/mnist
    python -m scratchgen.as_torch mnist_classifier.py --mnist path/to/mnist
"""
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
from torch.optim.lr_scheduler import StepLR
from torch.utils.data import DataLoader, TensorDataset

import common

parser = common.parser("MNIST classifier", steps=100, batch_size=64)
parser.add_argument("--epochs", type=int, default=2, help="the steps are split over this many epochs")
parser.add_argument("--lr", type=float, default=1.0, help="learning rate (default: 1.0)")
parser.add_argument("--gamma", type=float, default=0.7, help="learning rate step gamma (default: 0.7)")
parser.add_argument("--dropout", type=float, default=0.25, help="0 makes the run repeatable across frameworks")
args = parser.parse_args()
device, dtype = common.setup(args)


class Net(nn.Module):
    def __init__(self, dropout):
        super(Net, self).__init__()
        self.conv1 = nn.Conv2d(1, 32, 3, 1)
        self.conv2 = nn.Conv2d(32, 64, 3, 1)
        self.dropout1 = nn.Dropout(dropout)
        self.dropout2 = nn.Dropout(2 * dropout)
        self.fc1 = nn.Linear(9216, 128)
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x):
        x = self.conv1(x)
        x = F.relu(x)
        x = self.conv2(x)
        x = F.relu(x)
        x = F.max_pool2d(x, 2)
        x = self.dropout1(x)
        x = torch.flatten(x, 1)
        x = self.fc1(x)
        x = F.relu(x)
        x = self.dropout2(x)
        x = self.fc2(x)
        output = F.log_softmax(x, dim=1)
        return output


def train(model, device, train_loader, optimizer, epoch, steps):
    model.train()
    for batch_idx, (data, target) in enumerate(train_loader):
        if batch_idx == steps:
            break
        data, target = data.to(device), target.to(device)
        optimizer.zero_grad()
        output = model(data)
        loss = F.nll_loss(output, target)
        loss.backward()
        optimizer.step()
        if (batch_idx + 1) % args.log_interval == 0:
            common.report(f"epoch {epoch} step {batch_idx + 1}", steps, loss=loss.item())


def test(model, device, test_loader):
    model.eval()
    test_loss = 0
    correct = 0
    with torch.no_grad():
        for data, target in test_loader:
            data, target = data.to(device), target.to(device)
            output = model(data)
            test_loss += F.nll_loss(output, target, reduction='sum').item()  # sum up batch loss
            pred = output.argmax(dim=1, keepdim=True)  # get the index of the max log-probability
            correct += pred.eq(target.view_as(pred)).sum().item()
    test_loss /= len(test_loader.dataset)
    common.report("test", len(test_loader.dataset), test_loss=test_loss, correct=correct)


images, labels = common.training_data(args)
images = (images - 0.1307) / 0.3081  # transforms.Normalize((0.1307,), (0.3081,))
n_test = len(images) // 5
test_set = TensorDataset(torch.tensor(images[:n_test], dtype=dtype), torch.tensor(labels[:n_test]))
train_set = TensorDataset(torch.tensor(images[n_test:], dtype=dtype), torch.tensor(labels[n_test:]))
train_loader = DataLoader(train_set, batch_size=args.batch_size)
test_loader = DataLoader(test_set, batch_size=1000)

model = Net(args.dropout)
common.init_weights(args, model=model)
model = model.to(device=device, dtype=dtype)
optimizer = optim.Adadelta(model.parameters(), lr=args.lr)

scheduler = StepLR(optimizer, step_size=1, gamma=args.gamma)
for epoch in range(1, args.epochs + 1):
    train(model, device, train_loader, optimizer, epoch, args.steps // args.epochs)
    test(model, device, test_loader)
    scheduler.step()
    print(f"learning rate now {scheduler.get_last_lr()[0]:.12g}")
