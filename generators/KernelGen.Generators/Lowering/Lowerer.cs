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
            if (layer.Kind == LayerKind.Dense)
            {
                steps.Add(new StepPlan(StepKind.Dense, names[i], width, layer.Units, activation, (Init)layer.InitValue, -1, -1));
                width = layer.Units;
            }
            else if (activation != Activation.Identity)
            {
                int last = steps.Count - 1;
                if (last >= 0 && steps[last].Kind == StepKind.Dense && steps[last].Activation == Activation.Identity)
                    steps[last] = steps[last] with { Activation = activation };
                else
                    steps.Add(new StepPlan(StepKind.Activation, names[i], width, width, activation, Init.Auto, -1, -1));
            }
            if (width > maxWidth) maxWidth = width;
        }

        // Resolve Init.Auto and lay out the arena.
        var tensors = new List<TensorPlan>();
        int offset = 0, count = 0;
        for (int i = 0; i < steps.Count; i++)
        {
            StepPlan step = steps[i];
            if (step.Kind != StepKind.Dense) continue;
            Init init = step.Init != Init.Auto ? step.Init : step.Activation == Activation.ReLU ? Init.HeNormal : Init.XavierUniform;
            int weights = offset;
            tensors.Add(new TensorPlan(step.Name + ".Weights", weights, step.In, step.Out, true));
            offset = Align(offset + step.In * step.Out);
            int bias = offset;
            tensors.Add(new TensorPlan(step.Name + ".Bias", bias, 1, step.Out, false));
            offset = Align(offset + step.Out);
            count += step.In * step.Out + step.Out;
            steps[i] = step with { Init = init, WeightOffset = weights, BiasOffset = bias };
        }

        LossKind? loss = spec.Losses.Count > 0 ? spec.Losses[0].Kind : null;
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
            spec.TrainingOptions.Select(o => new TrainingOptionPlan(o.Kind, o.Values)).ToEquatableArray());
    }

    private static int Align(int offset) => (offset + TensorAlignment - 1) / TensorAlignment * TensorAlignment;

    private static string Describe(int input, List<StepPlan> steps, LossKind? loss, OptimizerSpec? optimizer)
    {
        var text = new StringBuilder();
        text.Append("input ").Append(input.ToString(CultureInfo.InvariantCulture));
        foreach (StepPlan step in steps)
        {
            text.Append(" → ").Append(step.Name);
            if (step.Kind == StepKind.Dense)
            {
                text.Append(' ').Append(step.Out.ToString(CultureInfo.InvariantCulture));
                if (step.Activation != Activation.Identity) text.Append(" + ").Append(step.Activation.ToString());
            }
        }
        if (loss is { } l) text.Append(" → ").Append(l == LossKind.SoftmaxCrossEntropy ? "softmax cross-entropy" : "L2 divergence");
        if (optimizer is not null)
            text.Append("; ").Append(optimizer.Kind.ToString()).Append(", learning rate ").Append(optimizer.LearningRate.ToString("R", CultureInfo.InvariantCulture));
        return text.ToString();
    }
}
