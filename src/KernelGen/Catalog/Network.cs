// This file is compiled into both the runtime library and the generator (as a linked file), so the generator
// reads attribute and enum names through typeof/nameof instead of string literals. Keep it netstandard2.0-compatible
// and free of runtime dependencies.
using System;

namespace KernelGen
{
    /// <summary>
    /// Marks a <c>partial class</c> as a KernelGen network and states the shape of one input sample. The layers are the
    /// <see cref="LayerAttribute"/>s on the same declaration, applied in source order (top to bottom, left to right);
    /// a loss attribute and an optimizer attribute complete a trainable network.
    /// </summary>
    /// <remarks>
    /// The generator turns the class into a <c>float</c> network and adds a nested class <c>Float64</c> with the same
    /// layers on <c>double</c> (used for gradient checking). Inputs are row-major: <c>[batch × features]</c> for
    /// <c>[Network(features)]</c>, <c>[batch × channels × height × width]</c> (NCHW) for
    /// <c>[Network(channels, height, width)]</c>. Example:
    /// <code>
    /// [Network(1, 28, 28)]              // one 28 × 28 grey image per sample
    /// [Flatten]                         // → 784 features
    /// [Dense(256, Activation.ReLU)]
    /// [Dense(10)]
    /// [SoftmaxCrossEntropyLoss]
    /// [Sgd(0.1)]
    /// public partial class MnistNet;
    /// </code>
    /// </remarks>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
    public sealed class NetworkAttribute : Attribute
    {
        /// <summary>Declares a network whose samples are vectors of <paramref name="inputSize"/> features.</summary>
        /// <param name="inputSize">Features per sample; inputs are laid out [batch × inputSize], row-major.</param>
        public NetworkAttribute(int inputSize) { InputSize = inputSize; Shape = new[] { inputSize }; }

        /// <summary>Declares a network whose samples are images of <paramref name="channels"/> planes of
        /// <paramref name="height"/> × <paramref name="width"/> (inputs laid out [batch × channels × height × width], as PyTorch's NCHW).</summary>
        public NetworkAttribute(int channels, int height, int width)
        {
            InputSize = channels * height * width;
            Shape = new[] { channels, height, width };
        }

        /// <summary>Elements per sample (the product of the shape).</summary>
        public int InputSize { get; }

        /// <summary>The shape of one sample, outermost first.</summary>
        public int[] Shape { get; }
    }

    /// <summary>Base class of every layer attribute. Layers apply in source order.</summary>
    public abstract class LayerAttribute : Attribute
    {
        /// <summary>
        /// Optional name used for the generated parameter views (for example <c>Hidden1Weights</c>); a valid C#
        /// identifier. Defaults to the layer kind and its 1-based position among layers of that kind (<c>Dense1</c>).
        /// </summary>
        public string? Name { get; set; }

        /// <summary>
        /// The layer whose output this layer reads, by name (see <see cref="Name"/>), or <see cref="NetworkInput"/> for the
        /// network's input. Default: the layer written just before it (the input for the first layer). Naming an earlier
        /// layer starts a branch; <see cref="AddAttribute"/> and <see cref="ConcatAttribute"/> join branches again.
        /// </summary>
        public string? From { get; set; }

        /// <summary>The name by which <see cref="From"/>, <see cref="AddAttribute"/> and <see cref="ConcatAttribute"/> refer
        /// to the network's input.</summary>
        public const string NetworkInput = "input";
    }

    /// <summary>Base class of loss attributes; a network has at most one loss.</summary>
    public abstract class LossAttribute : Attribute
    {
        /// <summary>
        /// How the per-element loss terms ℓ_bj of a batch of B samples with K outputs become one number (and the gradient
        /// scales the same way); default <see cref="LossReduction.BatchMean"/>. Each loss's documentation gives its
        /// PyTorch equivalent for every reduction.
        /// </summary>
        public LossReduction Reduction { get; set; }
    }

    /// <summary>How a loss reduces its terms over a batch (PyTorch's <c>reduction</c> argument).</summary>
    public enum LossReduction
    {
        /// <summary>
        /// L = (1/B) Σ_b Σ_j ℓ_bj: summed over each sample's outputs, averaged over the batch. PyTorch's
        /// <c>reduction='batchmean'</c> (KLDivLoss), and its <c>'mean'</c> for the losses on class indices
        /// (CrossEntropyLoss, NLLLoss), which have one term per sample.
        /// </summary>
        BatchMean,
        /// <summary>
        /// L = (1/(B·K)) Σ_b Σ_j ℓ_bj for the element-wise losses (L2, binary cross-entropy, KL divergence, hinge): PyTorch's
        /// <c>reduction='mean'</c>, averaged over every element. For the losses on class indices (softmax cross-entropy,
        /// negative log-likelihood), which have one term per sample, the same as <see cref="BatchMean"/>.
        /// </summary>
        Mean,
        /// <summary>L = Σ_b Σ_j ℓ_bj: PyTorch's <c>reduction='sum'</c>. The loss and the gradient grow with the batch size.</summary>
        Sum,
    }

    /// <summary>
    /// Base class of optimizer attributes; a network has at most one optimizer, which requests training code. Named
    /// properties left unset keep PyTorch's defaults (listed on each property).
    /// </summary>
    public abstract class OptimizerAttribute : Attribute
    {
        /// <summary>Creates an optimizer with base learning rate <paramref name="learningRate"/>.</summary>
        protected OptimizerAttribute(double learningRate) { LearningRate = learningRate; }

        /// <summary>The base learning rate η (positive, finite in float and double); a schedule scales it per step.</summary>
        public double LearningRate { get; }

        /// <summary>
        /// Weight decay λ ≥ 0, applied to weights only (not biases) inside the update pass: added to the gradient as
        /// λ·θ, except for AdamW, which decays θ ← θ·(1 − η·λ) directly. Default 0 (AdamW: 0.01).
        /// </summary>
        public double WeightDecay { get; set; }
    }

    /// <summary>Base class of learning-rate schedules; at most one per network (plus an optional <see cref="LinearWarmupAttribute"/>).</summary>
    public abstract class ScheduleAttribute : Attribute
    {
    }
}
