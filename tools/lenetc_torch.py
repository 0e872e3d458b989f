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

Needs python3-torch and python3-numpy (Debian packages) and lenetc ($LENETC,
the one built in this source tree, or the one on PATH), whose `summary
--json` names the torch.nn modules of every layer;
safetensors is read and written here (a JSON header and raw little-endian
floats), so the safetensors package is not needed.
"""
import gzip
import json
import os
import struct
import subprocess
import sys
from collections import OrderedDict

import numpy as np
import torch
from torch import nn

# ---- the spec -> torch.nn ---------------------------------------------------
#
# lenetc itself says which torch.nn modules compute each layer
# (`lenetc summary --json`): this file keeps no table of layer kinds.


def lenetc_binary():
    """$LENETC, else the lenetc of this source tree, else the one on PATH."""
    if os.environ.get("LENETC"):
        return os.environ["LENETC"]
    here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lenetc")
    return here if os.access(here, os.X_OK) else "lenetc"


def describe(spec_path):
    """What `lenetc summary --json SPEC` says of the spec."""
    try:
        out = subprocess.run([lenetc_binary(), "summary", "--json", spec_path],
                             capture_output=True, text=True)
    except OSError as e:
        raise SystemExit(f"lenetc_torch.py: cannot run lenetc ({e}); set LENETC")
    if out.returncode != 0:
        raise SystemExit(out.stderr.rstrip() or f"lenetc exited with {out.returncode}")
    return json.loads(out.stdout)


def build(spec_path):
    """The torch.nn model of a spec, and the spec's input section."""
    info = describe(spec_path)
    mods = OrderedDict()
    for layer in info["layers"]:
        for m in layer["torch"]:
            mods[m["name"]] = getattr(nn, m["module"])(*m["args"], **m["kwargs"])
    return nn.Sequential(mods), info["input"]


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
        model.eval()  # dropout off, as lenetc eval runs it
        with torch.no_grad():
            pred = torch.cat([model(x[i:i + 1000]).argmax(1) for i in range(0, len(x), 1000)])
        print(f"accuracy {(pred == y).float().mean().item():.4f}")
        print("\n".join(str(int(k)) for k in pred))
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main()
