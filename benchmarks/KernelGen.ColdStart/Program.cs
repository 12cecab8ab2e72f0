using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using KernelGen;

// Time-to-first-fast-call of a generated network in a fresh process. The parent starts one child process per
// configuration (default tiered JIT; tiered JIT after Warmup.Run; tiered compilation off) and prints a table. Each
// child builds the 784-256-128-10 MLP, then times its first 2000 calls of Predict at batch 1 and of TrainStep at
// batch 32 one by one, and reports the first call, the median of the last 500 calls (steady state) and the time
// from which calls stay near steady state (a 50-call window's median within 1.25×).
//   dotnet run -c Release --project benchmarks/KernelGen.ColdStart
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
if (args.Length == 2 && args[0] == "--child") return Child(args[1]);

string self = Environment.ProcessPath!;
string dll = Path.Combine(AppContext.BaseDirectory, "KernelGen.ColdStart.dll");
var configurations = new List<(string Name, string Mode, Dictionary<string, string> Environment, string? Program)>
{
    ("tiered JIT (default)", "plain", new(), null),
    ("tiered JIT + Warmup.Run (400 ms)", "warmup", new(), null),
    ("TieredCompilation=0", "plain", new() { ["DOTNET_TieredCompilation"] = "0" }, null),
};
// --aot PATH adds the same measurement for a NativeAOT build of this program:
//   dotnet publish benchmarks/KernelGen.ColdStart -c Release -r linux-x64 -p:NativeAot=true -o /tmp/kernelgen-aot
if (args.Length == 2 && args[0] == "--aot") configurations.Add(("NativeAOT", "plain", new(), args[1]));
Console.WriteLine("| configuration | call | first call | median of calls 1–100 | steady state (median of calls 1501–2000) | fast from | construction (+ warm-up) |");
Console.WriteLine("|---|---|---:|---:|---:|---|---:|");
foreach (var (name, mode, environment, program) in configurations)
{
    var start = new ProcessStartInfo(program ?? self)
    {
        RedirectStandardOutput = true,
        UseShellExecute = false,
    };
    if (program is null && Path.GetFileNameWithoutExtension(self) == "dotnet") start.ArgumentList.Add(dll);
    start.ArgumentList.Add("--child");
    start.ArgumentList.Add(mode);
    foreach (var (key, value) in environment) start.Environment[key] = value;
    using Process child = Process.Start(start)!;
    string output = child.StandardOutput.ReadToEnd();
    child.WaitForExit();
    foreach (string line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        Console.WriteLine($"| {name} | {line.Trim()}");
}
return 0;

static int Child(string mode)
{
    var clock = Stopwatch.StartNew();
    var net = new ColdMlp(maxBatchSize: 32, seed: 1);
    var random = new KernelRandom(5);
    float[] x = new float[32 * 784];
    for (int i = 0; i < x.Length; i++) x[i] = (float)random.NextDouble();
    int[] y = new int[32];
    for (int i = 0; i < y.Length; i++) y[i] = random.NextInt(10);
    float[] output = new float[10];
    if (mode == "warmup") Warmup.Run(net);
    double ready = clock.Elapsed.TotalMilliseconds;
    Report("Predict, batch 1", () => net.Predict(x.AsSpan(0, 784), output), clock, ready);
    Report("TrainStep, batch 32", () => net.TrainStep(x, y), clock, ready);
    return 0;
}

static void Report(string name, Action call, Stopwatch clock, double ready)
{
    const int calls = 2000, window = 50;
    var times = new double[calls];
    double begin = clock.Elapsed.TotalMilliseconds;
    var ends = new double[calls];
    for (int i = 0; i < calls; i++)
    {
        long t0 = Stopwatch.GetTimestamp();
        call();
        times[i] = Stopwatch.GetElapsedTime(t0).TotalMicroseconds;
        ends[i] = clock.Elapsed.TotalMilliseconds - begin;
    }
    double steady = Median(times.AsSpan(calls - 500));
    double first100 = Median(times.AsSpan(0, 100));
    // Fast from: the first call from which a window of 50 calls has its median within 1.25× of steady state.
    int fast = 0;
    while (fast + window < calls && Median(times.AsSpan(fast, window)) > 1.25 * steady) fast++;
    string fastFrom = fast == 0 ? "call 1" : $"call {fast + 1}, {ends[fast - 1]:F0} ms in";
    Console.WriteLine($"{name} | {times[0]:F0} µs | {first100:F1} µs | {steady:F1} µs | {fastFrom} | {ready:F0} ms |");
}

static double Median(ReadOnlySpan<double> values)
{
    double[] sorted = values.ToArray();
    Array.Sort(sorted);
    return sorted[sorted.Length / 2];
}

/// <summary>The benchmark MLP: 784 → 256 ReLU → 128 ReLU → 10, softmax cross-entropy, SGD.</summary>
[Network(784)]
[Dense(256, Activation.ReLU)]
[Dense(128, Activation.ReLU)]
[Dense(10)]
[SoftmaxCrossEntropyLoss]
[Sgd(0.01)]
public partial class ColdMlp;
