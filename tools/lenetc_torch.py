#!/usr/bin/python3
"""lenetc-torch (tools/lenetc_torch.py): lenetc weights to and from PyTorch.

A lenetc spec names its layers (conv1, pool1, relu1, ..., dense1); the
equivalent torch.nn model built here keeps those names, so its state_dict has
exactly lenetc's tensor names (conv1.weight, dense1.bias, ...) and layouts
(conv [out][in][kh][kw], dense [out][in]) and loads lenetc's safetensors with
load_state_dict(strict=True). The model takes raw uint8 images (N x C x H x
W) as lenetc does: it pads them with pixel 0 and scales each pixel p to
float32(lo + (hi - lo) p / 255) (the spec's input section) before its first
layer, so it gives lenetc's answers for the same pixels.

  lenetc-torch to-torch SPEC.yaml W.safetensors OUT.pt
      lenetc's weights -> torch.save(state_dict)
  lenetc-torch from-torch SPEC.yaml IN.pt OUT.safetensors
      a state_dict saved by torch -> safetensors that lenetc reads (--init,
      eval, predict, --inference)
  lenetc-torch eval SPEC.yaml W.safetensors DATA_DIR [N]
      the torch model with those weights on the first N t10k images (raw
      uint8 pixels through its input stage): prints "accuracy A" and one
      predicted class per line to stdout

From Python: build(SPEC) is (model, input section); build(SPEC,
raw_input=False) leaves out the input stage (the model then takes inputs
already scaled and padded, as lenetc's layers see them). The model is a
Graph: each layer's modules run on the output of the layers it names (its
`inputs`: the previous layer's in a stack, any layer above it or the
model's input in a graph); an add sums its inputs in their order, a concat
joins them along dim 1 (channels, or a vector's features).

Needs python3-torch and python3-numpy (Debian packages) and lenetc ($LENETC,
the one beside this program, the one built in this source tree, or the one
on PATH), whose `summary --json` names the torch.nn modules of every layer;
safetensors is read and written here (a JSON header and raw little-endian
floats), so the safetensors package is not needed.
"""
import gzip
import json
import os
import signal
import struct
import subprocess
import sys
from collections import OrderedDict

import numpy as np
import torch
from torch import nn

PROG = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else "lenetc-torch"


class Error(Exception):
    """A mistake to report in one line (the program's name, then the text)."""

# ---- the spec -> torch.nn ---------------------------------------------------
#
# lenetc itself says which torch.nn modules compute each layer and which
# layers' outputs it reads (`lenetc summary --json`): this file keeps no
# table of layer kinds, only the two merges torch.nn lacks (Add, Concat).


def lenetc_binary():
    """$LENETC, else the lenetc installed beside this program, else the one
    of this source tree, else the one on PATH."""
    if os.environ.get("LENETC"):
        return os.environ["LENETC"]
    here = os.path.dirname(os.path.abspath(__file__))
    for path in (os.path.join(here, "lenetc"), os.path.join(here, "..", "lenetc")):
        if os.path.isfile(path) and os.access(path, os.X_OK):
            return path
    return "lenetc"


def describe(spec_path):
    """What `lenetc summary --json SPEC` says of the spec."""
    try:
        out = subprocess.run([lenetc_binary(), "summary", "--json", spec_path],
                             capture_output=True, text=True)
    except OSError as e:
        raise Error(f"cannot run lenetc ({e.strerror}); set LENETC")
    if out.returncode != 0:
        # lenetc's first line says it all (then come the spec's line and a caret)
        lines = out.stderr.strip().splitlines()
        raise Error(lines[0] if lines else f"lenetc exited with {out.returncode}")
    return json.loads(out.stdout)


class ScaleInput(nn.Module):
    """uint8 pixels p -> float32(lo + (hi - lo) p / 255), computed in double
    from the float32 lo and hi: lenetc's table, the same 256 floats. Floating
    inputs are taken as pixel values and get the formula in their own type."""

    def __init__(self, lo, hi):
        super().__init__()
        lo64, hi64 = float(np.float32(lo)), float(np.float32(hi))
        self.lo, self.span = lo64, hi64 - lo64
        table = (lo64 + (hi64 - lo64) * np.arange(256) / 255.0).astype(np.float32)
        # not persistent: the state_dict keeps exactly lenetc's tensors
        self.register_buffer("table", torch.from_numpy(table), persistent=False)

    def forward(self, x):
        if x.is_floating_point():
            return self.lo + self.span * x / 255.0
        return self.table[x.long()]

    def extra_repr(self):
        return f"lo={self.lo}, hi={self.lo + self.span}"


class Add(nn.Module):
    """The sum of its inputs, left to right: ((a + b) + c), as lenetc adds."""

    def forward(self, *xs):
        out = xs[0]
        for x in xs[1:]:
            out = out + x
        return out


class Concat(nn.Module):
    """Its inputs one after another along dim 1 (channels; a vector's
    features)."""

    def forward(self, *xs):
        return torch.cat(xs, dim=1)


MERGES = {"Add": Add, "Concat": Concat}


class Graph(nn.Module):
    """The modules of every layer as children under their own names (so the
    state_dict has exactly lenetc's tensor names) and the order to run them
    in: the input stage, then each layer's modules one after another on the
    output of its inputs (a merge takes them all). Returns the last layer's
    output. Its own attributes start with lenet_, a prefix lenetc keeps out
    of layer names."""

    def __init__(self, stage, layers):
        super().__init__()
        self.lenet_stage = list(stage)
        self.lenet_plan = []  # (layer, its modules' names, its inputs' names)
        for name, module in stage.items():
            self.add_module(name, module)
        for layer, mods, inputs in layers:
            for name, module in mods.items():
                self.add_module(name, module)
            self.lenet_plan.append((layer, list(mods), list(inputs)))

    def forward(self, x):
        for name in self.lenet_stage:
            x = self._modules[name](x)
        outputs = {"input": x}
        for layer, mods, inputs in self.lenet_plan:
            xs = [outputs[i] for i in inputs]
            for name in mods:
                xs = [self._modules[name](*xs)]
            outputs[layer] = x = xs[0]
        return x


def build(spec_path, raw_input=True):
    """The torch.nn model of a spec (a Graph), and the spec's input section.
    With raw_input it takes uint8 images as lenetc reads them: padded with
    pixel 0 (nn.ZeroPad2d) and scaled (ScaleInput) before the first layer;
    without, inputs already scaled and padded."""
    info = describe(spec_path)
    inp = info["input"]
    stage, layers = OrderedDict(), []
    if raw_input:
        if inp.get("pad", 0):
            stage["input_pad"] = nn.ZeroPad2d(inp["pad"])
        lo, hi = inp.get("scale", [-1, 1])
        stage["input_scale"] = ScaleInput(lo, hi)
    for layer in info["layers"]:
        mods = OrderedDict()
        for m in layer["torch"]:
            if m["name"] in stage:
                raise Error(f"{spec_path}: a layer named {m['name']} clashes with the input "
                            "stage's module: rename it")
            make = MERGES.get(m["module"]) or getattr(nn, m["module"])
            mods[m["name"]] = make(*m["args"], **m["kwargs"])
        layers.append((layer["name"], mods, layer["inputs"]))
    return Graph(stage, layers), inp


def check_state(model, state, source):
    """Names and shapes of state (a file's tensors) against the model's, in
    one line: what load_state_dict(strict=True) would say in many."""
    want = OrderedDict((k, tuple(v.shape)) for k, v in model.state_dict().items())
    if not isinstance(state, dict):
        raise Error(f"{source}: holds a {type(state).__name__}, not a state_dict")
    extra = [k for k in state if k not in want]
    missing = [k for k in want if k not in state]
    problems = []
    if missing:
        problems.append("missing " + ", ".join(missing))
    if extra:
        problems.append("not in the model: " + ", ".join(map(str, extra)))
    for k, shape in want.items():
        if k in state and not torch.is_tensor(state[k]):
            problems.append(f"{k} is not a tensor")
        elif k in state and tuple(state[k].shape) != shape:
            problems.append(f"{k} is {'x'.join(map(str, state[k].shape)) or 'a scalar'}, "
                            f"the model's is {'x'.join(map(str, shape))}")
    if problems:
        raise Error(f"{source}: does not fit the model: " + "; ".join(problems))


# ---- safetensors ------------------------------------------------------------


def read_safetensors(path):
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise Error(f"{path}: cannot open: {e.strerror}")
    try:
        n, = struct.unpack("<Q", data[:8])
        header = json.loads(data[8:8 + n])
        body = data[8 + n:]
        out = OrderedDict()
        for name, t in header.items():
            if name == "__metadata__":
                continue
            if t["dtype"] != "F32":
                raise Error(f"{path}: {name} is {t['dtype']}, not F32")
            b, e = t["data_offsets"]
            shape = [int(d) for d in t["shape"]]
            if not 0 <= b <= e <= len(body) or e - b != 4 * int(np.prod(shape)):
                raise Error(f"{path}: {name}'s data offsets [{b}, {e}] do not fit")
            out[name] = torch.from_numpy(
                np.frombuffer(body[b:e], dtype="<f4").reshape(shape).copy())
    except (struct.error, ValueError, KeyError, TypeError, AttributeError) as e:
        raise Error(f"{path}: not a safetensors file ({e.__class__.__name__}: {e})")
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
    try:
        with open(tmp, "wb") as f:
            f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as e:
        raise Error(f"{path}: cannot write: {e.strerror}")


def save_torch(state, path):
    try:
        torch.save(state, path)
    except OSError as e:
        raise Error(f"{path}: cannot write: {e.strerror}")


def load_torch(path):
    try:
        return torch.load(path, map_location="cpu")
    except OSError as e:
        raise Error(f"{path}: cannot open: {e.strerror}")
    except Exception as e:  # pickle, zip and torch's own errors alike
        raise Error(f"{path}: not a file torch.save wrote ({e.__class__.__name__}: "
                    f"{str(e).splitlines()[0] if str(e) else ''})")


# ---- data, as lenetc's runtime prepares it ----------------------------------


def load_t10k(data_dir, n, inp):
    """The first n t10k images as raw uint8 (n x C x H x W) and their labels."""
    def idx(stem):
        for name in (stem + ".gz", stem):
            path = os.path.join(data_dir, name)
            if os.path.exists(path):
                try:
                    with (gzip.open if name.endswith(".gz") else open)(path, "rb") as f:
                        return f.read()
                except (OSError, EOFError) as e:
                    raise Error(f"{path}: cannot read: {getattr(e, 'strerror', None) or e}")
        raise Error(f"{data_dir}: no {stem}(.gz)")
    images, labels = idx("t10k-images-idx3-ubyte"), idx("t10k-labels-idx1-ubyte")
    if inp["shape"][2] != 1:
        raise Error(f"eval reads MNIST's gray t10k; this model takes {inp['shape'][2]} channels")
    count, rows, cols = struct.unpack(">III", images[4:16])
    n = min(n, count, len(labels) - 8, (len(images) - 16) // (rows * cols))
    x = np.frombuffer(images, np.uint8, n * rows * cols, 16).reshape(n, 1, rows, cols)
    y = np.frombuffer(labels, np.uint8, n, 8)
    return torch.from_numpy(x.copy()), torch.from_numpy(y.astype(np.int64))


ARGS = {"to-torch": (3, 3), "from-torch": (3, 3), "eval": (3, 4)}


def run(argv):
    if len(argv) == 1 and argv[0] in ("--help", "-h"):
        print(__doc__.strip())
        return 0
    if not argv or argv[0] not in ARGS or not ARGS[argv[0]][0] <= len(argv) - 1 <= ARGS[argv[0]][1]:
        why = ("no command" if not argv else f"unknown command '{argv[0]}'" if argv[0] not in ARGS
               else f"{argv[0]} takes {' or '.join(sorted(set(map(str, ARGS[argv[0]]))))} "
                    f"arguments, not {len(argv) - 1}")
        print(f"{PROG}: {why}\ntry '{PROG} --help'", file=sys.stderr)
        return 2
    cmd, args = argv[0], argv[1:]
    model, inp = build(args[0])
    if cmd == "to-torch":
        state = read_safetensors(args[1])
        check_state(model, state, args[1])
        model.load_state_dict(state, strict=True)
        save_torch(model.state_dict(), args[2])
    elif cmd == "from-torch":
        state = load_torch(args[1])
        check_state(model, state, args[1])
        model.load_state_dict(state, strict=True)
        write_safetensors(model.state_dict(), args[2])
    else:
        state = read_safetensors(args[1])
        check_state(model, state, args[1])
        model.load_state_dict(state, strict=True)
        try:
            n = int(args[3]) if len(args) == 4 else 10000
        except ValueError:
            raise Error(f"N takes a number, not '{args[3]}'")
        x, y = load_t10k(args[2], n, inp)
        model.eval()  # dropout off, as lenetc eval runs it
        with torch.no_grad():
            pred = torch.cat([model(x[i:i + 1000]).argmax(1) for i in range(0, len(x), 1000)])
        print(f"accuracy {(pred == y).float().mean().item():.4f}")
        print("\n".join(str(int(k)) for k in pred))
    sys.stdout.flush()
    return 0


def main():
    # a reader that stops early (| head) ends this quietly, as it ends C tools
    if hasattr(signal, "SIGPIPE"):
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    try:
        sys.exit(run(sys.argv[1:]))
    except Error as e:
        print(f"{PROG}: {e}", file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
