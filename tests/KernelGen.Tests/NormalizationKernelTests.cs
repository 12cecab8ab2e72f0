using System;
using System.Numerics;
using System.Runtime.InteropServices;
using CsCheck;
using KernelGen.Kernels;
using KernelGen.Operators;
using Xunit;

namespace KernelGen.Tests;

/// <summary>
/// Batch, layer and group normalization: the cores at every register width (instantiated directly, whatever the CPU)
/// against naive double references written here, for every feature count 1 … 3·16 + 1; whole-Jacobian gradient checks
/// by central differences; PyTorch's running-statistics rule; degenerate inputs; validation and allocation.
/// </summary>
public class NormalizationKernelTests
{
    private const int MaxFeatures = 3 * 16 + 1; // 3·Vector512<float>.Count + 1: every main loop and tail at every width
    private const double Epsilon = 1e-5;

    // ---- naive double references ------------------------------------------------------------------------------------

    /// <summary>PyTorch BatchNorm1d, training mode: per-feature batch mean and biased variance.</summary>
    private static (double[] Y, double[] XHat, double[] InvStd, double[] Mean, double[] Var) BatchNormReference(
        double[] x, double[] gamma, double[] beta, int batch, int features, double eps)
    {
        var y = new double[batch * features];
        var xhat = new double[batch * features];
        var inv = new double[features];
        var mean = new double[features];
        var variance = new double[features];
        for (int f = 0; f < features; f++)
        {
            double s = 0;
            for (int b = 0; b < batch; b++) s += x[b * features + f];
            mean[f] = s / batch;
            double v = 0;
            for (int b = 0; b < batch; b++) v += (x[b * features + f] - mean[f]) * (x[b * features + f] - mean[f]);
            variance[f] = v / batch;
            inv[f] = 1 / Math.Sqrt(variance[f] + eps);
            for (int b = 0; b < batch; b++)
            {
                xhat[b * features + f] = (x[b * features + f] - mean[f]) * inv[f];
                y[b * features + f] = gamma[f] * xhat[b * features + f] + beta[f];
            }
        }
        return (y, xhat, inv, mean, variance);
    }

    /// <summary>The lecture notes' step-by-step batch-norm backward (dvar, dmean₁, dmean₂, dx₁ + dx₂ + dx₃).</summary>
    private static (double[] Dx, double[] DGamma, double[] DBeta) BatchNormBackwardReference(
        double[] dout, double[] x, double[] gamma, int batch, int features, double eps)
    {
        var (_, xhat, _, mean, variance) = BatchNormReference(x, gamma, new double[features], batch, features, eps);
        var dx = new double[batch * features];
        var dgamma = new double[features];
        var dbeta = new double[features];
        for (int f = 0; f < features; f++)
        {
            double dvar = 0, dmean1 = 0, sumCentered = 0;
            for (int b = 0; b < batch; b++)
            {
                int i = b * features + f;
                dgamma[f] += dout[i] * xhat[i];
                dbeta[f] += dout[i];
                double dxhat = dout[i] * gamma[f];
                dvar += dxhat * (x[i] - mean[f]) * -0.5 * Math.Pow(variance[f] + eps, -1.5);
                dmean1 += dxhat * (-1 / Math.Sqrt(variance[f] + eps));
                sumCentered += -2 * (x[i] - mean[f]);
            }
            double dmean = dmean1 + dvar * sumCentered / batch;
            for (int b = 0; b < batch; b++)
            {
                int i = b * features + f;
                double dx1 = dout[i] * gamma[f] / Math.Sqrt(variance[f] + eps);
                double dx2 = dvar * 2 * (x[i] - mean[f]) / batch;
                dx[i] = dx1 + dx2 + dmean / batch;
            }
        }
        return (dx, dgamma, dbeta);
    }

    /// <summary>PyTorch GroupNorm on [batch × features] (LayerNorm when groups = 1).</summary>
    private static (double[] Y, double[] XHat, double[] InvStd) GroupNormReference(
        double[] x, double[] gamma, double[] beta, int batch, int features, int groups, double eps)
    {
        int c = features / groups;
        var y = new double[batch * features];
        var xhat = new double[batch * features];
        var inv = new double[batch * groups];
        for (int b = 0; b < batch; b++)
            for (int g = 0; g < groups; g++)
            {
                int o = b * features + g * c;
                double s = 0;
                for (int i = 0; i < c; i++) s += x[o + i];
                double mean = s / c, v = 0;
                for (int i = 0; i < c; i++) v += (x[o + i] - mean) * (x[o + i] - mean);
                double k = 1 / Math.Sqrt(v / c + eps);
                inv[b * groups + g] = k;
                for (int i = 0; i < c; i++)
                {
                    xhat[o + i] = (x[o + i] - mean) * k;
                    y[o + i] = gamma[g * c + i] * xhat[o + i] + beta[g * c + i];
                }
            }
        return (y, xhat, inv);
    }

    /// <summary>Group-norm backward written out directly from ∂x̂/∂x (an independent route to the same gradient).</summary>
    private static (double[] Dx, double[] DGamma, double[] DBeta) GroupNormBackwardReference(
        double[] dy, double[] xhat, double[] inv, double[] gamma, int batch, int features, int groups)
    {
        int c = features / groups;
        var dx = new double[batch * features];
        var dgamma = new double[features];
        var dbeta = new double[features];
        for (int b = 0; b < batch; b++)
            for (int g = 0; g < groups; g++)
            {
                int o = b * features + g * c;
                double k = inv[b * groups + g];
                // ∂x̂_i/∂x_j = k·(δ_ij − 1/c − x̂_i·x̂_j/c)
                for (int j = 0; j < c; j++)
                {
                    double s = 0;
                    for (int i = 0; i < c; i++)
                        s += dy[o + i] * gamma[g * c + i] * k * ((i == j ? 1 : 0) - 1.0 / c - xhat[o + i] * xhat[o + j] / c);
                    dx[o + j] = s;
                }
                for (int i = 0; i < c; i++)
                {
                    dgamma[g * c + i] += dy[o + i] * xhat[o + i];
                    dbeta[g * c + i] += dy[o + i];
                }
            }
        return (dx, dgamma, dbeta);
    }

    // ---- helpers ----------------------------------------------------------------------------------------------------

    private static double[] Random(Random rng, int n, double lo = -2, double hi = 2)
    {
        var a = new double[n];
        for (int i = 0; i < n; i++) a[i] = lo + (hi - lo) * rng.NextDouble();
        return a;
    }

    private static T[] WithSentinel<T>(int n, T sentinel)
    {
        var a = new T[n + 1];
        a[n] = sentinel;
        return a;
    }

    private static ref T R<T>(T[] a) => ref MemoryMarshal.GetArrayDataReference(a);

    private static void Close(ReadOnlySpan<double> actual, ReadOnlySpan<double> expected, double tolerance, string what)
    {
        Assert.True(actual.Length >= expected.Length, what);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(actual[i] - expected[i]) <= tolerance * (1 + Math.Abs(expected[i])),
                $"{what}[{i}]: actual {actual[i]:R}, expected {expected[i]:R}");
    }

    private static void Close(ReadOnlySpan<float> actual, ReadOnlySpan<double> expected, double tolerance, string what)
    {
        var a = new double[expected.Length];
        for (int i = 0; i < a.Length; i++) a[i] = actual[i];
        Close(a, expected, tolerance, what);
    }

    private static double RelativeError(double[] a, double[] n)
    {
        double d = 0, na = 0, nn = 0;
        for (int i = 0; i < a.Length; i++) { d += (a[i] - n[i]) * (a[i] - n[i]); na += a[i] * a[i]; nn += n[i] * n[i]; }
        return Math.Sqrt(d) / (Math.Sqrt(na) + Math.Sqrt(nn) + 1e-300);
    }

    /// <summary>
    /// ∂L/∂p for every element of every array in <paramref name="parameters"/>, by the 4-point central stencil
    /// (f(−2h) − 8f(−h) + 8f(h) − f(2h))/12h, error O(h⁴). Normalization curves on the scale √(σ² + ε), which is as
    /// small as √ε ≈ 3e-3 when a segment's values nearly coincide; the 2-point stencil's relative error (h/scale)²/6
    /// then exceeds 1e-7, while this one's (h/scale)⁴/30 stays near 1e-11.
    /// </summary>
    private static double[] Numeric(Func<double> loss, params double[][] parameters)
    {
        const double h = 1e-5;
        int total = 0;
        foreach (var p in parameters) total += p.Length;
        var g = new double[total];
        int k = 0;
        foreach (var p in parameters)
            for (int i = 0; i < p.Length; i++)
            {
                double saved = p[i];
                p[i] = saved + h; double plus1 = loss();
                p[i] = saved - h; double minus1 = loss();
                p[i] = saved + 2 * h; double plus2 = loss();
                p[i] = saved - 2 * h; double minus2 = loss();
                p[i] = saved;
                g[k++] = (8 * (plus1 - minus1) - (plus2 - minus2)) / (12 * h);
            }
        return g;
    }

    private static double[] Concat(params double[][] parts)
    {
        int n = 0;
        foreach (var p in parts) n += p.Length;
        var r = new double[n];
        int k = 0;
        foreach (var p in parts) { p.CopyTo(r, k); k += p.Length; }
        return r;
    }

    private static double Dot(double[] r, double[] y)
    {
        double s = 0;
        for (int i = 0; i < r.Length; i++) s += r[i] * y[i];
        return s;
    }

    // ---- batch norm: cores at every width ---------------------------------------------------------------------------

    private static void TrainAt<T, TV>(T[] x, T[] y, T[] g, T[] b, T[] xh, T[] inv, T[] rm, T[] rv, int batch, int features, T eps, T momentum)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> where TV : struct, ISimd<TV, T> =>
        Normalization.BatchNormTrainingCore<T, TV>(ref R(x), ref R(y), ref R(g), ref R(b), ref R(xh), ref R(inv), ref R(rm), ref R(rv),
            new Normalization.BatchNormArgs<T>(batch, features, eps, momentum));

    [Fact]
    public void BatchNorm_training_matches_the_reference_for_every_feature_count_and_is_identical_at_every_width()
    {
        var rng = new Random(1);
        foreach (int batch in new[] { 2, 3, 7 })
            for (int features = 1; features <= MaxFeatures; features++)
            {
                double[] x = Random(rng, batch * features), g = Random(rng, features), b = Random(rng, features);
                double[] rm0 = Random(rng, features), rv0 = Random(rng, features, 0.5, 2);
                var (yRef, xhRef, invRef, mean, variance) = BatchNormReference(x, g, b, batch, features, Epsilon);
                double[]? first = null;
                Check<Simd512<double>>();
                Check<Simd256<double>>();
                Check<SimdScalar<double>>();

                void Check<TV>() where TV : struct, ISimd<TV, double>
                {
                    string at = $"{typeof(TV).Name} batch {batch} features {features}";
                    double[] y = WithSentinel(batch * features, 7.0), xh = WithSentinel(batch * features, 7.0), inv = WithSentinel(features, 7.0);
                    double[] rm = WithSentinel(features, 7.0), rv = WithSentinel(features, 7.0);
                    rm0.CopyTo(rm, 0); rv0.CopyTo(rv, 0);
                    TrainAt<double, TV>(x, y, g, b, xh, inv, rm, rv, batch, features, Epsilon, 0.1);
                    Assert.True(y[^1] == 7 && xh[^1] == 7 && inv[^1] == 7 && rm[^1] == 7 && rv[^1] == 7, $"wrote past the end at {at}");
                    Close(y, yRef, 1e-12, "y " + at);
                    Close(xh, xhRef, 1e-12, "x̂ " + at);
                    Close(inv, invRef, 1e-12, "invStd " + at);
                    for (int f = 0; f < features; f++)
                    {
                        Assert.Equal(0.9 * rm0[f] + 0.1 * mean[f], rm[f], 1e-12);
                        Assert.Equal(0.9 * rv0[f] + 0.1 * variance[f] * batch / (batch - 1), rv[f], 1e-12);
                    }
                    // Lane-wise row reductions without horizontal sums or FMA: bit-identical at every width.
                    double[] all = Concat(y, xh, inv, rm, rv);
                    if (first is null) first = all;
                    else Assert.True(first.AsSpan().SequenceEqual(all), $"widths differ at {at}");
                }
            }
    }

    [Fact]
    public void Float_batch_norm_matches_the_double_reference_within_tolerance_and_is_deterministic() =>
        Gen.Select(Gen.Int[2, 9], Gen.Int[1, MaxFeatures]).SelectMany(s => Gen.Float[-3, 3].Array[s.Item1 * s.Item2].Select(x => (s.Item1, s.Item2, x)))
            .Sample(c =>
            {
                var (batch, features, xf) = c;
                var g = new float[features]; var b = new float[features];
                for (int f = 0; f < features; f++) { g[f] = 0.5f + 0.01f * f; b[f] = -0.25f + 0.02f * f; }
                var (yRef, xhRef, invRef, _, _) = BatchNormReference(Array.ConvertAll(xf, v => (double)v), Array.ConvertAll(g, v => (double)v),
                    Array.ConvertAll(b, v => (double)v), batch, features, Epsilon);
                float[] Run()
                {
                    var y = new float[batch * features]; var xh = new float[batch * features];
                    var inv = new float[features]; var rm = new float[features]; var rv = new float[features];
                    Normalization.BatchNormForwardTraining<float>(xf, y, g, b, xh, inv, rm, rv, batch, features, (float)Epsilon, 0.1f);
                    // x̂ = (x − μ)·s: its float error grows with s; compare relative to the spread of the column.
                    Close(y, yRef, 2e-4, "y");
                    Close(xh, xhRef, 2e-4, "x̂");
                    for (int f = 0; f < features; f++) Assert.True(Math.Abs(inv[f] - invRef[f]) <= 1e-5 * invRef[f], "invStd");
                    return y;
                }
                Assert.True(Run().AsSpan().SequenceEqual(Run()), "not bit-identical from run to run");
            }, iter: 200);

    [Fact]
    public void BatchNorm_inference_matches_the_formula_at_every_width()
    {
        var rng = new Random(2);
        for (int features = 1; features <= MaxFeatures; features++)
        {
            const int batch = 5;
            double[] x = Random(rng, batch * features), g = Random(rng, features), b = Random(rng, features);
            double[] rm = Random(rng, features), rv = Random(rng, features, 0, 3);
            var expected = new double[batch * features];
            for (int r = 0; r < batch; r++)
                for (int f = 0; f < features; f++)
                    expected[r * features + f] = g[f] * (x[r * features + f] - rm[f]) / Math.Sqrt(rv[f] + Epsilon) + b[f];
            Check<Simd512<double>>();
            Check<Simd256<double>>();
            Check<SimdScalar<double>>();

            void Check<TV>() where TV : struct, ISimd<TV, double>
            {
                var y = WithSentinel(batch * features, 7.0);
                Normalization.BatchNormInferenceCore<double, TV>(ref R(x), ref R(y), ref R(g), ref R(b), ref R(rm), ref R(rv), batch, features, Epsilon);
                Assert.Equal(7.0, y[^1]);
                Close(y, expected, 1e-13, $"y {typeof(TV).Name} {features}");
                // In place: y aliases x.
                var inPlace = (double[])x.Clone();
                Normalization.BatchNormInferenceCore<double, TV>(ref R(inPlace), ref R(inPlace), ref R(g), ref R(b), ref R(rm), ref R(rv), batch, features, Epsilon);
                Assert.True(inPlace.AsSpan().SequenceEqual(y.AsSpan(0, batch * features)), "in place differs");
            }
        }
    }

    [Fact]
    public void Running_statistics_after_one_step_follow_pytorch_and_inference_uses_them()
    {
        // Three features over a batch of four: columns 1..4, 10·(1..4) and a constant column.
        const int batch = 4, features = 3;
        double[] x = [1, 10, 5, 2, 20, 5, 3, 30, 5, 4, 40, 5];
        double[] g = [1, 2, 3], b = [0.5, -0.5, 0.25];
        double[] rm = [0, 0, 0], rv = [1, 1, 1];
        var y = new double[12]; var xh = new double[12]; var inv = new double[3];
        Normalization.BatchNormForwardTraining<double>(x, y, g, b, xh, inv, rm, rv, batch, features, Epsilon, 0.1);
        // μ = 2.5, 25, 5; biased σ² = 1.25, 125, 0; unbiased = σ²·4/3.
        Assert.Equal(0.25, rm[0], 1e-15); Assert.Equal(2.5, rm[1], 1e-14); Assert.Equal(0.5, rm[2], 1e-15);
        Assert.Equal(0.9 + 0.1 * 1.25 * 4 / 3, rv[0], 1e-15);
        Assert.Equal(0.9 + 0.1 * 125 * 4 / 3, rv[1], 1e-13);
        Assert.Equal(0.9, rv[2], 1e-15);

        // The same in float through the public entry point.
        float[] xf = Array.ConvertAll(x, v => (float)v), gf = [1, 2, 3], bf = [0.5f, -0.5f, 0.25f];
        float[] rmf = [0, 0, 0], rvf = [1, 1, 1];
        Normalization.BatchNormForwardTraining<float>(xf, new float[12], gf, bf, new float[12], new float[3], rmf, rvf, batch, features, 1e-5f, 0.1f);
        Assert.Equal(0.25f, rmf[0], 1e-6f); Assert.Equal(2.5f, rmf[1], 1e-5f); Assert.Equal(0.5f, rmf[2], 1e-6f);
        Assert.Equal((float)(0.9 + 0.1 * 1.25 * 4 / 3), rvf[0], 1e-6f);
        Assert.Equal((float)(0.9 + 0.1 * 125 * 4 / 3), rvf[1], 1e-4f);

        // Inference reads the running statistics, not the batch's: y = γ·(x − rm)/√(rv + ε) + β.
        var yEval = new double[12];
        Normalization.BatchNormForwardInference<double>(x, yEval, g, b, rm, rv, batch, features, Epsilon);
        for (int r = 0; r < batch; r++)
            for (int f = 0; f < features; f++)
                Assert.Equal(g[f] * (x[r * 3 + f] - rm[f]) / Math.Sqrt(rv[f] + Epsilon) + b[f], yEval[r * 3 + f], 1e-12);
        Assert.True(Math.Abs(y[0] - yEval[0]) > 1e-3, "inference used the batch statistics");

        // With momentum 1 the running statistics become the batch's (unbiased variance).
        double[] rm1 = [0, 0, 0], rv1 = [1, 1, 1];
        Normalization.BatchNormForwardTraining<double>(x, y, g, b, xh, inv, rm1, rv1, batch, features, Epsilon, 1.0);
        Assert.Equal(2.5, rm1[0], 1e-15);
        Assert.Equal(1.25 * 4 / 3, rv1[0], 1e-15);
    }

    [Fact]
    public void BatchNorm_training_with_fewer_than_two_rows_throws()
    {
        foreach (int batch in new[] { 1, 0, -3 })
        {
            var e = Assert.Throws<ArgumentOutOfRangeException>(() =>
                Normalization.BatchNormForwardTraining<double>(new double[4], new double[4], new double[4], new double[4], new double[4],
                    new double[4], new double[4], new double[4], batch, 4, Epsilon, 0.1));
            Assert.Equal("batch", e.ParamName);
        }
    }

    [Fact]
    public void A_constant_feature_gives_beta_exactly_and_finite_gradients()
    {
        // 0.1 is not exactly representable: Σx/B ≠ x in floating point, yet x̂ must be exactly 0 (shifted data).
        const int batch = 6, features = 21; // feature 3 sits in a vector lane, feature 20 in the scalar tail
        var rng = new Random(3);
        double[] x = Random(rng, batch * features), g = Random(rng, features), b = Random(rng, features);
        for (int r = 0; r < batch; r++) { x[r * features + 3] = 0.1; x[r * features + 20] = -7.3; }
        var y = new double[batch * features]; var xh = new double[batch * features]; var inv = new double[features];
        var rm = new double[features]; var rv = new double[features];
        Normalization.BatchNormForwardTraining<double>(x, y, g, b, xh, inv, rm, rv, batch, features, Epsilon, 0.1);
        foreach (int f in new[] { 3, 20 })
        {
            Assert.Equal(1 / Math.Sqrt(Epsilon), inv[f], 1e-9);
            for (int r = 0; r < batch; r++) { Assert.Equal(0.0, xh[r * features + f]); Assert.Equal(b[f], y[r * features + f]); }
        }
        var dx = new double[batch * features]; var dg = new double[features]; var db = new double[features];
        Normalization.BatchNormBackward<double>(Random(rng, batch * features), xh, inv, g, dx, dg, db, batch, features);
        Assert.All(dx, v => Assert.True(double.IsFinite(v)));
        Assert.Equal(0.0, dg[3]);

        // Float, and layer/group norm on constant rows and groups.
        var xf = new float[batch * features];
        xf.AsSpan().Fill(0.1f);
        float[] gf = new float[features], bf = new float[features], yf = new float[batch * features], xhf = new float[batch * features];
        for (int f = 0; f < features; f++) { gf[f] = 1.5f; bf[f] = 0.01f * f; }
        Normalization.BatchNormForwardTraining<float>(xf, yf, gf, bf, xhf, new float[features], new float[features], new float[features], batch, features, 1e-5f, 0.1f);
        for (int i = 0; i < yf.Length; i++) { Assert.Equal(0f, xhf[i]); Assert.Equal(bf[i % features], yf[i]); }
        Normalization.LayerNormForward<float>(xf, yf, gf, bf, xhf, new float[batch], batch, features, 1e-5f);
        for (int i = 0; i < yf.Length; i++) { Assert.Equal(0f, xhf[i]); Assert.Equal(bf[i % features], yf[i]); }
        var xg = new double[batch * features];
        for (int i = 0; i < xg.Length; i++) xg[i] = 0.1 * (i / 7); // groups of 7 hold one repeated value
        var yg = new double[batch * features];
        Normalization.GroupNormForward<double>(xg, yg, g, b, xh, new double[batch * 3], batch, features, 3, Epsilon);
        for (int i = 0; i < yg.Length; i++) Assert.Equal(b[i % features], yg[i]);
    }

    [Fact]
    public void BatchNorm_backward_matches_the_lecture_notes_derivation_at_every_width_and_in_place()
    {
        var rng = new Random(4);
        foreach (int batch in new[] { 2, 5, 9 })
            for (int features = 1; features <= MaxFeatures; features++)
            {
                double[] x = Random(rng, batch * features), g = Random(rng, features), dy = Random(rng, batch * features);
                var (_, xh, inv, _, _) = BatchNormReference(x, g, new double[features], batch, features, Epsilon);
                var (dxRef, dgRef, dbRef) = BatchNormBackwardReference(dy, x, g, batch, features, Epsilon);
                Check<Simd512<double>>();
                Check<Simd256<double>>();
                Check<SimdScalar<double>>();

                void Check<TV>() where TV : struct, ISimd<TV, double>
                {
                    string at = $"{typeof(TV).Name} batch {batch} features {features}";
                    double[] dx = WithSentinel(batch * features, 7.0), dg = WithSentinel(features, 7.0), db = WithSentinel(features, 7.0);
                    Normalization.BatchNormBackwardCore<double, TV>(ref R(dy), ref R(xh), ref R(inv), ref R(g), ref R(dx), ref R(dg), ref R(db), batch, features);
                    Assert.True(dx[^1] == 7 && dg[^1] == 7 && db[^1] == 7, "wrote past the end at " + at);
                    Close(dx, dxRef, 1e-10, "dx " + at);
                    Close(dg, dgRef, 1e-12, "dγ " + at);
                    Close(db, dbRef, 1e-12, "dβ " + at);
                    var inPlace = (double[])dy.Clone();
                    Normalization.BatchNormBackwardCore<double, TV>(ref R(inPlace), ref R(xh), ref R(inv), ref R(g), ref R(inPlace), ref R(dg), ref R(db), batch, features);
                    Assert.True(inPlace.AsSpan().SequenceEqual(dx.AsSpan(0, batch * features)), "dx aliasing dy differs at " + at);
                }
            }
    }

    [Fact]
    public void BatchNorm_training_gradient_matches_central_differences_over_the_whole_batch() =>
        Gen.Select(Gen.Int[2, 6], Gen.Int[1, 7], Gen.Int[0, int.MaxValue]).Sample(c =>
        {
            var (batch, features, seed) = c;
            var rng = new Random(seed);
            double[] x = Random(rng, batch * features), g = Random(rng, features), b = Random(rng, features), r = Random(rng, batch * features);
            var y = new double[batch * features]; var xh = new double[batch * features]; var inv = new double[features];
            var rm = new double[features]; var rv = new double[features];
            double Loss()
            {
                Normalization.BatchNormForwardTraining<double>(x, y, g, b, xh, inv, rm, rv, batch, features, Epsilon, 0.1);
                return Dot(r, y);
            }
            double[] numeric = Numeric(Loss, x, g, b);
            Loss(); // caches at the unperturbed point
            var dx = new double[batch * features]; var dg = new double[features]; var db = new double[features];
            Normalization.BatchNormBackward<double>(r, xh, inv, g, dx, dg, db, batch, features);
            double e = RelativeError(Concat(dx, dg, db), numeric);
            Assert.True(e < 1e-7, $"batch norm: relative error {e} at batch {batch}, features {features}, seed {seed}");
        }, iter: 100);

    // ---- layer norm / group norm ------------------------------------------------------------------------------------

    [Fact]
    public void Layer_and_group_norm_forward_match_the_reference_for_every_feature_count_at_every_width()
    {
        var rng = new Random(5);
        for (int features = 1; features <= MaxFeatures; features++)
            for (int groups = 1; groups <= features; groups++)
            {
                if (features % groups != 0) continue;
                const int batch = 3;
                double[] x = Random(rng, batch * features), g = Random(rng, features), b = Random(rng, features);
                for (int i = 0; i < x.Length; i++) x[i] += 100; // a large common offset: the shifted two-pass sums stay exact enough
                var (yRef, xhRef, invRef) = GroupNormReference(x, g, b, batch, features, groups, Epsilon);
                Check<Simd512<double>>();
                Check<Simd256<double>>();
                Check<SimdScalar<double>>();

                void Check<TV>() where TV : struct, ISimd<TV, double>
                {
                    string at = $"{typeof(TV).Name} features {features} groups {groups}";
                    double[] y = WithSentinel(batch * features, 7.0), xh = WithSentinel(batch * features, 7.0), inv = WithSentinel(batch * groups, 7.0);
                    Normalization.GroupNormForwardCore<double, TV>(ref R(x), ref R(y), ref R(g), ref R(b), ref R(xh), ref R(inv), batch, features, groups, Epsilon);
                    Assert.True(y[^1] == 7 && xh[^1] == 7 && inv[^1] == 7, "wrote past the end at " + at);
                    Close(y, yRef, 1e-11, "y " + at);
                    Close(xh, xhRef, 1e-11, "x̂ " + at);
                    Close(inv, invRef, 1e-11, "invStd " + at);
                    var inPlace = (double[])x.Clone();
                    Normalization.GroupNormForwardCore<double, TV>(ref R(inPlace), ref R(inPlace), ref R(g), ref R(b), ref R(xh), ref R(inv), batch, features, groups, Epsilon);
                    Assert.True(inPlace.AsSpan().SequenceEqual(y.AsSpan(0, batch * features)), "y aliasing x differs at " + at);
                }
            }
    }

    [Fact]
    public void Layer_and_group_norm_backward_match_the_reference_for_every_feature_count_at_every_width()
    {
        var rng = new Random(6);
        for (int features = 1; features <= MaxFeatures; features++)
            foreach (int groups in new[] { 1, 2, 3, 5, features })
            {
                if (features % groups != 0) continue;
                const int batch = 5;
                double[] x = Random(rng, batch * features), g = Random(rng, features), dy = Random(rng, batch * features);
                var (_, xh, inv) = GroupNormReference(x, g, new double[features], batch, features, groups, Epsilon);
                var (dxRef, dgRef, dbRef) = GroupNormBackwardReference(dy, xh, inv, g, batch, features, groups);
                Check<Simd512<double>>();
                Check<Simd256<double>>();
                Check<SimdScalar<double>>();

                void Check<TV>() where TV : struct, ISimd<TV, double>
                {
                    string at = $"{typeof(TV).Name} features {features} groups {groups}";
                    double[] dx = WithSentinel(batch * features, 7.0), dg = WithSentinel(features, 7.0), db = WithSentinel(features, 7.0);
                    Normalization.GroupNormBackwardCore<double, TV>(ref R(dy), ref R(xh), ref R(inv), ref R(g), ref R(dx), ref R(dg), ref R(db), batch, features, groups);
                    Assert.True(dx[^1] == 7 && dg[^1] == 7 && db[^1] == 7, "wrote past the end at " + at);
                    Close(dx, dxRef, 1e-10, "dx " + at);
                    Close(dg, dgRef, 1e-12, "dγ " + at);
                    Close(db, dbRef, 1e-12, "dβ " + at);
                    var inPlace = (double[])dy.Clone();
                    Normalization.GroupNormBackwardCore<double, TV>(ref R(inPlace), ref R(xh), ref R(inv), ref R(g), ref R(inPlace), ref R(dg), ref R(db), batch, features, groups);
                    Assert.True(inPlace.AsSpan().SequenceEqual(dx.AsSpan(0, batch * features)), "dx aliasing dy differs at " + at);
                }
            }
    }

    [Fact]
    public void Float_layer_and_group_norm_match_the_double_reference_within_tolerance() =>
        Gen.Select(Gen.Int[1, 6], Gen.Int[1, MaxFeatures], Gen.Int[0, int.MaxValue]).Sample(c =>
        {
            var (batch, features, seed) = c;
            var rng = new Random(seed);
            int groups = features % 3 == 0 ? 3 : 1;
            double[] x = Random(rng, batch * features), g = Random(rng, features), b = Random(rng, features);
            float[] xf = Array.ConvertAll(x, v => (float)v), gf = Array.ConvertAll(g, v => (float)v), bf = Array.ConvertAll(b, v => (float)v);
            var (yRef, xhRef, _) = GroupNormReference(Array.ConvertAll(xf, v => (double)v), Array.ConvertAll(gf, v => (double)v),
                Array.ConvertAll(bf, v => (double)v), batch, features, groups, Epsilon);
            var y = new float[batch * features]; var xh = new float[batch * features];
            Normalization.GroupNormForward<float>(xf, y, gf, bf, xh, new float[batch * groups], batch, features, groups, 1e-5f);
            Close(y, yRef, 2e-4, $"y features {features} groups {groups}");
            Close(xh, xhRef, 2e-4, $"x̂ features {features} groups {groups}");
            var y2 = new float[batch * features];
            Normalization.GroupNormForward<float>(xf, y2, gf, bf, xh, new float[batch * groups], batch, features, groups, 1e-5f);
            Assert.True(y.AsSpan().SequenceEqual(y2), "not bit-identical from run to run");
        }, iter: 200);

    [Fact]
    public void Layer_norm_is_group_norm_with_one_group()
    {
        var rng = new Random(7);
        const int batch = 4, features = 37;
        double[] x = Random(rng, batch * features), g = Random(rng, features), b = Random(rng, features), dy = Random(rng, batch * features);
        double[] y1 = new double[x.Length], y2 = new double[x.Length], xh1 = new double[x.Length], xh2 = new double[x.Length];
        double[] inv1 = new double[batch], inv2 = new double[batch];
        Normalization.LayerNormForward<double>(x, y1, g, b, xh1, inv1, batch, features, Epsilon);
        Normalization.GroupNormForward<double>(x, y2, g, b, xh2, inv2, batch, features, 1, Epsilon);
        Assert.Equal(y1, y2); Assert.Equal(xh1, xh2); Assert.Equal(inv1, inv2);
        double[] dx1 = new double[x.Length], dx2 = new double[x.Length], dg1 = new double[features], dg2 = new double[features], db1 = new double[features], db2 = new double[features];
        Normalization.LayerNormBackward<double>(dy, xh1, inv1, g, dx1, dg1, db1, batch, features);
        Normalization.GroupNormBackward<double>(dy, xh2, inv2, g, dx2, dg2, db2, batch, features, 1);
        Assert.Equal(dx1, dx2); Assert.Equal(dg1, dg2); Assert.Equal(db1, db2);
    }

    [Fact]
    public void Layer_norm_gradient_matches_central_differences() =>
        Gen.Select(Gen.Int[1, 4], Gen.Int[1, 20], Gen.Int[0, int.MaxValue]).Sample(c =>
        {
            var (batch, features, seed) = c;
            var rng = new Random(seed);
            double[] x = Random(rng, batch * features), g = Random(rng, features), b = Random(rng, features), r = Random(rng, batch * features);
            var y = new double[x.Length]; var xh = new double[x.Length]; var inv = new double[batch];
            double Loss()
            {
                Normalization.LayerNormForward<double>(x, y, g, b, xh, inv, batch, features, Epsilon);
                return Dot(r, y);
            }
            double[] numeric = Numeric(Loss, x, g, b);
            Loss();
            var dx = new double[x.Length]; var dg = new double[features]; var db = new double[features];
            Normalization.LayerNormBackward<double>(r, xh, inv, g, dx, dg, db, batch, features);
            double e = RelativeError(Concat(dx, dg, db), numeric);
            Assert.True(e < 1e-7, $"layer norm: relative error {e} at batch {batch}, features {features}, seed {seed}");
        }, iter: 100);

    [Fact]
    public void Group_norm_gradient_matches_central_differences() =>
        Gen.Select(Gen.Int[1, 4], Gen.Int[1, 4], Gen.Int[1, 6], Gen.Int[0, int.MaxValue]).Sample(c =>
        {
            var (batch, groups, perGroup, seed) = c;
            int features = groups * perGroup;
            var rng = new Random(seed);
            double[] x = Random(rng, batch * features), g = Random(rng, features), b = Random(rng, features), r = Random(rng, batch * features);
            var y = new double[x.Length]; var xh = new double[x.Length]; var inv = new double[batch * groups];
            double Loss()
            {
                Normalization.GroupNormForward<double>(x, y, g, b, xh, inv, batch, features, groups, Epsilon);
                return Dot(r, y);
            }
            double[] numeric = Numeric(Loss, x, g, b);
            Loss();
            var dx = new double[x.Length]; var dg = new double[features]; var db = new double[features];
            Normalization.GroupNormBackward<double>(r, xh, inv, g, dx, dg, db, batch, features, groups);
            double e = RelativeError(Concat(dx, dg, db), numeric);
            Assert.True(e < 1e-7, $"group norm: relative error {e} at batch {batch}, groups {groups}×{perGroup}, seed {seed}");
        }, iter: 100);

    // ---- validation and allocation ----------------------------------------------------------------------------------

    private static void Throws(string param, Action call) => Assert.Equal(param, Assert.ThrowsAny<ArgumentException>(call).ParamName);

    [Fact]
    public void Every_span_length_is_validated_and_named()
    {
        const int B = 3, F = 4;
        double[] Big() => new double[B * F];
        double[] Par() => new double[F];
        double[] Short() => new double[B * F - 1];
        double[] Wrong() => new double[F + 1];
        void Train(double[] x, double[] y, double[] g, double[] b, double[] xh, double[] inv, double[] rm, double[] rv) =>
            Normalization.BatchNormForwardTraining<double>(x, y, g, b, xh, inv, rm, rv, B, F, Epsilon, 0.1);
        Train(Big(), Big(), Par(), Par(), Big(), Par(), Par(), Par()); // valid
        Throws("x", () => Train(Short(), Big(), Par(), Par(), Big(), Par(), Par(), Par()));
        Throws("y", () => Train(Big(), Short(), Par(), Par(), Big(), Par(), Par(), Par()));
        Throws("gamma", () => Train(Big(), Big(), Wrong(), Par(), Big(), Par(), Par(), Par()));
        Throws("beta", () => Train(Big(), Big(), Par(), Wrong(), Big(), Par(), Par(), Par()));
        Throws("normalized", () => Train(Big(), Big(), Par(), Par(), Short(), Par(), Par(), Par()));
        Throws("invStd", () => Train(Big(), Big(), Par(), Par(), Big(), Wrong(), Par(), Par()));
        Throws("runningMean", () => Train(Big(), Big(), Par(), Par(), Big(), Par(), Wrong(), Par()));
        Throws("runningVar", () => Train(Big(), Big(), Par(), Par(), Big(), Par(), Par(), Wrong()));
        Throws("epsilon", () => Normalization.BatchNormForwardTraining<double>(Big(), Big(), Par(), Par(), Big(), Par(), Par(), Par(), B, F, -1, 0.1));
        Throws("epsilon", () => Normalization.BatchNormForwardTraining<double>(Big(), Big(), Par(), Par(), Big(), Par(), Par(), Par(), B, F, double.NaN, 0.1));
        Throws("momentum", () => Normalization.BatchNormForwardTraining<double>(Big(), Big(), Par(), Par(), Big(), Par(), Par(), Par(), B, F, Epsilon, 1.5));
        Throws("features", () => Normalization.BatchNormForwardTraining<double>(Big(), Big(), Par(), Par(), Big(), Par(), Par(), Par(), B, 0, Epsilon, 0.1));

        void Eval(double[] x, double[] y, double[] g, double[] b, double[] rm, double[] rv) =>
            Normalization.BatchNormForwardInference<double>(x, y, g, b, rm, rv, B, F, Epsilon);
        Eval(Big(), Big(), Par(), Par(), Par(), Par());
        Throws("x", () => Eval(Short(), Big(), Par(), Par(), Par(), Par()));
        Throws("y", () => Eval(Big(), Short(), Par(), Par(), Par(), Par()));
        Throws("gamma", () => Eval(Big(), Big(), Wrong(), Par(), Par(), Par()));
        Throws("beta", () => Eval(Big(), Big(), Par(), Wrong(), Par(), Par()));
        Throws("runningMean", () => Eval(Big(), Big(), Par(), Par(), Wrong(), Par()));
        Throws("runningVar", () => Eval(Big(), Big(), Par(), Par(), Par(), Wrong()));
        Throws("batch", () => Normalization.BatchNormForwardInference<double>(Big(), Big(), Par(), Par(), Par(), Par(), 0, F, Epsilon));

        void Back(double[] dy, double[] xh, double[] inv, double[] g, double[] dx, double[] dg, double[] db) =>
            Normalization.BatchNormBackward<double>(dy, xh, inv, g, dx, dg, db, B, F);
        Back(Big(), Big(), Par(), Par(), Big(), Par(), Par());
        Throws("dy", () => Back(Short(), Big(), Par(), Par(), Big(), Par(), Par()));
        Throws("normalized", () => Back(Big(), Short(), Par(), Par(), Big(), Par(), Par()));
        Throws("invStd", () => Back(Big(), Big(), Wrong(), Par(), Big(), Par(), Par()));
        Throws("gamma", () => Back(Big(), Big(), Par(), Wrong(), Big(), Par(), Par()));
        Throws("dx", () => Back(Big(), Big(), Par(), Par(), Short(), Par(), Par()));
        Throws("dGamma", () => Back(Big(), Big(), Par(), Par(), Big(), Wrong(), Par()));
        Throws("dBeta", () => Back(Big(), Big(), Par(), Par(), Big(), Par(), Wrong()));

        const int G = 2;
        double[] Stats() => new double[B * G];
        double[] ShortStats() => new double[B * G - 1];
        void GnF(double[] x, double[] y, double[] g, double[] b, double[] xh, double[] inv) =>
            Normalization.GroupNormForward<double>(x, y, g, b, xh, inv, B, F, G, Epsilon);
        GnF(Big(), Big(), Par(), Par(), Big(), Stats());
        Throws("x", () => GnF(Short(), Big(), Par(), Par(), Big(), Stats()));
        Throws("y", () => GnF(Big(), Short(), Par(), Par(), Big(), Stats()));
        Throws("gamma", () => GnF(Big(), Big(), Wrong(), Par(), Big(), Stats()));
        Throws("beta", () => GnF(Big(), Big(), Par(), Wrong(), Big(), Stats()));
        Throws("normalized", () => GnF(Big(), Big(), Par(), Par(), Short(), Stats()));
        Throws("invStd", () => GnF(Big(), Big(), Par(), Par(), Big(), ShortStats()));
        Throws("groups", () => Normalization.GroupNormForward<double>(Big(), Big(), Par(), Par(), Big(), Stats(), B, F, 3, Epsilon));
        Throws("groups", () => Normalization.GroupNormForward<double>(Big(), Big(), Par(), Par(), Big(), Stats(), B, F, 0, Epsilon));
        Throws("batch", () => Normalization.LayerNormForward<double>(Big(), Big(), Par(), Par(), Big(), Stats(), 0, F, Epsilon));
        Throws("invStd", () => Normalization.LayerNormForward<double>(Big(), Big(), Par(), Par(), Big(), new double[B - 1], B, F, Epsilon));

        void GnB(double[] dy, double[] xh, double[] inv, double[] g, double[] dx, double[] dg, double[] db) =>
            Normalization.GroupNormBackward<double>(dy, xh, inv, g, dx, dg, db, B, F, G);
        GnB(Big(), Big(), Stats(), Par(), Big(), Par(), Par());
        Throws("dy", () => GnB(Short(), Big(), Stats(), Par(), Big(), Par(), Par()));
        Throws("normalized", () => GnB(Big(), Short(), Stats(), Par(), Big(), Par(), Par()));
        Throws("invStd", () => GnB(Big(), Big(), ShortStats(), Par(), Big(), Par(), Par()));
        Throws("gamma", () => GnB(Big(), Big(), Stats(), Wrong(), Big(), Par(), Par()));
        Throws("dx", () => GnB(Big(), Big(), Stats(), Par(), Short(), Par(), Par()));
        Throws("dGamma", () => GnB(Big(), Big(), Stats(), Par(), Big(), Wrong(), Par()));
        Throws("dBeta", () => GnB(Big(), Big(), Stats(), Par(), Big(), Par(), Wrong()));
        Throws("dx", () => Normalization.LayerNormBackward<double>(Big(), Big(), new double[B], Par(), Short(), Par(), Par(), B, F));
    }

    [Fact]
    public void Hot_calls_allocate_nothing()
    {
        const int B = 8, F = 37, G = 1;
        float[] x = new float[B * F], y = new float[B * F], xh = new float[B * F], dx = new float[B * F];
        float[] g = new float[F], b = new float[F], inv = new float[F], rm = new float[F], rv = new float[F], dg = new float[F], db = new float[F];
        float[] rowInv = new float[B];
        double[] xd = new double[B * F], yd = new double[B * F], xhd = new double[B * F], gd = new double[F], bd = new double[F], invd = new double[B * G];
        double[] dgd = new double[F], dbd = new double[F];
        for (int i = 0; i < x.Length; i++) { x[i] = i % 5; xd[i] = i % 7; }
        g.AsSpan().Fill(1); gd.AsSpan().Fill(1); rv.AsSpan().Fill(1);

        void Hot()
        {
            Normalization.BatchNormForwardTraining<float>(x, y, g, b, xh, inv, rm, rv, B, F, 1e-5f, 0.1f);
            Normalization.BatchNormBackward<float>(y, xh, inv, g, dx, dg, db, B, F);
            Normalization.BatchNormForwardInference<float>(x, y, g, b, rm, rv, B, F, 1e-5f);
            Normalization.LayerNormForward<float>(x, y, g, b, xh, rowInv, B, F, 1e-5f);
            Normalization.LayerNormBackward<float>(y, xh, rowInv, g, y, dg, db, B, F);
            Normalization.GroupNormForward<double>(xd, yd, gd, bd, xhd, invd, B, F, G, Epsilon);
            Normalization.GroupNormBackward<double>(yd, xhd, invd, gd, yd, dgd, dbd, B, F, G);
        }
        HotLoop.WarmUp(Hot);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 20; i++) Hot();
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
