#!/usr/bin/env python3
"""mini-mnist.py SRC DST N_TRAIN N_TEST: the first images of MNIST as a
small data set in the same format, for runs that must be short (valgrind)."""
import gzip
import os
import struct
import sys


def cut(src, dst, n):
    with gzip.open(src, "rb") as f:
        data = f.read()
    magic, count = struct.unpack(">II", data[:8])
    ndim = magic & 0xFF
    dims = struct.unpack(">" + "I" * (ndim - 1), data[8:4 + 4 * ndim])
    per = 1
    for d in dims:
        per *= d
    n = min(n, count)
    head = struct.pack(">II", magic, n) + data[8:4 + 4 * ndim]
    body = data[4 + 4 * ndim:4 + 4 * ndim + n * per]
    with open(dst, "wb") as f:
        f.write(gzip.compress(head + body, mtime=0))


def main():
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    src, dst, n_train, n_test = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    os.makedirs(dst, exist_ok=True)
    for kind, n in (("train", n_train), ("t10k", n_test)):
        for what in ("images-idx3-ubyte", "labels-idx1-ubyte"):
            name = f"{kind}-{what}.gz"
            cut(os.path.join(src, name), os.path.join(dst, name), n)


if __name__ == "__main__":
    main()
