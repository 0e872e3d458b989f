#!/usr/bin/env python3
"""make bench: LeNet-5 on full MNIST through each path, side by side.

Runs the emitted trainer (gcc, vector shape) on all cores and on one, the JIT
(`lenetc train`, tcc), and bench/lenet_torch.py when python3-torch is
installed, one after the other on the same machine. For each it reads the
trainer's own lines and prints a Markdown table:

  s/epoch    median over the epochs of time= (the training steps only)
  img/s      60,000 / that
  GFLOP/s    2 x multiply-adds per training sample (from `lenetc summary`)
             x images/s, and as % of the machine's fp32 peak, measured by
             bench/peak.c (fused multiply-adds on every core)
  eval       median eval= (forward over the 10,000 test images)
  start-up   process start to the line printed just before the first step
  RSS        peak resident memory of the process

The benchmark asserts nothing: timings belong in notes, not in tests.
"""
import argparse
import os
import re
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EPOCH = re.compile(r"^epoch (\d+)/\d+ .*test_acc=([\d.]+) time=([\d.]+)s eval=([\d.]+)s")


def sh(cmd):
    return subprocess.run(cmd, shell=True, capture_output=True, text=True, cwd=ROOT).stdout.strip()


def find_data(given):
    for d in [given, os.environ.get("LENETC_DATA"), "data/mnist", "../shared/mnist",
              "/usr/share/datasets/mnist"]:
        if d and os.path.exists(os.path.join(ROOT, d, "train-images-idx3-ubyte.gz")):
            return os.path.join(ROOT, d)
    sys.exit("bench: MNIST not found (pass --data DIR or run scripts/fetch-mnist.sh)")


def cpu():
    model, mhz, cores = "?", 0.0, os.cpu_count()
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name") and model == "?":
                model = line.split(":", 1)[1].strip()
            if line.startswith("cpu MHz") and not mhz:
                mhz = float(line.split(":", 1)[1])
    return model, mhz, cores


def run(label, cmd, epochs):
    """Runs one trainer; returns its figures or None if it failed."""
    print(f"bench: {label}: {' '.join(cmd)}", file=sys.stderr, flush=True)
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    startup, times, evals, acc = None, [], [], None
    for line in p.stdout:
        sys.stderr.write("  " + line)
        if startup is None and not line.startswith("jit:") and not line.startswith("epoch"):
            startup = time.monotonic() - t0  # the header: training starts now
        m = EPOCH.match(line)
        if m:
            acc, times, evals = float(m[2]), times + [float(m[3])], evals + [float(m[4])]
    _, status, usage = os.wait4(p.pid, 0)
    if status != 0 or len(times) != epochs:
        print(f"bench: {label} failed (status {status})", file=sys.stderr)
        return None
    return {"label": label, "epoch": statistics.median(times), "eval": statistics.median(evals),
            "startup": startup, "rss": usage.ru_maxrss / 1024, "acc": acc}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--data")
    ap.add_argument("--peak", type=float, help="fp32 peak GFLOP/s (default: bench/peak.c)")
    ap.add_argument("--no-jit", action="store_true")
    ap.add_argument("--no-torch", action="store_true")
    args = ap.parse_args()
    data = find_data(args.data)
    model, mhz, cores = cpu()
    subprocess.run("mkdir -p build && cc -O3 -march=native -pthread -o build/peak bench/peak.c",
                   shell=True, cwd=ROOT, check=True)
    peak = args.peak or float(sh("build/peak"))
    macs = int(re.search(r"per training sample: ([\d,]+)",
                         sh("./lenetc summary models/lenet5.yaml"))[1].replace(",", ""))
    flops = 2 * macs
    subprocess.run("./lenetc models/lenet5.yaml -o build/bench && make -s -C build/bench",
                   shell=True, cwd=ROOT, check=True)
    e = str(args.epochs)
    common = ["--epochs", e, "--data", data]
    runs = [("emitted, gcc, %d threads" % cores, ["build/bench/lenet5-train"] + common),
            ("emitted, gcc, 1 thread", ["build/bench/lenet5-train", "--threads", "1"] + common)]
    if not args.no_jit:
        runs.append(("JIT, tcc, %d threads" % cores,
                     ["./lenetc", "train", "models/lenet5.yaml"] + common))
    torch_python = next((p for p in ["/usr/bin/python3", sys.executable]
                         if subprocess.run([p, "-c", "import torch"],
                                           capture_output=True).returncode == 0), None)
    if torch_python and not args.no_torch:
        runs.append(("PyTorch %s, %d threads" % (
            sh(f"{torch_python} -c 'import torch; print(torch.__version__)'"), cores),
            [torch_python, "bench/lenet_torch.py", "--threads", str(cores)] + common))
    elif not args.no_torch:
        print("bench: python3-torch is not installed: no PyTorch column "
              "(apt-get install python3-torch)", file=sys.stderr)
    results = [r for r in (run(label, cmd, args.epochs) for label, cmd in runs) if r]

    torch_r = next((r for r in results if r["label"].startswith("PyTorch")), None)
    print(f"\nLeNet-5 (models/lenet5.yaml), full MNIST, batch 128, Adam; {args.epochs} epochs "
          f"per path, medians.")
    print(f"Machine: {model}, {cores} cores ({mhz:.0f} MHz nominal); fp32 peak "
          f"{peak:.0f} GFLOP/s (bench/peak.c); {flops / 1e6:.3f} MFLOP per training sample; "
          f"{sh('gcc --version | head -1')}.\n")
    print("| path | s/epoch | img/s | GFLOP/s | % peak | eval (10k) | start-up | peak RSS "
          "| test_acc | vs PyTorch |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        ips = 60000 / r["epoch"]
        gf = ips * flops / 1e9
        ratio = f"{torch_r['epoch'] / r['epoch']:.1f}x" if torch_r else "-"
        print(f"| {r['label']} | {r['epoch']:.2f} | {ips:,.0f} | {gf:.1f} | {100 * gf / peak:.0f}% "
              f"| {r['eval']:.3f} s | {r['startup']:.2f} s | {r['rss']:.0f} MB | {r['acc']:.4f} "
              f"| {ratio} |")


if __name__ == "__main__":
    main()
