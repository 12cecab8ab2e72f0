using System;
using System.IO;
using CsCheck;
using KernelGen.Data;
using KernelGen.Preprocessing;
using Xunit;

using KernelGen.Demo;

namespace KernelGen.Toolkit.Tests;

public class PreprocessingTests
{
    // ---- naive references, written independently of the library ----

    private static double[] NaiveMean(float[] rows, int n, int d)
    {
        var mean = new double[d];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < d; j++) mean[j] += rows[i * d + j];
        for (int j = 0; j < d; j++) mean[j] /= n;
        return mean;
    }

    private static double[,] NaiveCovariance(float[] rows, int n, int d)
    {
        double[] mean = NaiveMean(rows, n, d);
        var cov = new double[d, d];
        for (int i = 0; i < n; i++)
            for (int a = 0; a < d; a++)
                for (int b = 0; b < d; b++) cov[a, b] += (rows[i * d + a] - mean[a]) * (rows[i * d + b] - mean[b]);
        for (int a = 0; a < d; a++)
            for (int b = 0; b < d; b++) cov[a, b] /= n;
        return cov;
    }

    private static float[] Gaussian(int n, ulong seed, double scale = 1)
    {
        var random = new KernelRandom(seed);
        var values = new float[n];
        for (int i = 0; i < n; i++) values[i] = (float)(scale * random.NextGaussian());
        return values;
    }

    /// <summary>n samples of correlated d-dimensional data: x = A z + offset with z standard normal and a fixed random A.</summary>
    private static float[] Correlated(int n, int d, ulong seed)
    {
        float[] z = Gaussian(n * d, seed);
        float[] a = Gaussian(d * d, seed + 1000);
        var rows = new float[n * d];
        for (int i = 0; i < n; i++)
            for (int r = 0; r < d; r++)
            {
                double sum = 3.0 + r;
                for (int c = 0; c < d; c++) sum += a[r * d + c] * z[i * d + c];
                rows[i * d + r] = (float)sum;
            }
        return rows;
    }

    /// <summary>
    /// 2D rows ±√D·eᵢ (one pair per axis) have mean 0 and covariance exactly I; multiplying by A gives covariance A Aᵀ.
    /// </summary>
    private static float[] WithCovarianceOf(double[,] a)
    {
        int d = a.GetLength(0);
        var rows = new float[2 * d * d];
        double s = Math.Sqrt(d);
        for (int axis = 0; axis < d; axis++)
            for (int sign = 0; sign < 2; sign++)
            {
                int row = 2 * axis + sign;
                for (int r = 0; r < d; r++) rows[row * d + r] = (float)((sign == 0 ? s : -s) * a[r, axis]);
            }
        return rows;
    }

    // ---- ZeroCenter / Standardize ----

    [Fact]
    public void ZeroCenterUsesTrainingMeansOnOtherData()
    {
        float[] train = [1, 10, 3, 20, 5, 60];   // 3 rows × 2: means 3, 30
        float[] test = [0, 0, 7, 31];
        var center = ZeroCenter.Fit(train, 3, 2);
        Assert.Equal(new[] { 3f, 30f }, center.Mean.ToArray());
        var output = new float[4];
        center.Apply(test, output, 2);
        Assert.Equal(new[] { -3f, -30f, 4f, 1f }, output);

        center.Apply(train, 3);
        Assert.Equal(new[] { -2f, -20f, 0f, -10f, 2f, 30f }, train);
    }

    [Fact]
    public void ZeroCenterPerChannel()
    {
        // Two images of 2 channels × 1 × 2: channel 0 values 1, 2, 3, 4 (mean 2.5), channel 1 values 10, 10, 30, 30 (mean 20).
        float[] train = [1, 2, 10, 10, 3, 4, 30, 30];
        var center = ZeroCenter.FitPerChannel(train, 2, 2, 1, 2);
        Assert.True(center.PerChannel);
        Assert.Equal(new[] { 2.5f, 20f }, center.Mean.ToArray());
        float[] other = [0, 5, 0, 25];
        center.Apply(other, 1);
        Assert.Equal(new[] { -2.5f, 2.5f, -20f, 5f }, other);

        var dataset = new Dataset([1, 2, 10, 10, 3, 4, 30, 30], [0, 1], 2, 1, 2);
        Assert.Equal(center.Mean.ToArray(), ZeroCenter.Fit(dataset, perChannel: true).Mean.ToArray());
        Assert.Throws<ArgumentException>(() => ZeroCenter.Fit(DatasetTests.Indexed(4, 2), perChannel: true));
    }

    [Fact]
    public void StandardizeUsesTrainingStatisticsAndLeavesConstantFeaturesUnscaled()
    {
        // Feature 0: 2, 4, 6, 8 → mean 5, population std √5; feature 1 constant 7 → std 0 → divide by 1.
        float[] train = [2, 7, 4, 7, 6, 7, 8, 7];
        var standardize = Standardize.Fit(train, 4, 2);
        Assert.Equal(new[] { 5f, 7f }, standardize.Mean.ToArray());
        Assert.Equal((float)Math.Sqrt(5), standardize.StdDev[0]);
        Assert.Equal(1f, standardize.StdDev[1]);
        float[] test = [10, 9];
        var output = new float[2];
        standardize.Apply(test, output, 1);
        Assert.Equal(5 / Math.Sqrt(5), output[0], 6);
        Assert.Equal(2f, output[1]);
    }

    [Fact]
    public void StandardizePerChannelMatchesNaiveStatistics()
    {
        const int N = 30, C = 3, H = 4, W = 5, D = C * H * W;
        float[] train = Gaussian(N * D, 1, 3);
        for (int i = 0; i < train.Length; i++) train[i] += i % D / (H * W) * 10; // channel offsets 0, 10, 20
        float[] test = Gaussian(7 * D, 2, 3);
        var standardize = Standardize.FitPerChannel(train, N, C, H, W);
        var output = new float[test.Length];
        standardize.Apply(test, output, 7);
        for (int c = 0; c < C; c++)
        {
            double sum = 0, squares = 0;
            for (int i = 0; i < N; i++)
                for (int p = 0; p < H * W; p++) sum += train[i * D + c * H * W + p];
            double mean = sum / (N * H * W);
            for (int i = 0; i < N; i++)
                for (int p = 0; p < H * W; p++) squares += Math.Pow(train[i * D + c * H * W + p] - mean, 2);
            double std = Math.Sqrt(squares / (N * H * W));
            for (int i = 0; i < 7; i++)
                for (int p = 0; p < H * W; p++)
                {
                    int at = i * D + c * H * W + p;
                    Assert.Equal((test[at] - mean) / std, output[at], 4);
                }
        }
    }

    [Fact]
    public void StandardizeMatchesANaiveReference()
    {
        Gen.Select(Gen.Int[1, 12], Gen.Int[1, 40], Gen.Int[0, 5], Gen.ULong)
            .Sample((n, d, testRows, seed) =>
            {
                float[] train = Gaussian(n * d, seed, 4);
                float[] test = Gaussian(testRows * d, seed ^ 0xABCD, 4);
                double[] mean = NaiveMean(train, n, d);
                var std = new double[d];
                for (int i = 0; i < n; i++)
                    for (int j = 0; j < d; j++) std[j] += Math.Pow(train[i * d + j] - mean[j], 2);
                for (int j = 0; j < d; j++) std[j] = Math.Sqrt(std[j] / n);

                var t = Standardize.Fit(train, n, d);
                var output = new float[test.Length];
                t.Apply(test, output, testRows);
                for (int i = 0; i < testRows; i++)
                    for (int j = 0; j < d; j++)
                    {
                        double expected = std[j] < 1e-30 ? test[i * d + j] - mean[j] : (test[i * d + j] - mean[j]) / std[j];
                        double actual = output[i * d + j];
                        if (Math.Abs(expected - actual) > 1e-4 * (1 + Math.Abs(expected)))
                            throw new Exception($"n={n} d={d} row {i} feature {j}: expected {expected}, got {actual}");
                    }
            });
    }

    [Fact]
    public void FittingValidatesItsInput()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => ZeroCenter.Fit(new float[4], 0, 2));
        Assert.Throws<ArgumentException>(() => ZeroCenter.Fit(new float[3], 2, 2));
        Assert.Throws<ArgumentException>(() => Standardize.Fit([1, float.NaN], 1, 2));
        Assert.Throws<ArgumentException>(() => Pca.Fit([1, float.PositiveInfinity, 2, 3], 2, 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => Pca.Fit(new float[4], 2, 2, components: 3));
        Assert.Throws<ArgumentOutOfRangeException>(() => Whitening.Fit(new float[4], 2, 2, epsilon: 0));
        var center = ZeroCenter.Fit(new float[6], 3, 2);
        var buffer = new float[10];
        Assert.Throws<ArgumentException>(() => center.Apply(buffer.AsSpan(0, 6), buffer.AsSpan(2, 6), 3)); // partial overlap
        Assert.Throws<ArgumentException>(() => center.Apply(new float[5], new float[6], 3));
        Assert.Throws<ArgumentException>(() => center.Apply(new float[6], new float[5], 3));
    }

    // ---- PCA ----

    [Fact]
    public void Pca2x2MatchesTheAnalyticEigendecomposition()
    {
        // Covariance [[3, 1], [1, 2]] = L Lᵀ with L its Cholesky factor.
        double[,] l = { { Math.Sqrt(3), 0 }, { 1 / Math.Sqrt(3), Math.Sqrt(2 - 1.0 / 3) } };
        float[] rows = WithCovarianceOf(l);
        var pca = Pca.Fit(rows, 4, 2);

        // λ = (a + c)/2 ± √(((a − c)/2)² + b²); eigenvector ∝ (b, λ − a).
        double l1 = 2.5 + Math.Sqrt(0.25 + 1), l2 = 2.5 - Math.Sqrt(0.25 + 1);
        Assert.Equal(l1, pca.Eigenvalues[0], 5);
        Assert.Equal(l2, pca.Eigenvalues[1], 5);
        double n1 = Math.Sqrt(1 + (l1 - 3) * (l1 - 3)), n2 = Math.Sqrt(1 + (l2 - 3) * (l2 - 3));
        // v1 = (1, 0.618)/n1: largest entry first, positive. v2 = (1, −1.618)/n2: largest is the second, so negate.
        double[] expected = [1 / n1, (l1 - 3) / n1, -1 / n2, -(l2 - 3) / n2];
        for (int i = 0; i < 4; i++) Assert.Equal(expected[i], pca.Components[i], 5);
        Assert.Equal(l1 / 5, pca.ExplainedVarianceRatio[0], 5);

        // Projection: y = Vᵀ (x − μ) with μ = 0.
        var y = new float[2];
        pca.Apply([1, 2], y, 1);
        Assert.Equal(expected[0] + 2 * expected[1], y[0], 5);
        Assert.Equal(expected[2] + 2 * expected[3], y[1], 5);
    }

    [Fact]
    public void Pca3x3RecoversAKnownBasis()
    {
        // Q = G(0,1,θ₁)·G(1,2,θ₂) (Givens rotations), covariance Q diag(9, 4, 1) Qᵀ; A = Q diag(3, 2, 1).
        double t1 = 0.3, t2 = 1.1;
        double[,] g1 = { { Math.Cos(t1), -Math.Sin(t1), 0 }, { Math.Sin(t1), Math.Cos(t1), 0 }, { 0, 0, 1 } };
        double[,] g2 = { { 1, 0, 0 }, { 0, Math.Cos(t2), -Math.Sin(t2) }, { 0, Math.Sin(t2), Math.Cos(t2) } };
        var q = new double[3, 3];
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 3; j++)
                for (int k = 0; k < 3; k++) q[i, j] += g1[i, k] * g2[k, j];
        double[] sqrtLambda = [3, 2, 1];
        var a = new double[3, 3];
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 3; j++) a[i, j] = q[i, j] * sqrtLambda[j];

        var pca = Pca.Fit(WithCovarianceOf(a), 6, 3);
        Assert.Equal(9, pca.Eigenvalues[0], 5);
        Assert.Equal(4, pca.Eigenvalues[1], 5);
        Assert.Equal(1, pca.Eigenvalues[2], 5);
        for (int k = 0; k < 3; k++)
        {
            // Column k of Q, signed so that its largest-magnitude entry is positive.
            int best = 0;
            for (int i = 1; i < 3; i++) if (Math.Abs(q[i, k]) > Math.Abs(q[best, k])) best = i;
            double sign = Math.Sign(q[best, k]);
            for (int i = 0; i < 3; i++) Assert.Equal(sign * q[i, k], pca.Components[k * 3 + i], 5);
        }
    }

    [Fact]
    public void Pca50ReconstructsTheCovariance()
    {
        const int N = 300, D = 50;
        float[] rows = Correlated(N, D, 17);
        double[,] cov = NaiveCovariance(rows, N, D);
        var pca = Pca.Fit(rows, N, D);
        ReadOnlySpan<double> v = pca.Components;
        ReadOnlySpan<double> lambda = pca.Eigenvalues;

        double scale = 0;
        for (int a = 0; a < D; a++) scale = Math.Max(scale, Math.Abs(cov[a, a]));
        for (int a = 0; a < D; a++)
            for (int b = 0; b < D; b++)
            {
                double sum = 0, dot = 0;
                for (int k = 0; k < D; k++)
                {
                    sum += v[k * D + a] * lambda[k] * v[k * D + b];
                    dot += v[a * D + k] * v[b * D + k];
                }
                Assert.True(Math.Abs(sum - cov[a, b]) < 1e-10 * scale, $"(VΛVᵀ)[{a},{b}] = {sum}, covariance {cov[a, b]}");
                Assert.True(Math.Abs(dot - (a == b ? 1 : 0)) < 1e-12, $"(VVᵀ)[{a},{b}] = {dot}");
            }
        for (int k = 0; k < D; k++)
        {
            if (k > 0) Assert.True(lambda[k] <= lambda[k - 1]);
            int best = 0;
            for (int i = 1; i < D; i++) if (Math.Abs(v[k * D + i]) > Math.Abs(v[k * D + best])) best = i;
            Assert.True(v[k * D + best] > 0);
        }
        double ratios = 0;
        foreach (double r in pca.ExplainedVarianceRatio) ratios += r;
        Assert.Equal(1.0, ratios, 12);

        // Projection onto 5 components against a naive y = Vᵀ(x − μ), out of place and in place.
        Pca five = pca.WithComponents(5);
        Assert.Equal((50, 5), (five.InputFeatures, five.OutputFeatures));
        double[] mean = NaiveMean(rows, N, D);
        var projected = new float[N * 5];
        five.Apply(rows, projected, N);
        float[] inPlace = (float[])rows.Clone();
        five.Apply(inPlace, N);
        Assert.Equal(projected, inPlace.AsSpan(0, N * 5).ToArray());
        for (int i = 0; i < N; i += 37)
            for (int k = 0; k < 5; k++)
            {
                double expected = 0;
                for (int j = 0; j < D; j++) expected += v[k * D + j] * (rows[i * D + j] - mean[j]);
                Assert.Equal(expected, projected[i * 5 + k], 3);
            }
        Assert.Equal(5, Pca.ComponentsForVariance([5, 3, 1, 0.5, 0.5], 0.99));
        Assert.Equal(2, Pca.ComponentsForVariance([5, 3, 1, 0.5, 0.5], 0.8));
        Assert.Equal(1, Pca.ComponentsForVariance([0, 0], 0.5));
    }

    [Fact]
    public void PcaHandlesConstantAndRankDeficientData()
    {
        // Three identical rows: zero covariance; every eigenvalue 0, and the projection of the mean is 0.
        var pca = Pca.Fit([1, 2, 3, 1, 2, 3, 1, 2, 3], 3, 3);
        Assert.Equal(new double[3], pca.Eigenvalues.ToArray());
        var y = new float[3];
        pca.Apply([1, 2, 3], y, 1);
        Assert.Equal(new float[3], y);

        // Points on a line in 3D: one non-zero eigenvalue along (1, 2, 2)/3.
        float[] line = [0, 0, 0, 1, 2, 2, 2, 4, 4, -1, -2, -2];
        pca = Pca.Fit(line, 4, 3, components: 1);
        Assert.Equal(1, pca.OutputFeatures);
        Assert.Equal(1.0 / 3, pca.Components[0], 6);
        Assert.Equal(2.0 / 3, pca.Components[1], 6);
        Assert.Equal(2.0 / 3, pca.Components[2], 6);
        Assert.Equal(0, pca.Eigenvalues[1], 6);
        Assert.Equal(1.0, pca.RetainedVarianceRatio, 6);
    }

    [Fact]
    public void PcaOnFashionMnistSubsetKeepsTheTotalVariance()
    {
        // D = 784 exercises the full-size eigensolver; the trace (total variance) must be preserved.
        Dataset train = FashionMnistTests.Real.Value.Train.Subset(0, 2000);
        var pca = Pca.Fit(train, components: 50);
        double[] mean = NaiveMean(train.Features, train.Count, 784);
        double trace = 0;
        for (int i = 0; i < train.Count; i++)
            for (int j = 0; j < 784; j++) trace += Math.Pow(train.Features[i * 784 + j] - mean[j], 2);
        trace /= train.Count;
        double sum = 0;
        foreach (double l in pca.Eigenvalues) sum += l;
        Assert.Equal(trace, sum, 6);
        ReadOnlySpan<double> v = pca.Components;
        for (int a = 0; a < 50; a += 7)
            for (int b = 0; b < 50; b += 11)
            {
                double dot = 0;
                for (int k = 0; k < 784; k++) dot += v[a * 784 + k] * v[b * 784 + k];
                Assert.Equal(a == b ? 1.0 : 0.0, dot, 10);
            }
        Assert.InRange(pca.RetainedVarianceRatio, 0.7, 0.95); // 50 components keep most of Fashion-MNIST's variance
    }

    // ---- Whitening ----

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void WhitenedTrainingDataHasIdentityCovariance(bool zca)
    {
        const int N = 400, D = 6;
        float[] rows = Correlated(N, D, 3);
        var whitening = Whitening.Fit(rows, N, D, zca: zca);
        Assert.Equal(D, whitening.OutputFeatures);
        var output = new float[N * D];
        whitening.Apply(rows, output, N);
        double[,] cov = NaiveCovariance(output, N, D);
        double[] mean = NaiveMean(output, N, D);
        for (int a = 0; a < D; a++)
        {
            Assert.Equal(0, mean[a], 4);
            for (int b = 0; b < D; b++) Assert.Equal(a == b ? 1.0 : 0.0, cov[a, b], 3);
        }
        if (zca)
        {
            // ZCA = V Λ^(−1/2) Vᵀ is symmetric and keeps the data closer to the input than PCA whitening's rotation.
            var e0 = new float[D];
            var e1 = new float[D];
            Span<float> basis = stackalloc float[D];
            for (int a = 0; a < D; a++)
            {
                basis.Clear();
                for (int j = 0; j < D; j++) basis[j] = whitening.Mean[j];
                basis[a] += 1;
                whitening.Apply(basis, e0, 1);
                for (int b = 0; b < D; b++)
                {
                    basis.Clear();
                    for (int j = 0; j < D; j++) basis[j] = whitening.Mean[j];
                    basis[b] += 1;
                    whitening.Apply(basis, e1, 1);
                    Assert.Equal(e0[b], e1[a], 4);
                }
            }
        }
    }

    [Fact]
    public void PcaWhiteningMatchesScaledProjections()
    {
        const int N = 100, D = 4;
        float[] rows = Correlated(N, D, 8);
        var pca = Pca.Fit(rows, N, D, components: 2);
        var whitening = Whitening.FromPca(pca, epsilon: 0.5);
        var p = new float[N * 2];
        var w = new float[N * 2];
        pca.Apply(rows, p, N);
        whitening.Apply(rows, w, N);
        for (int i = 0; i < N; i++)
            for (int k = 0; k < 2; k++) Assert.Equal(p[i * 2 + k] / Math.Sqrt(pca.Eigenvalues[k] + 0.5), w[i * 2 + k], 4);
    }

    // ---- pipeline, allocation, serialization ----

    [Fact]
    public void PipelineChainsStages()
    {
        const int N = 80, D = 12;
        float[] rows = Correlated(N, D, 21);
        var standardize = Standardize.Fit(rows, N, D);
        var standardized = new float[N * D];
        standardize.Apply(rows, standardized, N);
        var pca = Pca.Fit(standardized, N, D, components: 4);
        var pipeline = new TransformPipeline(standardize, pca);
        Assert.Equal((12, 4), (pipeline.InputFeatures, pipeline.OutputFeatures));

        var expected = new float[N * 4];
        pca.Apply(standardized, expected, N);
        var actual = new float[N * 4];
        pipeline.Apply(rows, actual, N);
        Assert.Equal(expected, actual);
        float[] inPlace = (float[])rows.Clone();
        pipeline.Apply(inPlace, N);
        Assert.Equal(expected, inPlace.AsSpan(0, N * 4).ToArray());

        Assert.Throws<ArgumentException>(() => new TransformPipeline(pca, standardize));
        Assert.Throws<ArgumentException>(() => new TransformPipeline());
    }

    [Fact]
    public void ApplyingAllocatesNothing()
    {
        const int N = 64, D = 20;
        float[] rows = Correlated(N, D, 4);
        var transforms = new IFeatureTransform[]
        {
            ZeroCenter.Fit(rows, N, D),
            Standardize.Fit(rows, N, D),
            Pca.Fit(rows, N, D, 7),
            Whitening.Fit(rows, N, D, zca: true),
            new TransformPipeline(Standardize.Fit(rows, N, D), Pca.Fit(rows, N, D, 5)),
        };
        var output = new float[N * D];
        KernelGen.Tests.HotLoop.WarmUp(() => { foreach (IFeatureTransform t in transforms) t.Apply(rows, output, N); }); // tiered JIT
        long before = GC.GetAllocatedBytesForCurrentThread();
        foreach (IFeatureTransform t in transforms) t.Apply(rows, output, N);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    private static IFeatureTransform[] SampleTransforms()
    {
        const int N = 40, D = 12;
        float[] rows = Correlated(N, D, 31);
        return
        [
            ZeroCenter.Fit(rows, N, D),
            ZeroCenter.FitPerChannel(rows, N, 3, 2, 2),
            Standardize.Fit(rows, N, D),
            Standardize.FitPerChannel(rows, N, 3, 2, 2),
            Pca.Fit(rows, N, D, components: 5),
            Whitening.Fit(rows, N, D, components: 4),
            Whitening.Fit(rows, N, D, epsilon: 0.01, zca: true),
            new TransformPipeline(ZeroCenter.Fit(rows, N, D), Pca.Fit(rows, N, D, components: 3), Standardize.Fit(new float[9], 3, 3)),
        ];
    }

    private static byte[] SaveToBytes(IFeatureTransform transform)
    {
        using var stream = new MemoryStream();
        transform.Save(stream);
        return stream.ToArray();
    }

    [Fact]
    public void SaveLoadRoundTripIsBitIdentical()
    {
        float[] input = Correlated(9, 12, 77);
        foreach (IFeatureTransform transform in SampleTransforms())
        {
            byte[] bytes = SaveToBytes(transform);
            var stream = new MemoryStream(bytes);
            IFeatureTransform loaded = FeatureTransform.Load(stream);
            Assert.Equal(bytes.Length, stream.Position);
            Assert.Equal(transform.GetType(), loaded.GetType());
            Assert.Equal(bytes, SaveToBytes(loaded));
            Assert.Equal((transform.InputFeatures, transform.OutputFeatures), (loaded.InputFeatures, loaded.OutputFeatures));
            var expected = new float[9 * transform.OutputFeatures];
            var actual = new float[expected.Length];
            transform.Apply(input, expected, 9);
            loaded.Apply(input, actual, 9);
            Assert.Equal(expected, actual);
        }

        // Records can be concatenated; each Load reads one.
        IFeatureTransform[] all = SampleTransforms();
        using var concatenated = new MemoryStream();
        foreach (IFeatureTransform t in all) t.Save(concatenated);
        concatenated.Position = 0;
        foreach (IFeatureTransform t in all) Assert.Equal(SaveToBytes(t), SaveToBytes(FeatureTransform.Load(concatenated)));
    }

    [Fact]
    public void CorruptOrTruncatedBytesAreRejected()
    {
        foreach (IFeatureTransform transform in SampleTransforms())
        {
            byte[] bytes = SaveToBytes(transform);
            // Every truncation.
            for (int length = 0; length < bytes.Length; length += Math.Max(1, bytes.Length / 200))
                Assert.Throws<InvalidDataException>(() => FeatureTransform.Load(new MemoryStream(bytes, 0, length)));
            // A flipped bit anywhere (sampled for the large records).
            for (int i = 0; i < bytes.Length; i += Math.Max(1, bytes.Length / 300))
            {
                byte[] corrupt = (byte[])bytes.Clone();
                corrupt[i] ^= (byte)(1 << (i % 8));
                Assert.Throws<InvalidDataException>(() => FeatureTransform.Load(new MemoryStream(corrupt)));
            }
        }

        byte[] good = SaveToBytes(ZeroCenter.Fit([1, 2], 1, 2));
        var ex = Assert.Throws<InvalidDataException>(() => FeatureTransform.Load(new MemoryStream(new byte[] { (byte)'N', (byte)'O', (byte)'P', (byte)'E', 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 })));
        Assert.Contains("magic", ex.Message);
        byte[] version = (byte[])good.Clone();
        version[4] = 2;
        ex = Assert.Throws<InvalidDataException>(() => FeatureTransform.Load(new MemoryStream(version)));
        Assert.Contains("version 2", ex.Message);
        byte[] checksum = (byte[])good.Clone();
        checksum[^6] ^= 0x40; // a payload byte
        ex = Assert.Throws<InvalidDataException>(() => FeatureTransform.Load(new MemoryStream(checksum)));
        Assert.Contains("checksum", ex.Message);
        byte[] huge = (byte[])good.Clone();
        huge[19] = 0x7F; // payload length ≈ 9e18
        ex = Assert.Throws<InvalidDataException>(() => FeatureTransform.Load(new MemoryStream(huge)));
        Assert.Contains("impossible", ex.Message);
    }
}
