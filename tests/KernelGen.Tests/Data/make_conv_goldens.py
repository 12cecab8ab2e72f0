#!/usr/bin/python3
"""Writes conv_goldens.json: small PyTorch reference cases (float64) for the convolution, pooling and spatial
batch-norm kernels, read by ConvolutionKernelTests, PoolingKernelTests and SpatialNormalizationKernelTests.

Run with Debian's torch (python3-torch, 1.13): /usr/bin/python3 make_conv_goldens.py
The tests only read the JSON; Python is not needed to run them. Tensors are stored flattened in NCHW order;
weights as PyTorch's Conv2d [O, C/groups, kh, kw]. Every case carries its inputs, the forward output, a fixed
output gradient dy and the gradients PyTorch's autograd computes from it.
"""
import json
import os

import torch
import torch.nn.functional as F

torch.manual_seed(20240521)
torch.set_default_dtype(torch.float64)


def flat(t):
    return [float(v) for v in t.detach().reshape(-1).tolist()]


def rand(*shape):
    """Uniform in [-2, 2) on a 1/64 grid: exact binary values with short decimal forms keep the file small."""
    return torch.round((torch.rand(*shape) * 4 - 2) * 64) / 64


def conv_case(name, batch, c, h, w, o, kh, kw, stride=(1, 1), pad=(0, 0, 0, 0), dilation=(1, 1), groups=1, bias=True):
    """pad = (top, left, bottom, right); asymmetric padding is an explicit zero pad before an unpadded conv2d."""
    top, left, bottom, right = pad
    x = rand(batch, c, h, w).requires_grad_()
    weight = rand(o, c // groups, kh, kw).requires_grad_()
    b = rand(o).requires_grad_() if bias else None
    padded = F.pad(x, (left, right, top, bottom))
    y = F.conv2d(padded, weight, b, stride=stride, padding=0, dilation=dilation, groups=groups)
    dy = rand(*y.shape)
    y.backward(dy)
    return {
        "name": name, "batch": batch, "channels": c, "height": h, "width": w, "outChannels": o,
        "kernelHeight": kh, "kernelWidth": kw, "strideHeight": stride[0], "strideWidth": stride[1],
        "padTop": top, "padLeft": left, "padBottom": bottom, "padRight": right,
        "dilationHeight": dilation[0], "dilationWidth": dilation[1], "groups": groups,
        "outHeight": y.shape[2], "outWidth": y.shape[3],
        "x": flat(x), "weights": flat(weight), "bias": flat(b) if bias else [],
        "y": flat(y), "dy": flat(dy), "dx": flat(x.grad), "dWeights": flat(weight.grad),
        "dBias": flat(b.grad) if bias else [],
    }


def pool_case(name, kind, x, kernel, stride, pad, count_include_pad=True):
    x = x.clone().requires_grad_()
    if kind == "max":
        y = F.max_pool2d(x, kernel, stride, pad)
    else:
        y = F.avg_pool2d(x, kernel, stride, pad, count_include_pad=count_include_pad)
    dy = rand(*y.shape)
    y.backward(dy)
    batch, c, h, w = x.shape
    return {
        "name": name, "kind": kind, "batch": batch, "channels": c, "height": h, "width": w,
        "kernelHeight": kernel[0], "kernelWidth": kernel[1], "strideHeight": stride[0], "strideWidth": stride[1],
        "padHeight": pad[0], "padWidth": pad[1], "countIncludePad": count_include_pad,
        "outHeight": y.shape[2], "outWidth": y.shape[3],
        "x": flat(x), "y": flat(y), "dy": flat(dy), "dx": flat(x.grad),
    }


def global_case(name, batch, c, h, w):
    x = rand(batch, c, h, w).requires_grad_()
    y = torch.flatten(F.adaptive_avg_pool2d(x, 1), 1)
    dy = rand(*y.shape)
    y.backward(dy)
    return {"name": name, "kind": "global", "batch": batch, "channels": c, "height": h, "width": w,
            "x": flat(x), "y": flat(y), "dy": flat(dy), "dx": flat(x.grad)}


def batchnorm_case(name, batch, c, h, w, momentum, eps, offset):
    x = (rand(batch, c, h, w) + offset).requires_grad_()
    gamma = rand(c).requires_grad_()
    beta = rand(c).requires_grad_()
    running_mean0 = rand(c)
    running_var0 = torch.round(torch.rand(c) * 64) / 64 + 0.5
    running_mean = running_mean0.clone()
    running_var = running_var0.clone()
    y = F.batch_norm(x, running_mean, running_var, gamma, beta, training=True, momentum=momentum, eps=eps)
    dy = rand(*y.shape)
    y.backward(dy)
    with torch.no_grad():
        y_eval = F.batch_norm(x, running_mean, running_var, gamma, beta, training=False, eps=eps)
    return {
        "name": name, "batch": batch, "channels": c, "height": h, "width": w, "momentum": momentum, "epsilon": eps,
        "x": flat(x), "gamma": flat(gamma), "beta": flat(beta),
        "runningMean0": flat(running_mean0), "runningVar0": flat(running_var0),
        "y": flat(y), "runningMean": flat(running_mean), "runningVar": flat(running_var),
        "dy": flat(dy), "dx": flat(x.grad), "dGamma": flat(gamma.grad), "dBeta": flat(beta.grad),
        "yEval": flat(y_eval),
    }


def ints(low, high, *shape):
    """Small integers as float64: windows with ties."""
    return torch.randint(low, high + 1, shape).to(torch.float64)


conv = [
    conv_case("3x3 pad 1", 2, 2, 6, 5, 4, 3, 3, pad=(1, 1, 1, 1)),
    conv_case("3x2 stride 2 asymmetric pad, no bias", 2, 2, 8, 7, 3, 3, 2, stride=(2, 2), pad=(0, 1, 2, 1), bias=False),
    conv_case("dilation 2, stride (1,2), groups 2", 1, 4, 9, 10, 6, 3, 3, stride=(1, 2), pad=(2, 1, 2, 1), dilation=(2, 2), groups=2),
    conv_case("depthwise 5x5 stride 2", 1, 3, 9, 9, 3, 5, 5, stride=(2, 2), pad=(2, 2, 2, 2), groups=3),
    conv_case("depthwise multiplier 2, 3x1 dilation (2,1)", 1, 2, 6, 5, 4, 3, 1, pad=(1, 0, 1, 0), dilation=(2, 1), groups=2),
    conv_case("pointwise 1x1", 2, 5, 4, 5, 3, 1, 1),
    conv_case("pointwise 1x1 groups 2", 2, 4, 3, 7, 6, 1, 1, groups=2, bias=False),
    conv_case("1x1 stride 2 (not pointwise)", 1, 3, 5, 6, 2, 1, 1, stride=(2, 2), pad=(1, 0, 0, 1)),
    conv_case("wide rows 2x3", 1, 2, 5, 21, 3, 2, 3, pad=(0, 1, 0, 1)),
    conv_case("1x1 output", 3, 2, 3, 4, 5, 3, 4),
]

pool = [
    pool_case("max ties pad 1", "max", ints(0, 2, 2, 2, 6, 7), (3, 3), (2, 2), (1, 1)),
    pool_case("max negative with padding", "max", -torch.round(torch.rand(1, 2, 5, 5) * 64) / 64 - 0.5, (3, 3), (1, 1), (1, 1)),
    pool_case("max overlapping 2x3 stride (2,1) ties", "max", ints(-2, 2, 2, 1, 5, 8), (2, 3), (2, 1), (1, 1)),
    pool_case("max 2x2 stride 2", "max", rand(2, 3, 6, 5), (2, 2), (2, 2), (0, 0)),
    pool_case("avg 3x3 stride 2 pad 1 count_include_pad", "avg", rand(2, 2, 7, 6), (3, 3), (2, 2), (1, 1), True),
    pool_case("avg 3x3 stride 2 pad 1 exclude pad", "avg", rand(2, 2, 7, 6), (3, 3), (2, 2), (1, 1), False),
    pool_case("avg 2x3 stride (1,2) pad (1,1) count_include_pad", "avg", rand(1, 3, 5, 8), (2, 3), (1, 2), (1, 1), True),
    pool_case("avg 2x3 stride (1,2) pad (1,1) exclude pad", "avg", rand(1, 3, 5, 8), (2, 3), (1, 2), (1, 1), False),
    pool_case("avg 4x2 stride (3,1) no pad", "avg", rand(2, 1, 9, 4), (4, 2), (3, 1), (0, 0), True),
    global_case("global average", 3, 4, 3, 5),
]

batchnorm = [
    batchnorm_case("2x3x4x5", 2, 3, 4, 5, 0.1, 1e-5, 0.0),
    batchnorm_case("3x2x1x7 offset", 3, 2, 1, 7, 0.3, 1e-3, 5.0),
    batchnorm_case("1x2x3x3", 1, 2, 3, 3, 1.0, 1e-5, -2.0),
    batchnorm_case("4x1x2x9", 4, 1, 2, 9, 0.0, 1e-5, 0.5),
]

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "conv_goldens.json")
with open(out, "w") as f:
    json.dump({"generator": "make_conv_goldens.py, torch " + torch.__version__, "conv": conv, "pool": pool,
               "batchnorm": batchnorm}, f, separators=(",", ":"))
    f.write("\n")
print(out, os.path.getsize(out), "bytes")
