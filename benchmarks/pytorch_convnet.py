"""PyTorch peer of ConvnetTrainStepBenchmarks and ConvnetPredictBenchmarks (benchmarks/CONVOLUTION.md).

The convnet of KernelGen.Benchmarks/Convnet.cs (the main job's Fashion-MNIST convnet) in float32 on one thread:
Conv2d(1, 16, 3, padding=1), BatchNorm2d, ReLU, MaxPool2d(2), Conv2d(16, 32, 3, padding=1), BatchNorm2d, ReLU,
Conv2d(32, 32, 3, padding=1), BatchNorm2d, ReLU, MaxPool2d(2), Flatten, Linear(1568, 128), ReLU, Dropout(0.3),
Linear(128, 10); CrossEntropyLoss, Adam (lr 1e-3).
Times one training step at batch 64 (zero_grad(set_to_none=False), forward in train mode, loss, backward, Adam step)
and eval-mode inference at batch 1 and 64 under torch.inference_mode. Inputs uniform in [0, 1), labels in [0, 10).
Prints median and mean microseconds per call over repeated timed blocks, like BenchmarkDotNet's Median and Mean.

Run with Debian's python3-torch (not a pyenv interpreter) and OpenBLAS's AVX-512 kernels, for this process only
(install the OpenMP build of OpenBLAS first if /usr/lib/x86_64-linux-gnu/openblas-openmp is missing:
`apt-get install -y libopenblas0-openmp`):
  LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-openmp OPENBLAS_CORETYPE=SkylakeX \\
  GLIBC_TUNABLES=glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=4294967296 \\
  /usr/bin/python3 benchmarks/pytorch_convnet.py
Convolutions go to oneDNN (mkldnn) when torch.backends.mkldnn is available and enabled (the script prints both);
the Linear layers go to BLAS (OpenBLAS here).
"""

import torch
from torch import nn

from pytorch_mlp_latency import timed  # the same timing loop as the MLP peer (this script's directory is on sys.path)


def convnet():
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(),
        nn.Conv2d(32, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(1568, 128), nn.ReLU(), nn.Dropout(0.3), nn.Linear(128, 10))


def main():
    torch.set_num_threads(1)
    torch.manual_seed(42)
    config = torch.__config__.show().splitlines()
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, "
          f"mkldnn available {torch.backends.mkldnn.is_available()}, enabled {torch.backends.mkldnn.enabled}")
    print("build: " + "; ".join(line.strip(" -") for line in config if "MKL-DNN" in line or "CPU capability" in line))
    model = convnet()
    print(f"parameters: {sum(p.numel() for p in model.parameters())}")
    with torch.autograd.profiler.profile() as profile:  # which convolution implementation the dispatcher picks
        model(torch.rand(2, 1, 28, 28)).sum().backward()
    print("convolution ops: " + ", ".join(sorted({e.key for e in profile.key_averages() if "conv" in e.key})))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    x = torch.rand(64, 1, 28, 28)
    y = torch.randint(0, 10, (64,))

    def train_step():
        optimizer.zero_grad(set_to_none=False)
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()

    print("| what | batch | threads | median (us) | mean (us) |")
    print("|---|---:|---:|---:|---:|")
    model.train()
    median, mean = timed(train_step, 20)
    print(f"| TrainStep (Adam) | 64 | 1 | {median:.1f} | {mean:.1f} |")

    model.eval()
    for batch in (1, 64):
        xb = torch.rand(batch, 1, 28, 28)
        with torch.inference_mode():
            median, mean = timed(lambda: model(xb), 1000 if batch == 1 else 50)
        print(f"| Predict (eval) | {batch} | 1 | {median:.2f} | {mean:.2f} |")


if __name__ == "__main__":
    main()
