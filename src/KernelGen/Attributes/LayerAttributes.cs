// Compiled into both the runtime library and the generator (linked file).
using System;

namespace KernelGen
{
    /// <summary>
    /// A fully connected layer: y = f(x·W + b), with W of shape [inputs × units] (row-major) and b of shape [units].
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

        /// <summary>L2 penalty ½λ‖W‖² on this layer's weights (overrides [L2Regularization]); NaN (default) = inherit.</summary>
        public double L2 { get; set; } = double.NaN;

        /// <summary>L1 penalty λ‖W‖₁ on this layer's weights (overrides [L1Regularization]); NaN (default) = inherit.</summary>
        public double L1 { get; set; } = double.NaN;

        /// <summary>L1 penalty λ·Σ|a| on this layer's output activations, averaged over the batch (sparse representations); 0 = off.</summary>
        public double ActivityL1 { get; set; }

        /// <summary>The constant every bias starts at (0 by default; the notes mention 0.01 for ReLU units).</summary>
        public double BiasInit { get; set; }
    }

    /// <summary>
    /// Maxout (Goodfellow et al.): y_u = max_i (x·W_i + b_i)_u over <c>pieces</c> linear pieces per unit; owns
    /// [inputs × units·pieces] weights (each unit's pieces adjacent) and units·pieces biases.
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
    }

    /// <summary>Leaky ReLU: y = x for x &gt; 0, else slope·x (PyTorch default slope 0.01; the notes use 0.1).</summary>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
    public sealed class LeakyReLUAttribute : LayerAttribute
    {
        /// <summary>Slope 0.01.</summary>
        public LeakyReLUAttribute() : this(0.01) { }
        /// <summary>Slope <paramref name="slope"/> ∈ [0, 1).</summary>
        public LeakyReLUAttribute(double slope) { Slope = slope; }
        /// <summary>The negative slope.</summary>
        public double Slope { get; }
    }

    /// <summary>ELU: y = x for x &gt; 0, else α·(e^x − 1).</summary>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
    public sealed class EluAttribute : LayerAttribute
    {
        /// <summary>α = 1.</summary>
        public EluAttribute() : this(1.0) { }
        /// <summary>α = <paramref name="alpha"/> &gt; 0.</summary>
        public EluAttribute(double alpha) { Alpha = alpha; }
        /// <summary>α.</summary>
        public double Alpha { get; }
    }

    /// <summary>Softplus: y = log(1 + e^x).</summary>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
    public sealed class SoftplusAttribute : LayerAttribute { }

    /// <summary>SiLU (Swish): y = x·σ(x).</summary>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
    public sealed class SiLUAttribute : LayerAttribute { }

    /// <summary>GELU: y = x·Φ(x) (exact, erf-based), or PyTorch's tanh approximation when <see cref="Approximate"/> is set.</summary>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
    public sealed class GeluAttribute : LayerAttribute
    {
        /// <summary>Use ½x·(1 + tanh(√(2/π)(x + 0.044715x³))); default false.</summary>
        public bool Approximate { get; set; }
    }

    /// <summary>Softmax over each sample's features as a layer: y_j = e^(x_j)/Σ_k e^(x_k) (use raw logits with the softmax losses instead).</summary>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
    public sealed class SoftmaxAttribute : LayerAttribute { }

    /// <summary>An element-wise ReLU layer: y = max(0, x).</summary>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
    public sealed class ReLUAttribute : LayerAttribute { }

    /// <summary>An element-wise logistic sigmoid layer: y = 1 / (1 + e^(−x)).</summary>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
    public sealed class SigmoidAttribute : LayerAttribute { }

    /// <summary>An element-wise hyperbolic tangent layer: y = tanh(x).</summary>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
    public sealed class TanhAttribute : LayerAttribute { }

    /// <summary>An identity layer: y = x (a no-op kept for readability of specifications).</summary>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
    public sealed class IdentityAttribute : LayerAttribute { }

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
    /// L = (1/B) Σ_b Σ_j t_j·(log t_j − log softmax(y_b)_j) (PyTorch KLDivLoss, reduction 'batchmean', on log_softmax).
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
    /// summed over outputs and averaged over the batch (PyTorch's 'mean' also divides by the output count).
    /// </summary>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
    public sealed class BinaryCrossEntropyLossAttribute : LossAttribute { }

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
    /// [batch × outputs]. Gradient: (y − d) / B.
    /// </summary>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
    public sealed class L2LossAttribute : LossAttribute { }

}
