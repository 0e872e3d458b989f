#!/usr/bin/python3
"""torch_import.py: a network trained in PyTorch, exported by torch.onnx and
imported by lenetc, classifies MNIST's t10k images as PyTorch does.

  torch_import.py LENETC ONNX_RUN MNIST_DIR WORK_DIR

Trains a small model briefly (a padded conv, relu, maxpool, batchnorm, a
padded conv, tanh, a padded average pool, x.view(x.size(0), -1) with a
dynamic batch, dropout, two dense layers) on
12,000 training images, exports it with torch.onnx.export (opset 13),
imports it with `lenetc import --scale 0 1` (ToTensor's range), then
compares lenetc's logits on all 10,000 t10k images (tests/onnx/onnx_run.c:
the imported spec JIT-compiled, images loaded and scaled as lenetc eval
loads them) with PyTorch's: every prediction must agree and the logits
must be within 1e-3. Also checks that `lenetc eval` gives PyTorch's
accuracy and that `lenetc train --init` fine-tunes the imported weights.
Exit 0 on success; 3 if torch is missing (the caller skips).
"""
import gzip
import os
import re
import subprocess
import sys

try:
    import numpy as np
    import torch
    import torch.nn as nn
except ImportError:
    print("torch_import: python3-torch or numpy is not installed")
    sys.exit(3)


def idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, np.uint8, offset=4 + 4 * dims).reshape(shape)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 3, padding=1)
        self.pool1 = nn.MaxPool2d(2)
        self.bn1 = nn.BatchNorm2d(8)
        self.conv2 = nn.Conv2d(8, 16, 3, padding=1)
        self.pool2 = nn.AvgPool2d(2, stride=2, padding=1)
        self.drop = nn.Dropout(0.25)
        self.fc1 = nn.Linear(16 * 8 * 8, 32)
        self.fc2 = nn.Linear(32, 10)

    def forward(self, x):
        x = self.bn1(self.pool1(torch.relu(self.conv1(x))))
        x = self.pool2(torch.tanh(self.conv2(x)))
        x = self.drop(x.view(x.size(0), -1))  # Shape, Gather, ..., Reshape
        return self.fc2(torch.relu(self.fc1(x)))


def run(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode:
        sys.exit("torch_import: %s failed (%d):\n%s%s" % (" ".join(cmd), r.returncode,
                                                          r.stdout, r.stderr))
    return r.stdout + r.stderr


def main():
    lenetc, onnx_run, mnist, work = sys.argv[1:5]
    os.makedirs(work, exist_ok=True)
    torch.manual_seed(0)
    torch.set_num_threads(2)
    xs = idx(os.path.join(mnist, "train-images-idx3-ubyte.gz"))[:12000]
    ys = idx(os.path.join(mnist, "train-labels-idx1-ubyte.gz"))[:12000]
    tx = idx(os.path.join(mnist, "t10k-images-idx3-ubyte.gz"))
    ty = idx(os.path.join(mnist, "t10k-labels-idx1-ubyte.gz"))
    # ToTensor: pixel / 255 in float32
    x = torch.from_numpy(xs.astype(np.float32) / np.float32(255)).unsqueeze(1)
    y = torch.from_numpy(ys.astype(np.int64))
    model = Net()
    opt = torch.optim.Adam(model.parameters(), 1e-3)
    model.train()
    for i in range(0, len(x), 64):
        opt.zero_grad()
        nn.functional.cross_entropy(model(x[i:i + 64]), y[i:i + 64]).backward()
        opt.step()
    model.eval()
    onnx = os.path.join(work, "net.onnx")
    torch.onnx.export(model, torch.zeros(1, 1, 28, 28), onnx, opset_version=13,
                      input_names=["image"], output_names=["logits"],
                      dynamic_axes={"image": {0: "N"}, "logits": {0: "N"}})
    out = os.path.join(work, "imported")
    run([lenetc, "import", onnx, "--scale", "0", "1", "-o", out])
    spec, weights = os.path.join(out, "net.yaml"), os.path.join(out, "net.safetensors")
    text = open(spec).read()
    for kind in ("conv", "maxpool", "batchnorm", "tanh", "depthwise_conv", "dense"):
        if "- %s:" % kind not in text:
            sys.exit("torch_import: the imported spec has no %s layer:\n%s" % (kind, text))
    logits_path = os.path.join(work, "lenetc.f32")
    run([onnx_run, "logits", spec, weights, mnist, logits_path])
    ours = np.fromfile(logits_path, np.float32).reshape(len(tx), 10)
    with torch.no_grad():
        t = torch.from_numpy(tx.astype(np.float32) / np.float32(255)).unsqueeze(1)
        theirs = model(t).numpy()
    agree = int((ours.argmax(1) == theirs.argmax(1)).sum())
    diff = float(np.abs(ours - theirs).max())
    acc = float((theirs.argmax(1) == ty).mean())
    print("torch_import: %d/%d t10k predictions agree, max logit difference %.3g, "
          "PyTorch's accuracy %.4f" % (agree, len(tx), diff, acc))
    if agree != len(tx) or not diff < 1e-3:
        sys.exit("torch_import: lenetc's predictions differ from PyTorch's")
    ev = run([lenetc, "eval", spec, "--weights", weights, "--data", mnist, "--threads", "2"])
    m = re.search(r"accuracy:?\s*([0-9.]+)", ev)
    if not m or abs(float(m.group(1)) - acc) > 1e-4:
        sys.exit("torch_import: lenetc eval does not give PyTorch's accuracy %.4f:\n%s" % (acc, ev))
    print("torch_import: lenetc eval: accuracy %s" % m.group(1))
    tuned = os.path.join(work, "tuned.safetensors")
    run([lenetc, "train", spec, "--init", weights, "--data", mnist, "--limit", "512",
         "--epochs", "1", "--threads", "2", "--quiet", "--save", tuned])
    if not os.path.getsize(tuned):
        sys.exit("torch_import: train --init saved nothing")
    print("torch_import: lenetc train --init fine-tuned the imported weights")


if __name__ == "__main__":
    main()
