#!/usr/bin/python3
"""make_onnx_corpus.py: the seed corpus of fuzz_onnx (tests/fuzz/corpus/onnx/):
tiny PyTorch models, each a few hundred bytes, exported by torch.onnx
(opset 13) with every op lenetc imports between them, and a few of ONNX's
node tests (libonnx-testdata). Run it on purpose, then review the diff.

  make_onnx_corpus.py [OUT_DIR]
"""
import os
import shutil
import sys

import torch
import torch.nn as nn

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "corpus",
                                                          "onnx")
NODE = "/usr/share/libonnx-testdata/data/node"


class Plain(nn.Module):  # conv, batchnorm, relu, maxpool, flatten, dense
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 2, 3, padding=1)
        self.bn = nn.BatchNorm2d(2)
        self.fc = nn.Linear(18, 3)

    def forward(self, x):
        x = nn.functional.max_pool2d(torch.relu(self.bn(self.conv(x))), 2)
        return self.fc(torch.flatten(x, 1))


class Pools(nn.Module):  # padded avgpool, tanh, sigmoid, leaky relu, dropout, global pool
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 2, 3)
        self.fc = nn.Linear(2, 3)
        self.drop = nn.Dropout(0.5)

    def forward(self, x):
        x = nn.functional.avg_pool2d(torch.tanh(self.conv(x)), 2, padding=1)
        x = nn.functional.leaky_relu(torch.sigmoid(x), 0.2)
        x = nn.functional.adaptive_avg_pool2d(x, 1)
        return torch.softmax(self.fc(self.drop(torch.flatten(x, 1))), 1)


class Graph(nn.Module):  # depthwise conv, add, concat, a reshape, MatMul + Add
    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(1, 2, 3, padding=1, bias=False)
        self.dw = nn.Conv2d(2, 2, 3, padding=1, groups=2)
        self.w = nn.Parameter(torch.randn(4 * 36, 3) * 0.1)
        self.b = nn.Parameter(torch.randn(3) * 0.1)

    def forward(self, x):
        s = self.stem(x)
        x = torch.cat([s + self.dw(s), s], 1)
        return x.reshape(x.shape[0], -1) @ self.w + self.b


def main():
    os.makedirs(OUT, exist_ok=True)
    torch.manual_seed(0)
    for name, model in (("plain", Plain()), ("pools", Pools()), ("graph", Graph())):
        torch.onnx.export(model.eval(), torch.zeros(1, 1, 6, 6), os.path.join(OUT, name + ".onnx"),
                          opset_version=13, input_names=["image"], output_names=["logits"])
    for test in ("test_conv_with_strides_padding", "test_averagepool_2d_pads_count_include_pad",
                 "test_batchnorm_example", "test_gemm_default_vector_bias", "test_globalaveragepool",
                 "test_concat_2d_axis_1", "test_constant_pad", "test_reshape_reduced_dims",
                 "test_leakyrelu", "test_dropout_default", "test_matmul_2d"):
        src = os.path.join(NODE, test, "model.onnx")
        if os.path.exists(src):
            shutil.copy(src, os.path.join(OUT, test + ".onnx"))


if __name__ == "__main__":
    main()
