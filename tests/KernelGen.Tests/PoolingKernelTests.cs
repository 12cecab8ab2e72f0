using System;
using System.Linq;
using System.Numerics;
using System.Text.Json;
using CsCheck;
using KernelGen.Kernels;
using Xunit;

namespace KernelGen.Tests;

/// <summary>
/// <see cref="Pooling"/> and <see cref="Pool2DGeometry"/> with PyTorch's documented semantics: max pooling with −∞
/// padding, ties to the first maximum in row-major order, NaN propagation; average pooling with and without
/// count_include_pad; overlapping windows accumulating in backward; global average pooling — against direct window
/// loops written here, hand-worked cases, PyTorch goldens; validation and zero allocation.
/// </summary>
public class PoolingKernelTests
{
    // ---- naive references (direct window loops over the padded input) ----------------------------------------------

    /// <summary>
    /// PyTorch's CPU max pool: scan the window in row-major order over the input positions it covers (the padding is
    /// −∞ and never wins), keep a value if it is greater than the maximum so far or NaN; the index starts at the first
    /// covered position.
    /// </summary>
    private static (double[] Y, int[] ArgMax) NaiveMax(double[] x, int batch, Pool2DGeometry g)
    {
        int planes = batch * g.Channels, OH = g.OutHeight, OW = g.OutWidth;
        var y = new double[planes * OH * OW];
        var arg = new int[y.Length];
        for (int p = 0; p < planes; p++)
            for (int oh = 0; oh < OH; oh++)
                for (int ow = 0; ow < OW; ow++)
                {
                    double max = double.NegativeInfinity;
                    int best = -1;
                    for (int i = 0; i < g.KernelHeight; i++)
                        for (int j = 0; j < g.KernelWidth; j++)
                        {
                            int ih = oh * g.StrideHeight - g.PadHeight + i, iw = ow * g.StrideWidth - g.PadWidth + j;
                            if (ih < 0 || ih >= g.Height || iw < 0 || iw >= g.Width) continue; // −∞ padding
                            int at = (p * g.Height + ih) * g.Width + iw;
                            if (best < 0) best = at;
                            if (x[at] > max || double.IsNaN(x[at])) { max = x[at]; best = at; }
                        }
                    int o = (p * OH + oh) * OW + ow;
                    y[o] = x[best];
                    arg[o] = best;
                }
        return (y, arg);
    }

    private static double[] NaiveMaxBackward(double[] x, double[] dy, int batch, Pool2DGeometry g)
    {
        var (_, arg) = NaiveMax(x, batch, g);
        var dx = new double[x.Length];
        for (int o = 0; o < dy.Length; o++) dx[arg[o]] += dy[o];
        return dx;
    }

    /// <summary>Average over the window; the divisor is kh·kw with count_include_pad, else the covered input count.</summary>
    private static (double[] Y, double[] Scale) NaiveAverage(double[] x, int batch, Pool2DGeometry g, bool countIncludePad)
    {
        int planes = batch * g.Channels, OH = g.OutHeight, OW = g.OutWidth;
        var y = new double[planes * OH * OW];
        var scale = new double[y.Length];
        for (int p = 0; p < planes; p++)
            for (int oh = 0; oh < OH; oh++)
                for (int ow = 0; ow < OW; ow++)
                {
                    double sum = 0, abs = 0;
                    int count = 0;
                    for (int i = 0; i < g.KernelHeight; i++)
                        for (int j = 0; j < g.KernelWidth; j++)
                        {
                            int ih = oh * g.StrideHeight - g.PadHeight + i, iw = ow * g.StrideWidth - g.PadWidth + j;
                            if (ih < 0 || ih >= g.Height || iw < 0 || iw >= g.Width) continue;
                            sum += x[(p * g.Height + ih) * g.Width + iw];
                            abs += Math.Abs(x[(p * g.Height + ih) * g.Width + iw]);
                            count++;
                        }
                    int divisor = countIncludePad ? g.KernelHeight * g.KernelWidth : count;
                    y[(p * OH + oh) * OW + ow] = sum / divisor;
                    scale[(p * OH + oh) * OW + ow] = abs / divisor;
                }
        return (y, scale);
    }

    private static (double[] Dx, double[] Scale) NaiveAverageBackward(double[] dy, int batch, Pool2DGeometry g, bool countIncludePad)
    {
        int planes = batch * g.Channels, OH = g.OutHeight, OW = g.OutWidth;
        var dx = new double[batch * g.InputSize];
        var scale = new double[dx.Length];
        for (int p = 0; p < planes; p++)
            for (int oh = 0; oh < OH; oh++)
                for (int ow = 0; ow < OW; ow++)
                {
                    int count = 0;
                    for (int pass = 0; pass < 2; pass++)
                        for (int i = 0; i < g.KernelHeight; i++)
                            for (int j = 0; j < g.KernelWidth; j++)
                            {
                                int ih = oh * g.StrideHeight - g.PadHeight + i, iw = ow * g.StrideWidth - g.PadWidth + j;
                                if (ih < 0 || ih >= g.Height || iw < 0 || iw >= g.Width) continue;
                                if (pass == 0) { count++; continue; }
                                double share = dy[(p * OH + oh) * OW + ow] / (countIncludePad ? g.KernelHeight * g.KernelWidth : count);
                                dx[(p * g.Height + ih) * g.Width + iw] += share;
                                scale[(p * g.Height + ih) * g.Width + iw] += Math.Abs(share);
                            }
                }
        return (dx, scale);
    }

    // ---- generated geometries ---------------------------------------------------------------------------------------

    internal sealed record PoolCase(int Batch, int C, int H, int W, int Kh, int Kw, int Sh, int Sw, int Ph, int Pw, bool Ties, int Seed)
    {
        public Pool2DGeometry Geometry => new(C, H, W, Kh, Kw, Sh, Sw, Ph, Pw);

        public override string ToString() => $"batch {Batch}, C {C}, {H}×{W}, kernel {Kh}×{Kw}, stride {Sh}×{Sw}, pad {Ph}×{Pw}, ties {Ties}, seed {Seed}";

        /// <summary>Inputs in [−2, 2), or (ties) small integers so windows hold several equal maxima; all exact in float.</summary>
        public double[] Input()
        {
            var random = new Random(Seed);
            int n = Batch * C * H * W;
            return Ties
                ? Enumerable.Range(0, n).Select(_ => (double)random.Next(-2, 2)).ToArray()
                : SpatialTestSupport.RoundTo<float>(SpatialTestSupport.RandomArray(random, n));
        }
    }

    /// <summary>Windows 1–4 (non-square), strides 1–3 (overlapping when below the kernel), padding up to half the kernel.</summary>
    private static readonly Gen<PoolCase> Cases =
        from batch in Gen.Int[1, 3]
        from c in Gen.Int[1, 3]
        from kh in Gen.Int[1, 4]
        from kw in Gen.Int[1, 4]
        from sh in Gen.Int[1, 3]
        from sw in Gen.Int[1, 3]
        from ph in Gen.Int[0, kh / 2]
        from pw in Gen.Int[0, kw / 2]
        from extraH in Gen.Int[0, 7]
        from extraW in Gen.Int[0, 20]
        from ties in Gen.Bool
        from seed in Gen.Int[0, int.MaxValue]
        select new PoolCase(batch, c, Math.Max(1, kh - 2 * ph) + extraH, Math.Max(1, kw - 2 * pw) + extraW, kh, kw, sh, sw, ph, pw, ties, seed);

    private static void CheckMax<T>(PoolCase c) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        Pool2DGeometry g = c.Geometry;
        double[] x = c.Input();
        var random = new Random(c.Seed + 1);
        double[] dy = SpatialTestSupport.RoundTo<T>(SpatialTestSupport.RandomArray(random, c.Batch * g.OutputSize));
        var (expected, _) = NaiveMax(x, c.Batch, g);
        T[] y = SpatialTestSupport.Filled(c.Batch * g.OutputSize, T.NaN);
        Pooling.MaxForward<T>(SpatialTestSupport.As<T>(x), y, c.Batch, g);
        Assert.Equal(expected, SpatialTestSupport.ToDouble<T>(y)); // a selection: exact
        // Backward: every dy lands on its window's argmax; overlapping windows add. A float sum of up to kh·kw terms.
        double[] dxExpected = NaiveMaxBackward(x, dy, c.Batch, g);
        double[] scale = NaiveMaxBackward(x, dy.Select(Math.Abs).ToArray(), c.Batch, g);
        T[] dx = SpatialTestSupport.Filled(c.Batch * g.InputSize, T.NaN);
        Pooling.MaxBackward<T>(SpatialTestSupport.As<T>(x), SpatialTestSupport.As<T>(dy), dx, c.Batch, g);
        SpatialTestSupport.AssertClose<T>(dx, dxExpected, scale, $"max dx ({c})");
    }

    private static void CheckAverage<T>(PoolCase c, bool countIncludePad) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        Pool2DGeometry g = c.Geometry;
        double[] x = c.Input();
        var random = new Random(c.Seed + 2);
        double[] dy = SpatialTestSupport.RoundTo<T>(SpatialTestSupport.RandomArray(random, c.Batch * g.OutputSize));
        var (expected, scale) = NaiveAverage(x, c.Batch, g, countIncludePad);
        T[] y = SpatialTestSupport.Filled(c.Batch * g.OutputSize, T.NaN);
        Pooling.AverageForward<T>(SpatialTestSupport.As<T>(x), y, c.Batch, g, countIncludePad);
        SpatialTestSupport.AssertClose<T>(y, expected, scale, $"avg y, count_include_pad {countIncludePad} ({c})");
        var (dxExpected, dxScale) = NaiveAverageBackward(dy, c.Batch, g, countIncludePad);
        T[] dx = SpatialTestSupport.Filled(c.Batch * g.InputSize, T.NaN);
        Pooling.AverageBackward<T>(SpatialTestSupport.As<T>(dy), dx, c.Batch, g, countIncludePad);
        SpatialTestSupport.AssertClose<T>(dx, dxExpected, dxScale, $"avg dx, count_include_pad {countIncludePad} ({c})");
    }

    [Fact]
    public void Max_pool_matches_the_window_loop() => Cases.Sample(c => { CheckMax<float>(c); CheckMax<double>(c); }, iter: 200);

    [Fact]
    public void Average_pool_matches_the_window_loop() =>
        Cases.Sample(c =>
        {
            CheckAverage<float>(c, true); CheckAverage<float>(c, false);
            CheckAverage<double>(c, true); CheckAverage<double>(c, false);
        }, iter: 200);

    [Fact]
    public void Global_average_matches_the_mean() =>
        Gen.Select(Gen.Int[1, 4], Gen.Int[1, 5], Gen.Int[1, 40], Gen.Int[0, int.MaxValue]).Sample(c =>
        {
            var (batch, channels, pixels, seed) = c;
            var random = new Random(seed);
            double[] x = SpatialTestSupport.RoundTo<float>(SpatialTestSupport.RandomArray(random, batch * channels * pixels));
            double[] dy = SpatialTestSupport.RoundTo<float>(SpatialTestSupport.RandomArray(random, batch * channels));
            var expected = new double[batch * channels];
            var scale = new double[batch * channels];
            var dxExpected = new double[x.Length];
            for (int p = 0; p < batch * channels; p++)
            {
                for (int i = 0; i < pixels; i++) { expected[p] += x[p * pixels + i] / pixels; scale[p] += Math.Abs(x[p * pixels + i]) / pixels; }
                for (int i = 0; i < pixels; i++) dxExpected[p * pixels + i] = dy[p] / pixels;
            }
            float[] y = new float[batch * channels];
            Pooling.GlobalAverageForward<float>(SpatialTestSupport.As<float>(x), y, batch, channels, pixels);
            SpatialTestSupport.AssertClose<float>(y, expected, scale, "global y");
            float[] dx = SpatialTestSupport.Filled(x.Length, float.NaN);
            Pooling.GlobalAverageBackward<float>(SpatialTestSupport.As<float>(dy), dx, batch, channels, pixels);
            SpatialTestSupport.AssertClose<float>(dx, dxExpected, dxExpected.Select(Math.Abs).ToArray(), "global dx");
            double[] yd = new double[batch * channels];
            Pooling.GlobalAverageForward<double>(x, yd, batch, channels, pixels);
            SpatialTestSupport.AssertClose<double>(yd, expected, scale, "global y (double)");
            double[] dxd = new double[x.Length];
            Pooling.GlobalAverageBackward<double>(dy, dxd, batch, channels, pixels);
            SpatialTestSupport.AssertClose<double>(dxd, dxExpected, dxExpected.Select(Math.Abs).ToArray(), "global dx (double)");
        }, iter: 100);

    // ---- hand-worked semantics --------------------------------------------------------------------------------------

    [Fact]
    public void Max_pool_padding_is_minus_infinity_not_zero()
    {
        // 1×2×2 all negative, 3×3 window, stride 1, pad 1: zero padding would give 0; PyTorch gives the window's maximum.
        var g = new Pool2DGeometry(1, 2, 2, 3, 3, 1, 1, 1, 1);
        double[] x = [-4, -3, -2, -1];
        double[] y = new double[4];
        Pooling.MaxForward<double>(x, y, 1, g);
        Assert.Equal([-1, -1, -1, -1], y);
        double[] dx = new double[4];
        Pooling.MaxBackward<double>(x, [1, 2, 3, 4], dx, 1, g);
        Assert.Equal([0, 0, 0, 10], dx);
    }

    [Fact]
    public void Max_pool_ties_send_the_gradient_to_the_first_maximum_in_row_major_order()
    {
        // 4×4 of ones, 2×2 windows, stride 2: every element ties; each window's top-left element is its first maximum.
        var g = new Pool2DGeometry(1, 4, 4, 2, 2, 2, 2);
        double[] x = Enumerable.Repeat(1.0, 16).ToArray();
        double[] dx = new double[16];
        Pooling.MaxBackward<double>(x, [1, 2, 3, 4], dx, 1, g);
        Assert.Equal([1, 0, 2, 0, 0, 0, 0, 0, 3, 0, 4, 0, 0, 0, 0, 0], dx);

        // Ties off the top-left: window [0 5; 5 5] → the 5 at (0, 1) comes first in row-major order.
        var g2 = new Pool2DGeometry(1, 2, 2, 2, 2, 1, 1);
        double[] dx2 = new double[4];
        Pooling.MaxBackward<double>([0, 5, 5, 5], [7], dx2, 1, g2);
        Assert.Equal([0, 7, 0, 0], dx2);

        // With padding the scan starts at the first covered input, not at the padding: window rows −1…1 over [2 2; 2 2].
        var g3 = new Pool2DGeometry(1, 2, 2, 3, 3, 2, 2, 1, 1);
        float[] dx3 = new float[4];
        Pooling.MaxBackward<float>([2f, 2f, 2f, 2f], [3f], dx3, 1, g3);
        Assert.Equal([3f, 0f, 0f, 0f], dx3);
    }

    [Fact]
    public void Overlapping_max_windows_accumulate_in_backward()
    {
        // 1×5 row, windows of 3 with stride 1 → 3 outputs; the 9 at index 2 is every window's maximum.
        var g = new Pool2DGeometry(1, 1, 5, 1, 3, 1, 1);
        double[] x = [1, 2, 9, 3, 4];
        double[] y = new double[3];
        Pooling.MaxForward<double>(x, y, 1, g);
        Assert.Equal([9, 9, 9], y);
        double[] dx = new double[5];
        Pooling.MaxBackward<double>(x, [0.5, 0.25, 2], dx, 1, g);
        Assert.Equal([0, 0, 2.75, 0, 0], dx);
    }

    [Fact]
    public void Max_pool_propagates_NaN_and_routes_the_gradient_to_the_last_NaN()
    {
        var g = new Pool2DGeometry(1, 2, 4, 2, 2, 2, 2);
        // Window 0 = {1, NaN, 3, NaN}: NaN, gradient to the second NaN (index 5). Window 1 = {2, 8, 6, 4}: 8.
        double[] x = [1, double.NaN, 2, 8, 3, double.NaN, 6, 4];
        double[] y = new double[2];
        Pooling.MaxForward<double>(x, y, 1, g);
        Assert.True(double.IsNaN(y[0]));
        Assert.Equal(8, y[1]);
        double[] dx = new double[8];
        Pooling.MaxBackward<double>(x, [10, 20], dx, 1, g);
        Assert.Equal([0, 0, 0, 20, 0, 10, 0, 0], dx);

        float[] xf = [float.NaN, 1, 2, 3];
        float[] yf = new float[1];
        Pooling.MaxForward<float>(xf, yf, 1, new Pool2DGeometry(1, 2, 2, 2, 2, 1, 1));
        Assert.True(float.IsNaN(yf[0]));
    }

    [Fact]
    public void Average_pool_divisor_follows_count_include_pad()
    {
        // 1×3×3 of 1…9, 3×3 window, stride 2, pad 1: 2×2 outputs, each window covers 4 inputs of its 9 cells.
        var g = new Pool2DGeometry(1, 3, 3, 3, 3, 2, 2, 1, 1);
        double[] x = [1, 2, 3, 4, 5, 6, 7, 8, 9];
        double[] include = new double[4], exclude = new double[4];
        Pooling.AverageForward<double>(x, include, 1, g, countIncludePad: true);
        Pooling.AverageForward<double>(x, exclude, 1, g, countIncludePad: false);
        Assert.Equal([12 / 9.0, 16 / 9.0, 24 / 9.0, 28 / 9.0], include);
        Assert.Equal([3, 4, 6, 7], exclude);
        // Backward: the centre (index 4) is in all four windows.
        double[] dxInclude = new double[9], dxExclude = new double[9];
        Pooling.AverageBackward<double>([9, 18, 27, 36], dxInclude, 1, g, countIncludePad: true);
        Pooling.AverageBackward<double>([4, 8, 12, 16], dxExclude, 1, g, countIncludePad: false);
        Assert.Equal([1, 3, 2, 4, 10, 6, 3, 7, 4], dxInclude);
        Assert.Equal([1, 3, 2, 4, 10, 6, 3, 7, 4], dxExclude);
    }

    [Fact]
    public void Overlapping_average_windows_accumulate_in_backward()
    {
        // 1×4 row, windows of 2 with stride 1: the inner elements belong to two windows.
        var g = new Pool2DGeometry(1, 1, 4, 1, 2, 1, 1);
        double[] dx = new double[4];
        Pooling.AverageBackward<double>([2, 4, 8], dx, 1, g, countIncludePad: true);
        Assert.Equal([1, 3, 6, 4], dx);
    }

    [Fact]
    public void Backward_overwrites_the_input_gradient()
    {
        var g = new Pool2DGeometry(2, 4, 4, 2, 2, 2, 2);
        double[] x = Enumerable.Range(0, 2 * 16).Select(i => (double)(i * 7 % 11)).ToArray();
        double[] dy = Enumerable.Range(1, 2 * 4).Select(i => (double)i).ToArray();
        double[] dx = Enumerable.Repeat(double.NaN, 32).ToArray();
        Pooling.MaxBackward<double>(x, dy, dx, 1, g);
        Assert.Equal(NaiveMaxBackward(x, dy, 1, g), dx);
        double[] dxa = Enumerable.Repeat(123.0, 32).ToArray();
        Pooling.AverageBackward<double>(dy, dxa, 1, g, false);
        Assert.Equal(NaiveAverageBackward(dy, 1, g, false).Dx, dxa);
        double[] dxg = Enumerable.Repeat(double.NaN, 32).ToArray();
        Pooling.GlobalAverageBackward<double>(dy, dxg, 1, 2, 16);
        Assert.All(dxg, v => Assert.False(double.IsNaN(v)));
    }

    [Fact]
    public void Geometry_reports_pytorch_shapes()
    {
        // MaxPool2d((3, 2), stride=(2, 1), padding=(1, 1)) on 7×5: OH = ⌊(7 + 2 − 3)/2⌋ + 1 = 4, OW = ⌊(5 + 2 − 2)/1⌋ + 1 = 6.
        var g = new Pool2DGeometry(3, 7, 5, 3, 2, 2, 1, 1, 1);
        Assert.Equal(4, g.OutHeight);
        Assert.Equal(6, g.OutWidth);
        Assert.Equal(3 * 7 * 5, g.InputSize);
        Assert.Equal(3 * 4 * 6, g.OutputSize);
        // Floor rounding: 2×2 stride 2 on 5×5 → 2×2.
        Assert.Equal(2, new Pool2DGeometry(1, 5, 5, 2, 2, 2, 2).OutHeight);
    }

    [Fact]
    public void Pytorch_goldens_match()
    {
        JsonElement[] cases = SpatialTestSupport.Goldens("pool");
        Assert.NotEmpty(cases);
        foreach (JsonElement e in cases)
        {
            string name = e.GetProperty("name").GetString()!, kind = e.GetProperty("kind").GetString()!;
            int batch = e.Int("batch");
            double[] x = e.Doubles("x"), dy = e.Doubles("dy");
            double[] dx = new double[x.Length];
            if (kind == "global")
            {
                int channels = e.Int("channels"), pixels = e.Int("height") * e.Int("width");
                double[] yg = new double[batch * channels];
                Pooling.GlobalAverageForward<double>(x, yg, batch, channels, pixels);
                SpatialTestSupport.AssertNear(yg, e.Doubles("y"), 1e-10, $"{name}: y");
                Pooling.GlobalAverageBackward<double>(dy, dx, batch, channels, pixels);
                SpatialTestSupport.AssertNear(dx, e.Doubles("dx"), 1e-10, $"{name}: dx");
                continue;
            }
            var g = new Pool2DGeometry(e.Int("channels"), e.Int("height"), e.Int("width"), e.Int("kernelHeight"), e.Int("kernelWidth"),
                e.Int("strideHeight"), e.Int("strideWidth"), e.Int("padHeight"), e.Int("padWidth"));
            Assert.Equal(e.Int("outHeight"), g.OutHeight);
            Assert.Equal(e.Int("outWidth"), g.OutWidth);
            double[] y = new double[batch * g.OutputSize];
            if (kind == "max")
            {
                Pooling.MaxForward<double>(x, y, batch, g);
                Pooling.MaxBackward<double>(x, dy, dx, batch, g);
            }
            else
            {
                bool include = e.GetProperty("countIncludePad").GetBoolean();
                Pooling.AverageForward<double>(x, y, batch, g, include);
                Pooling.AverageBackward<double>(dy, dx, batch, g, include);
            }
            SpatialTestSupport.AssertNear(y, e.Doubles("y"), 1e-10, $"{name}: y");
            SpatialTestSupport.AssertNear(dx, e.Doubles("dx"), 1e-10, $"{name}: dx");
        }
    }

    // ---- validation -------------------------------------------------------------------------------------------------

    [Fact]
    public void Invalid_geometries_throw_ArgumentOutOfRange()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new Pool2DGeometry(1, 4, 4, 3, 3, 1, 1, 2, 0));  // pad 2 > 3/2
        Assert.Throws<ArgumentOutOfRangeException>(() => new Pool2DGeometry(1, 4, 4, 2, 2, 1, 1, 0, 2));  // pad 2 > 2/2
        Assert.Throws<ArgumentOutOfRangeException>(() => new Pool2DGeometry(1, 4, 4, 1, 1, 1, 1, 1, 0));  // pad 1 > 1/2
        Assert.Throws<ArgumentOutOfRangeException>(() => new Pool2DGeometry(1, 4, 4, 2, 2, 1, 1, -1, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Pool2DGeometry(1, 2, 4, 5, 2, 1, 1, 1, 0));  // 5 > 2 + 2
        Assert.Throws<ArgumentOutOfRangeException>(() => new Pool2DGeometry(1, 4, 2, 2, 4, 1, 1));        // 4 > 2
        Assert.Throws<ArgumentOutOfRangeException>(() => new Pool2DGeometry(1, 4, 4, 2, 2, 0, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Pool2DGeometry(1, 4, 4, 0, 2, 1, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Pool2DGeometry(0, 4, 4, 2, 2, 1, 1));
        _ = new Pool2DGeometry(1, 4, 4, 3, 3, 1, 1, 1, 1); // pad = ⌊3/2⌋ is allowed
        _ = new Pool2DGeometry(1, 1, 1, 2, 2, 1, 1, 1, 1); // pad = 2/2 is allowed (PyTorch's rule is pad ≤ k/2)
    }

    [Fact]
    public void Short_spans_throw_ArgumentException()
    {
        var g = new Pool2DGeometry(2, 5, 6, 2, 3, 2, 1, 1, 1);
        const int batch = 2;
        var x = new float[batch * g.InputSize];
        var y = new float[batch * g.OutputSize];
        var dx = new float[batch * g.InputSize];
        Assert.Throws<ArgumentException>(() => Pooling.MaxForward<float>(x.AsSpan(1), y, batch, g));
        Assert.Throws<ArgumentException>(() => Pooling.MaxForward<float>(x, y.AsSpan(1), batch, g));
        Assert.Throws<ArgumentException>(() => Pooling.MaxBackward<float>(x.AsSpan(1), y, dx, batch, g));
        Assert.Throws<ArgumentException>(() => Pooling.MaxBackward<float>(x, y.AsSpan(1), dx, batch, g));
        Assert.Throws<ArgumentException>(() => Pooling.MaxBackward<float>(x, y, dx.AsSpan(1), batch, g));
        Assert.Throws<ArgumentException>(() => Pooling.AverageForward<float>(x.AsSpan(1), y, batch, g, true));
        Assert.Throws<ArgumentException>(() => Pooling.AverageForward<float>(x, y.AsSpan(1), batch, g, false));
        Assert.Throws<ArgumentException>(() => Pooling.AverageBackward<float>(y.AsSpan(1), dx, batch, g, true));
        Assert.Throws<ArgumentException>(() => Pooling.AverageBackward<float>(y, dx.AsSpan(1), batch, g, false));
        Assert.Throws<ArgumentException>(() => Pooling.GlobalAverageForward<float>(x.AsSpan(1), y, 2, 2, 30));
        Assert.Throws<ArgumentException>(() => Pooling.GlobalAverageForward<float>(x, y.AsSpan(0, 3), 2, 2, 30));
        Assert.Throws<ArgumentException>(() => Pooling.GlobalAverageBackward<float>(y.AsSpan(0, 3), dx, 2, 2, 30));
        Assert.Throws<ArgumentException>(() => Pooling.GlobalAverageBackward<float>(y, dx.AsSpan(1), 2, 2, 30));
        Assert.Throws<ArgumentOutOfRangeException>(() => Pooling.MaxForward<float>(x, y, 0, g));
        Assert.Throws<ArgumentOutOfRangeException>(() => Pooling.GlobalAverageForward<float>(x, y, 2, 0, 30));
    }

    // ---- allocation -------------------------------------------------------------------------------------------------

    [Fact]
    public void Warm_calls_allocate_nothing()
    {
        var g = new Pool2DGeometry(3, 9, 10, 3, 2, 2, 1, 1, 1);
        const int batch = 2;
        var x = new float[batch * g.InputSize];
        var y = new float[batch * g.OutputSize];
        var dx = new float[batch * g.InputSize];
        var xd = new double[batch * g.InputSize];
        var yd = new double[batch * g.OutputSize];
        var dxd = new double[batch * g.InputSize];
        var random = new Random(5);
        for (int i = 0; i < x.Length; i++) xd[i] = x[i] = (float)random.NextDouble();

        void HotCalls()
        {
            Pooling.MaxForward<float>(x, y, batch, g);
            Pooling.MaxBackward<float>(x, y, dx, batch, g);
            Pooling.AverageForward<float>(x, y, batch, g, true);
            Pooling.AverageBackward<float>(y, dx, batch, g, false);
            Pooling.GlobalAverageForward<float>(x, y, batch, g.Channels, 90);
            Pooling.GlobalAverageBackward<float>(y, dx, batch, g.Channels, 90);
            Pooling.MaxForward<double>(xd, yd, batch, g);
            Pooling.MaxBackward<double>(xd, yd, dxd, batch, g);
            Pooling.AverageForward<double>(xd, yd, batch, g, false);
            Pooling.AverageBackward<double>(yd, dxd, batch, g, true);
        }

        HotLoop.WarmUp(HotCalls);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 10; i++) HotCalls();
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
