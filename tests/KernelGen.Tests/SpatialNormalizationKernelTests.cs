using System;
using System.Linq;
using System.Numerics;
using System.Text.Json;
using CsCheck;
using KernelGen.Kernels;
using Xunit;

namespace KernelGen.Tests;

/// <summary>
/// Spatial batch normalization (<see cref="Normalization.BatchNormSpatialForwardTraining"/>, …Inference, …Backward) on
/// [batch × channels × pixels]: per-channel statistics over batch·pixels values against the textbook formulas in double,
/// PyTorch's running-statistics rule with the unbiased factor n/(n − 1), backward against central differences of a
/// scalar loss, PyTorch goldens, aliasing, validation and zero allocation.
/// </summary>
public class SpatialNormalizationKernelTests
{
    // ---- textbook reference -----------------------------------------------------------------------------------------

    private sealed record Stats(double[] Y, double[] XHat, double[] InvStd, double[] Mean, double[] Var, double[] YScale);

    /// <summary>μ_c = Σ x/n, σ²_c = Σ (x − μ)²/n over the n = batch·pixels values of channel c; y = γ(x − μ)/√(σ² + ε) + β.</summary>
    private static Stats Reference(double[] x, double[] gamma, double[] beta, int batch, int channels, int pixels, double eps)
    {
        var y = new double[x.Length];
        var xhat = new double[x.Length];
        var yScale = new double[x.Length];
        var inv = new double[channels];
        var mean = new double[channels];
        var variance = new double[channels];
        int n = batch * pixels;
        for (int c = 0; c < channels; c++)
        {
            double s = 0;
            for (int b = 0; b < batch; b++)
                for (int p = 0; p < pixels; p++) s += x[(b * channels + c) * pixels + p];
            mean[c] = s / n;
            double v = 0;
            for (int b = 0; b < batch; b++)
                for (int p = 0; p < pixels; p++) v += Math.Pow(x[(b * channels + c) * pixels + p] - mean[c], 2);
            variance[c] = v / n;
            inv[c] = 1 / Math.Sqrt(variance[c] + eps);
            double largest = 0;
            for (int b = 0; b < batch; b++)
                for (int p = 0; p < pixels; p++) largest = Math.Max(largest, Math.Abs(x[(b * channels + c) * pixels + p]));
            for (int b = 0; b < batch; b++)
                for (int p = 0; p < pixels; p++)
                {
                    int at = (b * channels + c) * pixels + p;
                    xhat[at] = (x[at] - mean[c]) * inv[c];
                    y[at] = gamma[c] * xhat[at] + beta[c];
                    // The size of what is computed: |γ|·(|x| + max|x_c|)·s + |β| — the mean is only known to within
                    // rounding of the channel's largest value, and s's own relative error scales x̂.
                    yScale[at] = Math.Abs(gamma[c]) * (Math.Abs(x[at]) + largest) * inv[c] + Math.Abs(beta[c]);
                }
        }
        return new Stats(y, xhat, inv, mean, variance, yScale);
    }

    internal sealed record BnCase(int Batch, int Channels, int Pixels, double Offset, double Momentum, double Epsilon, int Seed)
    {
        public override string ToString() => $"batch {Batch}, channels {Channels}, pixels {Pixels}, offset {Offset}, momentum {Momentum}, ε {Epsilon}, seed {Seed}";
    }

    /// <summary>Pixels 1–40 (rows shorter than, equal to and past one vector at every width), at least 2 values per channel.</summary>
    private static readonly Gen<BnCase> Cases =
        from batch in Gen.Int[1, 4]
        from channels in Gen.Int[1, 3]
        from pixels in Gen.OneOf(Gen.Int[1, 7], Gen.Int[8, 17], Gen.Int[18, 40])
        from offset in Gen.Int[-3, 3]
        from momentum in Gen.OneOf(Gen.Const(0.0), Gen.Const(1.0), Gen.Double[0, 1])
        from eps in Gen.OneOf(Gen.Const(1e-5), Gen.Const(1e-3), Gen.Const(0.0))
        from seed in Gen.Int[0, int.MaxValue]
        where batch * pixels >= 2
        select new BnCase(batch, channels, pixels, offset, momentum, eps, seed);

    private static (double[] X, double[] Gamma, double[] Beta, double[] Rm, double[] Rv) Inputs<T>(BnCase c) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        var random = new Random(c.Seed);
        double[] x = SpatialTestSupport.RoundTo<T>(SpatialTestSupport.RandomArray(random, c.Batch * c.Channels * c.Pixels).Select(v => v + c.Offset).ToArray());
        double[] gamma = SpatialTestSupport.RoundTo<T>(SpatialTestSupport.RandomArray(random, c.Channels, 0.5, 2));
        double[] beta = SpatialTestSupport.RoundTo<T>(SpatialTestSupport.RandomArray(random, c.Channels));
        double[] rm = SpatialTestSupport.RoundTo<T>(SpatialTestSupport.RandomArray(random, c.Channels));
        double[] rv = SpatialTestSupport.RoundTo<T>(SpatialTestSupport.RandomArray(random, c.Channels, 0.5, 2));
        return (x, gamma, beta, rm, rv);
    }

    private static void CheckForward<T>(BnCase c) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        var (x, gamma, beta, rm0, rv0) = Inputs<T>(c);
        double eps = double.CreateTruncating(T.CreateTruncating(c.Epsilon)), m = double.CreateTruncating(T.CreateTruncating(c.Momentum));
        Stats r = Reference(x, gamma, beta, c.Batch, c.Channels, c.Pixels, eps);
        int n = c.Batch * c.Pixels;
        T[] y = SpatialTestSupport.Filled(x.Length, T.NaN), normalized = SpatialTestSupport.Filled(x.Length, T.NaN), inv = SpatialTestSupport.Filled(c.Channels, T.NaN);
        T[] rm = SpatialTestSupport.As<T>(rm0), rv = SpatialTestSupport.As<T>(rv0);
        Normalization.BatchNormSpatialForwardTraining<T>(SpatialTestSupport.As<T>(x), y, SpatialTestSupport.As<T>(gamma), SpatialTestSupport.As<T>(beta),
            normalized, inv, rm, rv, c.Batch, c.Channels, c.Pixels, T.CreateTruncating(eps), T.CreateTruncating(m));
        double tol = SpatialTestSupport.Tolerance<T>();
        SpatialTestSupport.AssertClose<T>(y, r.Y, r.YScale, $"y ({c})");
        double[] xhatScale = r.YScale.Select((v, i) => (v - Math.Abs(beta[i / c.Pixels % c.Channels])) / Math.Abs(gamma[i / c.Pixels % c.Channels])).ToArray();
        SpatialTestSupport.AssertClose<T>(normalized, r.XHat, xhatScale, $"x̂ ({c})");
        for (int ch = 0; ch < c.Channels; ch++)
        {
            // The spread of the inputs relative to their spread around the mean bounds the relative error of σ² and s.
            double centredScale = Enumerable.Range(0, c.Batch).SelectMany(b => Enumerable.Range(0, c.Pixels).Select(p => x[(b * c.Channels + ch) * c.Pixels + p]))
                .Max(v => Math.Abs(v) + Math.Abs(r.Mean[ch]));
            double relative = Math.Pow(centredScale, 2) / (r.Var[ch] + eps);
            Assert.True(Math.Abs(double.CreateTruncating(inv[ch]) - r.InvStd[ch]) <= tol * relative * r.InvStd[ch], $"invStd[{ch}] = {inv[ch]}, expected {r.InvStd[ch]} ({c})");
            double rmExpected = (1 - m) * rm0[ch] + m * r.Mean[ch];
            double rvExpected = (1 - m) * rv0[ch] + m * r.Var[ch] * n / (n - 1);
            Assert.True(Math.Abs(double.CreateTruncating(rm[ch]) - rmExpected) <= tol * (Math.Abs(rm0[ch]) + centredScale),
                $"running mean[{ch}] = {rm[ch]}, expected {rmExpected} ({c})");
            Assert.True(Math.Abs(double.CreateTruncating(rv[ch]) - rvExpected) <= tol * (rv0[ch] + relative * (r.Var[ch] + eps) * n / (n - 1)),
                $"running var[{ch}] = {rv[ch]}, expected {rvExpected} (n = {n}) ({c})");
        }

        // Evaluation mode with the updated statistics: y = γ(x − rm)/√(rv + ε) + β.
        double[] rmAfter = SpatialTestSupport.ToDouble<T>(rm), rvAfter = SpatialTestSupport.ToDouble<T>(rv);
        var expected = new double[x.Length];
        var scale = new double[x.Length];
        for (int i = 0; i < x.Length; i++)
        {
            int ch = i / c.Pixels % c.Channels;
            double s = 1 / Math.Sqrt(rvAfter[ch] + eps);
            expected[i] = gamma[ch] * (x[i] - rmAfter[ch]) * s + beta[ch];
            scale[i] = Math.Abs(gamma[ch]) * (Math.Abs(x[i]) + Math.Abs(rmAfter[ch])) * s + Math.Abs(beta[ch]);
        }
        T[] yEval = SpatialTestSupport.Filled(x.Length, T.NaN);
        Normalization.BatchNormSpatialForwardInference<T>(SpatialTestSupport.As<T>(x), yEval, SpatialTestSupport.As<T>(gamma), SpatialTestSupport.As<T>(beta),
            rm, rv, c.Batch, c.Channels, c.Pixels, T.CreateTruncating(eps));
        SpatialTestSupport.AssertClose<T>(yEval, expected, scale, $"inference y ({c})");
    }

    [Fact]
    public void Training_forward_matches_the_textbook_formulas_in_float() => Cases.Sample(CheckForward<float>, iter: 150);

    [Fact]
    public void Training_forward_matches_the_textbook_formulas_in_double() => Cases.Sample(CheckForward<double>, iter: 150);

    [Fact]
    public void Running_variance_uses_the_unbiased_factor_over_batch_times_pixels()
    {
        // One channel, batch 2 × 3 pixels of 1…6: μ = 3.5, Σ(x − μ)² = 17.5, biased σ² = 17.5/6, unbiased 17.5/5 = 3.5.
        // A second channel of 10, 10, 10, 20, 20, 20 interleaved in NCHW order: μ = 15, Σ = 150, unbiased 30.
        double[] x = [1, 2, 3, 10, 10, 10, 4, 5, 6, 20, 20, 20];
        double[] y = new double[12], normalized = new double[12], inv = new double[2];
        double[] rm = [0, 0], rv = [1, 1];
        Normalization.BatchNormSpatialForwardTraining<double>(x, y, [1, 1], [0, 0], normalized, inv, rm, rv, 2, 2, 3, 0, 1);
        Assert.Equal(3.5, rm[0], 14);
        Assert.Equal(3.5, rv[0], 14);
        Assert.Equal(15, rm[1], 14);
        Assert.Equal(30, rv[1], 14);
        Assert.Equal(1 / Math.Sqrt(17.5 / 6), inv[0], 14);
        Assert.Equal(1 / Math.Sqrt(25.0), inv[1], 14);
        Assert.Equal(-1, y[3], 14);
        Assert.Equal(1, y[9], 14);

        // Momentum 0.25 from rm = 1, rv = 2: rm ← 0.75 + 0.25·3.5, rv ← 1.5 + 0.25·3.5.
        rm = [1, 1]; rv = [2, 2];
        Normalization.BatchNormSpatialForwardTraining<double>(x, y, [1, 1], [0, 0], normalized, inv, rm, rv, 2, 2, 3, 1e-5, 0.25);
        Assert.Equal(0.75 + 0.25 * 3.5, rm[0], 14);
        Assert.Equal(1.5 + 0.25 * 3.5, rv[0], 14);
        Assert.Equal(0.75 + 0.25 * 15, rm[1], 14);
        Assert.Equal(1.5 + 0.25 * 30, rv[1], 14);

        // batch 1 with 2 pixels is the smallest valid n: unbiased factor 2.
        double[] rv1 = [0];
        Normalization.BatchNormSpatialForwardTraining<double>([1, 3], new double[2], [1], [0], new double[2], new double[1], new double[1], rv1, 1, 1, 2, 0, 1);
        Assert.Equal(2, rv1[0], 14);
    }

    /// <summary>
    /// L = Σ r·y + ½Σ y² with y from the textbook forward (double); the kernel's gradients with dy = r + y, against
    /// central differences of L in every coordinate of x, γ and β, and against the closed form
    /// dx = γs/n·(n·dy − Σdy − x̂·Σdy·x̂).
    /// </summary>
    [Fact]
    public void Backward_matches_central_differences() =>
        Cases.Sample(c =>
        {
            var (x, gamma, beta, rm, rv) = Inputs<double>(c);
            int B = c.Batch, C = c.Channels, P = c.Pixels, n = B * P;
            double eps = c.Epsilon;
            Stats r0 = Reference(x, gamma, beta, B, C, P, eps);
            // Degenerate channels (values barely spread) make the normalization's Jacobian huge: skip them.
            if (n < 3 || r0.Var.Any(v => v < 0.05)) return;
            double[] weights = SpatialTestSupport.RandomArray(new Random(c.Seed + 7), x.Length);
            double Loss(double[] xs, double[] gs, double[] bs)
            {
                double[] yy = Reference(xs, gs, bs, B, C, P, eps).Y;
                double l = 0;
                for (int i = 0; i < yy.Length; i++) l += weights[i] * yy[i] + 0.5 * yy[i] * yy[i];
                return l;
            }
            double[] dy = r0.Y.Select((v, i) => weights[i] + v).ToArray();

            double[] y = new double[x.Length], normalized = new double[x.Length], inv = new double[C];
            Normalization.BatchNormSpatialForwardTraining<double>(x, y, gamma, beta, normalized, inv, rm, rv, B, C, P, eps, c.Momentum);
            double[] dx = Enumerable.Repeat(double.NaN, x.Length).ToArray(), dGamma = [.. Enumerable.Repeat(double.NaN, C)], dBeta = [.. Enumerable.Repeat(double.NaN, C)];
            Normalization.BatchNormSpatialBackward<double>(dy, normalized, inv, gamma, dx, dGamma, dBeta, B, C, P);

            const double h = 1e-5;
            void Check(double[] values, double[] gradient, string name)
            {
                for (int at = 0; at < values.Length; at++)
                {
                    double keep = values[at];
                    values[at] = keep + h; double plus = Loss(x, gamma, beta);
                    values[at] = keep - h; double minus = Loss(x, gamma, beta);
                    values[at] = keep;
                    double numeric = (plus - minus) / (2 * h);
                    Assert.True(Math.Abs(numeric - gradient[at]) <= 1e-6 * (1 + Math.Abs(numeric)),
                        $"∂L/∂{name}[{at}]: kernel {gradient[at]:R}, central difference {numeric:R} ({c})");
                }
            }
            Check(x, dx, "x");
            Check(gamma, dGamma, "γ");
            Check(beta, dBeta, "β");

            // Closed form in double: tight agreement.
            for (int ch = 0; ch < C; ch++)
            {
                double sumDy = 0, sumDyXhat = 0, scale = 0;
                for (int b = 0; b < B; b++)
                    for (int p = 0; p < P; p++)
                    {
                        int at = (b * C + ch) * P + p;
                        sumDy += dy[at];
                        sumDyXhat += dy[at] * r0.XHat[at];
                        scale += Math.Abs(dy[at]) * (1 + Math.Abs(r0.XHat[at]));
                    }
                Assert.True(Math.Abs(dBeta[ch] - sumDy) <= 1e-12 * scale, $"dβ[{ch}] ({c})");
                Assert.True(Math.Abs(dGamma[ch] - sumDyXhat) <= 1e-12 * scale, $"dγ[{ch}] ({c})");
                for (int b = 0; b < B; b++)
                    for (int p = 0; p < P; p++)
                    {
                        int at = (b * C + ch) * P + p;
                        double expected = gamma[ch] * r0.InvStd[ch] / n * (n * dy[at] - sumDy - r0.XHat[at] * sumDyXhat);
                        double bound = 1e-11 * Math.Abs(gamma[ch]) * r0.InvStd[ch] * (Math.Abs(dy[at]) + scale / n * (1 + Math.Abs(r0.XHat[at])));
                        Assert.True(Math.Abs(dx[at] - expected) <= bound, $"dx[{at}] = {dx[at]:R}, closed form {expected:R} ({c})");
                    }
            }
        }, iter: 40);

    [Fact]
    public void Backward_in_float_matches_the_closed_form() =>
        Cases.Sample(c =>
        {
            var (x, gamma, beta, rm, rv) = Inputs<float>(c);
            int B = c.Batch, C = c.Channels, P = c.Pixels, n = B * P;
            Stats r0 = Reference(x, gamma, beta, B, C, P, (float)c.Epsilon);
            if (r0.Var.Any(v => v < 0.05)) return;
            double[] dy = SpatialTestSupport.RoundTo<float>(SpatialTestSupport.RandomArray(new Random(c.Seed + 3), x.Length));
            float[] y = new float[x.Length], normalized = new float[x.Length], inv = new float[C];
            Normalization.BatchNormSpatialForwardTraining<float>(SpatialTestSupport.As<float>(x), y, SpatialTestSupport.As<float>(gamma), SpatialTestSupport.As<float>(beta),
                normalized, inv, SpatialTestSupport.As<float>(rm), SpatialTestSupport.As<float>(rv), B, C, P, (float)c.Epsilon, (float)c.Momentum);
            float[] dx = new float[x.Length], dGamma = new float[C], dBeta = new float[C];
            Normalization.BatchNormSpatialBackward<float>(SpatialTestSupport.As<float>(dy), normalized, inv, SpatialTestSupport.As<float>(gamma), dx, dGamma, dBeta, B, C, P);
            for (int ch = 0; ch < C; ch++)
            {
                double sumDy = 0, sumDyXhat = 0, scale = 0, xhatMax = 0;
                for (int b = 0; b < B; b++)
                    for (int p = 0; p < P; p++)
                    {
                        int at = (b * C + ch) * P + p;
                        sumDy += dy[at];
                        sumDyXhat += dy[at] * r0.XHat[at];
                        scale += Math.Abs(dy[at]) * (1 + Math.Abs(r0.XHat[at]));
                        xhatMax = Math.Max(xhatMax, Math.Abs(r0.XHat[at]));
                    }
                // x̂ in float carries a relative error of order (|x| + |μ|)/|x − μ|·u: scale the bound by the input spread.
                double spread = 1 + (Math.Abs(c.Offset) + 2) * r0.InvStd[ch];
                Assert.True(Math.Abs(dBeta[ch] - sumDy) <= 1e-5 * scale, $"dβ[{ch}] = {dBeta[ch]}, expected {sumDy} ({c})");
                Assert.True(Math.Abs(dGamma[ch] - sumDyXhat) <= 1e-5 * spread * scale, $"dγ[{ch}] = {dGamma[ch]}, expected {sumDyXhat} ({c})");
                for (int b = 0; b < B; b++)
                    for (int p = 0; p < P; p++)
                    {
                        int at = (b * C + ch) * P + p;
                        double expected = gamma[ch] * r0.InvStd[ch] / n * (n * dy[at] - sumDy - r0.XHat[at] * sumDyXhat);
                        double bound = 1e-5 * spread * Math.Abs(gamma[ch]) * r0.InvStd[ch] * (Math.Abs(dy[at]) + scale / n * (1 + xhatMax));
                        Assert.True(Math.Abs(dx[at] - expected) <= bound, $"dx[{at}] = {dx[at]:R}, closed form {expected:R} ({c})");
                    }
            }
        }, iter: 100);

    [Fact]
    public void Outputs_may_alias_inputs()
    {
        const int B = 3, C = 2, P = 19;
        var random = new Random(11);
        double[] x = SpatialTestSupport.RandomArray(random, B * C * P), dy = SpatialTestSupport.RandomArray(random, B * C * P);
        double[] gamma = [1.5, -0.5], beta = [0.25, 2];
        double[] y = new double[x.Length], normalized = new double[x.Length], inv = new double[C];
        Normalization.BatchNormSpatialForwardTraining<double>(x, y, gamma, beta, normalized, inv, new double[C], new double[C], B, C, P, 1e-5, 0.1);
        double[] inPlace = (double[])x.Clone(), normalized2 = new double[x.Length], inv2 = new double[C];
        Normalization.BatchNormSpatialForwardTraining<double>(inPlace, inPlace, gamma, beta, normalized2, inv2, new double[C], new double[C], B, C, P, 1e-5, 0.1);
        Assert.Equal(y, inPlace);
        double[] yEval = new double[x.Length], evalInPlace = (double[])x.Clone();
        double[] rm = [0.5, -1], rv = [2, 0.75];
        Normalization.BatchNormSpatialForwardInference<double>(x, yEval, gamma, beta, rm, rv, B, C, P, 1e-5);
        Normalization.BatchNormSpatialForwardInference<double>(evalInPlace, evalInPlace, gamma, beta, rm, rv, B, C, P, 1e-5);
        Assert.Equal(yEval, evalInPlace);
        double[] dx = new double[x.Length], dg = new double[C], db = new double[C];
        Normalization.BatchNormSpatialBackward<double>(dy, normalized, inv, gamma, dx, dg, db, B, C, P);
        double[] dyInPlace = (double[])dy.Clone(), dg2 = new double[C], db2 = new double[C];
        Normalization.BatchNormSpatialBackward<double>(dyInPlace, normalized, inv, gamma, dyInPlace, dg2, db2, B, C, P);
        Assert.Equal(dx, dyInPlace);
        Assert.Equal(dg, dg2);
        Assert.Equal(db, db2);
    }

    [Fact]
    public void Pytorch_goldens_match()
    {
        JsonElement[] cases = SpatialTestSupport.Goldens("batchnorm");
        Assert.NotEmpty(cases);
        foreach (JsonElement e in cases)
        {
            string name = e.GetProperty("name").GetString()!;
            int B = e.Int("batch"), C = e.Int("channels"), P = e.Int("height") * e.Int("width");
            double eps = e.GetProperty("epsilon").GetDouble(), momentum = e.GetProperty("momentum").GetDouble();
            double[] x = e.Doubles("x"), gamma = e.Doubles("gamma"), beta = e.Doubles("beta");
            double[] rm = e.Doubles("runningMean0"), rv = e.Doubles("runningVar0");
            double[] y = new double[x.Length], normalized = new double[x.Length], inv = new double[C];
            Normalization.BatchNormSpatialForwardTraining<double>(x, y, gamma, beta, normalized, inv, rm, rv, B, C, P, eps, momentum);
            SpatialTestSupport.AssertNear(y, e.Doubles("y"), 1e-10, $"{name}: y");
            SpatialTestSupport.AssertNear(rm, e.Doubles("runningMean"), 1e-10, $"{name}: running mean");
            SpatialTestSupport.AssertNear(rv, e.Doubles("runningVar"), 1e-10, $"{name}: running var");
            double[] dx = new double[x.Length], dGamma = new double[C], dBeta = new double[C];
            Normalization.BatchNormSpatialBackward<double>(e.Doubles("dy"), normalized, inv, gamma, dx, dGamma, dBeta, B, C, P);
            SpatialTestSupport.AssertNear(dx, e.Doubles("dx"), 1e-10, $"{name}: dx");
            SpatialTestSupport.AssertNear(dGamma, e.Doubles("dGamma"), 1e-10, $"{name}: dγ");
            SpatialTestSupport.AssertNear(dBeta, e.Doubles("dBeta"), 1e-10, $"{name}: dβ");
            double[] yEval = new double[x.Length];
            Normalization.BatchNormSpatialForwardInference<double>(x, yEval, gamma, beta, rm, rv, B, C, P, eps);
            SpatialTestSupport.AssertNear(yEval, e.Doubles("yEval"), 1e-10, $"{name}: eval y");
        }
    }

    // ---- validation -------------------------------------------------------------------------------------------------

    [Fact]
    public void Bad_arguments_throw()
    {
        const int B = 2, C = 3, P = 5, N = B * C * P;
        float[] x = new float[N], y = new float[N], xh = new float[N], inv = new float[C], g = new float[C], b = new float[C], rm = new float[C], rv = new float[C];
        float[] dx = new float[N], dg = new float[C], db = new float[C];
        void Train(int n = N, int cLen = C, int batch = B, int pixels = P, float eps = 1e-5f, float m = 0.1f) =>
            Normalization.BatchNormSpatialForwardTraining<float>(x.AsSpan(0, Math.Min(n, N)), y, g.AsSpan(0, Math.Min(cLen, C)), b, xh, inv, rm, rv, batch, C, pixels, eps, m);
        Assert.Throws<ArgumentException>(() => Train(n: N - 1));
        Assert.Throws<ArgumentException>(() => Train(cLen: C - 1));
        Assert.Throws<ArgumentException>(() => Normalization.BatchNormSpatialForwardTraining<float>(x, y.AsSpan(1), g, b, xh, inv, rm, rv, B, C, P, 1e-5f, 0.1f));
        Assert.Throws<ArgumentException>(() => Normalization.BatchNormSpatialForwardTraining<float>(x, y, g, b, xh.AsSpan(1), inv, rm, rv, B, C, P, 1e-5f, 0.1f));
        Assert.Throws<ArgumentException>(() => Normalization.BatchNormSpatialForwardTraining<float>(x, y, g, b, xh, inv.AsSpan(1), rm, rv, B, C, P, 1e-5f, 0.1f));
        Assert.Throws<ArgumentException>(() => Normalization.BatchNormSpatialForwardTraining<float>(x, y, g, b, xh, inv, rm.AsSpan(1), rv, B, C, P, 1e-5f, 0.1f));
        Assert.Throws<ArgumentException>(() => Normalization.BatchNormSpatialForwardTraining<float>(x, y, g, b, xh, inv, rm, rv.AsSpan(1), B, C, P, 1e-5f, 0.1f));
        Assert.Throws<ArgumentOutOfRangeException>(() => Train(m: 1.5f));
        Assert.Throws<ArgumentOutOfRangeException>(() => Train(m: float.NaN));
        Assert.Throws<ArgumentOutOfRangeException>(() => Train(eps: -1e-5f));
        Assert.Throws<ArgumentOutOfRangeException>(() => Train(eps: float.NaN));
        Assert.Throws<ArgumentOutOfRangeException>(() => Train(batch: 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => Normalization.BatchNormSpatialForwardTraining<float>(x, y, g.AsSpan(0, 1), b.AsSpan(0, 1), xh, inv, rm.AsSpan(0, 1), rv.AsSpan(0, 1), 1, 1, 1, 1e-5f, 0.1f)); // n = 1
        Assert.Throws<ArgumentException>(() => Normalization.BatchNormSpatialForwardInference<float>(x.AsSpan(1), y, g, b, rm, rv, B, C, P, 1e-5f));
        Assert.Throws<ArgumentException>(() => Normalization.BatchNormSpatialForwardInference<float>(x, y, g, b, rm, rv.AsSpan(1), B, C, P, 1e-5f));
        Assert.Throws<ArgumentOutOfRangeException>(() => Normalization.BatchNormSpatialForwardInference<float>(x, y, g, b, rm, rv, B, C, 0, 1e-5f));
        Assert.Throws<ArgumentException>(() => Normalization.BatchNormSpatialBackward<float>(y.AsSpan(1), xh, inv, g, dx, dg, db, B, C, P));
        Assert.Throws<ArgumentException>(() => Normalization.BatchNormSpatialBackward<float>(y, xh.AsSpan(1), inv, g, dx, dg, db, B, C, P));
        Assert.Throws<ArgumentException>(() => Normalization.BatchNormSpatialBackward<float>(y, xh, inv.AsSpan(1), g, dx, dg, db, B, C, P));
        Assert.Throws<ArgumentException>(() => Normalization.BatchNormSpatialBackward<float>(y, xh, inv, g, dx.AsSpan(1), dg, db, B, C, P));
        Assert.Throws<ArgumentException>(() => Normalization.BatchNormSpatialBackward<float>(y, xh, inv, g, dx, dg.AsSpan(1), db, B, C, P));
        Assert.Throws<ArgumentException>(() => Normalization.BatchNormSpatialBackward<float>(y, xh, inv, g, dx, dg, db.AsSpan(1), B, C, P));
        Assert.Throws<ArgumentOutOfRangeException>(() => Normalization.BatchNormSpatialBackward<float>(y, xh, inv, g, dx, dg, db, B, 0, P));
    }

    // ---- allocation -------------------------------------------------------------------------------------------------

    [Fact]
    public void Warm_calls_allocate_nothing()
    {
        const int B = 4, C = 3, P = 37, N = B * C * P;
        float[] x = new float[N], y = new float[N], xh = new float[N], inv = new float[C], g = [1, 2, 3], b = new float[C], rm = new float[C], rv = [1, 1, 1];
        float[] dx = new float[N], dg = new float[C], db = new float[C];
        double[] xd = new double[N], yd = new double[N], xhd = new double[N], invd = new double[C], gd = [1, 2, 3], bd = new double[C], rmd = new double[C], rvd = [1, 1, 1];
        double[] dxd = new double[N], dgd = new double[C], dbd = new double[C];
        var random = new Random(9);
        for (int i = 0; i < N; i++) xd[i] = x[i] = (float)random.NextDouble();

        void HotCalls()
        {
            Normalization.BatchNormSpatialForwardTraining<float>(x, y, g, b, xh, inv, rm, rv, B, C, P, 1e-5f, 0.1f);
            Normalization.BatchNormSpatialForwardInference<float>(x, y, g, b, rm, rv, B, C, P, 1e-5f);
            Normalization.BatchNormSpatialBackward<float>(x, xh, inv, g, dx, dg, db, B, C, P);
            Normalization.BatchNormSpatialForwardTraining<double>(xd, yd, gd, bd, xhd, invd, rmd, rvd, B, C, P, 1e-5, 0.1);
            Normalization.BatchNormSpatialForwardInference<double>(xd, yd, gd, bd, rmd, rvd, B, C, P, 1e-5);
            Normalization.BatchNormSpatialBackward<double>(xd, xhd, invd, gd, dxd, dgd, dbd, B, C, P);
        }

        HotLoop.WarmUp(HotCalls);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 10; i++) HotCalls();
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
