using System;
using System.Globalization;
using System.Reflection;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace KernelGen.Benchmarks;

/// <summary>
/// Declares how many floating-point operations one call of a benchmark method performs:
/// <see cref="PerCall"/> + <see cref="PerBatchRow"/> × the benchmark's <c>Batch</c> parameter (if it has one).
/// A multiply-add counts as 2 FLOPs.
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class FlopsAttribute : Attribute
{
    /// <summary>FLOPs that do not depend on the batch size.</summary>
    public long PerCall { get; set; }

    /// <summary>FLOPs per batch row (multiplied by the <c>Batch</c> parameter).</summary>
    public long PerBatchRow { get; set; }
}

/// <summary>A summary column with the FLOP rate at the mean time: FLOPs (from <see cref="FlopsAttribute"/>) / mean.</summary>
public sealed class GflopsColumn : IColumn
{
    /// <summary>The shared instance.</summary>
    public static readonly GflopsColumn Instance = new();

    /// <inheritdoc/>
    public string Id => nameof(GflopsColumn);
    /// <inheritdoc/>
    public string ColumnName => "GFLOP/s";
    /// <inheritdoc/>
    public bool AlwaysShow => true;
    /// <inheritdoc/>
    public ColumnCategory Category => ColumnCategory.Custom;
    /// <inheritdoc/>
    public int PriorityInCategory => 0;
    /// <inheritdoc/>
    public bool IsNumeric => true;
    /// <inheritdoc/>
    public UnitType UnitType => UnitType.Dimensionless;
    /// <inheritdoc/>
    public string Legend => "Floating-point operations (a multiply-add counts as 2) per second, at the mean time; 10^9/s";

    /// <summary>The FLOPs of one call of <paramref name="benchmarkCase"/>, or null if the method declares none.</summary>
    public static long? Flops(BenchmarkCase benchmarkCase)
    {
        FlopsAttribute? flops = benchmarkCase.Descriptor.WorkloadMethod.GetCustomAttribute<FlopsAttribute>();
        if (flops is null) return null;
        long batch = 0;
        foreach (var parameter in benchmarkCase.Parameters.Items)
            if (parameter.Name == "Batch" && parameter.Value is int b) batch = b;
        return flops.PerCall + flops.PerBatchRow * batch;
    }

    /// <inheritdoc/>
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, summary.Style);

    /// <inheritdoc/>
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        long? flops = Flops(benchmarkCase);
        double? meanNs = summary[benchmarkCase]?.ResultStatistics?.Mean;
        if (flops is null || meanNs is not > 0) return "-";
        return (flops.Value / meanNs.Value).ToString("F2", CultureInfo.InvariantCulture); // FLOP/ns = GFLOP/s
    }

    /// <inheritdoc/>
    public bool IsAvailable(Summary summary) => true;
    /// <inheritdoc/>
    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
    /// <inheritdoc/>
    public override string ToString() => ColumnName;
}
