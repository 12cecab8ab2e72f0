"""PyTorch peer of MlpPredictBenchmarks and MlpTrainStepBenchmarks (benchmarks/LATENCY.md).

The reference 784-256-128-10 ReLU MLP in float: inference at batch 1 and 64 (torch.inference_mode, outputs written into
pre-allocated tensors with addmm(out=) and in-place ReLU, so no tensor is allocated per call) and one SGD training step
(eta = 0.01, softmax cross-entropy) at batch 128, each with 1 and 2 intra-op threads. Prints median and mean
microseconds per call over repeated timed blocks, like BenchmarkDotNet's Median and Mean.

Run with Debian's python3-torch (not a pyenv interpreter) and OpenBLAS's AVX-512 kernels, for this process only:
  LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-openmp OPENBLAS_CORETYPE=SkylakeX \\
  GLIBC_TUNABLES=glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=4294967296 \\
  /usr/bin/python3 benchmarks/pytorch_mlp_latency.py
"""

import statistics
import time

import torch

SIZES = [784, 256, 128, 10]


def timed(fn, calls_per_block, blocks=15, warmup_blocks=3):
    """Median and mean microseconds per call over `blocks` blocks of `calls_per_block` calls."""
    for _ in range(warmup_blocks):
        for _ in range(calls_per_block):
            fn()
    per_call = []
    for _ in range(blocks):
        start = time.perf_counter_ns()
        for _ in range(calls_per_block):
            fn()
        per_call.append((time.perf_counter_ns() - start) / calls_per_block / 1000)
    return statistics.median(per_call), statistics.mean(per_call)


def main():
    torch.manual_seed(42)
    layers = [torch.nn.Linear(a, b) for a, b in zip(SIZES, SIZES[1:])]
    # W as [in x out] (KernelGen's layout), so addmm computes x @ W + b without a transpose.
    weights = [(l.weight.detach().t().contiguous(), l.bias.detach().clone()) for l in layers]
    print(f"torch {torch.__version__}, BLAS: {torch.__config__.show().splitlines()[0] if torch.__config__.show() else '?'}")
    print("| what | batch | threads | median (us) | mean (us) |")
    print("|---|---:|---:|---:|---:|")
    for batch in (1, 64):
        x = torch.rand(batch, SIZES[0])
        buffers = [torch.empty(batch, n) for n in SIZES[1:]]

        def predict():
            h = x
            for i, (w, b) in enumerate(weights):
                torch.addmm(b, h, w, out=buffers[i])
                if i < len(weights) - 1:
                    buffers[i].relu_()
                h = buffers[i]

        for threads in (1, 2):
            torch.set_num_threads(threads)
            with torch.inference_mode():
                median, mean = timed(predict, 2000 if batch == 1 else 200)
            print(f"| Predict | {batch} | {threads} | {median:.2f} | {mean:.2f} |")

    model = torch.nn.Sequential(layers[0], torch.nn.ReLU(), layers[1], torch.nn.ReLU(), layers[2])
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    loss_fn = torch.nn.CrossEntropyLoss()
    x = torch.rand(128, SIZES[0])
    y = torch.randint(0, 10, (128,))

    def train_step():
        optimizer.zero_grad(set_to_none=False)
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()

    for threads in (1, 2):
        torch.set_num_threads(threads)
        median, mean = timed(train_step, 20)
        print(f"| TrainStep (SGD) | 128 | {threads} | {median:.1f} | {mean:.1f} |")


if __name__ == "__main__":
    main()
