using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Numerics;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using KernelGen;
using KernelGen.Catalog;
using KernelGen.Interop;
using KernelGen.Tests;
using Xunit;
using Xunit.Abstractions;

namespace KernelGen.Toolkit.Tests;

// One network per optimizer, each with non-default settings and weight decay, to check the exported optimizer and loss
// step for step against KernelGen's TrainStep (no dropout: PyTorch draws its own masks).
[Network(5)] [Dense(6, Activation.Tanh)] [BatchNorm] [Dense(3)] [SoftmaxCrossEntropyLoss(LabelSmoothing = 0.1)]
[Sgd(0.1, Momentum = 0.8, Dampening = 0.1, WeightDecay = 0.01)]
public partial class TorchSgdNet;

[Network(5)] [Dense(6, Activation.Tanh)] [BatchNorm] [Dense(3)] [SoftmaxCrossEntropyLoss]
[Sgd(0.1, Momentum = 0.9, Nesterov = true, WeightDecay = 0.01)]
public partial class TorchNesterovNet;

[Network(5)] [Dense(6, Activation.GELU)] [LayerNorm] [Dense(3)] [HingeLoss(Margin = 0.5)]
[AdaGrad(0.1, LearningRateDecay = 0.01, InitialAccumulator = 0.1, WeightDecay = 0.01)]
public partial class TorchAdaGradNet;

[Network(5)] [Dense(6, Activation.ELU)] [Dense(3)] [L2Loss]
[RmsProp(0.01, Alpha = 0.9, Momentum = 0.5, Centered = true, WeightDecay = 0.01)]
public partial class TorchRmsPropNet;

// (No BatchNorm right after a dense layer here: its bias gradient is 0 up to rounding, which Adam's m/√v turns into
// steps of ±η that depend on the rounding — the SGD networks above cover BatchNorm.)
[Network(5)] [Dense(6, Activation.ReLU)] [Dense(4)] [GroupNorm(2)] [Dense(3)] [KLDivergenceLoss]
[Adam(0.01, Beta1 = 0.8, Beta2 = 0.99, WeightDecay = 0.01)]
public partial class TorchAdamNet;

[Network(5)] [Dense(6, Activation.SiLU)] [Dense(3)] [BinaryCrossEntropyLoss]
[AdamW(0.01, WeightDecay = 0.05)]
public partial class TorchAdamWNet;

[Network(5)] [Maxout(4, 3)] [Dense(3)] [SoftmaxCrossEntropyLoss]
[NAdam(0.01, MomentumDecay = 0.01, WeightDecay = 0.01)]
public partial class TorchNAdamNet;

[Network(5)] [Dense(6, Activation.Softplus)] [Dense(3)] [L2Loss]
[AdaDelta(1.0, Rho = 0.8, WeightDecay = 0.01)]
public partial class TorchAdaDeltaNet;

[Network(1, 4, 4)] [Flatten] [Dense(6, Activation.ReLU)] [BatchNorm] [Dropout(0.3)] [Dense(3)] [SoftmaxCrossEntropyLoss]
[Adam(0.01)]
public partial class TorchImageNet;

/// <summary>
/// The path to PyTorch and back, run by Debian's python3-torch: every catalog op exported as an nn.Module with its
/// weights must compute what KernelGen computes (outputs and loss, evaluation mode); weights trained in PyTorch must load
/// back into KernelGen and give PyTorch's outputs; and the exported loss and optimizer must take the same steps as
/// KernelGen's TrainStep for every optimizer.
/// </summary>
public sealed partial class PyTorchExportTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("kernelgen-torch-").FullName;

    public void Dispose()
    {
        try { Directory.Delete(_work, recursive: true); } catch (IOException) { }
    }

    private sealed record Job(string Name, string Module, string Class, int[] InputShape, string Labels, int Batch, int Steps, bool Double = false);

    [Fact]
    public void Every_catalog_op_runs_in_pytorch_as_in_kernelgen()
    {
        var jobs = new List<Job>();
        var expected = new Dictionary<string, (float[] Outputs, float Loss)>();
        foreach (CatalogCompiler.Entry entry in CatalogCompiler.Networks)
        {
            INeuralNetwork<float> net = CatalogCompiler.CreateFloat32(entry, 7, seed: 5);
            OnnxExportTests.Randomize(net, 17);
            (float[] x, string labels, float[]? targets, int[]? classes) = Data(net, entry.Labels, 7, 31);
            var y = new float[7 * net.OutputSize];
            net.Predict(x, y);
            // The data loss alone (the exported loss_fn; penalties are their own function).
            float loss = float.NaN;
            if (net is Runtime.LossNetworkBase<float, int> c) { c.Loss(x, classes!); loss = c.LastDataLoss; }
            if (net is Runtime.LossNetworkBase<float, float> t) { t.Loss(x, targets!); loss = t.LastDataLoss; }
            expected[entry.ClassName] = (y, loss);
            jobs.Add(Write(net, entry.ClassName, x, labels, targets, classes, 7, steps: 0));
        }
        Dictionary<string, Result> results = RunPython(jobs);
        foreach (CatalogCompiler.Entry entry in CatalogCompiler.Networks)
        {
            Result r = results[entry.ClassName];
            AssertClose(expected[entry.ClassName].Outputs, r.Outputs, 2e-5, $"{entry}: outputs");
            if (!float.IsNaN(expected[entry.ClassName].Loss))
                AssertClose([expected[entry.ClassName].Loss], [r.Loss], 2e-5, $"{entry}: loss");
        }
    }

    /// <summary>
    /// Each loss under each reduction against PyTorch's own functional loss with its own <c>reduction</c> argument, written
    /// here from PyTorch's documentation (not from the catalog): KernelGen's data loss of the double network must be
    /// PyTorch's on the same outputs within 1e-10.
    /// </summary>
    [Fact]
    public void Every_loss_reduction_is_pytorchs()
    {
        // KernelGen (loss, reduction) → PyTorch, on outputs y and labels or targets t.
        var torch = new Dictionary<(LossKind, LossReduction), string>
        {
            [(LossKind.SoftmaxCrossEntropy, LossReduction.BatchMean)] = "F.cross_entropy(y, t, reduction='mean')",
            [(LossKind.SoftmaxCrossEntropy, LossReduction.Mean)] = "F.cross_entropy(y, t, reduction='mean')",
            [(LossKind.SoftmaxCrossEntropy, LossReduction.Sum)] = "F.cross_entropy(y, t, reduction='sum')",
            [(LossKind.L2, LossReduction.BatchMean)] = "0.5 * F.mse_loss(y, t, reduction='sum') / y.shape[0]",
            [(LossKind.L2, LossReduction.Mean)] = "0.5 * F.mse_loss(y, t, reduction='mean')",
            [(LossKind.L2, LossReduction.Sum)] = "0.5 * F.mse_loss(y, t, reduction='sum')",
            [(LossKind.KLDivergence, LossReduction.BatchMean)] = "F.kl_div(F.log_softmax(y, dim=-1), t, reduction='batchmean')",
            [(LossKind.KLDivergence, LossReduction.Mean)] = "F.kl_div(F.log_softmax(y, dim=-1), t, reduction='mean')",
            [(LossKind.KLDivergence, LossReduction.Sum)] = "F.kl_div(F.log_softmax(y, dim=-1), t, reduction='sum')",
            // PyTorch's multi-margin loss divides each sample's sum by the class count whatever the reduction.
            [(LossKind.Hinge, LossReduction.BatchMean)] = "F.multi_margin_loss(y, t, margin=1.0, reduction='mean') * y.shape[1]",
            [(LossKind.Hinge, LossReduction.Mean)] = "F.multi_margin_loss(y, t, margin=1.0, reduction='mean')",
            [(LossKind.Hinge, LossReduction.Sum)] = "F.multi_margin_loss(y, t, margin=1.0, reduction='sum') * y.shape[1]",
            [(LossKind.BinaryCrossEntropy, LossReduction.BatchMean)] = "F.binary_cross_entropy_with_logits(y, t, reduction='sum') / y.shape[0]",
            [(LossKind.BinaryCrossEntropy, LossReduction.Mean)] = "F.binary_cross_entropy_with_logits(y, t, reduction='mean')",
            [(LossKind.BinaryCrossEntropy, LossReduction.Sum)] = "F.binary_cross_entropy_with_logits(y, t, reduction='sum')",
            [(LossKind.NegativeLogLikelihood, LossReduction.BatchMean)] = "F.nll_loss(y, t, reduction='mean')",
            [(LossKind.NegativeLogLikelihood, LossReduction.Mean)] = "F.nll_loss(y, t, reduction='mean')",
            [(LossKind.NegativeLogLikelihood, LossReduction.Sum)] = "F.nll_loss(y, t, reduction='sum')",
        };
        var cases = new List<Dictionary<string, object>>();
        var expected = new Dictionary<string, double>();
        foreach (CatalogCompiler.Entry entry in CatalogCompiler.Networks.Where(e => e.Loss is not null))
        {
            const int batch = 6;
            INeuralNetwork<double> net = CatalogCompiler.CreateFloat64(entry, batch, seed: 11);
            var random = new Random(23);
            double[] x = [.. Enumerable.Range(0, batch * net.InputSize).Select(_ => random.NextDouble() * 3 - 1.5)];
            var y = new double[batch * net.OutputSize];
            net.Predict(x, y);
            int k = net.OutputSize;
            double[] t;
            if (entry.Labels == LabelKind.ClassIndex) t = [.. Enumerable.Range(0, batch).Select(_ => (double)random.Next(k))];
            else if (entry.Labels == LabelKind.Distributions)
            {
                t = new double[batch * k];
                for (int b = 0; b < batch; b++)
                {
                    double sum = 0;
                    for (int j = 0; j < k; j++) sum += t[b * k + j] = random.NextDouble() + 0.05;
                    for (int j = 0; j < k; j++) t[b * k + j] /= sum;
                }
            }
            else t = [.. Enumerable.Range(0, batch * k).Select(_ => random.NextDouble())];
            // KernelGen's data loss (its gradient is the gradient engine's to check against this loss).
            double loss;
            if (entry.Labels == LabelKind.ClassIndex)
            {
                var c = (Runtime.LossNetworkBase<double, int>)net;
                c.Loss(x, [.. t.Select(v => (int)v)]);
                loss = c.LastDataLoss;
            }
            else
            {
                var c = (Runtime.LossNetworkBase<double, double>)net;
                c.Loss(x, t);
                loss = c.LastDataLoss;
            }
            expected[entry.ClassName] = loss;
            cases.Add(new()
            {
                ["name"] = entry.ClassName, ["expr"] = torch[(entry.Loss!.Value, entry.Reduction)], ["k"] = k,
                ["classes"] = entry.Labels == LabelKind.ClassIndex, ["y"] = y, ["t"] = t,
            });
        }
        Assert.Equal(torch.Count, cases.Count);
        string input = Path.Combine(_work, "reductions.json"), result = Path.Combine(_work, "reductions.out.json"), script = Path.Combine(_work, "reductions.py");
        File.WriteAllText(input, JsonSerializer.Serialize(cases));
        File.WriteAllText(script, """
            import json, sys, torch
            import torch.nn.functional as F
            torch.set_default_dtype(torch.float64)
            out = {}
            for c in json.load(open(sys.argv[1])):
                y = torch.tensor(c["y"]).reshape(-1, c["k"])
                t = torch.tensor(c["t"])
                t = t.long() if c["classes"] else t.reshape(-1, c["k"])
                out[c["name"]] = {"loss": eval(c["expr"]).item()}
            json.dump(out, open(sys.argv[2], "w"))
            """);
        var start = new ProcessStartInfo("/usr/bin/python3", [script, input, result]) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        using (Process process = Process.Start(start)!)
        {
            process.StandardOutput.ReadToEnd();
            string stderr = process.StandardError.ReadToEnd();
            Assert.True(process.WaitForExit(TimeSpan.FromMinutes(5)), "python timed out");
            Assert.True(process.ExitCode == 0, $"python exited {process.ExitCode}:\n{stderr}");
        }
        using JsonDocument doc = JsonDocument.Parse(File.ReadAllText(result));
        foreach ((string name, double loss) in expected)
            AssertClose([loss], [doc.RootElement.GetProperty(name).GetProperty("loss").GetDouble()], 1e-10, $"{name}: loss");
    }

    /// <summary>A user's activations (fused and standalone, every operator of the grammar) export as PyTorch modules that
    /// compute what KernelGen computes.</summary>
    [Fact]
    public void User_activations_run_in_pytorch_as_in_kernelgen() =>
        AssertUserFunctionsRunInPyTorch(new UserActivationExportNet(7, seed: 3), "UserActivations", "class Custom_", seed: 19, dataSeed: 41);

    /// <summary>A user's loss (log-cosh, mean over elements) exports as a Python function whose value is KernelGen's.</summary>
    [Fact]
    public void A_users_loss_runs_in_pytorch_as_in_kernelgen() =>
        AssertUserFunctionsRunInPyTorch(new UserLossExportNet(7, seed: 3), "UserLoss", "def loss_element(x, t):", seed: 29, dataSeed: 43);

    /// <summary>Exports <paramref name="net"/> (randomized, a loss on targets) and checks PyTorch's outputs and data loss
    /// against KernelGen's, and that the module holds <paramref name="marker"/>.</summary>
    private void AssertUserFunctionsRunInPyTorch(Runtime.LossNetworkBase<float, float> net, string name, string marker, int seed, int dataSeed)
    {
        OnnxExportTests.Randomize(net, seed);
        (float[] x, string labels, float[]? targets, int[]? classes) = Data(net, LabelKind.Targets, 7, dataSeed);
        var y = new float[7 * net.OutputSize];
        net.Predict(x, y);
        net.Loss(x, targets!);
        Job job = Write(net, name, x, labels, targets, classes, 7, steps: 0);
        Assert.Contains(marker, File.ReadAllText(job.Module));
        Result r = RunPython([job])[name];
        AssertClose(y, r.Outputs, 2e-5, $"{name}: outputs");
        AssertClose([net.LastDataLoss], [r.Loss], 2e-5, $"{name}: loss");
    }

    public static TheoryData<string> Optimizers =>
        ["TorchSgdNet", "TorchNesterovNet", "TorchAdaGradNet", "TorchRmsPropNet", "TorchAdamNet", "TorchAdamWNet", "TorchNAdamNet", "TorchAdaDeltaNet"];

    /// <summary>In double, so the comparison is not at the mercy of Adam's m/√v, which turns gradients at rounding level
    /// into full steps of ±η whose sign depends on the rounding.</summary>
    [Theory]
    [MemberData(nameof(Optimizers))]
    public void The_exported_loss_and_optimizer_take_kernelgens_training_steps(string name)
    {
        const int batch = 8, steps = 4;
        INeuralNetwork<double> net = Create64(name, batch);
        LabelKind kind = LabelOf(net);
        (float[] x32, string labels, float[]? t32, int[]? classes) = Data(Create(name, batch), kind, batch, 41);
        double[] x = [.. x32.Select(v => (double)v)];
        double[]? targets = t32?.Select(v => (double)v).ToArray();
        string basePath = Path.Combine(_work, name);
        PyTorchExporter.Export(net, basePath, name);
        File.WriteAllBytes(basePath + ".x.bin", MemoryMarshal.AsBytes(x.AsSpan()).ToArray());
        if (targets is not null) File.WriteAllBytes(basePath + ".t.bin", MemoryMarshal.AsBytes(targets.AsSpan()).ToArray());
        if (classes is not null) File.WriteAllBytes(basePath + ".t.bin", MemoryMarshal.AsBytes(classes.Select(c => (long)c).ToArray().AsSpan()).ToArray());
        var job = new Job(name, basePath + ".py", name, [.. net.InputShape.Dimensions], labels, batch, steps, Double: true);
        var losses = new List<double>();
        for (int s = 0; s < steps; s++)
            losses.Add(net switch
            {
                ITrainableNetwork<double, int> c => c.TrainStep(x, classes!),
                ITrainableNetwork<double, double> t => t.TrainStep(x, targets!),
                _ => throw new InvalidOperationException(),
            });
        Result r = RunPython([job])[name];
        // PyTorch keeps NAdam's running μ product in a float32 tensor (torch.tensor(1.)), so its step sizes carry float
        // rounding (~1e-8 relative) even in a float64 model; everything else agrees to double rounding.
        double tolerance = name == nameof(TorchNAdamNet) ? 1e-8 : 1e-10;
        AssertClose([.. losses], r.Losses64, tolerance, $"{name}: losses of the {steps} steps");
        // PyTorch's trained weights, loaded back into KernelGen, equal KernelGen's own after the same steps.
        INeuralNetwork<double> back = Create64(name, batch);
        SafeTensors.Load(back, Path.Combine(_work, name + ".trained.safetensors"));
        AssertClose(net.Parameters.ToArray(), back.Parameters.ToArray(), tolerance, $"{name}: parameters after {steps} steps");
        AssertClose(net.RunningStatistics.ToArray(), back.RunningStatistics.ToArray(), tolerance, $"{name}: running statistics");
    }

    [Fact]
    public void Weights_trained_in_pytorch_come_back_to_kernelgen_with_pytorchs_outputs()
    {
        // Dropout and image inputs: PyTorch trains with its own masks, so compare the result rather than the steps.
        var net = new TorchImageNet(16, seed: 3);
        (float[] x, string labels, float[]? targets, int[]? classes) = Data(net, LabelKind.ClassIndex, 16, 7);
        Job job = Write(net, nameof(TorchImageNet), x, labels, targets, classes, 16, steps: 20);
        Result r = RunPython([job])[nameof(TorchImageNet)];
        Assert.True(r.Losses[^1] < r.Losses[0], $"PyTorch's training did not lower the loss: {string.Join(", ", r.Losses)}");
        var back = new TorchImageNet(16, seed: 99);
        SafeTensors.Load(back, Path.Combine(_work, nameof(TorchImageNet) + ".trained.safetensors"));
        var y = new float[16 * 3];
        back.Predict(x, y);
        AssertClose(r.TrainedOutputs, y, 2e-5, "KernelGen with PyTorch-trained weights vs PyTorch (evaluation mode)");
    }

    [Fact]
    public void The_module_source_names_layers_as_the_weight_files_do()
    {
        var net = new TorchImageNet(4, seed: 1);
        string source = PyTorchExporter.ModuleSource(net);
        foreach (string name in new[] { "self.Flatten1 = nn.Flatten()", "self.Dense1 = nn.Linear(16, 6)", "self.Dense1_activation = nn.ReLU()",
                     "self.BatchNorm1 = nn.BatchNorm1d(6, eps=1E-05, momentum=0.1)", "self.Dropout1 = nn.Dropout(0.3)", "self.Dense2 = nn.Linear(6, 3)",
                     "torch.optim.Adam(groups, lr=0.01", "def loss_fn(y, t):", "F.cross_entropy(y, t, label_smoothing=0.0)" })
            Assert.Contains(name, source, StringComparison.Ordinal);
        Assert.Contains("\"Dense1.weight\"", source, StringComparison.Ordinal);
        Assert.DoesNotContain("\"Dense1.bias\"", source[source.IndexOf("WEIGHTS", StringComparison.Ordinal)..source.IndexOf("def make_optimizer", StringComparison.Ordinal)], StringComparison.Ordinal);
    }

    // ---- plumbing ------------------------------------------------------------------------------------------------

    private static INeuralNetwork<double> Create64(string name, int batch) =>
        (INeuralNetwork<double>)Activator.CreateInstance(typeof(PyTorchExportTests).Assembly.GetType("KernelGen.Toolkit.Tests." + name + "+Float64", throwOnError: true)!, batch, 3UL)!;

    private static INeuralNetwork<float> Create(string name, int batch) =>
        (INeuralNetwork<float>)Activator.CreateInstance(typeof(PyTorchExportTests).Assembly.GetType("KernelGen.Toolkit.Tests." + name, throwOnError: true)!, batch, 3UL)!;

    private static LabelKind LabelOf(INeuralNetwork<double> net) => OpCatalog.Get(((Runtime.NetworkBase<double>)net).Model.Loss!.Value).Labels;

    /// <summary>Inputs in [−1.5, 1.5) and labels or targets of the loss's kind.</summary>
    private static (float[] X, string Labels, float[]? Targets, int[]? Classes) Data(INeuralNetwork<float> net, LabelKind kind, int batch, int seed)
    {
        var random = new Random(seed);
        float[] x = [.. Enumerable.Range(0, batch * net.InputSize).Select(_ => (float)(random.NextDouble() * 3 - 1.5))];
        int k = net.OutputSize;
        switch (kind)
        {
            case LabelKind.ClassIndex:
                return (x, "classes", null, [.. Enumerable.Range(0, batch).Select(_ => random.Next(k))]);
            case LabelKind.Distributions:
            {
                var t = new float[batch * k];
                for (int b = 0; b < batch; b++)
                {
                    double sum = 0;
                    for (int j = 0; j < k; j++) sum += t[b * k + j] = (float)random.NextDouble();
                    for (int j = 0; j < k; j++) t[b * k + j] = (float)(t[b * k + j] / sum);
                }
                return (x, "targets", t, null);
            }
            default:
                return (x, "targets", [.. Enumerable.Range(0, batch * k).Select(_ => (float)random.NextDouble())], null);
        }
    }

    private Job Write(INeuralNetwork<float> net, string name, float[] x, string labels, float[]? targets, int[]? classes, int batch, int steps)
    {
        string basePath = Path.Combine(_work, name);
        PyTorchExporter.Export(net, basePath, name);
        File.WriteAllBytes(basePath + ".x.bin", MemoryMarshal.AsBytes(x.AsSpan()).ToArray());
        if (targets is not null) File.WriteAllBytes(basePath + ".t.bin", MemoryMarshal.AsBytes(targets.AsSpan()).ToArray());
        if (classes is not null) File.WriteAllBytes(basePath + ".t.bin", MemoryMarshal.AsBytes(classes.Select(c => (long)c).ToArray().AsSpan()).ToArray());
        return new Job(name, basePath + ".py", name, [.. net.InputShape.Dimensions], labels, batch, steps);
    }

    private sealed record Result(float[] Outputs, float Loss, float[] Losses, float[] TrainedOutputs, double[] Losses64);

    /// <summary>
    /// One python3 process for all jobs: import each module, load its weights, evaluate (outputs and loss in eval mode);
    /// then, for jobs with steps, train that many steps with the exported loss and optimizer in training mode and save the
    /// weights with the module's save_weights.
    /// </summary>
    private Dictionary<string, Result> RunPython(List<Job> jobs)
    {
        string manifest = Path.Combine(_work, "jobs.json");
        File.WriteAllText(manifest, JsonSerializer.Serialize(jobs));
        string script = Path.Combine(_work, "run.py");
        File.WriteAllText(script, Driver);
        const string python = "/usr/bin/python3";
        Assert.True(File.Exists(python), "Debian's python3 with python3-torch and python3-numpy is needed (apt-get install python3-torch python3-numpy; .ci/test installs them).");
        var start = new ProcessStartInfo(python, [script, manifest]) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        using Process process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        string stdout = process.StandardOutput.ReadToEnd();
        Assert.True(process.WaitForExit(TimeSpan.FromMinutes(5)), "python timed out");
        Assert.True(process.ExitCode == 0, $"python exited {process.ExitCode}:\n{stdout}\n{stderr.Result}");
        output.WriteLine(stdout);
        var results = new Dictionary<string, Result>();
        foreach (Job job in jobs)
        {
            using JsonDocument doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(_work, job.Name + ".result.json")));
            JsonElement root = doc.RootElement;
            float[] Floats(string key) => root.TryGetProperty(key, out JsonElement e) ? [.. e.EnumerateArray().Select(v => v.GetSingle())] : [];
            double[] Doubles(string key) => root.TryGetProperty(key, out JsonElement e) ? [.. e.EnumerateArray().Select(v => v.GetDouble())] : [];
            results[job.Name] = new Result(Floats("outputs"), root.TryGetProperty("loss", out JsonElement l) && l.ValueKind == JsonValueKind.Number ? l.GetSingle() : float.NaN,
                Floats("losses"), Floats("trained_outputs"), Doubles("losses"));
        }
        return results;
    }

    private static void AssertClose(float[] expected, float[] actual, double tolerance, string what) =>
        AssertClose([.. expected.Select(v => (double)v)], [.. actual.Select(v => (double)v)], tolerance, what);

    private static void AssertClose(double[] expected, double[] actual, double tolerance, string what)
    {
        Assert.True(expected.Length == actual.Length, $"{what}: {expected.Length} values expected, {actual.Length} received");
        for (int i = 0; i < expected.Length; i++)
        {
            double e = expected[i], a = actual[i];
            Assert.True(Math.Abs(e - a) <= tolerance * Math.Max(1, Math.Abs(e)), $"{what}: [{i}] KernelGen {e:R}, PyTorch {a:R}");
        }
    }

    private const string Driver = """
        import importlib.util, json, sys
        import numpy as np
        import torch

        torch.manual_seed(0)
        jobs = json.load(open(sys.argv[1]))
        for job in jobs:
            spec = importlib.util.spec_from_file_location(job["Name"], job["Module"])
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            model = getattr(module, job["Class"])().to(module.DTYPE)
            base = job["Module"][:-3]
            module.load_weights(model, base + ".safetensors")
            b = job["Batch"]
            real = "<f8" if job["Double"] else "<f4"
            x = torch.from_numpy(np.fromfile(base + ".x.bin", dtype=real).reshape([b] + job["InputShape"]).copy())
            t = None
            if hasattr(module, "loss_fn"):
                if job["Labels"] == "classes":
                    t = torch.from_numpy(np.fromfile(base + ".t.bin", dtype="<i8").copy())
                else:
                    t = torch.from_numpy(np.fromfile(base + ".t.bin", dtype=real).reshape(b, -1).copy())
            result = {}
            model.eval()
            with torch.no_grad():
                y = model(x)
                result["outputs"] = y.reshape(-1).tolist()
                result["loss"] = float(module.loss_fn(y, t)) if t is not None else None
            if job["Steps"] > 0:
                model.train()
                optimizer = module.make_optimizer(model)
                losses = []
                for _ in range(job["Steps"]):
                    optimizer.zero_grad()
                    loss = module.loss_fn(model(x), t)
                    loss.backward()
                    optimizer.step()
                    losses.append(float(loss))
                result["losses"] = losses
                module.save_weights(model, base + ".trained.safetensors")
                model.eval()
                with torch.no_grad():
                    result["trained_outputs"] = model(x).reshape(-1).tolist()
            json.dump(result, open(base + ".result.json", "w"))
            print(job["Name"], "ok")
        """;
}
