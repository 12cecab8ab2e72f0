using System;

namespace KernelGen
{
    /// <summary>
    /// Marks a static method <c>double F(double x, double p1, …)</c> as an activation function KernelGen can compile: the
    /// generator reads its body, derives f′ symbolically, and emits Vector512/Vector256/scalar code for both, fused into the
    /// network like a built-in activation. Apply it with <see cref="CustomActivationAttribute"/>.
    /// </summary>
    /// <remarks>
    /// <para>The body is an expression (<c>=&gt; …</c>) or a block of <c>var</c>/<c>double</c> locals followed by one
    /// <c>return</c>. It may use: <c>+ − * /</c>, unary minus, numeric literals, <c>const</c> fields (and <c>Math.PI</c>,
    /// <c>Math.E</c>), the parameters, locals, <c>Math.Exp</c>, <c>Log</c>, <c>Log1P</c>, <c>Sqrt</c>, <c>Tanh</c>, <c>Abs</c>,
    /// <c>Max</c>, <c>Min</c>, <c>Clamp</c>, <c>Pow</c> with a constant exponent, <see cref="ActivationMath"/>'s functions
    /// (<c>Sigmoid</c>, <c>Softplus</c>, <c>Erf</c>, <c>Expm1</c>, <c>Log1p</c>), conditionals <c>a &lt; b ? u : v</c> on
    /// comparisons (<c>&lt; &lt;= &gt; &gt;=</c>) of such expressions, and calls to other <c>[ActivationFunction]</c> methods.
    /// Anything else is diagnostic KG0026 at the offending sub-expression.</para>
    /// <para>The first parameter is the input; the others are constants given by the attribute. Where the function is not
    /// differentiable (|x|, max, min, clamp, conditionals), the derivative takes the branch the comparison selects, and the
    /// gradient check treats the switch points as kinks.</para>
    /// </remarks>
    [AttributeUsage(AttributeTargets.Method, AllowMultiple = false, Inherited = false)]
    public sealed class ActivationFunctionAttribute : Attribute { }

    /// <summary>
    /// A layer applying a user's <see cref="ActivationFunctionAttribute"/> method element-wise, e.g.
    /// <c>[CustomActivation(typeof(MyFunctions), nameof(MyFunctions.Mish))]</c>, with the method's extra parameters given
    /// after its name (<c>[CustomActivation(typeof(MyFunctions), nameof(MyFunctions.Swish), 1.5)]</c>). Directly after a
    /// <see cref="DenseAttribute"/> without an activation it is fused into that layer, as built-in activations are.
    /// </summary>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
    public sealed class CustomActivationAttribute : LayerAttribute
    {
        /// <summary>The method <paramref name="method"/> of <paramref name="type"/>, with the constant arguments <paramref name="arguments"/>.</summary>
        public CustomActivationAttribute(Type type, string method, params double[] arguments)
        {
            Type = type; Method = method; Arguments = arguments;
        }

        /// <summary>The type declaring the method.</summary>
        public Type Type { get; }
        /// <summary>The method's name (use <c>nameof</c>).</summary>
        public string Method { get; }
        /// <summary>The values of the method's parameters after the first.</summary>
        public double[] Arguments { get; }
    }

    /// <summary>
    /// Marks a static method <c>double L(double y, double t, double p1, …)</c> as an element-wise loss of an output y and
    /// its target t that KernelGen can compile: the generator differentiates it with respect to y and emits vector code
    /// for both. The body follows the grammar of <see cref="ActivationFunctionAttribute"/> (t is a second variable; calls
    /// to <c>[ActivationFunction]</c> methods are allowed). Apply it with <see cref="CustomLossAttribute"/>.
    /// </summary>
    [AttributeUsage(AttributeTargets.Method, AllowMultiple = false, Inherited = false)]
    public sealed class LossFunctionAttribute : Attribute { }

    /// <summary>
    /// Scalar functions an <see cref="ActivationFunctionAttribute"/> method may call besides <see cref="Math"/>'s: the same
    /// accurate implementations KernelGen's vector code uses, so the method run as plain C# computes what the network computes.
    /// </summary>
    public static class ActivationMath
    {
        /// <summary>σ(x) = 1/(1 + e^(−x)), accurate for large |x|.</summary>
        public static double Sigmoid(double x) => VectorMath.Sigmoid<double, Operators.SimdScalar<double>>(new(x)).V;
        /// <summary>log(1 + e^x) = max(x, 0) + log1p(e^(−|x|)), without overflow.</summary>
        public static double Softplus(double x) => Math.Max(x, 0) + Log1p(Math.Exp(-Math.Abs(x)));
        /// <summary>The error function.</summary>
        public static double Erf(double x) => VectorMath.Erf<double, Operators.SimdScalar<double>>(new(x)).V;
        /// <summary>e^x − 1 without cancellation near 0.</summary>
        public static double Expm1(double x) => VectorMath.Expm1<double, Operators.SimdScalar<double>>(new(x)).V;
        /// <summary>log(1 + x) without cancellation near 0.</summary>
        public static double Log1p(double x) => VectorMath.Log1p<double, Operators.SimdScalar<double>>(new(x)).V;
    }
}
