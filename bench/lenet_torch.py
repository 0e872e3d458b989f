#!/usr/bin/python3
"""The seed's LeNet-5 and recipe in PyTorch, for `make bench` to compare with.

Same network as models/lenet5.yaml (conv 6@3x3, maxpool 2, relu, conv 16@3x3,
maxpool 2, relu, flatten 400, dense 120 relu, dense 60 relu, dense 10), same
recipe (pixels scaled to [-1, 1], Glorot-uniform weights, zero biases, Adam
lr 1e-3 with Keras' eps 1e-7, batch 128, softmax cross-entropy, test on t10k).
Prints the lenetc trainer's lines so that bench/run.py reads both alike:
    lenet5-torch: ... (printed when training is about to start)
    epoch N/M loss=... train_acc=... test_acc=... time=...s eval=...s
"""
import argparse
import gzip
import os
import struct
import time

import numpy as np
import torch
from torch import nn


def load_idx(path):
    with gzip.open(path, "rb") if path.endswith(".gz") else open(path, "rb") as f:
        data = f.read()
    magic, = struct.unpack(">I", data[:4])
    ndim = magic & 0xFF
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def find(data_dir, stem):
    for name in (stem + ".gz", stem):
        path = os.path.join(data_dir, name)
        if os.path.exists(path):
            return path
    raise SystemExit(f"lenet_torch.py: {stem}(.gz) not found in {data_dir}")


def load(data_dir, kind):
    x = load_idx(find(data_dir, f"{kind}-images-idx3-ubyte"))
    y = load_idx(find(data_dir, f"{kind}-labels-idx1-ubyte"))
    x = torch.from_numpy(x.astype(np.float32) / 127.5 - 1.0).unsqueeze(1)
    return x, torch.from_numpy(y.astype(np.int64))


def lenet5():
    net = nn.Sequential(
        nn.Conv2d(1, 6, 3), nn.MaxPool2d(2), nn.ReLU(),
        nn.Conv2d(6, 16, 3), nn.MaxPool2d(2), nn.ReLU(),
        nn.Flatten(),
        nn.Linear(400, 120), nn.ReLU(),
        nn.Linear(120, 60), nn.ReLU(),
        nn.Linear(60, 10))
    for m in net:
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            nn.init.xavier_uniform_(m.weight)
            nn.init.zeros_(m.bias)
    return net


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="../shared/mnist")
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    xtr, ytr = load(args.data, "train")
    xte, yte = load(args.data, "t10k")
    net = lenet5()
    opt = torch.optim.Adam(net.parameters(), lr=1e-3, eps=1e-7)
    loss_fn = nn.CrossEntropyLoss(reduction="sum")
    n = len(xtr)
    print(f"lenet5-torch: torch {torch.__version__}, {sum(p.numel() for p in net.parameters())} "
          f"params, {args.threads} threads", flush=True)
    for epoch in range(1, args.epochs + 1):
        t0 = time.perf_counter()
        net.train()
        order = torch.randperm(n)
        loss_sum, correct = 0.0, 0
        for s in range(0, n, 128):
            i = order[s:s + 128]
            x, y = xtr[i], ytr[i]
            opt.zero_grad(set_to_none=True)
            z = net(x)
            loss = loss_fn(z, y)
            (loss / len(i)).backward()
            opt.step()
            loss_sum += loss.item()
            correct += (z.argmax(1) == y).sum().item()
        t1 = time.perf_counter()
        net.eval()
        with torch.no_grad():
            test_acc = sum((net(xte[s:s + 1000]).argmax(1) == yte[s:s + 1000]).sum().item()
                           for s in range(0, len(xte), 1000)) / len(xte)
        t2 = time.perf_counter()
        print(f"epoch {epoch}/{args.epochs} loss={loss_sum / n:.4f} train_acc={correct / n:.4f} "
              f"test_acc={test_acc:.4f} time={t1 - t0:.2f}s eval={t2 - t1:.3f}s", flush=True)


if __name__ == "__main__":
    main()
