// Compiled into both the runtime library and the generator (linked file): netstandard2.0-compatible, no runtime
// dependencies. Everything about an element-wise activation lives here — its enum member, its standalone layer
// attribute and its catalog entry — plus its operator struct in Operators/ActivationOps.cs. Adding an activation is one
// member, one attribute and one entry below, and one operator struct: the generator, the ONNX exporter, the trainer's
// statistics, the gradient checker, the documentation tables and the catalog-wide tests all read the entry.
using System;
using System.Collections.Generic;
using KernelGen.Catalog;

namespace KernelGen
{
    /// <summary>Element-wise activation applied by a layer. Values are part of the generator's contract: never renumber.</summary>
    public enum Activation
    {
        /// <summary>f(x) = x.</summary>
        Identity = 0,
        /// <summary>f(x) = max(0, x); f′(x) = 1 for x &gt; 0, else 0 (PyTorch's convention at 0).</summary>
        ReLU = 1,
        /// <summary>f(x) = 1 / (1 + e^(−x)); f′ = f·(1 − f).</summary>
        Sigmoid = 2,
        /// <summary>f(x) = tanh(x); f′ = 1 − f².</summary>
        Tanh = 3,
        /// <summary>f(x) = x for x &gt; 0, else 0.01·x (PyTorch's default slope; use [LeakyReLU(slope)] for another).</summary>
        LeakyReLU = 4,
        /// <summary>f(x) = x for x &gt; 0, else e^x − 1 (α = 1; use [Elu(alpha)] for another).</summary>
        ELU = 5,
        /// <summary>f(x) = log(1 + e^x).</summary>
        Softplus = 6,
        /// <summary>f(x) = x·σ(x) (SiLU, Swish).</summary>
        SiLU = 7,
        /// <summary>f(x) = x·Φ(x), the exact GELU (use [Gelu(Approximate = true)] for the tanh form).</summary>
        GELU = 8,
        /// <summary>f(x) = x·tanh(softplus(x)) (Misra, 2019).</summary>
        Mish = 9,
        /// <summary>f(x) = λ·x for x &gt; 0, else λ·α·(e^x − 1), with the self-normalizing constants α ≈ 1.6733, λ ≈ 1.0507 (Klambauer et al., 2017).</summary>
        SELU = 10,
        /// <summary>f(x) = x·min(max(x + 3, 0), 6)/6 (Howard et al., MobileNetV3, 2019).</summary>
        HardSwish = 11,
    }

    /// <summary>An element-wise ReLU layer: y = max(0, x) (PyTorch nn.ReLU).</summary>
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

    /// <summary>Leaky ReLU: y = x for x &gt; 0, else slope·x (PyTorch nn.LeakyReLU; default slope 0.01).</summary>
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

    /// <summary>ELU: y = x for x &gt; 0, else α·(e^x − 1) (PyTorch nn.ELU).</summary>
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

    /// <summary>Softplus: y = log(1 + e^x) (PyTorch nn.Softplus with β = 1).</summary>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
    public sealed class SoftplusAttribute : LayerAttribute { }

    /// <summary>SiLU (Swish): y = x·σ(x) (PyTorch nn.SiLU).</summary>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
    public sealed class SiLUAttribute : LayerAttribute { }

    /// <summary>GELU: y = x·Φ(x) (exact, erf-based), or PyTorch's tanh approximation when <see cref="Approximate"/> is set.</summary>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
    public sealed class GeluAttribute : LayerAttribute
    {
        /// <summary>Use ½x·(1 + tanh(√(2/π)(x + 0.044715x³))); default false.</summary>
        public bool Approximate { get; set; }
    }

    /// <summary>Mish: y = x·tanh(log(1 + e^x)) (Misra, 2019; PyTorch nn.Mish).</summary>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
    public sealed class MishAttribute : LayerAttribute { }

    /// <summary>SELU: y = λ·x for x &gt; 0, else λ·α·(e^x − 1), α = 1.6732632423543772, λ = 1.0507009873554805
    /// (Klambauer et al., self-normalizing networks, 2017; PyTorch nn.SELU).</summary>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
    public sealed class SeluAttribute : LayerAttribute { }

    /// <summary>Hard swish: y = x·min(max(x + 3, 0), 6)/6 (Howard et al., MobileNetV3, 2019; PyTorch nn.Hardswish).</summary>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
    public sealed class HardSwishAttribute : LayerAttribute { }
}

namespace KernelGen.Catalog
{
    public static partial class OpCatalog
    {
        private const double Sqrt2OverPi = 0.79788456080286535588;
        private const double InvSqrt2 = 0.70710678118654752440;
        private const double InvSqrt2Pi = 0.39894228040143267794;

        /// <summary>Every element-wise activation, in enum order.</summary>
        public static IReadOnlyList<ActivationDescriptor> Activations { get; } = new[]
        {
            new ActivationDescriptor(Activation.Identity, typeof(IdentityAttribute), "IdentityOp")
            {
                Formula = "y = x", Derivative = "dx = dy", Source = "PyTorch nn.Identity",
                Reference = (x, p) => x, ReferenceDerivative = (x, p) => 1,
                Onnx = p => "x", PyTorch = "nn.Identity()",
            },
            new ActivationDescriptor(Activation.ReLU, typeof(ReLUAttribute), "ReluOp")
            {
                Formula = "y = max(0, x)", Derivative = "dx = dy for y > 0, else 0", Source = "PyTorch nn.ReLU",
                Reference = (x, p) => Math.Max(0, x), ReferenceDerivative = (x, p) => x > 0 ? 1 : 0,
                Branch = (y, p) => y > 0 ? 1 : 0, Kinks = p => new[] { 0.0 },
                OutputRange = p => new[] { 0.0, double.PositiveInfinity }, PreferredInit = InitFamily.He,
                Onnx = p => "Relu(x)", PyTorch = "nn.ReLU()",
            },
            new ActivationDescriptor(Activation.Sigmoid, typeof(SigmoidAttribute), "SigmoidOp")
            {
                Formula = "y = 1 / (1 + e^(−x))", Derivative = "dx = dy·y·(1 − y)", Source = "PyTorch nn.Sigmoid",
                Reference = (x, p) => ReferenceMath.Sigmoid(x),
                ReferenceDerivative = (x, p) => ReferenceMath.Sigmoid(x) * (1 - ReferenceMath.Sigmoid(x)),
                OutputRange = p => new[] { 0.0, 1.0 },
                Onnx = p => "Sigmoid(x)", PyTorch = "nn.Sigmoid()",
            },
            new ActivationDescriptor(Activation.Tanh, typeof(TanhAttribute), "TanhOp")
            {
                Formula = "y = tanh(x)", Derivative = "dx = dy·(1 − y²)", Source = "PyTorch nn.Tanh",
                Reference = (x, p) => Math.Tanh(x), ReferenceDerivative = (x, p) => 1 - Math.Tanh(x) * Math.Tanh(x),
                OutputRange = p => new[] { -1.0, 1.0 },
                Onnx = p => "Tanh(x)", PyTorch = "nn.Tanh()",
            },
            new ActivationDescriptor(Activation.LeakyReLU, typeof(LeakyReLUAttribute), "LeakyReluOp")
            {
                Parameter = new OptionDescriptor("Slope", OptionType.Real, 0.01, ValueRange.UnitOpen, "negative slope s") { ElementConstant = true, Fingerprinted = true },
                ParameterIsTypeArgument = true,
                Formula = "y = x for x > 0, else s·x", Derivative = "dx = dy for y > 0, else s·dy", Source = "PyTorch nn.LeakyReLU (default s = 0.01)",
                Reference = (x, p) => x > 0 ? x : p * x, ReferenceDerivative = (x, p) => x > 0 ? 1 : p,
                Branch = (y, p) => y > 0 ? 1 : 0, Kinks = p => new[] { 0.0 }, PreferredInit = InitFamily.He,
                Onnx = p => "LeakyRelu(x, alpha=p)", PyTorch = "nn.LeakyReLU({p})",
            },
            new ActivationDescriptor(Activation.ELU, typeof(EluAttribute), "EluOp")
            {
                Parameter = new OptionDescriptor("Alpha", OptionType.Real, 1.0, ValueRange.Positive, "α") { ElementConstant = true, Fingerprinted = true },
                ParameterIsTypeArgument = true,
                Formula = "y = x for x > 0, else α·(e^x − 1)", Derivative = "dx = dy for y > 0, else dy·(y + α)", Source = "PyTorch nn.ELU (default α = 1)",
                Reference = (x, p) => x > 0 ? x : p * ReferenceMath.Expm1(x), ReferenceDerivative = (x, p) => x > 0 ? 1 : p * Math.Exp(x),
                // A kink at 0 for α ≠ 1; for α = 1 the second derivative still jumps there.
                Branch = (y, p) => y > 0 ? 1 : 0, Kinks = p => new[] { 0.0 },
                OutputRange = p => new[] { -p, double.PositiveInfinity },
                Onnx = p => "Elu(x, alpha=p)",
                // ONNX Runtime's CPU provider has no double Elu kernel: max(x, 0) + α·(e^min(x, 0) − 1).
                OnnxDouble = p => "Add(Max(x, 0.0), Mul(Sub(Exp(Min(x, 0.0)), 1.0), p))",
                PyTorch = "nn.ELU({p})",
            },
            new ActivationDescriptor(Activation.Softplus, typeof(SoftplusAttribute), "SoftplusOp")
            {
                Formula = "y = log(1 + e^x)", Derivative = "dx = dy·σ(x) = dy·(1 − e^(−y))", Source = "PyTorch nn.Softplus (β = 1)",
                Reference = (x, p) => ReferenceMath.Softplus(x), ReferenceDerivative = (x, p) => ReferenceMath.Sigmoid(x),
                OutputRange = p => new[] { 0.0, double.PositiveInfinity },
                Onnx = p => "Softplus(x)",
                // ONNX Runtime's CPU provider has no double Softplus kernel: max(x, 0) + log(1 + e^(−|x|)).
                OnnxDouble = p => "Add(Max(x, 0.0), Log(Add(Exp(Neg(Abs(x))), 1.0)))",
                PyTorch = "nn.Softplus()",
            },
            new ActivationDescriptor(Activation.SiLU, typeof(SiLUAttribute), "SiluOp")
            {
                Backward = BackwardInput.Input,
                Formula = "y = x·σ(x)", Derivative = "dx = dy·σ(x)·(1 + x·(1 − σ(x)))", Source = "PyTorch nn.SiLU",
                Reference = (x, p) => x * ReferenceMath.Sigmoid(x),
                ReferenceDerivative = (x, p) => ReferenceMath.Sigmoid(x) * (1 + x * (1 - ReferenceMath.Sigmoid(x))),
                OutputRange = p => new[] { -0.27846454276107380, double.PositiveInfinity },
                Onnx = p => "Mul(x, Sigmoid(x))", PyTorch = "nn.SiLU()",
            },
            new ActivationDescriptor(Activation.GELU, typeof(GeluAttribute), "GeluOp")
            {
                Parameter = new OptionDescriptor("Approximate", OptionType.Boolean, 0, null, "use the tanh approximation") { Fingerprinted = true },
                OperatorVariant = p => p != 0 ? "GeluTanhOp" : "GeluOp",
                Backward = BackwardInput.Input,
                Formula = "y = x·Φ(x) = ½x·(1 + erf(x/√2)); tanh form ½x·(1 + tanh(√(2/π)·(x + 0.044715x³)))",
                Derivative = "dx = dy·(Φ(x) + x·φ(x)) (tanh form: its exact derivative)",
                Source = "PyTorch nn.GELU (approximate='none' or 'tanh')",
                Reference = (x, p) => p != 0
                    ? 0.5 * x * (1 + Math.Tanh(Sqrt2OverPi * (x + 0.044715 * x * x * x)))
                    : 0.5 * x * (1 + ReferenceMath.Erf(x * InvSqrt2)),
                ReferenceDerivative = (x, p) =>
                {
                    if (p == 0) return 0.5 * (1 + ReferenceMath.Erf(x * InvSqrt2)) + x * InvSqrt2Pi * Math.Exp(-0.5 * x * x);
                    double t = Math.Tanh(Sqrt2OverPi * (x + 0.044715 * x * x * x));
                    return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * Sqrt2OverPi * (1 + 3 * 0.044715 * x * x);
                },
                OutputRange = p => new[] { -0.17, double.PositiveInfinity },
                // Evaluated as the runtime does: x/√2 as x·(1/√2); tanh form u = c·((0.044715·x·x)·x + x).
                Onnx = p => p != 0
                    ? "Mul(Mul(x, 0.5), Add(Tanh(Mul(Add(Mul(Mul(Mul(x, x), 0.044715), x), x), 0.79788456080286535588)), 1.0))"
                    : "Mul(Mul(x, 0.5), Add(Erf(Mul(x, 0.70710678118654752440)), 1.0))",
                // ONNX Runtime's CPU provider has no double Erf kernel: erf is evaluated in float (relative error ≈ 1e-7).
                OnnxDouble = p => p != 0 ? null
                    : "Mul(Mul(x, 0.5), Add(Cast(Erf(Cast(Mul(x, 0.70710678118654752440), to=1)), to=11), 1.0))",
                PyTorch = "nn.GELU(approximate={p?'tanh':'none'})",
            },
            new ActivationDescriptor(Activation.Mish, typeof(MishAttribute), "MishOp")
            {
                Backward = BackwardInput.Input,
                Formula = "y = x·tanh(softplus(x))", Derivative = "dx = dy·(t + x·σ(x)·(1 − t²)), t = tanh(softplus(x))",
                Source = "Misra, Mish (2019); PyTorch nn.Mish",
                Reference = (x, p) => x * Math.Tanh(ReferenceMath.Softplus(x)),
                ReferenceDerivative = (x, p) =>
                {
                    double t = Math.Tanh(ReferenceMath.Softplus(x));
                    return t + x * ReferenceMath.Sigmoid(x) * (1 - t * t);
                },
                OutputRange = p => new[] { -0.30884, double.PositiveInfinity },
                // Opset 17 has no Mish operator (opset 18 does).
                Onnx = p => "Mul(x, Tanh(Softplus(x)))",
                // ONNX Runtime's CPU provider has no double Softplus kernel.
                OnnxDouble = p => "Mul(x, Tanh(Add(Max(x, 0.0), Log(Add(Exp(Neg(Abs(x))), 1.0)))))",
                PyTorch = "nn.Mish()",
            },
            new ActivationDescriptor(Activation.SELU, typeof(SeluAttribute), "SeluOp")
            {
                Formula = "y = λ·x for x > 0, else λ·α·(e^x − 1); α = 1.6732632423543772, λ = 1.0507009873554805",
                Derivative = "dx = λ·dy for y > 0, else dy·(y + λ·α)",
                Source = "Klambauer et al., Self-Normalizing Neural Networks (2017); PyTorch nn.SELU",
                Reference = (x, p) => x > 0 ? SeluScale * x : SeluScale * SeluAlpha * ReferenceMath.Expm1(x),
                ReferenceDerivative = (x, p) => x > 0 ? SeluScale : SeluScale * SeluAlpha * Math.Exp(x),
                Branch = (y, p) => y > 0 ? 1 : 0, Kinks = p => new[] { 0.0 },
                OutputRange = p => new[] { -SeluScale * SeluAlpha, double.PositiveInfinity },
                Onnx = p => "Selu(x, alpha=1.6732632423543772, gamma=1.0507009873554805)",
                // ONNX Runtime's CPU provider has no double Selu kernel: λ·(max(x, 0) + α·(e^min(x, 0) − 1)).
                OnnxDouble = p => "Mul(Add(Max(x, 0.0), Mul(Sub(Exp(Min(x, 0.0)), 1.0), 1.6732632423543772)), 1.0507009873554805)",
                PyTorch = "nn.SELU()",
            },
            new ActivationDescriptor(Activation.HardSwish, typeof(HardSwishAttribute), "HardSwishOp")
            {
                Backward = BackwardInput.Input,
                Formula = "y = x·min(max(x + 3, 0), 6)/6", Derivative = "dx = 0 for x < −3, dy·(x/3 + ½) for −3 ≤ x ≤ 3, dy for x > 3",
                Source = "Howard et al., Searching for MobileNetV3 (2019); PyTorch nn.Hardswish",
                Reference = (x, p) => x <= -3 ? 0 : x >= 3 ? x : x * (x + 3) / 6,
                ReferenceDerivative = (x, p) => x < -3 ? 0 : x > 3 ? 1 : (2 * x + 3) / 6,
                Branch = (x, p) => x < -3 ? 0 : x <= 3 ? 1 : 2, Kinks = p => new[] { -3.0, 3.0 },
                OutputRange = p => new[] { -0.375, double.PositiveInfinity },
                Onnx = p => "HardSwish(x)",
                // ONNX Runtime's CPU provider has no double HardSwish kernel.
                OnnxDouble = p => "Mul(x, Div(Min(Max(Add(x, 3.0), 0.0), 6.0), 6.0))",
                PyTorch = "nn.Hardswish()",
            },
        };

        private const double SeluAlpha = 1.6732632423543772848170429916717;
        private const double SeluScale = 1.0507009873554804934193349852946;
    }
}
