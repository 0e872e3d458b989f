#!/usr/bin/python3
"""The MNIST speed record's recipe in PyTorch, for `make bench` to set beside
models/speedrun.yaml on the same cores.

tuomaso/train_mnist_fast (99.04 % mean in one epoch, 0.762 s on a GTX 1660
Ti): conv 24@5x5 relu, maxpool 2, conv 32@3x3 relu, maxpool 2, flatten,
dense 256 relu, dense 10; pixels scaled to [0, 1] and normalised by MNIST's
mean and deviation; Adam lr 0.01, betas (0.7, 0.9); OneCycleLR over the
epoch; batch 256; the training set held in memory as one tensor.
Prints the lenetc trainer's lines so that bench/run.py reads both alike:
    speedrun-torch: ... (printed when training is about to start)
    epoch 1/1 loss=... train_acc=... test_acc=... time=...s eval=...s
"""
import argparse
import os
import time

import torch
from torch import nn

from lenet_torch import load


def record_net():
    return nn.Sequential(
        nn.Conv2d(1, 24, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(24, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(32 * 5 * 5, 256), nn.ReLU(),
        nn.Linear(256, 10))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="../shared/mnist")
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    # load() scales to [-1, 1]; the record's inputs are (x / 255 - mean) / std
    xtr, ytr = load(args.data, "train")
    xte, yte = load(args.data, "t10k")
    mean, std = 0.1307, 0.3081
    xtr = ((xtr + 1) / 2 - mean) / std
    xte = ((xte + 1) / 2 - mean) / std
    net = record_net()
    batch, n = 256, len(xtr)
    steps = (n + batch - 1) // batch
    opt = torch.optim.Adam(net.parameters(), lr=0.01, betas=(0.7, 0.9))
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.01, total_steps=steps)
    loss_fn = nn.CrossEntropyLoss(reduction="sum")
    print(f"speedrun-torch: torch {torch.__version__}, "
          f"{sum(p.numel() for p in net.parameters())} params, {args.threads} threads",
          flush=True)
    t0 = time.perf_counter()
    net.train()
    order = torch.randperm(n)
    loss_sum, correct = 0.0, 0
    for s in range(0, n, batch):
        i = order[s:s + batch]
        x, y = xtr[i], ytr[i]
        opt.zero_grad(set_to_none=True)
        z = net(x)
        loss = loss_fn(z, y)
        (loss / len(i)).backward()
        opt.step()
        sched.step()
        loss_sum += loss.item()
        correct += (z.argmax(1) == y).sum().item()
    t1 = time.perf_counter()
    net.eval()
    with torch.no_grad():
        test_acc = sum((net(xte[s:s + 1000]).argmax(1) == yte[s:s + 1000]).sum().item()
                       for s in range(0, len(xte), 1000)) / len(xte)
    t2 = time.perf_counter()
    print(f"epoch 1/1 loss={loss_sum / n:.4f} train_acc={correct / n:.4f} "
          f"test_acc={test_acc:.4f} time={t1 - t0:.2f}s eval={t2 - t1:.3f}s", flush=True)


if __name__ == "__main__":
    main()
