using System.Collections.Generic;
using System.Linq;
using System.Globalization;
using System.Text;
using KernelGen.Generators.Helpers;
using KernelGen.Generators.Model;

namespace KernelGen.Generators.Lowering;

/// <summary>
/// Lowers a validated <see cref="NetworkSpec"/> to a <see cref="KernelPlan"/>: a pure function, tested without Roslyn.
/// It fuses an activation layer into the dense layer before it, drops identity layers, resolves
/// <see cref="Init.Auto"/>, and lays the parameter tensors out in one arena with every tensor starting on a
/// 16-element boundary; the arena itself starts on a 64-byte boundary, so every tensor is 64-byte aligned.
/// </summary>
internal static class Lowerer
{
    public const int TensorAlignment = 16;

    public static KernelPlan Lower(NetworkSpec spec)
    {
        IReadOnlyList<string> names = LayerNames.Resolve(spec.Layers);
        var steps = new List<StepPlan>();
        int width = spec.InputSize, maxWidth = spec.InputSize;
        for (int i = 0; i < spec.Layers.Count; i++)
        {
            LayerSpec layer = spec.Layers[i];
            var activation = (Activation)layer.ActivationValue;
            double parameter = ActivationParameter(activation, layer.ActivationParameter);
            double l1 = double.IsNaN(layer.L1) ? spec.L1 : layer.L1, l2 = double.IsNaN(layer.L2) ? spec.L2 : layer.L2;
            switch (layer.Kind)
            {
                case LayerKind.Dense:
                    steps.Add(new StepPlan(StepKind.Dense, names[i], width, layer.Units, activation, (Init)layer.InitValue, -1, -1)
                        { Parameter = parameter, L1 = l1, L2 = l2, ActivityL1 = layer.ActivityL1, BiasInit = layer.BiasInit });
                    width = layer.Units;
                    break;
                case LayerKind.Maxout:
                    steps.Add(new StepPlan(StepKind.Maxout, names[i], width, layer.Units, Activation.Identity, (Init)layer.InitValue, -1, -1)
                        { Pieces = layer.Pieces, L1 = l1, L2 = l2 });
                    maxWidth = System.Math.Max(maxWidth, layer.Units * layer.Pieces);
                    width = layer.Units;
                    break;
                case LayerKind.BatchNorm:
                    steps.Add(Same(StepKind.BatchNorm) with { Epsilon = Or(layer.Epsilon, 1e-5), Momentum = Or(layer.Momentum, 0.1) });
                    break;
                case LayerKind.LayerNorm:
                    steps.Add(Same(StepKind.LayerNorm) with { Epsilon = Or(layer.Epsilon, 1e-5) });
                    break;
                case LayerKind.GroupNorm:
                    steps.Add(Same(StepKind.GroupNorm) with { Epsilon = Or(layer.Epsilon, 1e-5), Groups = layer.Groups });
                    break;
                case LayerKind.Dropout:
                    if (layer.DropProbability > 0) steps.Add(Same(StepKind.Dropout) with { DropProbability = layer.DropProbability });
                    break;
                case LayerKind.Softmax:
                    steps.Add(Same(StepKind.Softmax));
                    break;
                default:
                    if (activation == Activation.Identity) break;
                    int last = steps.Count - 1;
                    if (last >= 0 && steps[last].Kind == StepKind.Dense && steps[last].Activation == Activation.Identity)
                        steps[last] = steps[last] with { Activation = activation, Parameter = parameter };
                    else
                        steps.Add(Same(StepKind.Activation) with { Activation = activation, Parameter = parameter });
                    break;
            }
            if (width > maxWidth) maxWidth = width;

            StepPlan Same(StepKind kind) => new(kind, names[i], width, width, Activation.Identity, Init.Auto, -1, -1);
        }

        // Resolve Init.Auto and lay out the arena: weights then bias for dense and maxout, γ then β for normalization.
        var tensors = new List<TensorPlan>();
        int offset = 0, count = 0, statistics = 0;
        bool penalties = false;
        for (int i = 0; i < steps.Count; i++)
        {
            StepPlan step = steps[i];
            penalties |= step.L1 > 0 || step.L2 > 0 || step.ActivityL1 > 0;
            if (step.Kind is StepKind.Dense or StepKind.Maxout)
            {
                Init init = step.Init != Init.Auto ? step.Init : FeedsRelu(steps, i) ? Init.HeNormal : Init.XavierUniform;
                int outputs = step.DenseOut;
                int weights = offset;
                tensors.Add(new TensorPlan(step.Name + ".Weights", weights, step.In, outputs, true));
                offset = Align(offset + step.In * outputs);
                int bias = offset;
                tensors.Add(new TensorPlan(step.Name + ".Bias", bias, 1, outputs, false));
                offset = Align(offset + outputs);
                count += step.In * outputs + outputs;
                steps[i] = step with { Init = init, WeightOffset = weights, BiasOffset = bias };
            }
            else if (step.Kind is StepKind.BatchNorm or StepKind.LayerNorm or StepKind.GroupNorm)
            {
                int gamma = offset;
                tensors.Add(new TensorPlan(step.Name + ".Gamma", gamma, 1, step.Out, false));
                offset = Align(offset + step.Out);
                int beta = offset;
                tensors.Add(new TensorPlan(step.Name + ".Beta", beta, 1, step.Out, false));
                offset = Align(offset + step.Out);
                count += 2 * step.Out;
                steps[i] = step with { GammaOffset = gamma, BetaOffset = beta };
                if (step.Kind == StepKind.BatchNorm)
                {
                    steps[i] = steps[i] with { StatisticsOffset = statistics };
                    statistics = Align(statistics + step.Out) + Align(step.Out);
                }
            }
        }

        InferencePlan inference = LowerInference(spec.InputSize, steps);
        LossSpec? lossSpec = spec.Losses.Count > 0 ? spec.Losses[0] : null;
        ulong fingerprint = Fingerprint(spec.InputSize, steps, tensors, lossSpec?.Kind, spec.Optimizers.Count > 0 ? spec.Optimizers[0].Kind : null);
        LossKind? loss = lossSpec?.Kind;
        OptimizerSpec? optimizer = spec.Optimizers.Count > 0 ? spec.Optimizers[0] : null;
        return new KernelPlan(
            spec.Type,
            Describe(spec.InputSize, steps, loss, optimizer),
            spec.InputSize,
            width,
            count,
            offset,
            maxWidth,
            steps.ToEquatableArray(),
            tensors.ToEquatableArray(),
            loss,
            optimizer is null ? null : new OptimizerPlan(optimizer.Kind, optimizer.LearningRate, optimizer.Options),
            spec.TrainingOptions.Select(o => new TrainingOptionPlan(o.Kind, o.Values)).ToEquatableArray())
        {
            LossParameter = lossSpec is null ? 0 : Or(lossSpec.Parameter, lossSpec.Kind == LossKind.Hinge ? 1 : 0),
            StatisticsLength = statistics,
            HasPenalties = penalties,
            Fingerprint = fingerprint,
            Inference = inference,
        };
    }

    /// <summary>
    /// Lowers the inference form: dropout is the identity and goes; a BatchNorm directly after a dense step without
    /// activation folds into that step's outputs, otherwise into a dense step directly after it (its inputs), otherwise it
    /// stays (with its running statistics); a standalone activation after a dense step without activation fuses into it.
    /// Tensors are re-laid out in a fresh arena.
    /// </summary>
    private static InferencePlan LowerInference(int input, List<StepPlan> steps)
    {
        var folded = new List<(StepPlan Step, StepPlan Original, StepPlan? Before, StepPlan? After)>();
        foreach (StepPlan step in steps)
        {
            int last = folded.Count - 1;
            switch (step.Kind)
            {
                case StepKind.Dropout:
                    continue;
                case StepKind.BatchNorm when last >= 0 && folded[last].Step.Kind == StepKind.Dense && folded[last].Step.Activation == Activation.Identity && folded[last].After is null:
                    folded[last] = folded[last] with { After = step };
                    continue;
                case StepKind.Activation when last >= 0 && folded[last].Step.Kind == StepKind.Dense && folded[last].Step.Activation == Activation.Identity:
                    folded[last] = folded[last] with { Step = folded[last].Step with { Activation = step.Activation, Parameter = step.Parameter } };
                    continue;
                case StepKind.Dense when last >= 0 && folded[last].Step.Kind == StepKind.BatchNorm:
                    StepPlan bn = folded[last].Original;
                    folded[last] = (step, step, bn, null);
                    continue;
                default:
                    folded.Add((step, step, null, null));
                    continue;
            }
        }
        var result = new List<StepPlan>();
        var sources = new List<InferenceSource>();
        int offset = 0, maxWidth = input;
        foreach ((StepPlan step, StepPlan original, StepPlan? before, StepPlan? after) in folded)
        {
            StepPlan s = step with { L1 = 0, L2 = 0, ActivityL1 = 0 };
            if (s.Kind is StepKind.Dense or StepKind.Maxout)
            {
                int weights = offset;
                offset = Align(offset + s.In * s.DenseOut);
                int bias = offset;
                offset = Align(offset + s.DenseOut);
                s = s with { WeightOffset = weights, BiasOffset = bias };
                maxWidth = System.Math.Max(maxWidth, s.DenseOut);
            }
            else if (s.GammaOffset >= 0)
            {
                int gamma = offset;
                offset = Align(offset + s.Out);
                int beta = offset;
                offset = Align(offset + s.Out);
                s = s with { GammaOffset = gamma, BetaOffset = beta };
            }
            maxWidth = System.Math.Max(maxWidth, s.Out);
            result.Add(s);
            sources.Add(new InferenceSource(original, before, after));
        }
        return new InferencePlan(result.ToEquatableArray(), sources.ToEquatableArray(), offset, maxWidth);
    }

    /// <summary>FNV-1a (64-bit) over a canonical text of everything that decides the parameter and state layout and the
    /// meaning of each number in it. Learning rates and penalties are left out: a checkpoint stays loadable when they change.</summary>
    private static ulong Fingerprint(int input, List<StepPlan> steps, List<TensorPlan> tensors, LossKind? loss, OptimizerKind? optimizer)
    {
        var text = new StringBuilder();
        text.Append("kernelgen-plan-v1;in=").Append(input.ToString(CultureInfo.InvariantCulture));
        foreach (StepPlan s in steps)
            text.Append(';').Append(s.Kind.ToString()).Append(',').Append(s.Name).Append(',').Append(s.In.ToString(CultureInfo.InvariantCulture))
                .Append(',').Append(s.Out.ToString(CultureInfo.InvariantCulture)).Append(',').Append(s.Activation.ToString())
                .Append(',').Append(s.Parameter.ToString("R", CultureInfo.InvariantCulture)).Append(',').Append(s.Pieces.ToString(CultureInfo.InvariantCulture))
                .Append(',').Append(s.Groups.ToString(CultureInfo.InvariantCulture)).Append(',').Append(s.Epsilon.ToString("R", CultureInfo.InvariantCulture));
        foreach (TensorPlan t in tensors)
            text.Append(";t,").Append(t.Name).Append(',').Append(t.Offset.ToString(CultureInfo.InvariantCulture)).Append(',')
                .Append(t.Rows.ToString(CultureInfo.InvariantCulture)).Append(',').Append(t.Columns.ToString(CultureInfo.InvariantCulture));
        text.Append(";loss=").Append(loss?.ToString() ?? "none").Append(";optimizer=").Append(optimizer?.ToString() ?? "none");
        ulong hash = 14695981039346656037UL;
        foreach (char ch in text.ToString())
        {
            hash = (hash ^ (byte)ch) * 1099511628211UL;
            hash = (hash ^ (byte)(ch >> 8)) * 1099511628211UL;
        }
        return hash;
    }

    private static double Or(double value, double fallback) => double.IsNaN(value) ? fallback : value;

    private static double ActivationParameter(Activation activation, double value) => activation switch
    {
        Activation.LeakyReLU => Or(value, 0.01),
        Activation.ELU => Or(value, 1.0),
        Activation.GELU => Or(value, 0),
        _ => 0,
    };

    /// <summary>Whether the dense step at <paramref name="i"/> feeds a ReLU-family activation (its own, or the next one after
    /// normalization and dropout steps): He initialization then, Xavier otherwise.</summary>
    private static bool FeedsRelu(List<StepPlan> steps, int i)
    {
        if (steps[i].Activation != Activation.Identity) return steps[i].Activation is Activation.ReLU or Activation.LeakyReLU;
        for (int k = i + 1; k < steps.Count; k++)
        {
            if (steps[k].Kind is StepKind.BatchNorm or StepKind.LayerNorm or StepKind.GroupNorm or StepKind.Dropout) continue;
            return steps[k].Kind == StepKind.Activation && steps[k].Activation is Activation.ReLU or Activation.LeakyReLU;
        }
        return false;
    }

    private static int Align(int offset) => (offset + TensorAlignment - 1) / TensorAlignment * TensorAlignment;

    private static string Describe(int input, List<StepPlan> steps, LossKind? loss, OptimizerSpec? optimizer)
    {
        var text = new StringBuilder();
        text.Append("input ").Append(input.ToString(CultureInfo.InvariantCulture));
        foreach (StepPlan step in steps)
        {
            text.Append(" → ").Append(step.Name);
            if (step.Kind is StepKind.Dense or StepKind.Maxout)
            {
                text.Append(' ').Append(step.Out.ToString(CultureInfo.InvariantCulture));
                if (step.Activation != Activation.Identity) text.Append(" + ").Append(step.Activation.ToString());
            }
        }
        if (loss is { } l) text.Append(" → ").Append(l switch
        {
            LossKind.SoftmaxCrossEntropy => "softmax cross-entropy",
            LossKind.L2 => "L2 divergence",
            LossKind.KLDivergence => "KL divergence",
            LossKind.Hinge => "multiclass hinge",
            _ => "binary cross-entropy",
        });
        if (optimizer is not null)
            text.Append("; ").Append(optimizer.Kind.ToString()).Append(", learning rate ").Append(optimizer.LearningRate.ToString("R", CultureInfo.InvariantCulture));
        return text.ToString();
    }
}
