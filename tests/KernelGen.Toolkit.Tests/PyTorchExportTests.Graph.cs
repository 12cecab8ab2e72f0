using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using KernelGen.Interop;
using KernelGen.Tests;
using Xunit;

namespace KernelGen.Toolkit.Tests;

/// <summary>Graph networks (named values, <c>a + b</c>) exported to PyTorch: evaluation outputs and loss, and — in double —
/// the losses of training steps and the trained weights, so PyTorch's autograd checks KernelGen's summed gradients.</summary>
public sealed partial class PyTorchExportTests
{
    [Fact]
    public void Graph_residual_networks_run_in_pytorch_as_in_kernelgen()
    {
        var jobs = new List<Job>();
        var expected = new Dictionary<string, (float[] Outputs, float Loss)>();
        foreach ((string name, Runtime.LossNetworkBase<float, int> net) in new (string, Runtime.LossNetworkBase<float, int>)[]
                 { (nameof(GraphResidualMlp), new GraphResidualMlp(7, 5)), (nameof(GraphConvResidual), new GraphConvResidual(7, 5)) })
        {
            OnnxExportTests.Randomize(net, 17);
            (float[] x, string labels, float[]? targets, int[]? classes) = Data(net, Catalog.LabelKind.ClassIndex, 7, 31);
            var y = new float[7 * net.OutputSize];
            net.Predict(x, y);
            net.Loss(x, classes!);
            expected[name] = (y, net.LastDataLoss);
            jobs.Add(Write(net, name, x, labels, targets, classes, 7, steps: 0));
        }
        Dictionary<string, Result> results = RunPython(jobs);
        foreach ((string name, (float[] outputs, float loss)) in expected)
        {
            AssertClose(outputs, results[name].Outputs, 2e-5, $"{name}: outputs");
            AssertClose([loss], [results[name].Loss], 2e-5, $"{name}: loss");
        }
    }

    [Theory]
    [InlineData(nameof(GraphResidualMlp))]
    [InlineData(nameof(GraphConvResidual))]
    public void Graph_residual_networks_take_pytorchs_training_steps(string name)
    {
        const int batch = 8, steps = 4;
        ITrainableNetwork<double, int> net = name == nameof(GraphResidualMlp) ? new GraphResidualMlp.Float64(batch, 3) : new GraphConvResidual.Float64(batch, 3);
        ITrainableNetwork<float, int> single = name == nameof(GraphResidualMlp) ? new GraphResidualMlp(batch, 3) : new GraphConvResidual(batch, 3);
        (float[] x32, string labels, _, int[]? classes) = Data(single, Catalog.LabelKind.ClassIndex, batch, 41);
        double[] x = [.. x32.Select(v => (double)v)];
        string basePath = Path.Combine(_work, name);
        PyTorchExporter.Export(net, basePath, name);
        File.WriteAllBytes(basePath + ".x.bin", MemoryMarshal.AsBytes(x.AsSpan()).ToArray());
        File.WriteAllBytes(basePath + ".t.bin", MemoryMarshal.AsBytes(classes!.Select(c => (long)c).ToArray().AsSpan()).ToArray());
        var job = new Job(name, basePath + ".py", name, [.. net.InputShape.Dimensions], labels, batch, steps, Double: true);
        var losses = new List<double>();
        for (int s = 0; s < steps; s++) losses.Add(net.TrainStep(x, classes));
        Result r = RunPython([job])[name];
        // Adam turns gradients at rounding level into ±η steps; 1e-9 leaves room for that and nothing else.
        AssertClose([.. losses], r.Losses64, 1e-9, $"{name}: losses of the {steps} steps");
        INeuralNetwork<double> back = name == nameof(GraphResidualMlp) ? new GraphResidualMlp.Float64(batch, 99) : new GraphConvResidual.Float64(batch, 99);
        SafeTensors.Load(back, Path.Combine(_work, name + ".trained.safetensors"));
        AssertClose(net.Parameters.ToArray(), back.Parameters.ToArray(), 1e-9, $"{name}: parameters after {steps} steps");
        AssertClose(net.RunningStatistics.ToArray(), back.RunningStatistics.ToArray(), 1e-9, $"{name}: running statistics");
    }
}
