using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using KernelGen.Catalog;
using KernelGen.Checkpoints;
using Xunit;

namespace KernelGen.Tests;

/// <summary>
/// The graph networks of GraphNetworks.cs at run time: gradients (parameters and Backward's inputGradient) against
/// central differences in double, zero allocation on the hot calls, determinism, the inference form against Predict,
/// checkpoint round trips and <see cref="LayerInfo.Inputs"/>. The MLPs' Predict is also checked against a naive forward
/// pass written here.
/// </summary>
public sealed class GraphNetworkTests
{
    /// <summary>One graph network in both element types, with its inference forms and the inputs each layer reads (by name).</summary>
    public sealed record Case(
        string Name,
        Func<int, ulong, ITrainableNetwork<float, int>> Single,
        Func<int, ulong, ITrainableNetwork<double, int>> Wide,
        Func<ITrainableNetwork<float, int>, int, IInferenceNetwork<float>> SingleInference,
        Func<ITrainableNetwork<double, int>, int, IInferenceNetwork<double>> WideInference,
        bool BatchNorm,
        string[] Inputs);

    private static readonly Case[] Cases =
    [
        new(nameof(GraphResidualMlp), (b, s) => new GraphResidualMlp(b, s), (b, s) => new GraphResidualMlp.Float64(b, s),
            (n, b) => ((GraphResidualMlp)n).CreateInference(b), (n, b) => ((GraphResidualMlp.Float64)n).CreateInference(b), false,
            ["h ← input", "Dense2 ← h", "body ← Dense2", "Add1 ← h, body", "Tanh1 ← Add1", "Dense4 ← Tanh1"]),
        new(nameof(GraphConvResidual), (b, s) => new GraphConvResidual(b, s), (b, s) => new GraphConvResidual.Float64(b, s),
            (n, b) => ((GraphConvResidual)n).CreateInference(b), (n, b) => ((GraphConvResidual.Float64)n).CreateInference(b), true,
            ["Conv2D1 ← input", "BatchNorm1 ← Conv2D1", "ReLU1 ← BatchNorm1", "Conv2D2 ← ReLU1", "main ← Conv2D2", "projection ← input",
             "shortcut ← projection", "Add1 ← main, shortcut", "ReLU2 ← Add1", "GlobalAveragePool1 ← ReLU2", "Dense1 ← GlobalAveragePool1"]),
        new(nameof(GraphInception), (b, s) => new GraphInception(b, s), (b, s) => new GraphInception.Float64(b, s),
            (n, b) => ((GraphInception)n).CreateInference(b), (n, b) => ((GraphInception.Float64)n).CreateInference(b), false,
            ["pointwise ← input", "spatial ← input", "Concat1 ← pointwise, spatial", "Conv2D3 ← Concat1", "Flatten1 ← Conv2D3", "Dense1 ← Flatten1"]),
        new(nameof(GraphTripleRead), (b, s) => new GraphTripleRead(b, s), (b, s) => new GraphTripleRead.Float64(b, s),
            (n, b) => ((GraphTripleRead)n).CreateInference(b), (n, b) => ((GraphTripleRead.Float64)n).CreateInference(b), false,
            ["a ← input", "b ← input", "s ← input, a, b", "t ← s", "u ← t", "Add2 ← t, u, t", "Dense4 ← Add2"]),
        new(nameof(GraphRepVgg), (b, s) => new GraphRepVgg(b, s), (b, s) => new GraphRepVgg.Float64(b, s),
            (n, b) => ((GraphRepVgg)n).CreateInference(b), (n, b) => ((GraphRepVgg.Float64)n).CreateInference(b), true,
            ["x ← input", "Conv2D2 ← x", "dense ← Conv2D2", "Conv2D3 ← x", "pointwise ← Conv2D3", "identity ← x",
             "Add1 ← dense, pointwise, identity", "ReLU1 ← Add1", "GlobalAveragePool1 ← ReLU1", "Dense1 ← GlobalAveragePool1"]),
    ];

    public static TheoryData<string> Names => [.. Cases.Select(c => c.Name)];

    private static Case Get(string name) => Cases.Single(c => c.Name == name);

    private static double[] Uniform(int n, int seed, double scale = 1)
    {
        var r = new Random(seed);
        return [.. Enumerable.Range(0, n).Select(_ => (r.NextDouble() * 2 - 1) * scale)];
    }

    private static float[] Single(double[] x) => [.. x.Select(v => (float)v)];

    private static int[] Labels(int n, int seed)
    {
        var r = new Random(seed);
        return [.. Enumerable.Range(0, n).Select(_ => r.Next(3))];
    }

    // ---- gradients -----------------------------------------------------------------------------------------------

    [Theory]
    [MemberData(nameof(Names))]
    public void Graph_gradients_match_central_differences(string name)
    {
        Case c = Get(name);
        GradientTolerance tolerance = c.BatchNorm ? OpCatalog.Get(LayerKind.BatchNorm).Tolerance : GradientTolerance.Default;
        foreach (ulong seed in new[] { 1UL, 2UL })
        {
            const int batch = 3;
            ITrainableNetwork<double, int> net = c.Wide(batch, seed);
            double[] x = Uniform(batch * net.InputSize, (int)seed + 40, 1.5);
            GradientCheckOptions options = GradientCheckOptions.From(tolerance) with { Seed = seed };
            GradientCheckReport loss = GradientCheck.Run(net, x, Labels(batch, (int)seed + 7), options);
            Assert.True(loss.Passed, $"{name}, seed {seed}, loss:\n{loss}");
            Assert.All(loss.Tensors, t => Assert.True(t.Checked > 0, t.Tensor));
            // Σ r·y through Backward, with its inputGradient against central differences on the inputs.
            GradientCheckReport backward = GradientCheck.Run(net, x, options);
            Assert.True(backward.Passed, $"{name}, seed {seed}, Backward:\n{backward}");
            TensorGradientCheck inputs = Assert.Single(backward.Tensors, t => t.Tensor == "inputs");
            Assert.True(inputs.Checked > 0);
        }
    }

    /// <summary>Backward with and without an inputGradient span leaves the same parameter gradients (the input's own
    /// accumulation must not depend on whether the caller asked for it).</summary>
    [Theory]
    [MemberData(nameof(Names))]
    public void Graph_parameter_gradients_do_not_depend_on_asking_for_the_input_gradient(string name)
    {
        Case c = Get(name);
        ITrainableNetwork<double, int> net = c.Wide(4, 3);
        double[] x = Uniform(4 * net.InputSize, 5), dy = Uniform(4 * net.OutputSize, 6);
        net.Forward(x);
        net.Backward(dy, default);
        double[] without = net.Gradients.ToArray();
        net.Forward(x);
        net.Backward(dy, new double[x.Length]);
        Assert.Equal(without, net.Gradients.ToArray());
    }

    // ---- independent forward pass --------------------------------------------------------------------------------

    private static ReadOnlySpan<double> Tensor(INeuralNetwork<double> net, string name, int length) =>
        net.Parameters.Slice(Reference.Offset(net, name), length);

    private static double[] Sum(params double[][] terms)
    {
        var s = new double[terms[0].Length];
        foreach (double[] t in terms) for (int i = 0; i < s.Length; i++) s[i] += t[i];
        return s;
    }

    private static void AssertClose(double[] expected, ReadOnlySpan<double> actual, double tolerance, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tolerance * Math.Max(1, Math.Abs(expected[i])), $"{what} [{i}]: expected {expected[i]:R}, got {actual[i]:R}");
    }

    [Fact]
    public void Graph_residual_mlp_predicts_what_a_naive_forward_pass_computes()
    {
        const int batch = 5;
        var net = new GraphResidualMlp.Float64(batch, 11);
        double[] x = Uniform(batch * 6, 12, 2);
        var (h, _) = Reference.Dense(x, Tensor(net, "h.Weights", 6 * 16), Tensor(net, "h.Bias", 16), batch, 6, 16, Reference.Act.Tanh);
        var (d2, _) = Reference.Dense(h, Tensor(net, "Dense2.Weights", 16 * 16), Tensor(net, "Dense2.Bias", 16), batch, 16, 16, Reference.Act.Tanh);
        var (body, _) = Reference.Dense(d2, Tensor(net, "body.Weights", 16 * 16), Tensor(net, "body.Bias", 16), batch, 16, 16, Reference.Act.Identity);
        double[] t = Reference.Map(Sum(h, body), Reference.Act.Tanh);
        var (y, _) = Reference.Dense(t, Tensor(net, "Dense4.Weights", 16 * 3), Tensor(net, "Dense4.Bias", 3), batch, 16, 3, Reference.Act.Identity);

        var predicted = new double[batch * 3];
        net.Predict(x, predicted);
        AssertClose(y, predicted, 1e-12, "Predict");
        AssertClose(y, net.Forward(x), 1e-12, "Forward");
    }

    [Fact]
    public void Graph_triple_read_forward_computes_what_a_naive_forward_pass_computes()
    {
        // a = tanh(W_a·x + b_a), b = W_b·x + b_b, s = x + a + b, t = tanh(s), u = W_u·t + b_u, q = t + u + t, y = W·q + b.
        const int batch = 4;
        var net = new GraphTripleRead.Float64(batch, 21);
        double[] x = Uniform(batch * 5, 22, 2);
        var (a, _) = Reference.Dense(x, Tensor(net, "a.Weights", 25), Tensor(net, "a.Bias", 5), batch, 5, 5, Reference.Act.Tanh);
        var (b, _) = Reference.Dense(x, Tensor(net, "b.Weights", 25), Tensor(net, "b.Bias", 5), batch, 5, 5, Reference.Act.Identity);
        double[] t = Reference.Map(Sum(x, a, b), Reference.Act.Tanh);
        var (u, _) = Reference.Dense(t, Tensor(net, "u.Weights", 25), Tensor(net, "u.Bias", 5), batch, 5, 5, Reference.Act.Identity);
        var (y, _) = Reference.Dense(Sum(t, u, t), Tensor(net, "Dense4.Weights", 15), Tensor(net, "Dense4.Bias", 3), batch, 5, 3, Reference.Act.Identity);

        // Training-mode Forward only: Predict's evaluation pass is checked in GraphBugTests (it sums t twice too often).
        AssertClose(y, net.Forward(x), 1e-12, "Forward");
    }

    [Fact]
    public void Graph_concat_of_a_value_with_itself_and_the_input_is_right_forward_and_backward()
    {
        // y = W·[a, a, x] + b with a = tanh(W_a·x + b_a): 3 + 3 + 4 = 10 features.
        const int batch = 3;
        var net = new GraphSelfConcat.Float64(batch, 2);
        double[] x = Uniform(batch * 4, 3, 1.5);
        var (a, _) = Reference.Dense(x, Tensor(net, "a.Weights", 12), Tensor(net, "a.Bias", 3), batch, 4, 3, Reference.Act.Tanh);
        var joined = new double[batch * 10];
        for (int r = 0; r < batch; r++)
        {
            for (int j = 0; j < 3; j++) joined[r * 10 + j] = joined[r * 10 + 3 + j] = a[r * 3 + j];
            for (int j = 0; j < 4; j++) joined[r * 10 + 6 + j] = x[r * 4 + j];
        }
        var (y, _) = Reference.Dense(joined, Tensor(net, "Dense2.Weights", 20), Tensor(net, "Dense2.Bias", 2), batch, 10, 2, Reference.Act.Identity);
        var predicted = new double[batch * 2];
        net.Predict(x, predicted);
        AssertClose(y, predicted, 1e-12, "Predict");
        AssertClose(y, net.Forward(x), 1e-12, "Forward");
        Assert.Equal([0, 0, -1], net.Layers[1].Inputs);

        GradientCheckOptions options = GradientCheckOptions.From(GradientTolerance.Default) with { Seed = 9 };
        GradientCheckReport loss = GradientCheck.Run(net, x, Uniform(batch * 2, 10), options);
        Assert.True(loss.Passed, loss.ToString());
        GradientCheckReport backward = GradientCheck.Run(net, x, options);
        Assert.True(backward.Passed, backward.ToString());
    }

    // ---- allocation, determinism --------------------------------------------------------------------------------

    [Theory]
    [MemberData(nameof(Names))]
    public void Graph_hot_calls_allocate_zero_bytes(string name)
    {
        Case c = Get(name);
        const int batch = 4;
        ITrainableNetwork<float, int> net = c.Single(batch, 1);
        float[] x = Single(Uniform(batch * net.InputSize, 2)), y = new float[batch * net.OutputSize], dy = Single(Uniform(batch * net.OutputSize, 3));
        float[] dx = new float[x.Length];
        int[] labels = Labels(batch, 4);
        IInferenceNetwork<float> inference = c.SingleInference(net, batch);
        ITrainableNetwork<double, int> wide = c.Wide(batch, 1);
        double[] xd = Uniform(batch * net.InputSize, 2), yd = new double[batch * net.OutputSize];

        void HotCalls()
        {
            net.TrainStep(x, labels);
            net.Predict(x, y);
            net.Forward(x);
            net.Backward(dy, dx);
            net.Backward(dy, default);
            inference.Predict(x, y);
            wide.TrainStep(xd, labels);
            wide.Predict(xd, yd);
        }

        HotLoop.WarmUp(HotCalls);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 10; i++) HotCalls();
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void Graph_same_seed_gives_bit_identical_parameters_after_training(string name)
    {
        Case c = Get(name);
        const int batch = 6;
        ITrainableNetwork<float, int> first = c.Single(batch, 7), second = c.Single(batch, 7), other = c.Single(batch, 8);
        for (int step = 0; step < 8; step++)
        {
            float[] x = Single(Uniform(batch * first.InputSize, 100 + step, 1.5));
            int[] labels = Labels(batch, 200 + step);
            first.TrainStep(x, labels);
            second.TrainStep(x, labels);
            other.TrainStep(x, labels);
        }
        Assert.True(MemoryMarshal.AsBytes(first.Parameters).SequenceEqual(MemoryMarshal.AsBytes(second.Parameters)), "parameters differ");
        Assert.True(MemoryMarshal.AsBytes(first.RunningStatistics).SequenceEqual(MemoryMarshal.AsBytes(second.RunningStatistics)), "statistics differ");
        Assert.False(MemoryMarshal.AsBytes(first.Parameters).SequenceEqual(MemoryMarshal.AsBytes(other.Parameters)), "the seed has no effect");
    }

    // ---- inference form, checkpoints, LayerInfo --------------------------------------------------------------------

    [Theory]
    [MemberData(nameof(Names))]
    public void Graph_inference_form_equals_predict(string name)
    {
        Case c = Get(name);
        const int batch = 8;
        ITrainableNetwork<float, int> single = c.Single(batch, 3);
        ITrainableNetwork<double, int> wide = c.Wide(batch, 3);
        for (int step = 0; step < 15; step++)
        {
            double[] x = Uniform(batch * single.InputSize, 300 + step, 2).Select(v => v + 0.3).ToArray();
            single.TrainStep(Single(x), Labels(batch, 400 + step));
            wide.TrainStep(x, Labels(batch, 400 + step));
        }
        IInferenceNetwork<float> fs = c.SingleInference(single, batch);
        IInferenceNetwork<double> fd = c.WideInference(wide, batch);
        foreach (int n in new[] { 1, 5, 8 })
        {
            double[] x = Uniform(n * single.InputSize, 500 + n, 2);
            float[] es = new float[n * single.OutputSize], @as = new float[es.Length];
            single.Predict(Single(x), es);
            fs.Predict(Single(x), @as);
            for (int i = 0; i < es.Length; i++)
                Assert.True(Math.Abs(@as[i] - es[i]) <= 1e-5 * Math.Max(1, Math.Abs(es[i])), $"{name} float, batch {n} [{i}]: Predict {es[i]:R}, inference {@as[i]:R}");
            double[] ed = new double[es.Length], ad = new double[es.Length];
            wide.Predict(x, ed);
            fd.Predict(x, ad);
            for (int i = 0; i < ed.Length; i++)
                Assert.True(Math.Abs(ad[i] - ed[i]) <= 1e-12 * Math.Max(1, Math.Abs(ed[i])), $"{name} double, batch {n} [{i}]: Predict {ed[i]:R}, inference {ad[i]:R}");
        }
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void Graph_checkpoint_round_trip_restores_bit_identical_predictions(string name)
    {
        Case c = Get(name);
        const int batch = 4;
        ITrainableNetwork<float, int> net = c.Single(batch, 5);
        for (int step = 0; step < 5; step++)
            net.TrainStep(Single(Uniform(batch * net.InputSize, 600 + step, 1.5)), Labels(batch, 700 + step));
        float[] x = Single(Uniform(batch * net.InputSize, 800, 1.5));
        float[] expected = new float[batch * net.OutputSize], actual = new float[expected.Length];
        net.Predict(x, expected);

        using var stream = new MemoryStream();
        Checkpoint.Save(net, stream);
        stream.Position = 0;
        ITrainableNetwork<float, int> restored = c.Single(batch, 99);
        restored.Predict(x, actual);
        Assert.False(MemoryMarshal.AsBytes(expected.AsSpan()).SequenceEqual(MemoryMarshal.AsBytes(actual.AsSpan())), "another seed predicts the same");
        Checkpoint.Load(restored, stream);
        restored.Predict(x, actual);
        Assert.True(MemoryMarshal.AsBytes(expected.AsSpan()).SequenceEqual(MemoryMarshal.AsBytes(actual.AsSpan())), "predictions differ after the round trip");
        // And they keep training alike (the optimizer state came along).
        float[] xs = Single(Uniform(batch * net.InputSize, 801)); int[] labels = Labels(batch, 802);
        net.TrainStep(xs, labels);
        restored.TrainStep(xs, labels);
        Assert.True(MemoryMarshal.AsBytes(net.Parameters).SequenceEqual(MemoryMarshal.AsBytes(restored.Parameters)), "parameters differ after one more step");
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void Graph_layer_info_lists_the_inputs(string name)
    {
        Case c = Get(name);
        ITrainableNetwork<float, int> net = c.Single(2, 1);
        IReadOnlyList<LayerInfo> layers = net.Layers;
        string[] actual = [.. layers.Select(l => $"{l.Name} ← {string.Join(", ", l.Inputs.Select(i => i < 0 ? "input" : layers[i].Name))}")];
        Assert.Equal(c.Inputs, actual);
        foreach (LayerInfo l in layers)
        {
            Assert.All(l.Inputs, i => Assert.True(i >= -1 && i < l.Index, $"{l.Name} reads {i}: not a layer before it"));
            Assert.Equal(l.Inputs.Count == 1 && l.Inputs[0] == l.Index - 1, l.ReadsPrevious);
        }
    }
}
