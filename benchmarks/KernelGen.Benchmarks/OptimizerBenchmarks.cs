using System;
using System.Globalization;
using System.Reflection;
using System.Runtime.Intrinsics;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using KernelGen.Optimization;

namespace KernelGen.Benchmarks;

/// <summary>Declares the bytes of memory traffic per element of one call: reads plus writes, counted once each.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class BytesPerElementAttribute(int bytes) : Attribute
{
    /// <summary>Bytes moved per element for float (the benchmark's element type).</summary>
    public int Bytes { get; } = bytes;
}

/// <summary>Memory throughput at the mean time: bytes per element (<see cref="BytesPerElementAttribute"/>) × the <c>Length</c> parameter / mean.</summary>
public sealed class BandwidthColumn : IColumn
{
    /// <summary>The shared instance.</summary>
    public static readonly BandwidthColumn Instance = new();
    /// <inheritdoc/>
    public string Id => nameof(BandwidthColumn);
    /// <inheritdoc/>
    public string ColumnName => "GB/s";
    /// <inheritdoc/>
    public bool AlwaysShow => true;
    /// <inheritdoc/>
    public ColumnCategory Category => ColumnCategory.Custom;
    /// <inheritdoc/>
    public int PriorityInCategory => 1;
    /// <inheritdoc/>
    public bool IsNumeric => true;
    /// <inheritdoc/>
    public UnitType UnitType => UnitType.Dimensionless;
    /// <inheritdoc/>
    public string Legend => "Memory traffic (reads + writes of every array, once each) per second at the mean time; 10^9 B/s";

    private static (int Bytes, long Length)? Work(BenchmarkCase c)
    {
        BytesPerElementAttribute? bytes = c.Descriptor.WorkloadMethod.GetCustomAttribute<BytesPerElementAttribute>();
        if (bytes is null) return null;
        foreach (var p in c.Parameters.Items) if (p.Name == "Length" && p.Value is int n) return (bytes.Bytes, n);
        return null;
    }

    /// <inheritdoc/>
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, summary.Style);

    /// <inheritdoc/>
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        double? mean = summary[benchmarkCase]?.ResultStatistics?.Mean;
        if (Work(benchmarkCase) is not { } w || mean is not > 0) return "-";
        return ((double)w.Bytes * w.Length / mean.Value).ToString("F1", CultureInfo.InvariantCulture); // B/ns = GB/s
    }

    /// <inheritdoc/>
    public bool IsAvailable(Summary summary) => true;
    /// <inheritdoc/>
    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
    /// <inheritdoc/>
    public override string ToString() => ColumnName;
}

/// <summary>Parameters updated per second: the <c>Length</c> parameter / mean.</summary>
public sealed class ParamRateColumn : IColumn
{
    /// <summary>The shared instance.</summary>
    public static readonly ParamRateColumn Instance = new();
    /// <inheritdoc/>
    public string Id => nameof(ParamRateColumn);
    /// <inheritdoc/>
    public string ColumnName => "Gparam/s";
    /// <inheritdoc/>
    public bool AlwaysShow => true;
    /// <inheritdoc/>
    public ColumnCategory Category => ColumnCategory.Custom;
    /// <inheritdoc/>
    public int PriorityInCategory => 2;
    /// <inheritdoc/>
    public bool IsNumeric => true;
    /// <inheritdoc/>
    public UnitType UnitType => UnitType.Dimensionless;
    /// <inheritdoc/>
    public string Legend => "Elements processed per second at the mean time; 10^9/s";

    /// <inheritdoc/>
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, summary.Style);

    /// <inheritdoc/>
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        double? mean = summary[benchmarkCase]?.ResultStatistics?.Mean;
        if (mean is not > 0 || benchmarkCase.Descriptor.WorkloadMethod.GetCustomAttribute<BytesPerElementAttribute>() is null) return "-";
        foreach (var p in benchmarkCase.Parameters.Items)
            if (p.Name == "Length" && p.Value is int n) return (n / mean.Value).ToString("F2", CultureInfo.InvariantCulture);
        return "-";
    }

    /// <inheritdoc/>
    public bool IsAvailable(Summary summary) => true;
    /// <inheritdoc/>
    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
    /// <inheritdoc/>
    public override string ToString() => ColumnName;
}

/// <summary>
/// The machine's own memory bandwidth, measured the STREAM way on arrays far larger than the caches: copy (a = b) and
/// triad (a = b + s·c), single thread, Vector512 loads and stores. The optimizer rows are judged against these.
/// </summary>
public class BandwidthBenchmarks
{
    private AlignedBuffer<float> _a = null!, _b = null!, _c = null!;

    /// <summary>Elements per array: 16 Mi floats = 64 MiB, twice the L3 of one Zen 5 CCD.</summary>
    [Params(16 * 1024 * 1024)]
    public int Length { get; set; }

    /// <summary>Allocates and touches the arrays.</summary>
    [GlobalSetup]
    public void Setup()
    {
        _a = new AlignedBuffer<float>(Length); _b = new AlignedBuffer<float>(Length); _c = new AlignedBuffer<float>(Length);
        _b.Span.Fill(1); _c.Span.Fill(2); _a.Span.Fill(0);
    }

    /// <summary>a = b.</summary>
    [Benchmark, BytesPerElement(8)]
    public void Copy() => _b.Span.CopyTo(_a.Span);

    /// <summary>a = b + 3·c.</summary>
    [Benchmark, BytesPerElement(12)]
    public void Triad()
    {
        Span<float> a = _a.Span;
        ReadOnlySpan<float> b = _b.Span, c = _c.Span;
        int i = 0;
        var s = Vector512.Create(3f);
        for (; i + 16 <= a.Length; i += 16)
        {
            var vb = Vector512.Create(b.Slice(i, 16));
            var vc = Vector512.Create(c.Slice(i, 16));
            (vb + s * vc).CopyTo(a.Slice(i, 16));
        }
        for (; i < a.Length; i++) a[i] = b[i] + 3 * c[i];
    }
}

/// <summary>
/// One optimizer step over a parameter arena of <see cref="Length"/> floats (one weight tensor, so weight decay and the
/// fused transform are on the path when configured). Bytes per element count each array read and written once:
/// Adam reads θ, g, m, v and writes θ, m, v (28 B); SGD-momentum and RMSProp read θ, g and one state and write θ and
/// the state (20 B). "Dead" rows keep the gradient exactly 0 after a warm start, which drives the moments toward
/// denormals (flushed to zero by the kernels).
/// </summary>
public class OptimizerBenchmarks
{
    private AlignedBuffer<float> _p = null!, _g = null!, _zero = null!;
    private Optimizer<float> _adam = null!, _momentum = null!, _rmsProp = null!, _adamDead = null!;

    /// <summary>Parameters: the 784-256-128-10 MLP's 235,146 (cache-resident), 1M and 10M (memory-sized).</summary>
    [Params(235_146, 1_000_000, 10_000_000)]
    public int Length { get; set; }

    /// <summary>Builds the optimizers and arenas.</summary>
    [GlobalSetup]
    public void Setup()
    {
        _p = new AlignedBuffer<float>(Length);
        _g = new AlignedBuffer<float>(Length);
        _zero = new AlignedBuffer<float>(Length);
        var random = new KernelRandom(1);
        for (int i = 0; i < Length; i++) { _p.Span[i] = (float)random.NextGaussian() * 0.05f; _g.Span[i] = (float)random.NextGaussian() * 1e-3f; }
        var tensors = new[] { new ParameterTensor("W", 0, 1, Length, true) };
        _adam = new Optimizer<float>(OptimizerSettings.Create(OptimizerKind.Adam, 1e-9), Length, tensors);
        _momentum = new Optimizer<float>(OptimizerSettings.Create(OptimizerKind.Sgd, 1e-9) with { Momentum = 0.9 }, Length, tensors);
        _rmsProp = new Optimizer<float>(OptimizerSettings.Create(OptimizerKind.RmsProp, 1e-9), Length, tensors);
        _adamDead = new Optimizer<float>(OptimizerSettings.Create(OptimizerKind.Adam, 1e-9), Length, tensors);
        _adamDead.Step(_p.Span, _g.Span);
        for (int i = 0; i < 2000; i++) _adamDead.Step(_p.Span, _zero.Span); // moments decay toward the denormal range
    }

    /// <summary>Adam, live gradients.</summary>
    [Benchmark, BytesPerElement(28)]
    public void Adam() => _adam.Step(_p.Span, _g.Span);

    /// <summary>Adam on dead units (gradient exactly 0, moments flushed instead of denormal).</summary>
    [Benchmark, BytesPerElement(28)]
    public void AdamDeadUnits() => _adamDead.Step(_p.Span, _zero.Span);

    /// <summary>SGD with momentum 0.9.</summary>
    [Benchmark, BytesPerElement(20)]
    public void SgdMomentum() => _momentum.Step(_p.Span, _g.Span);

    /// <summary>The check TrainStep and ApplyGradients make before every update: the gradients' sum of squares (finite
    /// proves every gradient finite with a finite square). Reads g only (4 B).</summary>
    [Benchmark, BytesPerElement(4)]
    public float GradientCheck() => KernelGen.Operators.Elementwise.SumOfSquares<float>(_g.Span);

    /// <summary>RMSProp.</summary>
    [Benchmark, BytesPerElement(20)]
    public void RmsProp() => _rmsProp.Step(_p.Span, _g.Span);
}
