using System;
using BenchmarkDotNet.Attributes;
using KernelGen.Kernels;
using KernelGen.Operators;

namespace KernelGen.Benchmarks;

/// <summary>
/// The dense-layer kernels on one 256 → 256 layer at batch 1 and 64 (float), each 2·batch·256·256 FLOPs (8,388,608 at
/// batch 64), against a plain scalar triple loop for the forward pass (the <c>Ratio</c> column is the time relative to
/// that loop), with one or two kernel threads (<see cref="KernelParallelism.DegreeOfParallelism"/>; batch 1 is never
/// split, so its two settings run the same code).
/// </summary>
[MemoryDiagnoser]
public class DenseKernelBenchmarks
{
    private const int MaxBatch = 64, NIn = 256, NOut = 256;
    private const long MatMulFlopsPerRow = 2L * NIn * NOut;

    private AlignedBuffer<float> _x = null!, _w = null!, _b = null!, _y = null!;
    private AlignedBuffer<float> _dz = null!, _dw = null!, _db = null!, _dx = null!;

    /// <summary>Rows per call.</summary>
    [Params(1, 64)]
    public int Batch { get; set; }

    /// <summary>Kernel threads.</summary>
    [Params(1, 2)]
    public int Threads { get; set; }

    /// <summary>Fills the inputs, weights, biases and output gradients with random values in [−1, 1).</summary>
    [GlobalSetup]
    public void Setup()
    {
        KernelParallelism.DegreeOfParallelism = Threads;
        var random = new KernelRandom(7);
        _x = Filled(MaxBatch * NIn, ref random);
        _w = Filled(NIn * NOut, ref random);
        _b = Filled(NOut, ref random);
        _dz = Filled(MaxBatch * NOut, ref random);
        _y = new AlignedBuffer<float>(MaxBatch * NOut);
        _dw = new AlignedBuffer<float>(NIn * NOut);
        _db = new AlignedBuffer<float>(NOut);
        _dx = new AlignedBuffer<float>(MaxBatch * NIn);
    }

    /// <summary>Resets the process-wide thread count.</summary>
    [GlobalCleanup]
    public void Cleanup() => KernelParallelism.DegreeOfParallelism = 1;

    private static AlignedBuffer<float> Filled(int length, ref KernelRandom random)
    {
        var buffer = new AlignedBuffer<float>(length);
        Span<float> span = buffer.Span;
        for (int i = 0; i < span.Length; i++) span[i] = (float)(2 * random.NextDouble() - 1);
        return buffer;
    }

    /// <summary>Y = X·W + b, scalar: row by row, k outer and j inner (contiguous in W and Y), no vectors.</summary>
    [Benchmark(Baseline = true), Flops(PerBatchRow = MatMulFlopsPerRow)]
    public void ForwardScalar()
    {
        ReadOnlySpan<float> x = _x.Span, w = _w.Span, b = _b.Span;
        Span<float> y = _y.Span;
        for (int r = 0; r < Batch; r++)
        {
            Span<float> yr = y.Slice(r * NOut, NOut);
            for (int j = 0; j < yr.Length; j++) yr[j] = b[j];
            for (int k = 0; k < NIn; k++)
            {
                float xv = x[r * NIn + k];
                ReadOnlySpan<float> wk = w.Slice(k * NOut, NOut);
                for (int j = 0; j < yr.Length; j++) yr[j] += xv * wk[j];
            }
        }
    }

    /// <summary>Y = X·W + b with <see cref="Dense.Forward{T, TAct}"/> and the identity activation.</summary>
    [Benchmark, Flops(PerBatchRow = MatMulFlopsPerRow)]
    public void Forward() => Dense.Forward<float, IdentityOp<float>>(_x.Span, _w.Span, _b.Span, _y.Span, Batch, NIn, NOut);

    /// <summary>dW = Xᵀ·dZ and db = Σ dZ with <see cref="Dense.BackwardParameters{T}"/> (the db sum is not counted).</summary>
    [Benchmark, Flops(PerBatchRow = MatMulFlopsPerRow)]
    public void BackwardParameters() => Dense.BackwardParameters<float>(_x.Span, _dz.Span, _dw.Span, _db.Span, Batch, NIn, NOut);

    /// <summary>dX = dZ·Wᵀ with <see cref="Dense.BackwardInput{T}"/>.</summary>
    [Benchmark, Flops(PerBatchRow = MatMulFlopsPerRow)]
    public void BackwardInput() => Dense.BackwardInput<float>(_dz.Span, _w.Span, _dx.Span, Batch, NIn, NOut);
}
