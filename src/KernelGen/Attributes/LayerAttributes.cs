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
    }

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
    public sealed class SoftmaxCrossEntropyLossAttribute : LossAttribute { }

    /// <summary>
    /// The L2 divergence: L = (1/B) Σ_b ½ Σ_j (y_bj − d_bj)², with targets d laid out like the outputs
    /// [batch × outputs]. Gradient: (y − d) / B.
    /// </summary>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
    public sealed class L2LossAttribute : LossAttribute { }

}
