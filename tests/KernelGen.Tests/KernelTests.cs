using System;
using System.Linq;
using System.Numerics;
using System.Runtime.InteropServices;
using CsCheck;
using KernelGen.Kernels;
using KernelGen.Operators;
using Xunit;

namespace KernelGen.Tests;

/// <summary>
/// The runtime kernels at every register width (512-bit, 256-bit, scalar; instantiated directly, whatever the CPU)
/// against naive reference loops, over sizes that hit every panel and tail; and their up-front validation.
/// </summary>
public class KernelTests
{
    private static readonly Gen<(int Batch, int NIn, int NOut)> Shapes =
        Gen.Select(Gen.Int[1, 9], Gen.Int[1, 40], Gen.Int[1, 3 * 16 + 1 + 64]);

    private static Gen<double[]> Values(int n) => Gen.Double[-2, 2].Array[n];

    private static void ForwardAt<TV>(double[] x, double[] w, double[] b, double[] y, int batch, int nIn, int nOut) where TV : struct, ISimd<TV, double> =>
        Dense.ForwardCore<double, TanhOp<double>, TV>(ref x[0], ref w[0], ref b[0], ref y[0], batch, nIn, nOut);

    [Fact]
    public void Dense_forward_matches_the_reference_at_every_width() =>
        Shapes.SelectMany(s => Gen.Select(Values(s.Batch * s.NIn), Values(s.NIn * s.NOut), Values(s.NOut)).Select(v => (s, v.Item1, v.Item2, v.Item3)))
            .Sample(c =>
            {
                var (s, x, w, b) = c;
                var (expected, _) = Reference.Dense(x, w, b, s.Batch, s.NIn, s.NOut, Reference.Act.Tanh);
                foreach (var y in new[] { Run<Simd512<double>>(), Run<Simd256<double>>(), Run<SimdScalar<double>>() })
                    Assert.True(Reference.RelativeError(y, expected) < 1e-14, $"shape {s}");

                double[] Run<TV>() where TV : struct, ISimd<TV, double>
                {
                    var y = new double[s.Batch * s.NOut + 1];
                    y[^1] = 12345; // sentinel: nothing written past the end
                    ForwardAt<TV>(x, w, b, y, s.Batch, s.NIn, s.NOut);
                    Assert.Equal(12345, y[^1]);
                    return y[..^1];
                }
            }, iter: 150);

    [Fact]
    public void Dense_backward_matches_the_reference_at_every_width() =>
        Shapes.SelectMany(s => Gen.Select(Values(s.Batch * s.NIn), Values(s.NIn * s.NOut), Values(s.Batch * s.NOut)).Select(v => (s, v.Item1, v.Item2, v.Item3)))
            .Sample(c =>
            {
                var (s, x, w, dz) = c;
                // Reference: dW = xᵀ·dz, db = Σ dz, dx = dz·Wᵀ.
                var dwRef = new double[s.NIn * s.NOut];
                var dbRef = new double[s.NOut];
                var dxRef = new double[s.Batch * s.NIn];
                for (int r = 0; r < s.Batch; r++)
                    for (int j = 0; j < s.NOut; j++)
                    {
                        dbRef[j] += dz[r * s.NOut + j];
                        for (int i = 0; i < s.NIn; i++)
                        {
                            dwRef[i * s.NOut + j] += x[r * s.NIn + i] * dz[r * s.NOut + j];
                            dxRef[r * s.NIn + i] += dz[r * s.NOut + j] * w[i * s.NOut + j];
                        }
                    }
                Check<Simd512<double>>();
                Check<Simd256<double>>();
                Check<SimdScalar<double>>();

                void Check<TV>() where TV : struct, ISimd<TV, double>
                {
                    var dw = Enumerable.Repeat(double.NaN, s.NIn * s.NOut + 1).ToArray();
                    var db = Enumerable.Repeat(double.NaN, s.NOut + 1).ToArray();
                    var dx = Enumerable.Repeat(double.NaN, s.Batch * s.NIn + 1).ToArray();
                    Dense.BackwardParametersCore<double, TV>(ref x[0], ref dz[0], ref dw[0], ref db[0], s.Batch, s.NIn, s.NOut);
                    Dense.BackwardInputCore<double, TV>(ref dz[0], ref w[0], ref dx[0], s.Batch, s.NIn, s.NOut);
                    Assert.True(double.IsNaN(dw[^1]) && double.IsNaN(db[^1]) && double.IsNaN(dx[^1]), "wrote past the end");
                    Assert.True(Reference.RelativeError(dw[..^1], dwRef) < 1e-14, $"dW {typeof(TV).Name} {s}");
                    Assert.True(Reference.RelativeError(db[..^1], dbRef) < 1e-14, $"db {typeof(TV).Name} {s}");
                    Assert.True(Reference.RelativeError(dx[..^1], dxRef) < 1e-14, $"dx {typeof(TV).Name} {s}");
                }
            }, iter: 150);

    [Fact]
    public void Float_dense_kernels_agree_across_widths_within_reordering_tolerance() =>
        Shapes.SelectMany(s => Gen.Select(Gen.Float[-2, 2].Array[s.Batch * s.NIn], Gen.Float[-2, 2].Array[s.NIn * s.NOut], Gen.Float[-2, 2].Array[s.NOut]).Select(v => (s, v.Item1, v.Item2, v.Item3)))
            .Sample(c =>
            {
                var (s, x, w, b) = c;
                float[] Run<TV>() where TV : struct, ISimd<TV, float>
                {
                    var y = new float[s.Batch * s.NOut];
                    Dense.ForwardCore<float, ReluOp<float>, TV>(ref x[0], ref w[0], ref b[0], ref y[0], s.Batch, s.NIn, s.NOut);
                    return y;
                }
                double[] scalar = Run<SimdScalar<float>>().Select(v => (double)v).ToArray();
                Assert.True(Reference.RelativeError(Run<Simd512<float>>().Select(v => (double)v).ToArray(), scalar) < 1e-6);
                Assert.True(Reference.RelativeError(Run<Simd256<float>>().Select(v => (double)v).ToArray(), scalar) < 1e-6);
            }, iter: 100);

    [Fact]
    public void Sgd_updates_every_element_exactly_once_at_every_width()
    {
        for (int n = 0; n <= 3 * 16 + 1; n++)
        {
            foreach (var run in new Action<float[], float[]>[]
            {
                (p, g) => Optimizers.SgdCore<float, Simd512<float>, On>(ref MemoryMarshal.GetArrayDataReference(p), ref MemoryMarshal.GetArrayDataReference(g), (nuint)n, -0.5f, GradientTransform<float>.Identity),
                (p, g) => Optimizers.SgdCore<float, Simd256<float>, On>(ref MemoryMarshal.GetArrayDataReference(p), ref MemoryMarshal.GetArrayDataReference(g), (nuint)n, -0.5f, GradientTransform<float>.Identity),
                (p, g) => Optimizers.SgdCore<float, SimdScalar<float>, Off>(ref MemoryMarshal.GetArrayDataReference(p), ref MemoryMarshal.GetArrayDataReference(g), (nuint)n, -0.5f, GradientTransform<float>.Identity),
            })
            {
                var p = Enumerable.Range(0, n + 1).Select(i => (float)i).ToArray();
                var g = Enumerable.Repeat(2f, n + 1).ToArray();
                run(p, g);
                for (int i = 0; i < n; i++) Assert.Equal(i - 1f, p[i]); // i − 0.5·2, once
                Assert.Equal(n, p[n]); // untouched past the end
            }
        }
        var pp = new float[5];
        Optimizers.SgdStep<float>(pp, new float[] { 1, 2, 3, 4, 5 }, 0.5f);
        Assert.Equal(new[] { -0.5f, -1f, -1.5f, -2f, -2.5f }, pp);
    }

    [Fact]
    public void Elementwise_drivers_match_scalar_ops_for_every_length()
    {
        var random = new KernelRandom(3);
        for (int n = 0; n <= 3 * 16 + 1; n++)
        {
            float[] x = Enumerable.Range(0, n).Select(_ => (float)(random.NextDouble() * 8 - 4)).ToArray();
            float[] dy = Enumerable.Range(0, n).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
            Check<SigmoidOp<float>>(x, dy, v => 1 / (1 + Math.Exp(-v)), y => y * (1 - y));
            Check<TanhOp<float>>(x, dy, Math.Tanh, y => 1 - y * y);
            Check<ReluOp<float>>(x, dy, v => Math.Max(0, v), y => y > 0 ? 1 : 0);
            Check<IdentityOp<float>>(x, dy, v => v, _ => 1);
        }

        static void Check<TOp>(float[] x, float[] dy, Func<double, double> f, Func<double, double> dfFromY) where TOp : IActivationOp<float>
        {
            foreach (int width in new[] { 512, 256, 1 })
            {
                var y = x.ToArray();
                var g = dy.ToArray();
                if (y.Length > 0)
                {
                    ref float y0 = ref y[0];
                    ref float g0 = ref g[0];
                    switch (width)
                    {
                        case 512: Elementwise.Forward<float, TOp, Simd512<float>>(ref y0, (nuint)y.Length); Elementwise.Backward<float, TOp, Simd512<float>>(ref y0, ref g0, (nuint)y.Length); break;
                        case 256: Elementwise.Forward<float, TOp, Simd256<float>>(ref y0, (nuint)y.Length); Elementwise.Backward<float, TOp, Simd256<float>>(ref y0, ref g0, (nuint)y.Length); break;
                        default: Elementwise.Forward<float, TOp, SimdScalar<float>>(ref y0, (nuint)y.Length); Elementwise.Backward<float, TOp, SimdScalar<float>>(ref y0, ref g0, (nuint)y.Length); break;
                    }
                }
                for (int i = 0; i < x.Length; i++)
                {
                    double expected = f(x[i]);
                    Assert.True(Math.Abs(y[i] - expected) <= 4e-7 * Math.Max(1, Math.Abs(expected)), $"{typeof(TOp).Name} width {width}: f({x[i]}) = {y[i]}, expected {expected}");
                    double expectedGrad = dy[i] * dfFromY(y[i]);
                    Assert.True(Math.Abs(g[i] - expectedGrad) <= 1e-6, $"{typeof(TOp).Name} width {width}: backward at {x[i]}");
                }
            }
        }
    }

    [Theory]
    [InlineData(float.PositiveInfinity, 1f, 1f, float.PositiveInfinity)]
    [InlineData(float.NegativeInfinity, 0f, -1f, 0f)]
    [InlineData(1e4f, 1f, 1f, 1e4f)]
    [InlineData(-1e4f, 0f, -1f, 0f)]
    [InlineData(100f, 1f, 1f, 100f)]
    [InlineData(-100f, 0f, -1f, 0f)]
    [InlineData(0f, 0.5f, 0f, 0f)]
    [InlineData(1e-30f, 0.5f, 1e-30f, 1e-30f)]
    public void Activations_saturate_and_handle_special_values(float x, float sigmoid, float tanh, float relu)
    {
        foreach (int n in new[] { 1, 16, 17 }) // scalar tail, whole vector, vector + tail
        {
            // Sigmoid keeps relative accuracy down to the denormals (σ(−100) = 3.7e−44, not 0); σ(−1e4) underflows to 0.
            float expected = x < -90 && x > -110 ? (float)(1 / (1 + Math.Exp(-(double)x))) : sigmoid;
            Assert.All(Apply<SigmoidOp<float>>(x, n), v => Assert.Equal(expected, v));
            Assert.All(Apply<TanhOp<float>>(x, n), v => Assert.Equal(tanh, v));
            Assert.All(Apply<ReluOp<float>>(x, n), v => Assert.Equal(relu, v));
        }
    }

    [Fact]
    public void Activations_propagate_NaN()
    {
        foreach (int n in new[] { 1, 16, 17 })
        {
            Assert.All(Apply<SigmoidOp<float>>(float.NaN, n), v => Assert.True(float.IsNaN(v)));
            Assert.All(Apply<TanhOp<float>>(float.NaN, n), v => Assert.True(float.IsNaN(v)));
        }
    }

    private static float[] Apply<TOp>(float x, int n) where TOp : IActivationOp<float>
    {
        var data = Enumerable.Repeat(x, n).ToArray();
        Elementwise.ForwardInPlace<float, TOp>(data);
        return data;
    }

    [Fact]
    public void Tanh_is_accurate_to_a_few_ulps_over_the_float_range()
    {
        // Sweep every 97th float bit pattern in [−20, 20] (≈ 22 million values would be all; 1/97 of them here).
        int worst = 0;
        float worstAt = 0;
        var buffer = new float[4096];
        var inputs = new float[4096];
        int count = 0;
        uint start = BitConverter.SingleToUInt32Bits(20f);
        for (long bits = 0; bits <= start; bits += 97)
        {
            float v = BitConverter.UInt32BitsToSingle((uint)bits);
            inputs[count] = v;
            inputs[count + 1] = -v;
            count += 2;
            if (count == inputs.Length || bits + 97 > start)
            {
                inputs.AsSpan(0, count).CopyTo(buffer);
                Elementwise.ForwardInPlace<float, TanhOp<float>>(buffer.AsSpan(0, count));
                for (int i = 0; i < count; i++)
                {
                    float expected = (float)Math.Tanh(inputs[i]);
                    int ulps = Math.Abs(BitConverter.SingleToInt32Bits(buffer[i]) - BitConverter.SingleToInt32Bits(expected));
                    if (ulps > worst) { worst = ulps; worstAt = inputs[i]; }
                }
                count = 0;
            }
        }
        // TanhOp uses VectorMath.Tanh: within one ulp of the correctly rounded result (1.011 ulp from the exact value).
        Assert.True(worst <= 1, $"tanh: {worst} ulps at {worstAt:R}");
    }

    [Fact]
    public void Kernels_validate_span_lengths_before_touching_memory()
    {
        var x = new float[2 * 3];
        var w = new float[3 * 4];
        var b = new float[4];
        var y = new float[2 * 4];
        Assert.Equal("x", Assert.Throws<ArgumentException>(() => Dense.Forward<float, ReluOp<float>>(x.AsSpan(1), w, b, y, 2, 3, 4)).ParamName);
        Assert.Equal("w", Assert.Throws<ArgumentException>(() => Dense.Forward<float, ReluOp<float>>(x, w.AsSpan(1), b, y, 2, 3, 4)).ParamName);
        Assert.Equal("b", Assert.Throws<ArgumentException>(() => Dense.Forward<float, ReluOp<float>>(x, w, b.AsSpan(1), y, 2, 3, 4)).ParamName);
        Assert.Equal("y", Assert.Throws<ArgumentException>(() => Dense.Forward<float, ReluOp<float>>(x, w, b, y.AsSpan(1), 2, 3, 4)).ParamName);
        Assert.Equal("batch", Assert.Throws<ArgumentOutOfRangeException>(() => Dense.Forward<float, ReluOp<float>>(x, w, b, y, 0, 3, 4)).ParamName);
        Assert.Equal("nIn", Assert.Throws<ArgumentOutOfRangeException>(() => Dense.Forward<float, ReluOp<float>>(x, w, b, y, 2, -3, 4)).ParamName);
        Assert.Equal("x", Assert.Throws<ArgumentException>(() => Dense.Forward<float, ReluOp<float>>(x, w, b, y, 3, 3, 4)).ParamName);
        Assert.Equal("dz", Assert.Throws<ArgumentException>(() => Dense.BackwardParameters<float>(x, y.AsSpan(2), w, b, 2, 3, 4)).ParamName);
        Assert.Equal("dw", Assert.Throws<ArgumentException>(() => Dense.BackwardParameters<float>(x, y, w.AsSpan(0, 11), b, 2, 3, 4)).ParamName);
        Assert.Equal("db", Assert.Throws<ArgumentException>(() => Dense.BackwardParameters<float>(x, y, w, new float[5], 2, 3, 4)).ParamName);
        Assert.Equal("dx", Assert.Throws<ArgumentException>(() => Dense.BackwardInput<float>(y, w, x.AsSpan(1), 2, 3, 4)).ParamName);
        Assert.Equal("gradients", Assert.Throws<ArgumentException>(() => Optimizers.SgdStep<float>(new float[4], new float[5], 0.1f)).ParamName);
        Assert.Equal("output", Assert.Throws<ArgumentException>(() => Elementwise.BackwardInPlace<float, TanhOp<float>>(new float[3], new float[4])).ParamName);
        Assert.Equal("labels", Assert.Throws<ArgumentException>(() => Loss.SoftmaxCrossEntropy<float>(new float[8], new int[1], default, 2, 4)).ParamName);
        Assert.Equal("targets", Assert.Throws<ArgumentException>(() => Loss.L2<float>(new float[8], new float[7], default, 2, 4)).ParamName);
        Assert.Throws<ArgumentOutOfRangeException>(() => Loss.ValidateLabels(new[] { 0, 4 }, 4, "labels"));
        Assert.Throws<ArgumentOutOfRangeException>(() => new AlignedBuffer<float>(-1));
    }

    [Fact]
    public void Softmax_cross_entropy_is_stable_for_huge_logits()
    {
        float[] logits = { 1e4f, -1e4f, 0f, 1e4f, 1e4f - 1, -1e4f };
        var g = new float[6];
        float loss = Loss.SoftmaxCrossEntropy<float>(logits, new[] { 1, 0 }, g, 2, 3);
        Assert.True(float.IsFinite(loss));
        // Row 0: log-sum-exp ≈ 1e4, label logit −1e4 → 2e4. Row 1: lse = 1e4 + log(1 + e^−1), label logit 1e4.
        double expected = (2e4 + Math.Log(1 + Math.Exp(-1))) / 2;
        Assert.Equal(expected, loss, 0.01);
        Assert.All(g, v => Assert.True(float.IsFinite(v)));
        Assert.Equal(0.5f, g[0], 6);    // softmax 1, /B
        Assert.Equal(-0.5f, g[1], 6);   // softmax 0 − 1, /B
        Assert.Equal((float)(1 / (1 + Math.Exp(-1)) / 2 - 0.5), g[3], 6);
    }

    [Fact]
    public void Non_finite_scan_finds_the_first_bad_element_at_any_position()
    {
        for (int n = 1; n <= 40; n++)
            for (int bad = 0; bad < n; bad++)
            {
                var data = new float[n];
                data[bad] = float.NaN;
                if (bad + 1 < n) data[n - 1] = float.PositiveInfinity;
                Assert.Equal(bad, Elementwise.IndexOfNonFinite<float>(data));
            }
        Assert.Equal(-1, Elementwise.IndexOfNonFinite<float>(new float[33]));
        Assert.Equal(-1, Elementwise.IndexOfNonFinite<double>(ReadOnlySpan<double>.Empty));
    }
}
