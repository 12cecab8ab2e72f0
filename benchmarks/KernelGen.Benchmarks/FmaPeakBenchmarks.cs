using System;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace KernelGen.Benchmarks;

/// <summary>
/// The machine's single-core fused multiply-add peak: 12 independent accumulator chains (enough to cover the FMA
/// latency × throughput product of current x86 cores: 4 cycles × 2 pipes = 8), <see cref="Iterations"/> steps each,
/// nothing but FMAs in the loop. Each FMA counts 2 FLOPs per lane.
/// </summary>
/// <remarks>
/// <c>Vector512</c> under the <c>AVX2</c> job (AVX-512 off) runs the JIT's software fallback and is not a peak; read the
/// <c>Vector256</c> row there.
/// </remarks>
[MemoryDiagnoser]
public class FmaPeakBenchmarks
{
    /// <summary>Loop steps per call (each step: 12 FMAs).</summary>
    public const int Iterations = 100_000;

    private float _seed = 1e-3f;

    /// <summary>12 chains of <see cref="Vector512{T}"/> FMAs: 12·16·2 FLOPs per step.</summary>
    [Benchmark, Flops(PerCall = 12L * 16 * 2 * Iterations)]
    public float Vector512Fma() => FmaPeak.Run512(_seed, Iterations);

    /// <summary>12 chains of <see cref="Vector256{T}"/> FMAs: 12·8·2 FLOPs per step.</summary>
    [Benchmark, Flops(PerCall = 12L * 8 * 2 * Iterations)]
    public float Vector256Fma() => FmaPeak.Run256(_seed, Iterations);
}

/// <summary>The FMA peak loops, and a quick in-process measurement of them for <see cref="PeakShareColumn"/>.</summary>
public static class FmaPeak
{
    private static double s_peak512 = -1, s_peak256 = -1;

    /// <summary>12 independent chains a = a·m + c of Vector512; returns a lane sum so nothing is dead.</summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    public static float Run512(float seed, int iterations)
    {
        Vector512<float> m = Vector512.Create(0.999999f), c = Vector512.Create(seed);
        Vector512<float> a0 = c, a1 = c + c, a2 = a1 + c, a3 = a2 + c, a4 = a3 + c, a5 = a4 + c;
        Vector512<float> a6 = a5 + c, a7 = a6 + c, a8 = a7 + c, a9 = a8 + c, a10 = a9 + c, a11 = a10 + c;
        for (int i = 0; i < iterations; i++)
        {
            a0 = Vector512.FusedMultiplyAdd(a0, m, c); a1 = Vector512.FusedMultiplyAdd(a1, m, c);
            a2 = Vector512.FusedMultiplyAdd(a2, m, c); a3 = Vector512.FusedMultiplyAdd(a3, m, c);
            a4 = Vector512.FusedMultiplyAdd(a4, m, c); a5 = Vector512.FusedMultiplyAdd(a5, m, c);
            a6 = Vector512.FusedMultiplyAdd(a6, m, c); a7 = Vector512.FusedMultiplyAdd(a7, m, c);
            a8 = Vector512.FusedMultiplyAdd(a8, m, c); a9 = Vector512.FusedMultiplyAdd(a9, m, c);
            a10 = Vector512.FusedMultiplyAdd(a10, m, c); a11 = Vector512.FusedMultiplyAdd(a11, m, c);
        }
        return Vector512.Sum(((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7)) + ((a8 + a9) + (a10 + a11)));
    }

    /// <summary>12 independent chains a = a·m + c of Vector256; returns a lane sum so nothing is dead.</summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    public static float Run256(float seed, int iterations)
    {
        Vector256<float> m = Vector256.Create(0.999999f), c = Vector256.Create(seed);
        Vector256<float> a0 = c, a1 = c + c, a2 = a1 + c, a3 = a2 + c, a4 = a3 + c, a5 = a4 + c;
        Vector256<float> a6 = a5 + c, a7 = a6 + c, a8 = a7 + c, a9 = a8 + c, a10 = a9 + c, a11 = a10 + c;
        for (int i = 0; i < iterations; i++)
        {
            a0 = Vector256.FusedMultiplyAdd(a0, m, c); a1 = Vector256.FusedMultiplyAdd(a1, m, c);
            a2 = Vector256.FusedMultiplyAdd(a2, m, c); a3 = Vector256.FusedMultiplyAdd(a3, m, c);
            a4 = Vector256.FusedMultiplyAdd(a4, m, c); a5 = Vector256.FusedMultiplyAdd(a5, m, c);
            a6 = Vector256.FusedMultiplyAdd(a6, m, c); a7 = Vector256.FusedMultiplyAdd(a7, m, c);
            a8 = Vector256.FusedMultiplyAdd(a8, m, c); a9 = Vector256.FusedMultiplyAdd(a9, m, c);
            a10 = Vector256.FusedMultiplyAdd(a10, m, c); a11 = Vector256.FusedMultiplyAdd(a11, m, c);
        }
        return Vector256.Sum(((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7)) + ((a8 + a9) + (a10 + a11)));
    }

    /// <summary>
    /// The single-core peak in GFLOP/s for 512- or 256-bit FMAs, measured once in this process (best of 200 runs of
    /// 20,000 steps, about 0.1 s) and cached; 0 if that width is not hardware-accelerated here.
    /// </summary>
    public static double Measure(int width)
    {
        if (width == 512)
        {
            if (s_peak512 < 0) s_peak512 = Vector512.IsHardwareAccelerated ? Best(Run512, 16) : 0;
            return s_peak512;
        }
        if (s_peak256 < 0) s_peak256 = Vector256.IsHardwareAccelerated ? Best(Run256, 8) : 0;
        return s_peak256;

        static double Best(Func<float, int, float> run, int lanes)
        {
            const int steps = 20_000;
            double best = double.MaxValue;
            float sink = 0;
            for (int r = 0; r < 200; r++)
            {
                long start = Stopwatch.GetTimestamp();
                sink += run(1e-3f, steps);
                best = Math.Min(best, Stopwatch.GetElapsedTime(start).TotalNanoseconds);
            }
            GC.KeepAlive(sink);
            return 12.0 * lanes * 2 * steps / best; // FLOP/ns = GFLOP/s
        }
    }
}

/// <summary>
/// The FLOP rate as a share of the single-core FMA peak measured in the host process (<see cref="FmaPeak.Measure"/>):
/// the 256-bit peak for jobs that turn AVX-512 off, else the 512-bit peak. Two-thread rows can exceed 100 %.
/// </summary>
public sealed class PeakShareColumn : IColumn
{
    /// <summary>The shared instance.</summary>
    public static readonly PeakShareColumn Instance = new();

    /// <inheritdoc/>
    public string Id => nameof(PeakShareColumn);
    /// <inheritdoc/>
    public string ColumnName => "% peak";
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
    public string Legend => "GFLOP/s as a percentage of the single-core FMA peak of the job's vector width, measured in the host process (FmaPeak.Measure)";

    /// <inheritdoc/>
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, summary.Style);

    /// <inheritdoc/>
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        long? flops = GflopsColumn.Flops(benchmarkCase);
        double? meanNs = summary[benchmarkCase]?.ResultStatistics?.Mean;
        if (flops is null || meanNs is not > 0) return "-";
        bool avx512Off = false;
        foreach (var variable in benchmarkCase.Job.Environment.EnvironmentVariables ?? [])
            if (variable.Key == "DOTNET_EnableAVX512" && variable.Value == "0") avx512Off = true;
        double peak = FmaPeak.Measure(avx512Off ? 256 : 512);
        if (peak <= 0) peak = FmaPeak.Measure(256);
        if (peak <= 0) return "-";
        return (100 * flops.Value / meanNs.Value / peak).ToString("F1", CultureInfo.InvariantCulture);
    }

    /// <inheritdoc/>
    public bool IsAvailable(Summary summary) => true;
    /// <inheritdoc/>
    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
    /// <inheritdoc/>
    public override string ToString() => ColumnName;
}
