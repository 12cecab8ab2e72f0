// Compiled into both the runtime library and the generator (linked file): netstandard2.0-compatible. Each layer kind's
// attribute and catalog entry (options, shape rule, tensors, ONNX mapping, test network) live here together; its
// kernels are in Kernels/ and its generator lowering and emission in generators/KernelGen.Generators/Ops/.
using System;
using System.Collections.Generic;
using KernelGen.Catalog;

namespace KernelGen
{
    /// <summary>Weight initialization of a layer. Biases start at zero unless the layer sets <c>BiasInit</c>.
    /// Values are part of the generator's contract: never renumber.</summary>
    public enum Init
    {
        /// <summary>He normal before a ReLU-family activation, Xavier/Glorot uniform otherwise.</summary>
        Auto = 0,
        /// <summary>Xavier/Glorot uniform: U(−a, a) with a = √(6 / (fan_in + fan_out)).</summary>
        XavierUniform = 1,
        /// <summary>Xavier/Glorot normal: N(0, σ²) with σ = √(2 / (fan_in + fan_out)).</summary>
        XavierNormal = 2,
        /// <summary>He/MSRA uniform: U(−a, a) with a = √(6 / fan_in).</summary>
        HeUniform = 3,
        /// <summary>He/MSRA normal: N(0, σ²) with σ = √(2 / fan_in).</summary>
        HeNormal = 4,
        /// <summary>Small random numbers, 0.01·N(0, 1) (CS231n's first attempt; fine for shallow networks only).</summary>
        SmallNormal = 5,
        /// <summary>A (semi-)orthogonal matrix from the QR decomposition of a Gaussian one, R's diagonal made positive
        /// (Saxe et al.; PyTorch's orthogonal_ with gain 1).</summary>
        Orthogonal = 6,
        /// <summary>Layer-sequential unit variance (Mishkin and Matas): orthogonal at construction, then
        /// <c>KernelGen.Training.Lsuv.Initialize</c> rescales each such layer on a data batch until its outputs have unit variance.</summary>
        Lsuv = 7,
    }

    /// <summary>
    /// A fully connected layer: y = f(x·W + b), with W of shape [inputs × units] (row-major) and b of shape [units]
    /// (PyTorch nn.Linear, whose weight is stored transposed, [units × inputs]). Needs a flat [features] input.
    /// </summary>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
    public sealed class DenseAttribute : LayerAttribute
    {
        /// <summary>A dense layer with no activation (identity).</summary>
        /// <param name="units">Output features; must be positive.</param>
        public DenseAttribute(int units) : this(units, Activation.Identity) { }

        /// <summary>A dense layer followed by <paramref name="activation"/>, fused into the layer's kernels.</summary>
        /// <param name="units">Output features; must be positive.</param>
        /// <param name="activation">The activation applied to x·W + b.</param>
        public DenseAttribute(int units, Activation activation) { Units = units; Activation = activation; }

        /// <summary>Output features.</summary>
        public int Units { get; }

        /// <summary>The activation applied to x·W + b.</summary>
        public Activation Activation { get; }

        /// <summary>Weight initialization; <see cref="Init.Auto"/> by default.</summary>
        public Init Init { get; set; }

        /// <summary>L2 penalty ½λ‖W‖² on this layer's weights (overrides [L2Regularization]); unset = inherit.</summary>
        public double L2 { get; set; } = double.NaN;

        /// <summary>L1 penalty λ‖W‖₁ on this layer's weights (overrides [L1Regularization]); unset = inherit.</summary>
        public double L1 { get; set; } = double.NaN;

        /// <summary>L1 penalty λ·Σ|a| on this layer's output activations, averaged over the batch (sparse representations); 0 = off.</summary>
        public double ActivityL1 { get; set; }

        /// <summary>The constant every bias starts at (0 by default; CS231n mentions 0.01 for ReLU units).</summary>
        public double BiasInit { get; set; }
    }

    /// <summary>
    /// Maxout (Goodfellow et al.): y_u = max_i (x·W_i + b_i)_u over <c>pieces</c> linear pieces per unit; owns
    /// [inputs × units·pieces] weights (each unit's pieces adjacent) and units·pieces biases. Needs a flat input.
    /// </summary>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
    public sealed class MaxoutAttribute : LayerAttribute
    {
        /// <summary>A maxout layer of <paramref name="units"/> outputs, each the max of <paramref name="pieces"/> (≥ 2) linear pieces.</summary>
        public MaxoutAttribute(int units, int pieces) { Units = units; Pieces = pieces; }
        /// <summary>Output features.</summary>
        public int Units { get; }
        /// <summary>Linear pieces per unit.</summary>
        public int Pieces { get; }
        /// <summary>Weight initialization; <see cref="Init.Auto"/> (Xavier uniform over fan-out units·pieces) by default.</summary>
        public Init Init { get; set; }
    }

    /// <summary>
    /// Batch normalization over the batch, per feature (PyTorch BatchNorm1d): training mode uses the batch mean and
    /// biased variance, x̂ = (x − μ)/√(σ² + ε), y = γ·x̂ + β, and updates running statistics rm ← (1 − m)·rm + m·μ,
    /// rv ← (1 − m)·rv + m·σ²·B/(B − 1); evaluation mode (Predict, Loss) uses rm and rv. Training batches need ≥ 2 rows.
    /// </summary>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
    public sealed class BatchNormAttribute : LayerAttribute
    {
        /// <summary>m in (0, 1]; default 0.1 (PyTorch's convention: the weight of the new batch statistic).</summary>
        public double Momentum { get; set; } = 0.1;
        /// <summary>ε &gt; 0; default 1e-5.</summary>
        public double Epsilon { get; set; } = 1e-5;
    }

    /// <summary>Layer normalization over each sample's features: y = γ·(x − μ)/√(σ² + ε) + β, the same in training and evaluation.</summary>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
    public sealed class LayerNormAttribute : LayerAttribute
    {
        /// <summary>ε &gt; 0; default 1e-5.</summary>
        public double Epsilon { get; set; } = 1e-5;
    }

    /// <summary>Group normalization: each sample's features split into <c>groups</c> contiguous groups, each normalized; γ, β per feature.</summary>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
    public sealed class GroupNormAttribute : LayerAttribute
    {
        /// <summary>Normalize in <paramref name="groups"/> groups (must divide the feature count).</summary>
        public GroupNormAttribute(int groups) { Groups = groups; }
        /// <summary>Groups.</summary>
        public int Groups { get; }
        /// <summary>ε &gt; 0; default 1e-5.</summary>
        public double Epsilon { get; set; } = 1e-5;
    }

    /// <summary>
    /// Instance normalization of an image (PyTorch nn.InstanceNorm2d with affine=True): each channel of each sample is
    /// normalized over its H·W pixels, y = γ·(x − μ)/√(σ² + ε) + β with γ, β per channel, the same in training and
    /// evaluation (no running statistics). PyTorch's default affine=False is this layer with γ = 1 and β = 0, its start.
    /// </summary>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
    public sealed class InstanceNormAttribute : LayerAttribute
    {
        /// <summary>ε &gt; 0; default 1e-5.</summary>
        public double Epsilon { get; set; } = 1e-5;
    }

    /// <summary>
    /// Inverted dropout (PyTorch semantics): in training each feature is zeroed with the DROP probability p and the rest
    /// scaled by 1/(1 − p); evaluation is the identity. Put it first to drop inputs. Masks come from a seeded,
    /// counter-based generator (the network's DropoutSeed and DropoutStep).
    /// </summary>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
    public sealed class DropoutAttribute : LayerAttribute
    {
        /// <summary>Drop features with probability <paramref name="dropProbability"/> ∈ [0, 1).</summary>
        public DropoutAttribute(double dropProbability) { DropProbability = dropProbability; }
        /// <summary>p, the probability that a feature is zeroed.</summary>
        public double DropProbability { get; }

        /// <summary>Drop whole channels of an image-shaped value (PyTorch nn.Dropout2d): one draw per sample and channel;
        /// false (default) drops elements.</summary>
        public bool Channelwise { get; set; }
    }

    /// <summary>Softmax over each sample's features as a layer: y_j = e^(x_j)/Σ_k e^(x_k) (use raw logits with the softmax losses instead).</summary>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
    public sealed class SoftmaxAttribute : LayerAttribute { }

    /// <summary>
    /// Log-softmax over each sample's features as a layer: y_j = x_j − m − log Σ_k e^(x_k − m), m = max_k x_k (PyTorch
    /// nn.LogSoftmax(dim=-1)); finite for any finite input. Its outputs are log-probabilities, what
    /// <see cref="NegativeLogLikelihoodLossAttribute"/> reads.
    /// </summary>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
    public sealed class LogSoftmaxAttribute : LayerAttribute { }

    /// <summary>
    /// Flattens each sample to a vector of all its elements in row-major order (PyTorch nn.Flatten): an image
    /// [channels, height, width] becomes [channels·height·width] features, so it can feed <see cref="DenseAttribute"/>.
    /// No data moves.
    /// </summary>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
    public sealed class FlattenAttribute : LayerAttribute { }

    /// <summary>How a convolution pads its input with zeros.</summary>
    public enum PaddingMode
    {
        /// <summary>The layer's <c>Padding</c> on every side, or <c>PadTop</c>/<c>PadLeft</c>/<c>PadBottom</c>/<c>PadRight</c> where set.</summary>
        Explicit = 0,
        /// <summary>No padding (PyTorch <c>padding="valid"</c>).</summary>
        Valid = 1,
        /// <summary>Output as large as the input (stride 1 only): dilation·(kernel − 1) zeros in all, the odd one on the bottom
        /// and right (PyTorch <c>padding="same"</c>).</summary>
        Same = 2,
    }

    /// <summary>
    /// A 2-D convolution over [channels, height, width] inputs (PyTorch nn.Conv2d): y[o] = f(b[o] + Σ_c W[o, c] ⋆ x[c])
    /// with weights [outChannels, channels/groups, kernel, kernel] (PyTorch's layout) and one bias per output channel;
    /// zero padding, stride, dilation and groups as in PyTorch. The activation is fused into the kernel's epilogue.
    /// </summary>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
    public sealed class Conv2DAttribute : LayerAttribute
    {
        /// <summary>A convolution with no activation.</summary>
        /// <param name="outChannels">Output channels; must be positive.</param>
        /// <param name="kernel">The square kernel's side; must be positive.</param>
        public Conv2DAttribute(int outChannels, int kernel) : this(outChannels, kernel, Activation.Identity) { }

        /// <summary>A convolution followed by <paramref name="activation"/>, fused into its kernel.</summary>
        public Conv2DAttribute(int outChannels, int kernel, Activation activation) { OutChannels = outChannels; Kernel = kernel; Activation = activation; }

        /// <summary>Output channels.</summary>
        public int OutChannels { get; }
        /// <summary>The square kernel's side.</summary>
        public int Kernel { get; }
        /// <summary>The activation applied to the convolution plus bias.</summary>
        public Activation Activation { get; }
        /// <summary>Step between kernel positions, both directions; default 1.</summary>
        public int Stride { get; set; } = 1;
        /// <summary>Zeros added on every side (with <see cref="PaddingMode.Explicit"/>); default 0.</summary>
        public int Padding { get; set; }
        /// <summary>Explicit padding (default), "valid" or "same".</summary>
        public PaddingMode PaddingMode { get; set; }
        /// <summary>Zeros above; −1 (default): <see cref="Padding"/>.</summary>
        public int PadTop { get; set; } = -1;
        /// <summary>Zeros on the left; −1 (default): <see cref="Padding"/>.</summary>
        public int PadLeft { get; set; } = -1;
        /// <summary>Zeros below; −1 (default): <see cref="Padding"/>.</summary>
        public int PadBottom { get; set; } = -1;
        /// <summary>Zeros on the right; −1 (default): <see cref="Padding"/>.</summary>
        public int PadRight { get; set; } = -1;
        /// <summary>Spacing between kernel taps; default 1.</summary>
        public int Dilation { get; set; } = 1;
        /// <summary>Channel groups (must divide both channel counts; groups = channels = outChannels is a depthwise convolution); default 1.</summary>
        public int Groups { get; set; } = 1;
        /// <summary>Whether the layer adds a bias per output channel (default true; false, as before a BatchNorm, which has its own β).</summary>
        public bool Bias { get; set; } = true;
        /// <summary>Weight initialization; <see cref="Init.Auto"/> by default (fan-in = channels/groups·kernel², as PyTorch).</summary>
        public Init Init { get; set; }
        /// <summary>L2 penalty ½λ‖W‖² on this layer's weights (overrides [L2Regularization]); unset = inherit.</summary>
        public double L2 { get; set; } = double.NaN;
        /// <summary>L1 penalty λ‖W‖₁ on this layer's weights (overrides [L1Regularization]); unset = inherit.</summary>
        public double L1 { get; set; } = double.NaN;
        /// <summary>The constant every bias starts at (0 by default).</summary>
        public double BiasInit { get; set; }
    }

    /// <summary>2-D max pooling (PyTorch nn.MaxPool2d, floor rounding): the maximum of each kernel × kernel window; padding
    /// counts as −∞; the gradient flows to the first maximal element of each window.</summary>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
    public sealed class MaxPool2DAttribute : LayerAttribute
    {
        /// <summary>Max pooling over <paramref name="kernel"/> × <paramref name="kernel"/> windows.</summary>
        public MaxPool2DAttribute(int kernel) { Kernel = kernel; }
        /// <summary>The window's side.</summary>
        public int Kernel { get; }
        /// <summary>Step between windows; 0 (default): the kernel size, PyTorch's default.</summary>
        public int Stride { get; set; }
        /// <summary>Padding on every side (at most half the kernel); default 0.</summary>
        public int Padding { get; set; }
    }

    /// <summary>2-D average pooling (PyTorch nn.AvgPool2d, floor rounding): the mean of each kernel × kernel window.</summary>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
    public sealed class AvgPool2DAttribute : LayerAttribute
    {
        /// <summary>Average pooling over <paramref name="kernel"/> × <paramref name="kernel"/> windows.</summary>
        public AvgPool2DAttribute(int kernel) { Kernel = kernel; }
        /// <summary>The window's side.</summary>
        public int Kernel { get; }
        /// <summary>Step between windows; 0 (default): the kernel size, PyTorch's default.</summary>
        public int Stride { get; set; }
        /// <summary>Zero padding on every side (at most half the kernel); default 0.</summary>
        public int Padding { get; set; }
        /// <summary>True (default, PyTorch's count_include_pad): every window divides by kernel²; false: by the input elements it covers.</summary>
        public bool CountIncludePad { get; set; } = true;
    }

    /// <summary>Global average pooling: [channels, height, width] → [channels], each channel's mean (PyTorch
    /// nn.AdaptiveAvgPool2d(1) followed by nn.Flatten()).</summary>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
    public sealed class GlobalAveragePoolAttribute : LayerAttribute { }

    /// <summary>
    /// The element-wise sum of two or more earlier layers' outputs, all of one shape: a residual connection
    /// (<c>y = f(x) + x</c>), a projection shortcut (<c>y = f(x) + W·x</c>) or parallel branches summed (RepVGG). Name the
    /// layers (their <see cref="LayerAttribute.Name"/>, or <c>Dense1</c>-style default names; <see cref="LayerAttribute.NetworkInput"/>
    /// for the input). PyTorch: <c>a + b</c>; ONNX: <c>Sum</c>.
    /// </summary>
    /// <example><code>
    /// [Conv2D(16, 3, Padding = 1, Name = "stem")] [BatchNorm] [ReLU(Name = "x")]
    /// [Conv2D(16, 3, Padding = 1)] [BatchNorm] [ReLU]
    /// [Conv2D(16, 3, Padding = 1)] [BatchNorm(Name = "body")]
    /// [Add("x", "body")] [ReLU]            // y = relu(x + body(x))
    /// </code></example>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
    public sealed class AddAttribute : MergeAttribute
    {
        /// <summary>Sums the outputs of the named layers.</summary>
        public AddAttribute(string first, string second, params string[] more) : base(first, second, more) { }
    }

    /// <summary>
    /// Two or more earlier layers' outputs joined along the channels (images of one height and width: [C1 + C2, H, W]) or
    /// the features (vectors), in the order named (PyTorch <c>torch.cat(…, dim=1)</c>; ONNX <c>Concat(axis=1)</c>).
    /// </summary>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
    public sealed class ConcatAttribute : MergeAttribute
    {
        /// <summary>Concatenates the outputs of the named layers.</summary>
        public ConcatAttribute(string first, string second, params string[] more) : base(first, second, more) { }
    }

    /// <summary>Base class of the layers that join the outputs of two or more earlier layers, named in order.</summary>
    public abstract class MergeAttribute : LayerAttribute
    {
        /// <summary>Reads the named layers (at least two).</summary>
        protected MergeAttribute(string first, string second, string[]? more)
        {
            var inputs = new string[2 + (more?.Length ?? 0)];
            inputs[0] = first; inputs[1] = second;
            if (more is not null) Array.Copy(more, 0, inputs, 2, more.Length);
            Inputs = inputs;
        }

        /// <summary>The layers read, in order.</summary>
        public string[] Inputs { get; }
    }
}

namespace KernelGen.Catalog
{
    public static partial class OpCatalog
    {
        private static ShapeResult Flat(TensorShape input, Func<TensorShape> output) =>
            input.Rank == 1 ? ShapeResult.Of(output()) : ShapeResult.Fail($"a flat [features] input, but receives {input}; add [Flatten] before it");

        private static TensorShape V(int n) => TensorShape.Vector(n);

        /// <summary>Inputs of one shape (an element-wise sum's).</summary>
        private static ShapeResult SameShapes(IReadOnlyList<TensorShape> inputs)
        {
            for (int i = 1; i < inputs.Count; i++)
                if (!inputs[i].Equals(inputs[0]))
                    return ShapeResult.Fail($"inputs of one shape, but input {i + 1} is {inputs[i]} where input 1 is {inputs[0]}");
            return ShapeResult.Of(inputs[0]);
        }

        /// <summary>Inputs joined along their first dimension: vectors, or images of one height and width.</summary>
        private static ShapeResult Joined(IReadOnlyList<TensorShape> inputs)
        {
            long first = 0;
            for (int i = 0; i < inputs.Count; i++)
            {
                TensorShape s = inputs[i];
                if (s.Rank != inputs[0].Rank)
                    return ShapeResult.Fail($"inputs of one rank, but input {i + 1} is {s} where input 1 is {inputs[0]}; add [Flatten] to the images to join them with vectors");
                if (s.Rank == 3 && (s[1] != inputs[0][1] || s[2] != inputs[0][2]))
                    return ShapeResult.Fail($"images of one height and width, but input {i + 1} is {s} where input 1 is {inputs[0]}");
                first += s[0];
            }
            if (first * (inputs[0].LongSize / inputs[0][0]) > int.MaxValue) return ShapeResult.Fail("fewer than 2³¹ elements per sample");
            return ShapeResult.Of(inputs[0].Rank == 3 ? new TensorShape((int)first, inputs[0][1], inputs[0][2]) : V((int)first));
        }

        private static ShapeResult Image(TensorShape input, Func<ShapeResult> output) =>
            input.Rank == 3 ? output() : ShapeResult.Fail($"an image [channels, height, width] input, but receives {input}");

        /// <summary>Channels of a [channels, height, width] shape, features of a [features] one.</summary>
        private static int Channels(TensorShape shape) => shape.Rank == 3 ? shape[0] : shape.Size;

        /// <summary>
        /// A convolution's zero padding (top, left, bottom, right) from its options: <see cref="PaddingMode.Same"/> pads
        /// dilation·(kernel − 1) in all (the odd one at the bottom and right), <see cref="PaddingMode.Valid"/> none, and
        /// <see cref="PaddingMode.Explicit"/> each side's own value where set (≥ 0), else <c>Padding</c>.
        /// </summary>
        public static int[] ConvolutionPadding(OptionValues o)
        {
            switch ((PaddingMode)o.Int("PaddingMode"))
            {
                case PaddingMode.Valid: return new[] { 0, 0, 0, 0 };
                case PaddingMode.Same:
                    int total = o.Int("Dilation") * (o.Int("Kernel") - 1);
                    return new[] { total / 2, total / 2, total - total / 2, total - total / 2 };
                default:
                    int all = o.Int("Padding");
                    int Side(string name) => o.Int(name) >= 0 ? o.Int(name) : all;
                    return new[] { Side("PadTop"), Side("PadLeft"), Side("PadBottom"), Side("PadRight") };
            }
        }

        /// <summary>
        /// The elements of scratch a convolution's kernels need (<c>Conv2DGeometry.ScratchLength</c>; the generator sizes the
        /// layer's fixed work region with it). A depthwise convolution runs direct loops over one padded plane. Stride 1 without groups runs as implicit GEMMs, one per kernel tap, over a
        /// zero-padded copy of the input (channel planes Hp·Wp plus (kw − 1)·dw slack), an output extended to the padded
        /// width (O·OH·Wp) and the transposed weight gradient; every other shape through im2col: one group's patch matrix
        /// (K·P), one group's transposed output gradient (P·O/groups) and the transposed weight gradient (O·K).
        /// </summary>
        public static long ConvolutionScratch(int channels, int height, int width, int outChannels, int kernel, int stride, int padTop, int padLeft,
            int padBottom, int padRight, int dilation, int groups)
        {
            long span = (long)dilation * (kernel - 1);
            long outHeight = (height + padTop + padBottom - span - 1) / stride + 1, outWidth = (width + padLeft + padRight - span - 1) / stride + 1;
            long patch = (long)channels / groups * kernel * kernel, weights = outChannels * patch;
            if (ConvolutionIsDepthwise(channels, outChannels, groups))
                return 2 * ((long)(height + padTop + padBottom) * (width + padLeft + padRight) + span + 16);
            if (ConvolutionIsImplicit(channels, kernel, stride, padTop, padLeft, padBottom, padRight, groups))
            {
                long paddedWidth = width + padLeft + padRight, extended = ExtendedColumns(outHeight * paddedWidth);
                long plane = (height + padTop + padBottom) * paddedWidth + span + extended - outHeight * paddedWidth;
                return channels * plane + outChannels * extended + weights;
            }
            long pixels = outHeight * outWidth;
            return patch * pixels + pixels * (outChannels / groups) + weights;
        }

        /// <summary>Whether a convolution runs as implicit GEMMs over a padded input: stride 1, one group, at least 8 input
        /// channels (each tap's GEMM runs over the channels; a 1- or 3-channel first layer is faster through im2col), not a plain 1×1.</summary>
        public static bool ConvolutionIsImplicit(int channels, int kernel, int stride, int padTop, int padLeft, int padBottom, int padRight, int groups) =>
            stride == 1 && groups == 1 && channels >= 8 && !(kernel == 1 && padTop == 0 && padLeft == 0 && padBottom == 0 && padRight == 0);

        /// <summary>Whether a convolution is depthwise (groups = channels = output channels, more than one): direct loops
        /// over one zero-padded plane at a time (scratch: that plane and an output or gradient plane on the padded width, each with
        /// dilation·(kernel − 1) + 16 elements of slack).</summary>
        public static bool ConvolutionIsDepthwise(int channels, int outChannels, int groups) => groups > 1 && groups == channels && channels == outChannels;

        /// <summary>The implicit GEMMs' columns: the output extended to the padded width, rounded up to 16 (a whole number of
        /// vectors at every width, so the GEMM accumulates tap after tap without a scalar tail).</summary>
        public static long ExtendedColumns(long pixels) => (pixels + 15) / 16 * 16;

        /// <summary>A pooling layer's stride: its own, or the kernel size when 0.</summary>
        public static int PoolStride(OptionValues o) => o.Int("Stride") > 0 ? o.Int("Stride") : o.Int("Kernel");

        private static ShapeResult ConvolutionShape(TensorShape input, OptionValues o) => Image(input, () =>
        {
            int channels = input[0], outChannels = o.Int("OutChannels"), kernel = o.Int("Kernel"), groups = o.Int("Groups");
            int stride = o.Int("Stride"), dilation = o.Int("Dilation");
            if (outChannels < 1 || kernel < 1 || stride < 1 || dilation < 1 || groups < 1) return ShapeResult.Fail("positive sizes, stride, dilation and groups");
            if (channels % groups != 0 || outChannels % groups != 0)
                return ShapeResult.Fail($"a group count that divides its {channels} input and {outChannels} output channels, but has {groups} groups");
            if ((PaddingMode)o.Int("PaddingMode") == PaddingMode.Same && stride != 1) return ShapeResult.Fail("stride 1 for PaddingMode.Same (as PyTorch)");
            int[] pad = ConvolutionPadding(o);
            if (pad[0] < 0 || pad[1] < 0 || pad[2] < 0 || pad[3] < 0) return ShapeResult.Fail("non-negative padding");
            long span = (long)dilation * (kernel - 1) + 1;
            long h = (long)input[1] + pad[0] + pad[2] - span, w = (long)input[2] + pad[1] + pad[3] - span;
            if (h < 0 || w < 0)
                return ShapeResult.Fail($"a {kernel}×{kernel} kernel (dilation {dilation}) that fits its padded {input[1] + pad[0] + pad[2]}×{input[2] + pad[1] + pad[3]} input");
            var output = TensorShape.Image(outChannels, (int)(h / stride + 1), (int)(w / stride + 1));
            return output.LongSize <= int.MaxValue && 2 * ConvolutionScratch(channels, input[1], input[2], outChannels, kernel, stride, pad[0], pad[1], pad[2], pad[3], dilation, groups) <= int.MaxValue
                ? ShapeResult.Of(output) : ShapeResult.Fail("fewer than 2³¹ elements per sample and per patch matrix");
        });

        private static ShapeResult PoolShape(TensorShape input, OptionValues o) => Image(input, () =>
        {
            int kernel = o.Int("Kernel"), stride = PoolStride(o), pad = o.Int("Padding");
            if (kernel < 1 || stride < 1) return ShapeResult.Fail("a positive kernel and stride");
            if (pad < 0 || 2 * pad > kernel) return ShapeResult.Fail($"padding between 0 and half the kernel ({kernel / 2}), as PyTorch, but has {pad}");
            if (input[1] + 2 * pad < kernel || input[2] + 2 * pad < kernel)
                return ShapeResult.Fail($"a {kernel}×{kernel} window that fits its padded {input[1] + 2 * pad}×{input[2] + 2 * pad} input");
            return ShapeResult.Of(TensorShape.Image(input[0], (input[1] + 2 * pad - kernel) / stride + 1, (input[2] + 2 * pad - kernel) / stride + 1));
        });

        private static ShapeResult FlatOrImage(TensorShape input) =>
            input.Rank == 1 || input.Rank == 3 ? ShapeResult.Of(input) : ShapeResult.Fail($"a [features] or [channels, height, width] input, but receives {input}");

        private static TensorDescriptor PerChannel(TensorRole role, string suffix, string file) =>
            new TensorDescriptor(role, suffix, file, (input, output, options) => V(Channels(output)));

        private static OptionDescriptor Epsilon() =>
            new OptionDescriptor("Epsilon", OptionType.Real, 1e-5, ValueRange.Positive, "ε added to the variance") { ElementConstant = true, Fingerprinted = true };

        private static OptionDescriptor InitOption() =>
            new OptionDescriptor("Init", OptionType.Enumeration, 0, null, "weight initialization") { EnumType = typeof(Init) };

        private static TensorDescriptor PerFeature(TensorRole role, string suffix, string file) =>
            new TensorDescriptor(role, suffix, file, (input, output, options) => output);

        /// <summary>Every layer kind, in enum order.</summary>
        public static IReadOnlyList<LayerDescriptor> Layers { get; } = new[]
        {
            new LayerDescriptor(LayerKind.Dense, typeof(DenseAttribute))
            {
                Summary = "y = f(x·W + b), W [inputs × units], activation f fused into the epilogue",
                Source = "PyTorch nn.Linear (its weight is W transposed)",
                Options = new[]
                {
                    new OptionDescriptor("Units", OptionType.Integer, double.NaN, ValueRange.Count, "output features"),
                    new OptionDescriptor("Activation", OptionType.Enumeration, 0, null, "fused activation") { EnumType = typeof(Activation) },
                    InitOption(),
                    new OptionDescriptor("L2", OptionType.Real, double.NaN, ValueRange.NonNegative, "L2 penalty λ on the weights (unset: the network's)") { NaNInherits = true },
                    new OptionDescriptor("L1", OptionType.Real, double.NaN, ValueRange.NonNegative, "L1 penalty λ on the weights (unset: the network's)") { NaNInherits = true },
                    new OptionDescriptor("ActivityL1", OptionType.Real, 0, ValueRange.NonNegative, "L1 penalty λ on the outputs"),
                    new OptionDescriptor("BiasInit", OptionType.Real, 0, ValueRange.Finite, "initial bias") { ElementConstant = true },
                },
                OutputShape = (input, o) => Flat(input, () => V(o.Int("Units"))),
                Tensors = new[]
                {
                    new TensorDescriptor(TensorRole.Weight, "Weights", "weight", (input, output, o) => new TensorShape(input.Size, output.Size), FileLayout.Transposed),
                    new TensorDescriptor(TensorRole.Bias, "Bias", "bias", (input, output, o) => output),
                },
                FusesActivation = true,
                Onnx = "Gemm(x, Weights, Bias)",
                PyTorch = "nn.Linear({in}, {Units})",
                TestNetwork = "[Network(5)] [Dense(7, Activation.Tanh)] [Dense(3)]",
            },
            new LayerDescriptor(LayerKind.Activation, null)
            {
                Summary = "a standalone element-wise activation (see the activation table)",
                TransparentToInit = false,
                Onnx = null,
                TestNetwork = "[Network(6)] [Tanh] [Dense(5)] [Sigmoid] [Dense(3)]",
            },
            new LayerDescriptor(LayerKind.Maxout, typeof(MaxoutAttribute))
            {
                Summary = "y_u = max over k pieces of (x·W + b)_(u·k + i), W [inputs × units·k]",
                Source = "Goodfellow et al., Maxout networks (2013)",
                Options = new[]
                {
                    new OptionDescriptor("Units", OptionType.Integer, double.NaN, ValueRange.Count, "output features"),
                    new OptionDescriptor("Pieces", OptionType.Integer, double.NaN, ValueRange.AtLeastTwo, "linear pieces per unit") { Fingerprinted = true },
                    InitOption(),
                },
                OutputShape = (input, o) => Flat(input, () => V(o.Int("Units"))),
                Tensors = new[]
                {
                    new TensorDescriptor(TensorRole.Weight, "Weights", "weight", (input, output, o) => new TensorShape(input.Size, output.Size * o.Int("Pieces")), FileLayout.Transposed),
                    new TensorDescriptor(TensorRole.Bias, "Bias", "bias", (input, output, o) => V(output.Size * o.Int("Pieces"))),
                },
                Onnx = "ReduceMax(Reshape(Gemm(x, Weights, Bias), [-1, Units, Pieces]), axes=[2], keepdims=0)",
                PyTorch = "Maxout({in}, {Units}, {Pieces})",
                Tolerance = new GradientTolerance { Epsilon = 1e-6 },
                TestNetwork = "[Network(6)] [Maxout(5, 3)] [Dense(4)]",
            },
            new LayerDescriptor(LayerKind.BatchNorm, typeof(BatchNormAttribute))
            {
                Summary = "per feature (per channel of an image, over N·H·W) over the batch: y = γ·(x − μ_B)/√(σ²_B + ε) + β in training; running statistics in evaluation",
                Source = "PyTorch nn.BatchNorm1d, nn.BatchNorm2d",
                Options = new[]
                {
                    new OptionDescriptor("Momentum", OptionType.Real, 0.1, ValueRange.UnitPositive, "weight of the new batch statistic") { ElementConstant = true },
                    Epsilon(),
                },
                OutputShape = (input, o) => FlatOrImage(input),
                Tensors = new[]
                {
                    PerChannel(TensorRole.Gamma, "Gamma", "weight"), PerChannel(TensorRole.Beta, "Beta", "bias"),
                    PerChannel(TensorRole.RunningMean, "RunningMean", "running_mean"), PerChannel(TensorRole.RunningVariance, "RunningVariance", "running_var"),
                },
                FoldsIntoDense = true, TransparentToInit = true, MinimumTrainingBatch = 2,
                Onnx = "BatchNormalization(x, Gamma, Beta, RunningMean, RunningVariance, epsilon=Epsilon)",
                PyTorch = "nn.BatchNorm{Nd}({Channels}, eps={Epsilon}, momentum={Momentum})",
                // At batch 2 every normalized value is ±1 whatever the input, so the input gradient is exactly 0 and a
                // finite difference measures rounding only: check batches of 3 or more, with an absolute floor.
                Tolerance = new GradientTolerance { Epsilon = 1e-5, FourPointStencil = true, AbsoluteFloor = 1e-2, MinimumBatch = 3 },
                TestNetwork = "[Network(6)] [Dense(10)] [BatchNorm] [Tanh] [Dense(3)]",
            },
            new LayerDescriptor(LayerKind.LayerNorm, typeof(LayerNormAttribute))
            {
                Summary = "per sample over all its values (features, or C·H·W of an image): y = γ·(x − μ)/√(σ² + ε) + β, γ and β per value",
                Source = "PyTorch nn.LayerNorm (normalized_shape = the sample's shape)",
                Options = new[] { Epsilon() },
                OutputShape = (input, o) => FlatOrImage(input),
                Tensors = new[] { PerFeature(TensorRole.Gamma, "Gamma", "weight"), PerFeature(TensorRole.Beta, "Beta", "bias") },
                TransparentToInit = true,
                Onnx = "LayerNormalization(x, Gamma, Beta, axis=1, epsilon=Epsilon)",
                PyTorch = "nn.LayerNorm({SampleShape}, eps={Epsilon})",
                Tolerance = new GradientTolerance { Epsilon = 1e-5, FourPointStencil = true, AbsoluteFloor = 1e-2 },
                TestNetwork = "[Network(2, 3, 3)] [LayerNorm] [Conv2D(2, 2)] [LayerNorm(Epsilon = 1e-3)] [Flatten] [Dense(8)] [LayerNorm] [Sigmoid] [Dense(3)]",
            },
            new LayerDescriptor(LayerKind.GroupNorm, typeof(GroupNormAttribute))
            {
                Summary = "per sample over each of G groups of contiguous features (of an image: of channels, with their pixels): y = γ·(x − μ_g)/√(σ²_g + ε) + β",
                Source = "PyTorch nn.GroupNorm (γ and β per channel of an image; per feature of a flat value)",
                Options = new[]
                {
                    new OptionDescriptor("Groups", OptionType.Integer, double.NaN, ValueRange.Count, "groups G (must divide the features)") { Fingerprinted = true },
                    Epsilon(),
                },
                OutputShape = (input, o) =>
                    input.Rank != 1 && input.Rank != 3 ? FlatOrImage(input)
                    : o.Int("Groups") >= 1 && input[0] % o.Int("Groups") == 0 ? ShapeResult.Of(input)
                    : ShapeResult.Fail($"a number of groups that divides its {input[0]} {(input.Rank == 3 ? "channels" : "features")}"),
                Tensors = new[] { PerChannel(TensorRole.Gamma, "Gamma", "weight"), PerChannel(TensorRole.Beta, "Beta", "bias") },
                TransparentToInit = true,
                // Opset 17 has no GroupNormalization with per-channel γ, β: reshape to [N, G, C/G] and normalize the last axis.
                Onnx = "g = Reshape(x, [0, Groups, -1]); m = ReduceMean(g, axes=[-1], keepdims=1); d = Sub(g, m); "
                     + "v = ReduceMean(Mul(d, d), axes=[-1], keepdims=1); "
                     + "Add(Mul(Reshape(Div(d, Sqrt(Add(v, Epsilon))), [0, -1]), Gamma), Beta)",
                OnnxImage = "g = Reshape(x, [0, Groups, -1]); m = ReduceMean(g, axes=[-1], keepdims=1); d = Sub(g, m); "
                     + "v = ReduceMean(Mul(d, d), axes=[-1], keepdims=1); "
                     + "Add(Mul(Reshape(Div(d, Sqrt(Add(v, Epsilon))), [0, Channels, Height, Width]), Reshape(Gamma, [-1, 1, 1])), Reshape(Beta, [-1, 1, 1]))",
                PyTorch = "nn.GroupNorm({Groups}, {Channels}, eps={Epsilon})",
                Tolerance = new GradientTolerance { Epsilon = 1e-5, FourPointStencil = true, AbsoluteFloor = 1e-2 },
                TestNetwork = "[Network(4, 3, 2)] [GroupNorm(2)] [Conv2D(4, 2)] [Flatten] [Dense(8)] [GroupNorm(4, Epsilon = 1e-3)] [Dense(3)]",
            },
            new LayerDescriptor(LayerKind.Dropout, typeof(DropoutAttribute))
            {
                Summary = "training: y = x·m/(1 − p) with m ~ Bernoulli(1 − p); evaluation: y = x",
                Source = "PyTorch nn.Dropout (p is the drop probability)",
                Options = new[]
                {
                    new OptionDescriptor("DropProbability", OptionType.Real, double.NaN, ValueRange.UnitOpen, "drop probability p"),
                    new OptionDescriptor("Channelwise", OptionType.Boolean, 0, null, "drop whole channels of an image (nn.Dropout2d)"),
                },
                OutputShape = (input, o) => o.Int("Channelwise") != 0 && input.Rank != 3
                    ? ShapeResult.Fail($"an image [channels, height, width] input for Channelwise = true, but receives {input}") : ShapeResult.Of(input),
                IdentityInEvaluation = true, TransparentToInit = true,
                Onnx = "x",
                PyTorch = "{DropoutModule}({DropProbability})",
                TestNetwork = "[Network(2, 3, 4)] [Dropout(0.2)] [Conv2D(3, 2, Activation.Tanh)] [Dropout(0.4, Channelwise = true)] [Flatten] [Dense(16, Activation.Tanh)] [Dropout(0.5)] [Dense(4)]",
            },
            new LayerDescriptor(LayerKind.Softmax, typeof(SoftmaxAttribute))
            {
                Summary = "y_j = e^(x_j) / Σ_k e^(x_k) per sample",
                Source = "PyTorch nn.Softmax(dim=-1)",
                OutputShape = (input, o) => Flat(input, () => input),
                NormalizesToProbabilities = true,
                Onnx = "Softmax(x, axis=-1)",
                PyTorch = "nn.Softmax(dim=-1)",
                TestNetwork = "[Network(6)] [Dense(4)] [Softmax]",
            },
            new LayerDescriptor(LayerKind.Flatten, typeof(FlattenAttribute))
            {
                Summary = "[C, H, W] → [C·H·W], row-major (no data moves)",
                Source = "PyTorch nn.Flatten",
                OutputShape = (input, o) => input.LongSize <= int.MaxValue ? ShapeResult.Of(V((int)input.LongSize)) : ShapeResult.Fail("fewer than 2³¹ elements per sample"),
                TransparentToInit = true,
                Onnx = "Flatten(x, axis=1)",
                PyTorch = "nn.Flatten()",
                TestNetwork = "[Network(2, 3, 2)] [Flatten] [Dense(4, Activation.Tanh)] [Dense(3)]",
            },
            new LayerDescriptor(LayerKind.LogSoftmax, typeof(LogSoftmaxAttribute))
            {
                Summary = "y_j = x_j − log Σ_k e^(x_k) per sample (with the max shift)",
                Source = "PyTorch nn.LogSoftmax(dim=-1)",
                OutputShape = (input, o) => Flat(input, () => input),
                OutputsLogProbabilities = true,
                Onnx = "LogSoftmax(x, axis=-1)",
                PyTorch = "nn.LogSoftmax(dim=-1)",
                TestNetwork = "[Network(6)] [Dense(4)] [LogSoftmax]",
            },
            new LayerDescriptor(LayerKind.Conv2D, typeof(Conv2DAttribute))
            {
                Summary = "y[o] = f(b[o] + Σ_c W[o, c] ⋆ x[c]) over [C, H, W], W [O, C/groups, k, k]; stride, zero padding, dilation, groups; activation fused",
                Source = "PyTorch nn.Conv2d",
                Options = new[]
                {
                    new OptionDescriptor("OutChannels", OptionType.Integer, double.NaN, ValueRange.Count, "output channels"),
                    new OptionDescriptor("Kernel", OptionType.Integer, double.NaN, ValueRange.Count, "the square kernel's side") { Fingerprinted = true },
                    new OptionDescriptor("Activation", OptionType.Enumeration, 0, null, "fused activation") { EnumType = typeof(Activation) },
                    new OptionDescriptor("Stride", OptionType.Integer, 1, ValueRange.Count, "step between kernel positions") { Fingerprinted = true },
                    new OptionDescriptor("Padding", OptionType.Integer, 0, new ValueRange(0, false, int.MaxValue, false, integer: true), "zeros on every side (explicit mode)") { Fingerprinted = true },
                    new OptionDescriptor("PaddingMode", OptionType.Enumeration, 0, null, "explicit, valid or same") { EnumType = typeof(PaddingMode) },
                    new OptionDescriptor("PadTop", OptionType.Integer, -1, new ValueRange(-1, false, int.MaxValue, false, integer: true), "zeros above (−1: Padding)") { Fingerprinted = true },
                    new OptionDescriptor("PadLeft", OptionType.Integer, -1, new ValueRange(-1, false, int.MaxValue, false, integer: true), "zeros on the left (−1: Padding)") { Fingerprinted = true },
                    new OptionDescriptor("PadBottom", OptionType.Integer, -1, new ValueRange(-1, false, int.MaxValue, false, integer: true), "zeros below (−1: Padding)") { Fingerprinted = true },
                    new OptionDescriptor("PadRight", OptionType.Integer, -1, new ValueRange(-1, false, int.MaxValue, false, integer: true), "zeros on the right (−1: Padding)") { Fingerprinted = true },
                    new OptionDescriptor("Dilation", OptionType.Integer, 1, ValueRange.Count, "spacing between kernel taps") { Fingerprinted = true },
                    new OptionDescriptor("Groups", OptionType.Integer, 1, ValueRange.Count, "channel groups (must divide both channel counts)") { Fingerprinted = true },
                    new OptionDescriptor("Bias", OptionType.Boolean, 1, null, "a bias per output channel") { Fingerprinted = true },
                    InitOption(),
                    new OptionDescriptor("L2", OptionType.Real, double.NaN, ValueRange.NonNegative, "L2 penalty λ on the weights (unset: the network's)") { NaNInherits = true },
                    new OptionDescriptor("L1", OptionType.Real, double.NaN, ValueRange.NonNegative, "L1 penalty λ on the weights (unset: the network's)") { NaNInherits = true },
                    new OptionDescriptor("BiasInit", OptionType.Real, 0, ValueRange.Finite, "initial bias") { ElementConstant = true },
                },
                OutputShape = ConvolutionShape,
                Tensors = new[]
                {
                    new TensorDescriptor(TensorRole.Weight, "Weights", "weight", (input, output, o) => new TensorShape(output[0], input[0] / Math.Max(1, o.Int("Groups")), o.Int("Kernel"), o.Int("Kernel"))),
                    new TensorDescriptor(TensorRole.Bias, "Bias", "bias", (input, output, o) => V(output[0])) { When = o => o.Int("Bias") != 0 },
                },
                FusesActivation = true,
                OnnxRuntimeDouble = false,
                Onnx = "Conv(x, Weights, Bias?, kernel_shape=[Kernel, Kernel], strides=[Stride, Stride], pads=[PadTop, PadLeft, PadBottom, PadRight], dilations=[Dilation, Dilation], group=int(Groups))",
                PyTorch = "nn.Conv2d({InChannels}, {OutChannels}, {Kernel}, stride={Stride}, padding={Padding2d}, dilation={Dilation}, groups={Groups}, bias={BiasPy})",
                Tolerance = new GradientTolerance { Epsilon = 1e-6 },
                TestNetwork = "[Network(2, 6, 5)] [Conv2D(4, 3, Activation.Tanh, Padding = 1, Stride = 2)] [Conv2D(4, 2, Groups = 2, PadLeft = 1, Dilation = 2, Bias = false)] [Flatten] [Dense(3)]",
            },
            new LayerDescriptor(LayerKind.MaxPool2D, typeof(MaxPool2DAttribute))
            {
                Summary = "the maximum of each k × k window of each channel (padding counts as −∞)",
                Source = "PyTorch nn.MaxPool2d",
                Options = new[]
                {
                    new OptionDescriptor("Kernel", OptionType.Integer, double.NaN, ValueRange.Count, "the window's side") { Fingerprinted = true },
                    new OptionDescriptor("Stride", OptionType.Integer, 0, new ValueRange(0, false, int.MaxValue, false, integer: true), "step between windows (0: the kernel size)") { Fingerprinted = true },
                    new OptionDescriptor("Padding", OptionType.Integer, 0, new ValueRange(0, false, int.MaxValue, false, integer: true), "padding on every side (at most half the kernel)") { Fingerprinted = true },
                },
                OutputShape = PoolShape,
                TransparentToInit = true,
                OnnxRuntimeDouble = false,
                Onnx = "MaxPool(x, kernel_shape=[Kernel, Kernel], strides=[Stride, Stride], pads=[Padding, Padding, Padding, Padding])",
                PyTorch = "nn.MaxPool2d({Kernel}, stride={Stride}, padding={Padding})",
                TestNetwork = "[Network(2, 5, 6)] [Conv2D(3, 2, Activation.Tanh)] [MaxPool2D(2, Stride = 1, Padding = 1)] [MaxPool2D(3)] [Flatten] [Dense(3)]",
            },
            new LayerDescriptor(LayerKind.AvgPool2D, typeof(AvgPool2DAttribute))
            {
                Summary = "the mean of each k × k window of each channel (divisor k² with CountIncludePad, else the covered elements)",
                Source = "PyTorch nn.AvgPool2d",
                Options = new[]
                {
                    new OptionDescriptor("Kernel", OptionType.Integer, double.NaN, ValueRange.Count, "the window's side") { Fingerprinted = true },
                    new OptionDescriptor("Stride", OptionType.Integer, 0, new ValueRange(0, false, int.MaxValue, false, integer: true), "step between windows (0: the kernel size)") { Fingerprinted = true },
                    new OptionDescriptor("Padding", OptionType.Integer, 0, new ValueRange(0, false, int.MaxValue, false, integer: true), "zero padding on every side (at most half the kernel)") { Fingerprinted = true },
                    new OptionDescriptor("CountIncludePad", OptionType.Boolean, 1, null, "divide by k² (PyTorch's count_include_pad)") { Fingerprinted = true },
                },
                OutputShape = PoolShape,
                TransparentToInit = true,
                OnnxRuntimeDouble = false,
                Onnx = "AveragePool(x, kernel_shape=[Kernel, Kernel], strides=[Stride, Stride], pads=[Padding, Padding, Padding, Padding], count_include_pad=int(CountIncludePad))",
                PyTorch = "nn.AvgPool2d({Kernel}, stride={Stride}, padding={Padding}, count_include_pad={CountIncludePadPy})",
                TestNetwork = "[Network(2, 5, 6)] [Conv2D(3, 2, Activation.Tanh)] [AvgPool2D(3, Stride = 2, Padding = 1)] [AvgPool2D(2, Stride = 1, Padding = 1, CountIncludePad = false)] [Flatten] [Dense(3)]",
            },
            new LayerDescriptor(LayerKind.GlobalAveragePool, typeof(GlobalAveragePoolAttribute))
            {
                Summary = "[C, H, W] → [C]: the mean of each channel",
                Source = "PyTorch nn.AdaptiveAvgPool2d(1) + nn.Flatten",
                OutputShape = (input, o) => Image(input, () => ShapeResult.Of(V(input[0]))),
                TransparentToInit = true,
                OnnxRuntimeDouble = false,
                Onnx = "Flatten(GlobalAveragePool(x), axis=1)",
                PyTorch = "nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten())",
                TestNetwork = "[Network(2, 4, 3)] [Conv2D(5, 3, Activation.Tanh, Padding = 1)] [GlobalAveragePool] [Dense(3)]",
            },
            new LayerDescriptor(LayerKind.InstanceNorm, typeof(InstanceNormAttribute))
            {
                Summary = "per sample and channel over its H·W pixels: y = γ·(x − μ)/√(σ² + ε) + β, γ and β per channel",
                Source = "PyTorch nn.InstanceNorm2d(affine=True)",
                Options = new[] { Epsilon() },
                OutputShape = (input, o) => Image(input, () => ShapeResult.Of(input)),
                Tensors = new[] { PerChannel(TensorRole.Gamma, "Gamma", "weight"), PerChannel(TensorRole.Beta, "Beta", "bias") },
                TransparentToInit = true,
                OnnxRuntimeDouble = false,
                Onnx = "InstanceNormalization(x, Gamma, Beta, epsilon=Epsilon)",
                PyTorch = "nn.InstanceNorm2d({Channels}, eps={Epsilon}, affine=True)",
                Tolerance = new GradientTolerance { Epsilon = 1e-5, FourPointStencil = true, AbsoluteFloor = 1e-2 },
                TestNetwork = "[Network(2, 3, 3)] [Conv2D(3, 2, Padding = 1)] [InstanceNorm] [Tanh] [Flatten] [Dense(3)]",
            },
            new LayerDescriptor(LayerKind.Add, typeof(AddAttribute))
            {
                Summary = "y = x₁ + x₂ + … element-wise over the named layers' outputs (one shape); ∂L/∂xᵢ = ∂L/∂y",
                Source = "PyTorch a + b (ResNet shortcuts, RepVGG branches)",
                Merge = MergeKind.Sum,
                MergeShape = inputs => SameShapes(inputs),
                TransparentToInit = true,
                Onnx = "Sum(x…)",
                PyTorch = "a + b",
                TestNetwork = "[Network(2, 4, 4)] [Conv2D(3, 3, Activation.Tanh, Padding = 1, Name = \"a\")] [Conv2D(3, 3, Padding = 1)] [BatchNorm(Name = \"b\")] " +
                              "[Conv2D(3, 1, From = \"a\", Name = \"c\")] [Add(\"a\", \"b\", \"c\")] [Tanh] [Flatten] [Dense(3)]",
            },
            new LayerDescriptor(LayerKind.Concat, typeof(ConcatAttribute))
            {
                Summary = "[C₁, H, W] and [C₂, H, W] → [C₁ + C₂, H, W] (vectors: [F₁ + F₂]), in the order named",
                Source = "PyTorch torch.cat(dim=1) (Inception, DenseNet)",
                Merge = MergeKind.Concatenate,
                MergeShape = inputs => Joined(inputs),
                TransparentToInit = true,
                Onnx = "Concat(x…, axis=1)",
                PyTorch = "torch.cat([a, b], dim=1)",
                TestNetwork = "[Network(2, 3, 3)] [Conv2D(3, 3, Activation.Tanh, Padding = 1, Name = \"a\")] [Concat(\"input\", \"a\")] [Conv2D(2, 1)] [Flatten] " +
                              "[Dense(4, Activation.Tanh, Name = \"h\")] [Dense(3, From = \"Flatten1\", Name = \"g\")] [Concat(\"h\", \"g\")] [Dense(3)]",
            },
        };
    }
}
