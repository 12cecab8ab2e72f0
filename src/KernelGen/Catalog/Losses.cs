// Compiled into both the runtime library and the generator (linked file): netstandard2.0-compatible. Each loss's
// attribute and catalog entry live here together; its kernel is in Kernels/Loss.cs or Kernels/Losses.cs.
using System;
using System.Collections.Generic;
using KernelGen.Catalog;

namespace KernelGen
{
    /// <summary>
    /// Softmax cross-entropy on integer class labels: L = (1/B) Σ_b [log Σ_j e^(y_bj) − y_b,label_b], computed with
    /// the log-sum-exp shift (finite for any finite logits). The network outputs raw logits; the gradient
    /// (softmax(y) − onehot(label)) / B is fused into the loss. Labels must lie in [0, outputs).
    /// </summary>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
    public sealed class SoftmaxCrossEntropyLossAttribute : LossAttribute
    {
        /// <summary>Label smoothing ε ∈ [0, 1): targets (1 − ε)·onehot + ε/K (PyTorch's label_smoothing); default 0.</summary>
        public double LabelSmoothing { get; set; }
    }

    /// <summary>
    /// KL divergence from target distributions t ([batch × outputs], rows summing to 1) to softmax(y):
    /// L = (1/B) Σ_b Σ_j t_j·(log t_j − log softmax(y_b)_j) (PyTorch KLDivLoss, reduction 'batchmean', on log_softmax;
    /// <c>Reduction = LossReduction.Mean</c> and <see cref="LossReduction.Sum"/> give its 'mean' and 'sum').
    /// </summary>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
    public sealed class KLDivergenceLossAttribute : LossAttribute { }

    /// <summary>Multiclass SVM hinge loss (cs231n): L = (1/B) Σ_b Σ_{j ≠ y} max(0, s_j − s_y + Δ), integer labels.</summary>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
    public sealed class HingeLossAttribute : LossAttribute
    {
        /// <summary>Δ &gt; 0; default 1.</summary>
        public double Margin { get; set; } = 1;
    }

    /// <summary>
    /// Binary cross-entropy on logits with targets in [0, 1] ([batch × outputs]): per element max(x, 0) − x·t + log(1 + e^(−|x|)),
    /// summed over outputs and averaged over the batch. PyTorch's default <c>BCEWithLogitsLoss()</c> ('mean') also divides
    /// by the output count: that is <c>Reduction = LossReduction.Mean</c>; its 'sum' is <see cref="LossReduction.Sum"/>.
    /// </summary>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
    public sealed class BinaryCrossEntropyLossAttribute : LossAttribute { }

    /// <summary>
    /// Negative log-likelihood of integer class labels on log-probabilities: L = −(1/B) Σ_b y_b,label_b (PyTorch nn.NLLLoss,
    /// reduction 'mean', without class weights). The outputs must be log-probabilities: put <see cref="LogSoftmaxAttribute"/>
    /// last (KG0025 warns otherwise); [LogSoftmax] + [NegativeLogLikelihoodLoss] is softmax cross-entropy, computed in two
    /// steps as PyTorch code written that way does. Gradient: −1/B at each sample's label, 0 elsewhere. Labels must lie in [0, outputs).
    /// </summary>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
    public sealed class NegativeLogLikelihoodLossAttribute : LossAttribute { }

    /// <summary>
    /// A loss summing a user's <see cref="LossFunctionAttribute"/> method over each sample's outputs and averaging over the
    /// batch (as the built-in losses; <see cref="LossAttribute.Reduction"/> selects PyTorch's mean over elements or sum):
    /// L = (1/B) Σ_b Σ_j ℓ(y_bj, t_bj), targets shaped like the outputs. E.g.
    /// <c>[CustomLoss(typeof(MyLosses), nameof(MyLosses.Huber), 1.0)]</c>.
    /// </summary>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
    public sealed class CustomLossAttribute : LossAttribute
    {
        /// <summary>The method <paramref name="method"/> of <paramref name="type"/>, with the constant arguments <paramref name="arguments"/>.</summary>
        public CustomLossAttribute(Type type, string method, params double[] arguments)
        {
            Type = type; Method = method; Arguments = arguments;
        }

        /// <summary>The type declaring the method.</summary>
        public Type Type { get; }
        /// <summary>The method's name (use <c>nameof</c>).</summary>
        public string Method { get; }
        /// <summary>The values of the method's parameters after y and t.</summary>
        public double[] Arguments { get; }
    }

    /// <summary>L2 penalty ½λ‖W‖² on every weight matrix (not biases or normalization parameters), added to the loss and its gradient.</summary>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
    public sealed class L2RegularizationAttribute : Attribute
    {
        /// <summary>λ ≥ 0.</summary>
        public L2RegularizationAttribute(double lambda) { Lambda = lambda; }
        /// <summary>λ.</summary>
        public double Lambda { get; }
    }

    /// <summary>L1 penalty λ‖W‖₁ on every weight matrix (subgradient λ·sign(W), 0 at 0), added to the loss and its gradient.</summary>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
    public sealed class L1RegularizationAttribute : Attribute
    {
        /// <summary>λ ≥ 0.</summary>
        public L1RegularizationAttribute(double lambda) { Lambda = lambda; }
        /// <summary>λ.</summary>
        public double Lambda { get; }
    }

    /// <summary>
    /// The L2 divergence: L = (1/B) Σ_b ½ Σ_j (y_bj − d_bj)², with targets d laid out like the outputs
    /// [batch × outputs]. Gradient: (y − d) / B. With <c>Reduction = LossReduction.Mean</c>, L = ½·PyTorch's
    /// <c>MSELoss()</c> (mean over every element); with <see cref="LossReduction.Sum"/>, ½·<c>MSELoss(reduction='sum')</c>.
    /// </summary>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
    public sealed class L2LossAttribute : LossAttribute { }
}

namespace KernelGen.Catalog
{
    public static partial class OpCatalog
    {
        private const string Kernels = "global::KernelGen.Kernels.";

        /// <summary>Every loss, in enum order. Kernel formats: {0} element type, {1} outputs, {2} labels, {3} gradient, {4} parameter.</summary>
        public static IReadOnlyList<LossDescriptor> Losses { get; } = new[]
        {
            new LossDescriptor(LossKind.SoftmaxCrossEntropy, typeof(SoftmaxCrossEntropyLossAttribute), LabelKind.ClassIndex)
            {
                Parameter = new OptionDescriptor("LabelSmoothing", OptionType.Real, 0, ValueRange.UnitOpen, "label smoothing ε") { ElementConstant = true },
                Title = "softmax cross-entropy",
                Formula = "L = (1/B) Σ_b [log Σ_j e^(y_bj) − y_b,label_b]; with smoothing ε the targets are (1 − ε)·onehot + ε/K",
                Source = "PyTorch nn.CrossEntropyLoss (reduction 'mean', label_smoothing)",
                PyTorch = "F.cross_entropy(y, t, label_smoothing={p})",
                Kernel = p => p > 0
                    ? Kernels + "LossFunctions.SoftmaxCrossEntropy<{0}>({1}, {2}, {3}, batch, OutputFeatures, {4})"
                    : Kernels + "Loss.SoftmaxCrossEntropy<{0}>({1}, {2}, {3}, batch, OutputFeatures)",
                MinimumOutputs = 2, WantsRawOutputs = true,
            },
            new LossDescriptor(LossKind.L2, typeof(L2LossAttribute), LabelKind.Targets)
            {
                Title = "L2 divergence",
                Formula = "L = (1/B) Σ_b ½ Σ_j (y_bj − d_bj)²",
                Source = "½ × PyTorch nn.MSELoss(reduction='sum') / B",
                PyTorch = "0.5 * F.mse_loss(y, t, reduction='sum') / y.shape[0]",
                Kernel = p => Kernels + "Loss.L2<{0}>({1}, {2}, {3}, batch, OutputFeatures)",
                ElementwiseTerms = true,
            },
            new LossDescriptor(LossKind.KLDivergence, typeof(KLDivergenceLossAttribute), LabelKind.Distributions)
            {
                Title = "KL divergence",
                Formula = "L = (1/B) Σ_b Σ_j t_j·(log t_j − log softmax(y_b)_j), 0·log 0 = 0",
                Source = "PyTorch nn.KLDivLoss(reduction='batchmean') on log_softmax(y)",
                PyTorch = "F.kl_div(F.log_softmax(y, dim=-1), t, reduction='batchmean')",
                Kernel = p => Kernels + "LossFunctions.KLDivergence<{0}>({1}, {2}, {3}, batch, OutputFeatures)",
                MinimumOutputs = 2, WantsRawOutputs = true, ElementwiseTerms = true,
            },
            new LossDescriptor(LossKind.Hinge, typeof(HingeLossAttribute), LabelKind.ClassIndex)
            {
                Parameter = new OptionDescriptor("Margin", OptionType.Real, 1, ValueRange.Positive, "margin Δ") { ElementConstant = true },
                Title = "multiclass hinge",
                Formula = "L = (1/B) Σ_b Σ_(j ≠ y_b) max(0, s_j − s_y + Δ)",
                Source = "CS231n's multiclass SVM loss (PyTorch nn.MultiMarginLoss also divides by the class count)",
                PyTorch = "F.multi_margin_loss(y, t, margin={p}, reduction='sum') * y.shape[1] / y.shape[0]",
                Kernel = p => Kernels + "LossFunctions.MulticlassHinge<{0}>({1}, {2}, {3}, batch, OutputFeatures, {4})",
                MinimumOutputs = 2, ElementwiseTerms = true,
                Branch = (scores, label, margin) =>
                {
                    var branches = new int[scores.Length];
                    for (int j = 0; j < scores.Length; j++) branches[j] = j != label && scores[j] - scores[label] + margin > 0 ? 1 : 0;
                    return branches;
                },
            },
            new LossDescriptor(LossKind.BinaryCrossEntropy, typeof(BinaryCrossEntropyLossAttribute), LabelKind.Probabilities)
            {
                Title = "binary cross-entropy",
                Formula = "L = (1/B) Σ_b Σ_j [max(y, 0) − y·t + log(1 + e^(−|y|))], on logits y",
                Source = "PyTorch nn.BCEWithLogitsLoss(reduction='sum') / B",
                PyTorch = "F.binary_cross_entropy_with_logits(y, t, reduction='sum') / y.shape[0]",
                Kernel = p => Kernels + "LossFunctions.BinaryCrossEntropyWithLogits<{0}>({1}, {2}, {3}, batch, OutputFeatures)",
                WantsRawOutputs = true, ElementwiseTerms = true,
            },
            new LossDescriptor(LossKind.NegativeLogLikelihood, typeof(NegativeLogLikelihoodLossAttribute), LabelKind.ClassIndex)
            {
                Title = "negative log-likelihood",
                Formula = "L = −(1/B) Σ_b y_b,label_b, on log-probabilities y",
                Source = "PyTorch nn.NLLLoss (reduction 'mean', no class weights)",
                PyTorch = "F.nll_loss(y, t)",
                Kernel = p => Kernels + "LossFunctions.NegativeLogLikelihood<{0}>({1}, {2}, {3}, batch, OutputFeatures)",
                MinimumOutputs = 2, WantsLogProbabilities = true,
                TestLayers = "[Dense(6, Activation.Tanh)] [Dense(5)] [LogSoftmax]",
            },
            new LossDescriptor(LossKind.Custom, typeof(CustomLossAttribute), LabelKind.Targets)
            {
                Title = "user loss",
                Formula = "L = (1/B) Σ_b Σ_j ℓ(y_bj, t_bj), ℓ the user's [LossFunction] method, ∂ℓ/∂y derived at compile time",
                Source = "the user's method",
                // The generator emits the call itself: LossFunctions.Elementwise over the operator struct it writes for the method.
                ElementwiseTerms = true,
            },
        };

        /// <summary>The <c>Reduction</c> option every loss attribute has (<see cref="LossAttribute.Reduction"/>).</summary>
        public static OptionDescriptor Reduction { get; } =
            new OptionDescriptor("Reduction", OptionType.Enumeration, 0, null, "how the terms of a batch are reduced (BatchMean, Mean, Sum)") { EnumType = typeof(LossReduction) };

        /// <summary>
        /// The factor that turns a loss's batch mean (what its kernel returns) into <paramref name="reduction"/>'s value: 1,
        /// 1/K for element-wise losses under <see cref="LossReduction.Mean"/>, B under <see cref="LossReduction.Sum"/>, as text
        /// over <c>batch</c> and the output count <paramref name="outputs"/>; null for 1.
        /// </summary>
        public static string? ReductionFactor(LossDescriptor loss, LossReduction reduction, string outputs) => reduction switch
        {
            LossReduction.Mean when loss.ElementwiseTerms => "1/" + outputs,
            LossReduction.Sum => "batch",
            _ => null,
        };

        /// <summary>The network-wide weight penalties.</summary>
        public static IReadOnlyList<PenaltyDescriptor> Penalties { get; } = new[]
        {
            new PenaltyDescriptor(typeof(L2RegularizationAttribute), "L2", "½λ‖W‖² over every weight tensor, gradient λ·W"),
            new PenaltyDescriptor(typeof(L1RegularizationAttribute), "L1", "λ‖W‖₁ over every weight tensor, subgradient λ·sign(W) (0 at 0)"),
        };
    }
}
