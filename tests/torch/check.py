#!/usr/bin/python3
"""check.py: PyTorch's numbers for the tests to compare lenetc's with, in float64.

  check.py grads SPEC N PARAMS INPUT PROBE OUT
      the torch.nn model of SPEC (tools/lenetc_torch.py, from `lenetc summary
      --json`) in float64 and training mode, with PARAMS (float64, lenetc's
      parameter order), on the N inputs INPUT (float64, N x C x H x W): writes
      the logits (N x K) and then d(sum(PROBE * logits))/dparams (lenetc's
      order) to OUT as float64
  check.py train SPEC STEPS N LR PARAMS INPUTS PROBES OUT
      STEPS steps of plain SGD (w -= LR dL/dw) in training mode, step s on the
      N inputs INPUTS[s] with L = sum(PROBES[s] * logits): writes each step's
      logits (STEPS x N x K), then every tensor after the steps (running
      statistics too, lenetc's order), then the logits of the last inputs in
      evaluation mode (N x K)
  check.py optim NAME STEPS N PARAMS GRADS OUT
      STEPS steps of torch.optim's NAME (sgd: lr 0.1, momentum 0.9, nesterov,
      weight decay 0.01; adamw: lr 0.01, betas (0.9, 0.999), eps 1e-7, weight
      decay 0.05) on N float64 parameters with the gradients GRADS (STEPS x N):
      writes the parameters after each step (STEPS x N)
  check.py onecycle STEPS LR PCT DIV FINAL ANNEAL CYCLE BASE MAX OUT
      torch.optim.lr_scheduler.OneCycleLR(max_lr=LR, total_steps=STEPS,
      pct_start=PCT, div_factor=DIV, final_div_factor=FINAL, anneal_strategy=
      ANNEAL, cycle_momentum=CYCLE (0 or 1), base_momentum=BASE, max_momentum=
      MAX) over Adam: writes each step's lr and beta1 (STEPS x 2, float64)
  check.py xent N K SMOOTHING LOGITS LABELS OUT
      torch.nn.CrossEntropyLoss(reduction="sum", label_smoothing=SMOOTHING) on
      the N x K float64 LOGITS and N float64 LABELS: writes the loss, then
      its gradient with respect to the logits (N x K)
"""
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools"))
import lenetc_torch  # noqa: E402


def load(spec, params_path):
    """The float64 torch model of spec in training mode with lenetc's params."""
    info = lenetc_torch.describe(spec)
    model, _ = lenetc_torch.build(spec, raw_input=False)
    model = model.double().train()
    params = np.fromfile(params_path, "<f8")
    state = {t["name"]: torch.from_numpy(params[t["offset"]:t["offset"] + t["size"]]
                                         .reshape(t["shape"]).copy())
             for t in info["tensors"]}
    model.load_state_dict(state, strict=True)
    return info, model, len(params)


def inputs(info, path, shape):
    h, w, c = info["input"]["shape"]
    pad = info["input"]["pad"]
    return torch.from_numpy(np.fromfile(path, "<f8").reshape(*shape, c, h + 2 * pad, w + 2 * pad))


def grads(spec, n, params_path, input_path, probe_path, out_path):
    info, model, size = load(spec, params_path)
    x = inputs(info, input_path, (n,))
    logits = model(x)
    probe = torch.from_numpy(np.fromfile(probe_path, "<f8").reshape(logits.shape))
    (logits * probe).sum().backward()
    named = dict(model.named_parameters())
    out = np.zeros(size)  # state (running statistics) has no gradient: 0
    for t in info["tensors"]:
        if t["trainable"]:
            out[t["offset"]:t["offset"] + t["size"]] = named[t["name"]].grad.numpy().ravel()
    np.concatenate([logits.detach().numpy().ravel(), out]).astype("<f8").tofile(out_path)


def train(spec, steps, n, lr, params_path, input_path, probe_path, out_path):
    info, model, size = load(spec, params_path)
    x = inputs(info, input_path, (steps, n))
    k = info["layers"][-1]["output"][0]
    probes = torch.from_numpy(np.fromfile(probe_path, "<f8").reshape(steps, n, k))
    rows = []
    for s in range(steps):
        model.zero_grad()
        logits = model(x[s])
        (logits * probes[s]).sum().backward()
        with torch.no_grad():
            for p in model.parameters():
                p -= lr * p.grad
        rows.append(logits.detach().numpy().ravel())
    state = model.state_dict()
    out = np.zeros(size)
    for t in info["tensors"]:
        out[t["offset"]:t["offset"] + t["size"]] = state[t["name"]].double().numpy().ravel()
    with torch.no_grad():
        evaluated = model.eval()(x[-1]).numpy().ravel()
    np.concatenate(rows + [out, evaluated]).astype("<f8").tofile(out_path)


def optim(name, steps, n, params_path, grads_path, out_path):
    p = torch.nn.Parameter(torch.from_numpy(np.fromfile(params_path, "<f8")[:n].copy()))
    g = np.fromfile(grads_path, "<f8").reshape(steps, n)
    if name == "sgd":
        opt = torch.optim.SGD([p], lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01)
    else:
        opt = torch.optim.AdamW([p], lr=0.01, betas=(0.9, 0.999), eps=1e-7, weight_decay=0.05)
    rows = []
    for s in range(steps):
        p.grad = torch.from_numpy(g[s].copy())
        opt.step()
        rows.append(p.detach().numpy().copy())
    np.array(rows).astype("<f8").tofile(out_path)


def onecycle(steps, lr, pct, div, final, anneal, cycle, base, top, out_path):
    p = torch.nn.Parameter(torch.zeros(1, dtype=torch.float64))
    opt = torch.optim.Adam([p], lr=lr)
    sched = torch.optim.lr_scheduler.OneCycleLR(
        opt, max_lr=lr, total_steps=steps, pct_start=pct, div_factor=div,
        final_div_factor=final, anneal_strategy=anneal, cycle_momentum=bool(cycle),
        base_momentum=base, max_momentum=top)
    rows = []
    for _ in range(steps):
        group = opt.param_groups[0]
        rows.append([group["lr"], group["betas"][0]])
        p.grad = torch.ones(1, dtype=torch.float64)
        opt.step()
        sched.step()
    np.array(rows).astype("<f8").tofile(out_path)


def xent(n, k, smoothing, logits_path, labels_path, out_path):
    z = torch.from_numpy(np.fromfile(logits_path, "<f8").reshape(n, k).copy()).requires_grad_()
    y = torch.from_numpy(np.fromfile(labels_path, "<f8").astype(np.int64))
    loss = torch.nn.CrossEntropyLoss(reduction="sum", label_smoothing=smoothing)(z, y)
    loss.backward()
    np.concatenate([[loss.item()], z.grad.numpy().ravel()]).astype("<f8").tofile(out_path)


if __name__ == "__main__":
    a = sys.argv[1:]
    if len(a) == 7 and a[0] == "grads":
        grads(a[1], int(a[2]), a[3], a[4], a[5], a[6])
    elif len(a) == 9 and a[0] == "train":
        train(a[1], int(a[2]), int(a[3]), float(a[4]), a[5], a[6], a[7], a[8])
    elif len(a) == 7 and a[0] == "optim":
        optim(a[1], int(a[2]), int(a[3]), a[4], a[5], a[6])
    elif len(a) == 11 and a[0] == "onecycle":
        onecycle(int(a[1]), *map(float, a[2:6]), a[6], int(a[7]), float(a[8]), float(a[9]),
                 a[10])
    elif len(a) == 7 and a[0] == "xent":
        xent(int(a[1]), int(a[2]), float(a[3]), a[4], a[5], a[6])
    else:
        raise SystemExit(__doc__)
