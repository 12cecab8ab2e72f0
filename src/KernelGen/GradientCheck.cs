using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;
using KernelGen.Catalog;
using KernelGen.Runtime;

namespace KernelGen;

/// <summary>
/// Gradient checking: compares a network's back-propagated gradients with centered finite differences, tensor by tensor,
/// the way CS231n and Andrew Ng's deep-learning course teach it — in double precision (use the generated
/// <c>Float64</c> network), with the relative difference ‖a − n‖₂ / (‖a‖₂ + ‖n‖₂) per tensor and its reading:
/// below 1e-7 the gradient is correct, around 1e-5 inspect the largest entries, 1e-3 or more is a bug.
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item>The loss is evaluated in training mode, the mode the gradients belong to: BatchNorm normalizes with the batch
/// statistics (its running statistics are restored after every evaluation) and dropout replays the same mask for every
/// evaluation (the dropout step is reset before each), so the function being differentiated stays the same.</item>
/// <item>The data loss and the penalties (weight L1/L2, activity L1) are checked separately, through
/// <see cref="ILossNetwork{T, TLabel}.ComputeGradients(ReadOnlySpan{T}, ReadOnlySpan{TLabel}, LossTerms)"/>.</item>
/// <item>Kinks are reported, not failed: when a ReLU, leaky ReLU or ELU input, a maxout tie, an absolute value under an
/// L1 penalty or a hinge margin crosses its non-differentiable point between θ − ε and θ + ε, the coordinate is
/// listed as a kink and left out of the difference (its finite difference averages two slopes).</item>
/// <item>Large tensors are sampled: up to <see cref="GradientCheckOptions.MaxCoordinatesPerTensor"/> coordinates each,
/// always the first and the last.</item>
/// <item>The network is evaluated on exactly the given batch: augment the data beforehand, not during the check.</item>
/// </list>
/// Every parameter, running statistic and the dropout step are restored afterwards; the gradients are left holding
/// those of the last term checked. Allocates (it is a diagnostic, not a hot path).
/// </remarks>
public static class GradientCheck
{
    /// <summary>
    /// Checks the gradients of <paramref name="network"/>'s loss on (<paramref name="inputs"/>, <paramref name="labels"/>):
    /// the data loss, and the penalties when the network has any.
    /// </summary>
    /// <example><code>
    /// var net = new MnistNet.Float64(maxBatchSize: 8, seed: 1);
    /// GradientCheckReport report = GradientCheck.Run(net, inputs, labels);
    /// Console.WriteLine(report); // per tensor: relative difference and verdict, worst coordinates, kinks
    /// </code></example>
    /// <exception cref="ArgumentNullException"><paramref name="network"/> is null.</exception>
    /// <exception cref="ArgumentException">The inputs or labels do not fit the network.</exception>
    public static GradientCheckReport Run<TLabel>(ILossNetwork<double, TLabel> network, ReadOnlySpan<double> inputs, ReadOnlySpan<TLabel> labels,
        GradientCheckOptions? options = null) where TLabel : unmanaged
    {
        ArgumentNullException.ThrowIfNull(network);
        options ??= GradientCheckOptions.Default;
        options.Validate();
        double[] x = inputs.ToArray();
        TLabel[] y = labels.ToArray();
        using var state = new SavedState(network);
        var base_ = network as LossNetworkBase<double, TLabel>;
        var tensors = new List<TensorGradientCheck>();
        bool penalties = base_?.Model.HasPenalties ?? true;
        foreach (LossTerms term in penalties ? new[] { LossTerms.Data, LossTerms.Penalties } : new[] { LossTerms.Data })
        {
            string title = term == LossTerms.Data ? "data loss" : "penalties";
            state.Reset();
            network.ComputeGradients(x, y, term);
            double[] analytic = network.Gradients.ToArray();
            int[] baseSignature = Signature(network, base_, x, y, term);
            double Loss(out int[] signature)
            {
                state.Reset();
                double value = base_ is not null ? base_.TrainingLoss(x, y, term) : network.ComputeGradients(x, y, term);
                signature = Signature(network, base_, x, y, term);
                return value;
            }
            foreach (ParameterTensor tensor in network.ParameterTensors)
            {
                if (base_ is not null && base_.FrozenTensor(tensor.Offset)) continue; // frozen: its gradient is 0 by definition
                // Under an L1 penalty, |θ| itself kinks at 0: a coordinate closer to 0 than the stencil reaches crosses it.
                double l1 = term == LossTerms.Penalties ? PenaltyL1(network, tensor) : 0;
                tensors.Add(CheckTensor(title, tensor.Name, tensor.Offset, tensor.Length, network.Parameters, analytic, options, Loss, baseSignature,
                    coordinate => l1 > 0 && Math.Abs(network.Parameters[coordinate]) < Reach(options)));
            }
        }
        state.Reset();
        return new GradientCheckReport(tensors, options);
    }

    /// <summary>
    /// Checks <see cref="INeuralNetwork{T}.Backward"/>: the gradients of L = Σᵢ rᵢ·yᵢ, with y the training-mode outputs for
    /// <paramref name="inputs"/> and r random weights (drawn from <see cref="GradientCheckOptions.Seed"/>, so errors cannot
    /// cancel), with respect to every parameter tensor and, unless <see cref="GradientCheckOptions.CheckInputs"/> is off, the inputs.
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="network"/> is null.</exception>
    /// <exception cref="ArgumentException">The inputs do not fit the network.</exception>
    public static GradientCheckReport Run(INeuralNetwork<double> network, ReadOnlySpan<double> inputs, GradientCheckOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(network);
        options ??= GradientCheckOptions.Default;
        options.Validate();
        double[] x = inputs.ToArray();
        int batch = ThrowHelper.GetBatchSize(x.Length, network.InputSize, network.MaxBatchSize, nameof(inputs));
        var random = new KernelRandom(options.Seed, 0x5EED);
        var r = new double[batch * network.OutputSize];
        for (int i = 0; i < r.Length; i++) r[i] = 2 * random.NextDouble() - 1;
        using var state = new SavedState(network);
        var base_ = network as NetworkBase<double>;

        state.Reset();
        network.Forward(x);
        var dx = new double[x.Length];
        network.Backward(r, options.CheckInputs ? dx : default);
        double[] analytic = network.Gradients.ToArray();
        int[] baseSignature = ProjectionSignature(base_, x);
        double Projection(double[] at, out int[] signature)
        {
            state.Reset();
            ReadOnlySpan<double> y = network.Forward(at);
            double sum = 0;
            for (int i = 0; i < y.Length; i++) sum += r[i] * y[i];
            signature = ProjectionSignature(base_, at);
            return sum;
        }
        var tensors = new List<TensorGradientCheck>();
        foreach (ParameterTensor tensor in network.ParameterTensors)
            if (base_ is null || !base_.FrozenTensor(tensor.Offset)) // a frozen layer's gradient is 0 by definition
                tensors.Add(CheckTensor("Σ r·y", tensor.Name, tensor.Offset, tensor.Length, network.Parameters, analytic, options,
                (out int[] s) => Projection(x, out s), baseSignature, _ => false));
        if (options.CheckInputs)
        {
            var xs = (double[])x.Clone();
            tensors.Add(CheckTensor("Σ r·y", "inputs", 0, x.Length, xs, dx, options, (out int[] s) => Projection(xs, out s), baseSignature, _ => false));
        }
        state.Reset();
        return new GradientCheckReport(tensors, options);
    }

    /// <summary>The relative difference ‖a − n‖₂ / max(‖a‖₂ + ‖n‖₂, <paramref name="floor"/>), 0 when both vanish.</summary>
    public static double RelativeDifference(ReadOnlySpan<double> analytic, ReadOnlySpan<double> numeric, double floor = 0)
    {
        ThrowHelper.ThrowIfLengthNotEqual(numeric.Length, analytic.Length, nameof(numeric));
        double difference = 0, a = 0, n = 0;
        for (int i = 0; i < analytic.Length; i++)
        {
            double d = analytic[i] - numeric[i];
            difference += d * d;
            a += analytic[i] * analytic[i];
            n += numeric[i] * numeric[i];
        }
        double denominator = Math.Max(Math.Sqrt(a) + Math.Sqrt(n), floor);
        return denominator == 0 ? 0 : Math.Sqrt(difference) / denominator;
    }

    private delegate double Evaluation(out int[] signature);

    /// <summary>The rounding error allowed in each loss value, in units of its last place: a forward pass rounds at every
    /// operation, and the error of the finite difference is this over the step.</summary>
    private const double NoiseUlps = 128;

    private static double Reach(GradientCheckOptions options) => options.FourPointStencil ? 2 * options.Epsilon : options.Epsilon;

    private static TensorGradientCheck CheckTensor(string term, string name, int offset, int length, Span<double> values, double[] analytic,
        GradientCheckOptions options, Evaluation evaluate, int[] baseSignature, Func<int, bool> nearPenaltyKink)
    {
        double h = options.Epsilon;
        var checks = new List<CoordinateCheck>();
        var a = new List<double>();
        var n = new List<double>();
        int kinks = 0;
        double noise = 0; // Σ over coordinates of (rounding noise of the finite difference)²
        foreach (int index in Coordinates(length, options.MaxCoordinatesPerTensor, options.Seed, name))
        {
            int i = offset + index;
            double saved = values[i];
            bool kink = nearPenaltyKink(i);
            double magnitude = 0; // Σ |weight·f| over the stencil, for the rounding noise
            double Shifted(double delta, double weight, Span<double> target)
            {
                target[i] = saved + delta;
                double value = evaluate(out int[] signature);
                target[i] = saved;
                kink |= !Same(signature, baseSignature);
                magnitude += Math.Abs(weight * value);
                return weight * value;
            }
            double numeric = options.FourPointStencil
                ? (Shifted(2 * h, -1, values) + Shifted(h, 8, values) + Shifted(-h, -8, values) + Shifted(-2 * h, 1, values)) / (12 * h)
                : (Shifted(h, 1, values) + Shifted(-h, -1, values)) / (2 * h);
            checks.Add(new CoordinateCheck(index, analytic[i], numeric, kink));
            if (kink) { kinks++; continue; }
            a.Add(analytic[i]);
            n.Add(numeric);
            // Each loss value carries rounding error from its whole forward pass: allow NoiseUlps units of the last place.
            double coordinateNoise = NoiseUlps * Math.Pow(2, -52) * magnitude / ((options.FourPointStencil ? 12 : 2) * h);
            noise += coordinateNoise * coordinateNoise;
        }
        double difference = RelativeDifference(a.ToArray(), n.ToArray(), options.AbsoluteFloor);
        double error = 0;
        for (int k = 0; k < a.Count; k++) error += (a[k] - n[k]) * (a[k] - n[k]);
        checks.Sort((x, y) => Math.Abs(y.Analytic - y.Numeric).CompareTo(Math.Abs(x.Analytic - x.Numeric)));
        var worst = checks.GetRange(0, Math.Min(checks.Count, options.WorstCoordinates));
        return new TensorGradientCheck(term, name, checks.Count, length, kinks, difference, Norm(a), Norm(n), worst, options.Tolerance)
        {
            Error = Math.Sqrt(error),
            NoiseBound = Math.Sqrt(noise),
        };
    }

    private static double Norm(List<double> values)
    {
        double sum = 0;
        foreach (double v in values) sum += v * v;
        return Math.Sqrt(sum);
    }

    /// <summary>The coordinates checked in a tensor of <paramref name="length"/>: all of them, or the first, the last and
    /// random others up to <paramref name="cap"/> (distinct, ascending).</summary>
    private static IEnumerable<int> Coordinates(int length, int cap, ulong seed, string name)
    {
        if (cap <= 0 || length <= cap)
        {
            for (int i = 0; i < length; i++) yield return i;
            yield break;
        }
        var chosen = new SortedSet<int> { 0, length - 1 };
        ulong stream = 0xC0;
        foreach (char c in name) stream = stream * 31 + c;
        var random = new KernelRandom(seed, stream);
        while (chosen.Count < cap) chosen.Add(random.NextInt(length));
        foreach (int i in chosen) yield return i;
    }

    private static bool Same(int[] a, int[] b)
    {
        if (a.Length != b.Length) return false;
        for (int i = 0; i < a.Length; i++) if (a[i] != b[i]) return false;
        return true;
    }

    /// <summary>The kink signature after a training forward pass: the network's piecewise branches, and the loss's.</summary>
    private static int[] Signature<TLabel>(ILossNetwork<double, TLabel> network, LossNetworkBase<double, TLabel>? base_, double[] x, TLabel[] labels, LossTerms term)
        where TLabel : unmanaged
    {
        if (base_ is null) return [];
        var signature = new List<int>();
        base_.AppendKinkSignature(x, signature);
        if ((term & LossTerms.Data) != 0 && base_.Model.Loss is { } kind && OpCatalog.Get(kind).Branch is { } branch && typeof(TLabel) == typeof(int))
        {
            int batch = x.Length / network.InputSize, width = network.OutputSize;
            ReadOnlySpan<double> outputs = base_.LastTrainingOutputs(x, batch);
            var row = new double[width];
            for (int b = 0; b < batch; b++)
            {
                outputs.Slice(b * width, width).CopyTo(row);
                signature.AddRange(branch(row, (int)(object)labels[b], base_.Model.LossParameter));
            }
        }
        return signature.ToArray();
    }

    private static int[] ProjectionSignature(NetworkBase<double>? network, double[] x)
    {
        if (network is null) return [];
        var signature = new List<int>();
        network.AppendKinkSignature(x, signature);
        return signature.ToArray();
    }

    private static double PenaltyL1(INeuralNetwork<double> network, ParameterTensor tensor)
    {
        foreach (LayerInfo layer in network.Layers)
            foreach (LayerTensor t in layer.Tensors)
                if (!t.IsState && t.Offset == tensor.Offset) return t.L1;
        return 0;
    }

    /// <summary>Everything a check changes, restored on <see cref="Reset"/> (before each evaluation) and on dispose.</summary>
    private sealed class SavedState : IDisposable
    {
        private readonly INeuralNetwork<double> _network;
        private readonly double[] _parameters, _statistics;
        private readonly ulong _dropoutStep;

        public SavedState(INeuralNetwork<double> network)
        {
            _network = network;
            _parameters = network.Parameters.ToArray();
            _statistics = network.RunningStatistics.ToArray();
            _dropoutStep = network.DropoutStep;
        }

        /// <summary>Restores the running statistics and the dropout step (the parameters are restored by each coordinate).</summary>
        public void Reset()
        {
            _statistics.CopyTo(_network.RunningStatistics);
            _network.DropoutStep = _dropoutStep;
        }

        public void Dispose()
        {
            _parameters.CopyTo(_network.Parameters);
            Reset();
        }
    }
}

/// <summary>How <see cref="GradientCheck"/> differentiates and judges.</summary>
public sealed record GradientCheckOptions
{
    /// <summary>The defaults: ε = 1e-6, the 2-point stencil, tolerance 1e-7, up to 64 coordinates per tensor.</summary>
    public static GradientCheckOptions Default { get; } = new();

    /// <summary>The central-difference step ε (CS231n and Andrew Ng use 1e-5 to 1e-7 in double).</summary>
    public double Epsilon { get; init; } = 1e-6;

    /// <summary>Use the 4-point stencil (−f(θ+2ε) + 8f(θ+ε) − 8f(θ−ε) + f(θ−2ε)) / 12ε (error O(ε⁴)) instead of
    /// (f(θ+ε) − f(θ−ε)) / 2ε (error O(ε²)).</summary>
    public bool FourPointStencil { get; init; }

    /// <summary>The largest relative difference a tensor may have to pass (1e-7: "correct" in the usual reading).</summary>
    public double Tolerance { get; init; } = 1e-7;

    /// <summary>A floor for the difference's denominator (0: none). Where an exact gradient can vanish — BatchNorm's input
    /// gradient at tiny batches — the floor turns the check into an absolute one of <c>AbsoluteFloor × Tolerance</c>.</summary>
    public double AbsoluteFloor { get; init; }

    /// <summary>Coordinates checked per tensor at most (0: all of them).</summary>
    public int MaxCoordinatesPerTensor { get; init; } = 64;

    /// <summary>Seed of the coordinate sampling and of the output weights r of the Backward check.</summary>
    public ulong Seed { get; init; }

    /// <summary>Whether the Backward check also checks ∂L/∂inputs.</summary>
    public bool CheckInputs { get; init; } = true;

    /// <summary>How many of the worst coordinates each tensor's report lists.</summary>
    public int WorstCoordinates { get; init; } = 3;

    /// <summary>Options from an op's gradient-check settings in the op catalog.</summary>
    public static GradientCheckOptions From(GradientTolerance tolerance)
    {
        ArgumentNullException.ThrowIfNull(tolerance);
        return new GradientCheckOptions
        {
            Epsilon = tolerance.Epsilon,
            FourPointStencil = tolerance.FourPointStencil,
            Tolerance = tolerance.RelativeTolerance,
            AbsoluteFloor = tolerance.AbsoluteFloor,
            MaxCoordinatesPerTensor = tolerance.MaxCoordinates,
        };
    }

    internal void Validate()
    {
        if (!(Epsilon > 0) || !double.IsFinite(Epsilon)) ThrowHelper.ThrowArgumentOutOfRange(nameof(Epsilon), Epsilon, "ε must be positive and finite.");
        if (!(Tolerance > 0)) ThrowHelper.ThrowArgumentOutOfRange(nameof(Tolerance), Tolerance, "The tolerance must be positive.");
        if (!(AbsoluteFloor >= 0)) ThrowHelper.ThrowArgumentOutOfRange(nameof(AbsoluteFloor), AbsoluteFloor, "The floor must not be negative.");
        if (MaxCoordinatesPerTensor < 0) ThrowHelper.ThrowArgumentOutOfRange(nameof(MaxCoordinatesPerTensor), MaxCoordinatesPerTensor, "Must not be negative.");
        if (WorstCoordinates < 0) ThrowHelper.ThrowArgumentOutOfRange(nameof(WorstCoordinates), WorstCoordinates, "Must not be negative.");
    }
}

/// <summary>The usual reading of a relative difference between analytic and numerical gradients.</summary>
public enum GradientVerdict
{
    /// <summary>Below 1e-7: the gradient is correct.</summary>
    Correct,
    /// <summary>From 1e-7 to 1e-3: can be fine (kinks, large curvature) but the largest entries deserve a look.</summary>
    Inspect,
    /// <summary>1e-3 or more: the gradient is wrong.</summary>
    Wrong,
}

/// <summary>One coordinate of a tensor: its index in the tensor, both derivatives, and whether a kink was crossed.</summary>
public sealed record CoordinateCheck(int Index, double Analytic, double Numeric, bool Kink);

/// <summary>The check of one tensor for one term of the loss.</summary>
/// <param name="Term">"data loss", "penalties" or "Σ r·y" (the Backward check).</param>
/// <param name="Tensor">The tensor, e.g. <c>Dense1.Weights</c>, or <c>inputs</c>.</param>
/// <param name="Checked">Coordinates checked.</param>
/// <param name="Length">Coordinates in the tensor.</param>
/// <param name="Kinks">Coordinates left out because a kink lay between θ − ε and θ + ε.</param>
/// <param name="Difference">‖a − n‖₂ / (‖a‖₂ + ‖n‖₂) over the checked coordinates without kinks (0 when both vanish).</param>
/// <param name="AnalyticNorm">‖a‖₂.</param>
/// <param name="NumericNorm">‖n‖₂.</param>
/// <param name="Worst">The coordinates with the largest |a − n|, largest first.</param>
/// <param name="Tolerance">The tolerance it was judged against.</param>
public sealed record TensorGradientCheck(string Term, string Tensor, int Checked, int Length, int Kinks, double Difference, double AnalyticNorm, double NumericNorm,
    IReadOnlyList<CoordinateCheck> Worst, double Tolerance)
{
    /// <summary>The usual reading of <see cref="Difference"/>.</summary>
    public GradientVerdict Verdict => Difference < 1e-7 ? GradientVerdict.Correct : Difference < 1e-3 ? GradientVerdict.Inspect : GradientVerdict.Wrong;

    /// <summary>‖a − n‖₂ over the checked coordinates without kinks.</summary>
    public double Error { get; init; }

    /// <summary>
    /// What the finite differences cannot resolve: the rounding error of the differences quotients (128 units in the last
    /// place of each loss value, over the step), combined over the coordinates. When the gradients themselves are that
    /// small, the relative difference measures rounding, not the backward pass.
    /// </summary>
    public double NoiseBound { get; init; }

    /// <summary>Whether the finite differences could not resolve any error: ‖a − n‖ is within <see cref="NoiseBound"/>.</summary>
    public bool AtRoundingNoise => Error <= NoiseBound && Difference > Tolerance;

    /// <summary>Whether <see cref="Difference"/> is within <see cref="Tolerance"/>, or the error is within the rounding noise.</summary>
    public bool Passed => Difference <= Tolerance || Error <= NoiseBound;
}

/// <summary>The result of a <see cref="GradientCheck"/>: one entry per term and tensor.</summary>
public sealed class GradientCheckReport
{
    internal GradientCheckReport(IReadOnlyList<TensorGradientCheck> tensors, GradientCheckOptions options)
    {
        Tensors = tensors;
        Options = options;
    }

    /// <summary>Every term's check of every tensor.</summary>
    public IReadOnlyList<TensorGradientCheck> Tensors { get; }

    /// <summary>The options used.</summary>
    public GradientCheckOptions Options { get; }

    /// <summary>Whether every tensor passed.</summary>
    public bool Passed
    {
        get
        {
            foreach (TensorGradientCheck t in Tensors) if (!t.Passed) return false;
            return true;
        }
    }

    /// <summary>The largest relative difference of any tensor.</summary>
    public double WorstDifference
    {
        get
        {
            double worst = 0;
            foreach (TensorGradientCheck t in Tensors) worst = Math.Max(worst, t.Difference);
            return worst;
        }
    }

    /// <summary>Coordinates left out for kinks, over all tensors.</summary>
    public int Kinks
    {
        get
        {
            int kinks = 0;
            foreach (TensorGradientCheck t in Tensors) kinks += t.Kinks;
            return kinks;
        }
    }

    /// <summary>A table: one line per term and tensor, then the worst coordinates of every tensor that did not pass.</summary>
    public override string ToString()
    {
        var text = new StringBuilder();
        CultureInfo c = CultureInfo.InvariantCulture;
        text.Append(c, $"Gradient check (ε = {Options.Epsilon:G3}, {(Options.FourPointStencil ? "4" : "2")}-point, tolerance {Options.Tolerance:G3}): ")
            .Append(Passed ? "passed" : "FAILED").Append(c, $", worst relative difference {WorstDifference:E2}");
        if (Kinks > 0) text.Append(c, $", {Kinks} coordinate(s) at kinks left out");
        text.AppendLine();
        text.AppendLine("term        tensor                          checked   kinks  difference  verdict");
        foreach (TensorGradientCheck t in Tensors)
            text.Append(c, $"{t.Term,-11} {t.Tensor,-31} {t.Checked,7} {t.Kinks,7}  {t.Difference,10:E2}  {t.Verdict}{(t.AtRoundingNoise ? " (error at rounding noise)" : "")}{(t.Passed ? "" : "  ← over the tolerance")}").AppendLine();
        foreach (TensorGradientCheck t in Tensors)
        {
            if (t.Passed && t.Kinks == 0) continue;
            text.Append(c, $"{t.Term} / {t.Tensor}, largest differences:").AppendLine();
            foreach (CoordinateCheck p in t.Worst)
                text.Append(c, $"  [{p.Index}] analytic {p.Analytic:G10}, numeric {p.Numeric:G10}{(p.Kink ? " (kink)" : "")}").AppendLine();
        }
        return text.ToString();
    }
}
