#!/usr/bin/python3
"""lenetc_torch.py: lenetc weights to and from PyTorch.

A lenetc spec names its layers (conv1, pool1, relu1, ..., dense1); the
equivalent torch.nn model built here keeps those names, so its state_dict has
exactly lenetc's tensor names (conv1.weight, dense1.bias, ...) and layouts
(conv [out][in][kh][kw], dense [out][in]) and loads lenetc's safetensors with
load_state_dict(strict=True).

  lenetc_torch.py to-torch SPEC.yaml W.safetensors OUT.pt
      lenetc's weights -> torch.save(state_dict)
  lenetc_torch.py from-torch SPEC.yaml IN.pt OUT.safetensors
      a state_dict saved by torch -> safetensors that lenetc reads (--init,
      eval, predict, --inference)
  lenetc_torch.py eval SPEC.yaml W.safetensors DATA_DIR [N]
      the torch model with those weights on the first N t10k images: prints
      "accuracy A" and one predicted class per line to stdout

Needs python3-torch, python3-numpy and python3-yaml (Debian packages);
safetensors is read and written here (a JSON header and raw little-endian
floats), so the safetensors package is not needed.
"""
import gzip
import json
import os
import struct
import sys
from collections import OrderedDict

import numpy as np
import torch
import yaml
from torch import nn

# ---- the spec -> torch.nn ---------------------------------------------------


def layer_list(spec):
    """(kind, params) pairs with lenetc's default names filled in."""
    counts, out = {}, []
    prefix = {"conv": "conv", "maxpool": "pool", "avgpool": "pool", "relu": "relu",
              "flatten": "flatten", "dense": "dense"}
    for entry in spec["layers"]:
        kind, params = (entry, {}) if isinstance(entry, str) else next(iter(entry.items()))
        params = dict(params or {})
        p = prefix[kind]
        counts[p] = counts.get(p, 0) + 1
        params.setdefault("name", f"{p}{counts[p]}")
        out.append((kind, params))
    return out


def same_padding(size, k, s):
    """TensorFlow's "same": output ceil(size / s), the extra pixel after."""
    out = (size + s - 1) // s
    total = max((out - 1) * s + k - size, 0)
    return total // 2, total - total // 2, out


def build(spec_path):
    """The torch.nn model of a spec, and the spec's input section."""
    with open(spec_path) as f:
        spec = yaml.safe_load(f)
    inp = spec["input"]
    h, w, c = inp["shape"]
    pad = inp.get("pad", 0)
    h, w = h + 2 * pad, w + 2 * pad
    mods = OrderedDict()
    for kind, p in layer_list(spec):
        name = p["name"]
        if kind == "conv":
            k, s = p["kernel"], p.get("stride", 1)
            mode = p.get("padding", "valid")
            if mode == "same":
                t, b, oh = same_padding(h, k, s)
                l, r, ow = same_padding(w, k, s)
                mods[name + "_pad"] = nn.ZeroPad2d((l, r, t, b))
                mods[name] = nn.Conv2d(c, p["filters"], k, s)
                h, w = oh, ow
            else:
                q = 0 if mode == "valid" else int(mode)
                mods[name] = nn.Conv2d(c, p["filters"], k, s, padding=q)
                h, w = (h + 2 * q - k) // s + 1, (w + 2 * q - k) // s + 1
            c = p["filters"]
        elif kind in ("maxpool", "avgpool"):
            k, s = p["size"], p.get("stride", p["size"])
            mods[name] = (nn.MaxPool2d if kind == "maxpool" else nn.AvgPool2d)(k, s)
            h, w = (h - k) // s + 1, (w - k) // s + 1
        elif kind == "relu":
            mods[name] = nn.ReLU()
        elif kind == "flatten":
            mods[name] = nn.Flatten()
            c, h, w = c * h * w, 1, 1
        elif kind == "dense":
            mods[name] = nn.Linear(c, p["units"])
            c = p["units"]
            if p.get("activation", "none") == "relu":
                mods[name + "_relu"] = nn.ReLU()
    return nn.Sequential(mods), inp


# ---- safetensors ------------------------------------------------------------


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    n, = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    body = data[8 + n:]
    out = OrderedDict()
    for name, t in header.items():
        if name == "__metadata__":
            continue
        if t["dtype"] != "F32":
            raise SystemExit(f"{path}: {name} is {t['dtype']}, not F32")
        b, e = t["data_offsets"]
        out[name] = torch.from_numpy(
            np.frombuffer(body[b:e], dtype="<f4").reshape(t["shape"]).copy())
    return out


def write_safetensors(tensors, path):
    header, blobs, at = OrderedDict(), [], 0
    header["__metadata__"] = {"format": "pt", "producer": "lenetc_torch.py"}
    for name, t in tensors.items():
        a = t.detach().cpu().contiguous().numpy().astype("<f4")
        header[name] = {"dtype": "F32", "shape": list(a.shape),
                        "data_offsets": [at, at + a.nbytes]}
        blobs.append(a.tobytes())
        at += a.nbytes
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


# ---- data, as lenetc's runtime prepares it ----------------------------------


def load_t10k(data_dir, n, inp):
    def idx(stem):
        for name in (stem + ".gz", stem):
            path = os.path.join(data_dir, name)
            if os.path.exists(path):
                with (gzip.open if name.endswith(".gz") else open)(path, "rb") as f:
                    return f.read()
        raise SystemExit(f"{stem}(.gz) not in {data_dir}")
    images, labels = idx("t10k-images-idx3-ubyte"), idx("t10k-labels-idx1-ubyte")
    count, rows, cols = struct.unpack(">III", images[4:16])
    n = min(n, count)
    x = np.frombuffer(images, np.uint8, n * rows * cols, 16).reshape(n, 1, rows, cols)
    pad = inp.get("pad", 0)
    x = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))  # pixel 0 around
    lo, hi = inp.get("scale", [-1, 1])
    # the runtime's table: float(lo + (hi - lo) * p / 255) in double
    lut = (np.float64(np.float32(lo)) + (np.float64(np.float32(hi)) - np.float64(np.float32(lo)))
           * np.arange(256) / 255.0).astype(np.float32)
    y = np.frombuffer(labels, np.uint8, n, 8)
    return torch.from_numpy(lut[x]), torch.from_numpy(y.astype(np.int64))


def main():
    if len(sys.argv) < 2 or sys.argv[1] not in ("to-torch", "from-torch", "eval"):
        raise SystemExit(__doc__)
    cmd, args = sys.argv[1], sys.argv[2:]
    model, inp = build(args[0])
    if cmd == "to-torch" and len(args) == 3:
        model.load_state_dict(read_safetensors(args[1]), strict=True)
        torch.save(model.state_dict(), args[2])
    elif cmd == "from-torch" and len(args) == 3:
        state = torch.load(args[1], map_location="cpu")
        model.load_state_dict(state, strict=True)  # checks names and shapes
        write_safetensors(model.state_dict(), args[2])
    elif cmd == "eval" and len(args) in (3, 4):
        model.load_state_dict(read_safetensors(args[1]), strict=True)
        x, y = load_t10k(args[2], int(args[3]) if len(args) == 4 else 10000, inp)
        with torch.no_grad():
            pred = torch.cat([model(x[i:i + 1000]).argmax(1) for i in range(0, len(x), 1000)])
        print(f"accuracy {(pred == y).float().mean().item():.4f}")
        print("\n".join(str(int(k)) for k in pred))
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main()
