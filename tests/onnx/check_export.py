#!/usr/bin/env python3
"""check_export.py: an ONNX file of lenetc's, checked by others' code.

    check_export.py FILE.onnx IMAGES LOGITS N

python3-onnx's checker (full_check: its shape inference too), then OpenCV's
dnn module (python3-opencv, a runtime of its own) runs the file on the N
images (IMAGES: uint8 N x C x H x W, raw pixels, as the graph's input takes
them): its logits must be within 1e-4 of lenetc's (LOGITS: float32 N x
classes) and its classes (the first maximum) equal. test_onnx.c writes both
files and runs this; it prints what it measured."""
import sys

import cv2
import numpy as np
import onnx

TOLERANCE = 1e-4


def main():
    path, images_path, logits_path, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    model = onnx.load(path)
    onnx.checker.check_model(model, full_check=True)
    dims = model.graph.input[0].type.tensor_type.shape.dim
    c, h, w = (d.dim_value for d in dims[1:])
    images = np.fromfile(images_path, dtype=np.uint8)
    if images.size != n * c * h * w:
        sys.exit(f"{images_path}: {images.size} bytes, not {n} images of {c}x{h}x{w}")
    x = images.reshape(n, c, h, w).astype(np.float32)
    want = np.fromfile(logits_path, dtype=np.float32)
    if want.size % n:
        sys.exit(f"{logits_path}: {want.size} floats, not {n} rows")
    want = want.reshape(n, -1)
    net = cv2.dnn.readNetFromONNX(path)
    got = []
    for s in range(0, n, 500):
        net.setInput(x[s:s + 500])
        got.append(np.array(net.forward(), dtype=np.float32).reshape(-1, want.shape[1]))
    got = np.concatenate(got)
    diff = float(np.max(np.abs(got.astype(np.float64) - want)))
    classes_differ = int(np.sum(np.argmax(got, axis=1) != np.argmax(want, axis=1)))
    name = model.graph.name
    print(f"check_export: {name}: onnx.checker (full_check) passes; OpenCV {cv2.__version__} dnn "
          f"logits of {n} images {c}x{h}x{w} within {diff:.3g} of lenetc's (max abs), "
          f"{classes_differ} classes differ")
    if not np.all(np.isfinite(got)) or diff > TOLERANCE or classes_differ:
        sys.exit(f"check_export: {name}: OpenCV's logits differ from lenetc's by {diff:.3g} "
                 f"(at most {TOLERANCE}), {classes_differ} classes differ")


if __name__ == "__main__":
    main()
