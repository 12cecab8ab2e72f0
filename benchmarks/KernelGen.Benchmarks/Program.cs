using System;
using System.Collections.Generic;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using KernelGen.Benchmarks;

// Runs the KernelGen benchmarks. Every benchmark runs in two jobs: "AVX512" is the machine's default (Vector512 on
// AVX-512 hardware) and "AVX2" turns AVX-512 off so the kernels take their Vector256 path. .NET 10 reads the knob
// DOTNET_EnableAVX512 and ignores the older DOTNET_EnableAVX512F (which .NET 8 and 9 read), so the job sets both;
// the "HardwareIntrinsics=" line BenchmarkDotNet logs for each benchmark shows what the child process got.
// The extra option `--width 512` or `--width 256` keeps one of the two jobs; every other argument goes to
// BenchmarkDotNet, e.g.
//   dotnet run -c Release --project benchmarks/KernelGen.Benchmarks -- --filter '*'
// The jobs are short (1 launch, 3 warmup and 10 measured iterations); the whole suite (about 100 benchmarks over both
// jobs) takes roughly half an hour on a 2-core machine. Raise the counts of `quick` below for more careful numbers.

var benchmarkArgs = new List<string>();
string width = "all";
for (int i = 0; i < args.Length; i++)
{
    if (args[i] == "--width" && i + 1 < args.Length) width = args[++i];
    else if (args[i] == "--accuracy") // the reduced precisions' Fashion-MNIST cost, not a benchmark: --accuracy [epochs] [seeds]
    {
        int epochs = i + 1 < args.Length && int.TryParse(args[i + 1], out int e) ? e : 10;
        int seeds = i + 2 < args.Length && int.TryParse(args[i + 2], out int s) ? s : 3;
        return PrecisionAccuracy.Run(epochs, seeds);
    }
    else benchmarkArgs.Add(args[i]);
}
if (width is not ("all" or "512" or "256"))
{
    Console.Error.WriteLine($"--width must be 512, 256 or all, not '{width}'.");
    return 1;
}

Job quick = Job.Default.WithLaunchCount(1).WithWarmupCount(3).WithIterationCount(10);
var config = ManualConfig.Create(DefaultConfig.Instance)
    .AddDiagnoser(MemoryDiagnoser.Default)
    .AddColumn(StatisticColumn.Median, GflopsColumn.Instance, PeakShareColumn.Instance, BandwidthColumn.Instance, ParamRateColumn.Instance)
    .HideColumns("EnvironmentVariables"); // the Job column names the width; the variables are set just below
if (width != "256") config.AddJob(quick.WithId("AVX512"));
if (width != "512")
{
    config.AddJob(quick.WithEnvironmentVariables(
        new EnvironmentVariable("DOTNET_EnableAVX512", "0"),
        new EnvironmentVariable("DOTNET_EnableAVX512F", "0")).WithId("AVX2"));
}

BenchmarkSwitcher.FromAssembly(typeof(MlpTrainStepBenchmarks).Assembly).Run(benchmarkArgs.ToArray(), config);
return 0;
