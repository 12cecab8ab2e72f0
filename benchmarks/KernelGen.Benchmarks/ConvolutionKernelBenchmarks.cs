using System;
using BenchmarkDotNet.Attributes;
using KernelGen.Kernels;
using KernelGen.Operators;

namespace KernelGen.Benchmarks;

/// <summary>
/// The convolution kernels (<see cref="Convolution.Forward{T, TAct}"/> with the identity activation,
/// <see cref="Convolution.BackwardParameters{T}"/> with the bias gradient, <see cref="Convolution.BackwardInput{T}"/>),
/// float, one thread, at batch 16 and 64, on five 3×3 stride-1 "same"-padded layers:
/// <list type="bullet">
/// <item><c>C1x16</c>: 1 → 16 channels on 28×28 (the convnet's first layer; K = 9);</item>
/// <item><c>C16x32</c>: 16 → 32 on 14×14 (its second layer; K = 144);</item>
/// <item><c>C32x32</c>: 32 → 32 on 14×14 (K = 288);</item>
/// <item><c>C64x64</c>: 64 → 64 on 7×7 (K = 576);</item>
/// <item><c>Dw32</c>: depthwise 32 → 32, 32 groups, on 14×14 (K = 9).</item>
/// </list>
/// Each kernel performs 2·B·O·OH·OW·K FLOPs (K = C/groups·9; the bias add, the bias gradient's sum, im2col and col2im are
/// not counted): per sample 225,792 (C1x16), 1,806,336 (C16x32), 3,612,672 (C32x32 and C64x64) and 112,896 (Dw32). The
/// <c>% peak</c> column compares with the FMA peak of <see cref="FmaPeakBenchmarks"/>. Buffers are 64-byte aligned and
/// filled with values in [−1, 1).
/// </summary>
[MemoryDiagnoser]
public class ConvolutionKernelBenchmarks
{
    private const long Flops1x16 = 2L * 16 * 28 * 28 * 9;
    private const long Flops16x32 = 2L * 32 * 14 * 14 * 144;
    private const long Flops32x32 = 2L * 32 * 14 * 14 * 288;
    private const long Flops64x64 = 2L * 64 * 7 * 7 * 576;
    private const long FlopsDw32 = 2L * 32 * 14 * 14 * 9;
    private const int MaxBatch = 64;

    private Layer _l1 = null!, _l2 = null!, _l3 = null!, _l4 = null!, _l5 = null!;

    /// <summary>Samples per call.</summary>
    [Params(16, 64)]
    public int Batch { get; set; }

    /// <summary>One thread; fills every layer's buffers.</summary>
    [GlobalSetup]
    public void Setup()
    {
        KernelParallelism.DegreeOfParallelism = 1;
        var random = new KernelRandom(7);
        _l1 = new Layer(new Conv2DGeometry(1, 28, 28, 16, 3, 3, padTop: 1, padLeft: 1, padBottom: 1, padRight: 1), ref random);
        _l2 = new Layer(new Conv2DGeometry(16, 14, 14, 32, 3, 3, padTop: 1, padLeft: 1, padBottom: 1, padRight: 1), ref random);
        _l3 = new Layer(new Conv2DGeometry(32, 14, 14, 32, 3, 3, padTop: 1, padLeft: 1, padBottom: 1, padRight: 1), ref random);
        _l4 = new Layer(new Conv2DGeometry(64, 7, 7, 64, 3, 3, padTop: 1, padLeft: 1, padBottom: 1, padRight: 1), ref random);
        _l5 = new Layer(new Conv2DGeometry(32, 14, 14, 32, 3, 3, padTop: 1, padLeft: 1, padBottom: 1, padRight: 1, groups: 32), ref random);
    }

    /// <summary>1 → 16 on 28×28, forward.</summary>
    [Benchmark, BenchmarkCategory("C1x16"), Flops(PerBatchRow = Flops1x16)]
    public void Forward_C1x16() => _l1.Forward(Batch);

    /// <summary>1 → 16 on 28×28, weight and bias gradients.</summary>
    [Benchmark, BenchmarkCategory("C1x16"), Flops(PerBatchRow = Flops1x16)]
    public void BackwardParameters_C1x16() => _l1.BackwardParameters(Batch);

    /// <summary>1 → 16 on 28×28, input gradient.</summary>
    [Benchmark, BenchmarkCategory("C1x16"), Flops(PerBatchRow = Flops1x16)]
    public void BackwardInput_C1x16() => _l1.BackwardInput(Batch);

    /// <summary>16 → 32 on 14×14, forward.</summary>
    [Benchmark, BenchmarkCategory("C16x32"), Flops(PerBatchRow = Flops16x32)]
    public void Forward_C16x32() => _l2.Forward(Batch);

    /// <summary>16 → 32 on 14×14, weight and bias gradients.</summary>
    [Benchmark, BenchmarkCategory("C16x32"), Flops(PerBatchRow = Flops16x32)]
    public void BackwardParameters_C16x32() => _l2.BackwardParameters(Batch);

    /// <summary>16 → 32 on 14×14, input gradient.</summary>
    [Benchmark, BenchmarkCategory("C16x32"), Flops(PerBatchRow = Flops16x32)]
    public void BackwardInput_C16x32() => _l2.BackwardInput(Batch);

    /// <summary>32 → 32 on 14×14, forward.</summary>
    [Benchmark, BenchmarkCategory("C32x32"), Flops(PerBatchRow = Flops32x32)]
    public void Forward_C32x32() => _l3.Forward(Batch);

    /// <summary>32 → 32 on 14×14, weight and bias gradients.</summary>
    [Benchmark, BenchmarkCategory("C32x32"), Flops(PerBatchRow = Flops32x32)]
    public void BackwardParameters_C32x32() => _l3.BackwardParameters(Batch);

    /// <summary>32 → 32 on 14×14, input gradient.</summary>
    [Benchmark, BenchmarkCategory("C32x32"), Flops(PerBatchRow = Flops32x32)]
    public void BackwardInput_C32x32() => _l3.BackwardInput(Batch);

    /// <summary>64 → 64 on 7×7, forward.</summary>
    [Benchmark, BenchmarkCategory("C64x64"), Flops(PerBatchRow = Flops64x64)]
    public void Forward_C64x64() => _l4.Forward(Batch);

    /// <summary>64 → 64 on 7×7, weight and bias gradients.</summary>
    [Benchmark, BenchmarkCategory("C64x64"), Flops(PerBatchRow = Flops64x64)]
    public void BackwardParameters_C64x64() => _l4.BackwardParameters(Batch);

    /// <summary>64 → 64 on 7×7, input gradient.</summary>
    [Benchmark, BenchmarkCategory("C64x64"), Flops(PerBatchRow = Flops64x64)]
    public void BackwardInput_C64x64() => _l4.BackwardInput(Batch);

    /// <summary>Depthwise 32 → 32 (32 groups) on 14×14, forward.</summary>
    [Benchmark, BenchmarkCategory("Dw32"), Flops(PerBatchRow = FlopsDw32)]
    public void Forward_Dw32() => _l5.Forward(Batch);

    /// <summary>Depthwise 32 → 32 (32 groups) on 14×14, weight and bias gradients.</summary>
    [Benchmark, BenchmarkCategory("Dw32"), Flops(PerBatchRow = FlopsDw32)]
    public void BackwardParameters_Dw32() => _l5.BackwardParameters(Batch);

    /// <summary>Depthwise 32 → 32 (32 groups) on 14×14, input gradient.</summary>
    [Benchmark, BenchmarkCategory("Dw32"), Flops(PerBatchRow = FlopsDw32)]
    public void BackwardInput_Dw32() => _l5.BackwardInput(Batch);

    /// <summary>One layer's geometry and buffers, sized for <see cref="MaxBatch"/> samples.</summary>
    private sealed class Layer
    {
        private readonly Conv2DGeometry _g;
        private readonly AlignedBuffer<float> _x, _w, _b, _y, _dy, _dw, _db, _dx, _scratch;

        public Layer(Conv2DGeometry g, ref KernelRandom random)
        {
            _g = g;
            _x = Filled(MaxBatch * g.InputSize, ref random);
            _w = Filled(g.WeightLength, ref random);
            _b = Filled(g.OutChannels, ref random);
            _dy = Filled(MaxBatch * g.OutputSize, ref random);
            _y = new AlignedBuffer<float>(MaxBatch * g.OutputSize);
            _dw = new AlignedBuffer<float>(g.WeightLength);
            _db = new AlignedBuffer<float>(g.OutChannels);
            _dx = new AlignedBuffer<float>(MaxBatch * g.InputSize);
            _scratch = new AlignedBuffer<float>(g.ScratchLength);
        }

        public void Forward(int batch) =>
            Convolution.Forward<float, IdentityOp<float>>(_x.Span, _w.Span, _b.Span, _y.Span, _scratch.Span, batch, _g);

        public void BackwardParameters(int batch) =>
            Convolution.BackwardParameters<float>(_x.Span, _dy.Span, _dw.Span, _db.Span, _scratch.Span, batch, _g);

        public void BackwardInput(int batch) =>
            Convolution.BackwardInput<float>(_dy.Span, _w.Span, _dx.Span, _scratch.Span, batch, _g);

        private static AlignedBuffer<float> Filled(int length, ref KernelRandom random)
        {
            var buffer = new AlignedBuffer<float>(length);
            Span<float> span = buffer.Span;
            for (int i = 0; i < span.Length; i++) span[i] = (float)(2 * random.NextDouble() - 1);
            return buffer;
        }
    }
}
