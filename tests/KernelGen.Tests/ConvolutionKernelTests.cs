using System;
using System.IO;
using System.Linq;
using System.Numerics;
using System.Text.Json;
using CsCheck;
using KernelGen.Kernels;
using KernelGen.Operators;
using Xunit;

namespace KernelGen.Tests;

/// <summary>Helpers shared by the convolution, pooling and spatial batch-norm kernel tests.</summary>
internal static class SpatialTestSupport
{
    /// <summary>Uniform values in [lo, hi).</summary>
    public static double[] RandomArray(Random random, int n, double lo = -2, double hi = 2)
    {
        var values = new double[n];
        for (int i = 0; i < n; i++) values[i] = lo + (hi - lo) * random.NextDouble();
        return values;
    }

    /// <summary>The values rounded to T and back: the inputs the kernel in T sees, exactly, as doubles.</summary>
    public static double[] RoundTo<T>(double[] values) where T : unmanaged, IBinaryFloatingPointIeee754<T> =>
        values.Select(v => double.CreateTruncating(T.CreateTruncating(v))).ToArray();

    public static T[] As<T>(double[] values) where T : unmanaged, IBinaryFloatingPointIeee754<T> =>
        values.Select(T.CreateTruncating).ToArray();

    public static double[] ToDouble<T>(ReadOnlySpan<T> values) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        var result = new double[values.Length];
        for (int i = 0; i < values.Length; i++) result[i] = double.CreateTruncating(values[i]);
        return result;
    }

    public static T[] Filled<T>(int n, T value)
    {
        var a = new T[n];
        Array.Fill(a, value);
        return a;
    }

    /// <summary>Relative tolerance per unit of Σ|terms|: 1e-5 for float, 1e-12 for double.</summary>
    public static double Tolerance<T>() => typeof(T) == typeof(float) ? 1e-5 : 1e-12;

    /// <summary>|actual − expected| ≤ tol·scale element by element (scale: the sum of the absolute values of the terms).</summary>
    public static void AssertClose<T>(ReadOnlySpan<T> actual, double[] expected, double[] scale, string what)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        double tol = Tolerance<T>();
        Assert.True(actual.Length >= expected.Length, $"{what}: {actual.Length} values, expected {expected.Length}");
        for (int i = 0; i < expected.Length; i++)
        {
            double a = double.CreateTruncating(actual[i]);
            double bound = tol * scale[i];
            if (!(Math.Abs(a - expected[i]) <= bound))
                Assert.Fail($"{what}[{i}] = {a:R}, expected {expected[i]:R} (|error| {Math.Abs(a - expected[i]):E3} > {bound:E3})");
        }
    }

    /// <summary>|actual − expected| ≤ tol·(1 + |expected|).</summary>
    public static void AssertNear(ReadOnlySpan<double> actual, double[] expected, double tol, string what)
    {
        Assert.True(actual.Length >= expected.Length, $"{what}: {actual.Length} values, expected {expected.Length}");
        for (int i = 0; i < expected.Length; i++)
            if (!(Math.Abs(actual[i] - expected[i]) <= tol * (1 + Math.Abs(expected[i]))))
                Assert.Fail($"{what}[{i}] = {actual[i]:R}, expected {expected[i]:R}");
    }

    private static readonly Lazy<JsonDocument> GoldenDocument = new(() =>
        JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Data", "conv_goldens.json"))));

    /// <summary>The cases of one section of Data/conv_goldens.json (written by Data/make_conv_goldens.py with PyTorch).</summary>
    public static JsonElement[] Goldens(string section) => GoldenDocument.Value.RootElement.GetProperty(section).EnumerateArray().ToArray();

    public static double[] Doubles(this JsonElement e, string name) => e.GetProperty(name).EnumerateArray().Select(v => v.GetDouble()).ToArray();

    public static int Int(this JsonElement e, string name) => e.GetProperty(name).GetInt32();
}

/// <summary>
/// <see cref="Convolution"/> and <see cref="Conv2DGeometry"/>: forward, weight/bias gradient and input gradient
/// against a naive seven-loop double reference written here, in float and double, over CsCheck-generated geometries
/// (kernels 1–5, strides 1–3, asymmetric padding, dilation, groups, depthwise, pointwise, batches 1–4, outputs from 1×1
/// to rows past 16 so the 512-bit, 256-bit and scalar GEMM tails all run); the adjoint identity; central differences;
/// PyTorch goldens; validation; zero allocation.
/// </summary>
public class ConvolutionKernelTests
{
    // ---- naive double reference (PyTorch Conv2d: cross-correlation, NCHW, weights [O, C/groups, kh, kw]) -----------

    /// <summary>y[n,o,oh,ow] = b[o] + Σ_c,i,j x[n, grp·Cg + c, oh·sh − pt + i·dh, ow·sw − pl + j·dw]·w[o,c,i,j]; and Σ|terms|.</summary>
    internal static (double[] Y, double[] Scale) NaiveForward(double[] x, double[] w, double[] b, int batch, Conv2DGeometry g, bool relu = false)
    {
        int C = g.Channels, H = g.Height, W = g.Width, O = g.OutChannels, OH = g.OutHeight, OW = g.OutWidth;
        int cg = C / g.Groups, og = O / g.Groups, kh = g.KernelHeight, kw = g.KernelWidth;
        var y = new double[batch * O * OH * OW];
        var scale = new double[y.Length];
        for (int n = 0; n < batch; n++)
            for (int o = 0; o < O; o++)
                for (int oh = 0; oh < OH; oh++)
                    for (int ow = 0; ow < OW; ow++)
                    {
                        double s = b.Length == 0 ? 0 : b[o], a = Math.Abs(s);
                        int grp = o / og;
                        for (int c = 0; c < cg; c++)
                            for (int i = 0; i < kh; i++)
                                for (int j = 0; j < kw; j++)
                                {
                                    int ih = oh * g.StrideHeight - g.PadTop + i * g.DilationHeight;
                                    int iw = ow * g.StrideWidth - g.PadLeft + j * g.DilationWidth;
                                    if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                                    double t = x[((n * C + grp * cg + c) * H + ih) * W + iw] * w[((o * cg + c) * kh + i) * kw + j];
                                    s += t;
                                    a += Math.Abs(t);
                                }
                        int at = ((n * O + o) * OH + oh) * OW + ow;
                        y[at] = relu ? Math.Max(0, s) : s;
                        scale[at] = a;
                    }
        return (y, scale);
    }

    /// <summary>The transposed loop: dx[n, grp·Cg + c, ih, iw] += dy[n,o,oh,ow]·w[o,c,i,j] over the forward's index set.</summary>
    internal static (double[] Dx, double[] Scale) NaiveBackwardInput(double[] dy, double[] w, int batch, Conv2DGeometry g)
    {
        int C = g.Channels, H = g.Height, W = g.Width, O = g.OutChannels, OH = g.OutHeight, OW = g.OutWidth;
        int cg = C / g.Groups, og = O / g.Groups, kh = g.KernelHeight, kw = g.KernelWidth;
        var dx = new double[batch * C * H * W];
        var scale = new double[dx.Length];
        for (int n = 0; n < batch; n++)
            for (int o = 0; o < O; o++)
                for (int oh = 0; oh < OH; oh++)
                    for (int ow = 0; ow < OW; ow++)
                        for (int c = 0; c < cg; c++)
                            for (int i = 0; i < kh; i++)
                                for (int j = 0; j < kw; j++)
                                {
                                    int ih = oh * g.StrideHeight - g.PadTop + i * g.DilationHeight;
                                    int iw = ow * g.StrideWidth - g.PadLeft + j * g.DilationWidth;
                                    if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                                    int at = ((n * C + o / og * cg + c) * H + ih) * W + iw;
                                    double t = dy[((n * O + o) * OH + oh) * OW + ow] * w[((o * cg + c) * kh + i) * kw + j];
                                    dx[at] += t;
                                    scale[at] += Math.Abs(t);
                                }
        return (dx, scale);
    }

    /// <summary>dW[o,c,i,j] = Σ_n,oh,ow dy[n,o,oh,ow]·x[n, grp·Cg + c, ih, iw]; db[o] = Σ_n,oh,ow dy[n,o,oh,ow].</summary>
    internal static (double[] Dw, double[] DwScale, double[] Db, double[] DbScale) NaiveBackwardParameters(double[] x, double[] dy, int batch, Conv2DGeometry g)
    {
        int C = g.Channels, H = g.Height, W = g.Width, O = g.OutChannels, OH = g.OutHeight, OW = g.OutWidth;
        int cg = C / g.Groups, og = O / g.Groups, kh = g.KernelHeight, kw = g.KernelWidth;
        var dw = new double[O * cg * kh * kw];
        var dwScale = new double[dw.Length];
        var db = new double[O];
        var dbScale = new double[O];
        for (int o = 0; o < O; o++)
            for (int c = 0; c < cg; c++)
                for (int i = 0; i < kh; i++)
                    for (int j = 0; j < kw; j++)
                    {
                        double s = 0, a = 0;
                        for (int n = 0; n < batch; n++)
                            for (int oh = 0; oh < OH; oh++)
                                for (int ow = 0; ow < OW; ow++)
                                {
                                    int ih = oh * g.StrideHeight - g.PadTop + i * g.DilationHeight;
                                    int iw = ow * g.StrideWidth - g.PadLeft + j * g.DilationWidth;
                                    if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                                    double t = dy[((n * O + o) * OH + oh) * OW + ow] * x[((n * C + o / og * cg + c) * H + ih) * W + iw];
                                    s += t;
                                    a += Math.Abs(t);
                                }
                        int at = ((o * cg + c) * kh + i) * kw + j;
                        dw[at] = s;
                        dwScale[at] = a;
                    }
        for (int o = 0; o < O; o++)
            for (int n = 0; n < batch; n++)
                for (int p = 0; p < OH * OW; p++)
                {
                    db[o] += dy[(n * O + o) * OH * OW + p];
                    dbScale[o] += Math.Abs(dy[(n * O + o) * OH * OW + p]);
                }
        return (dw, dwScale, db, dbScale);
    }

    // ---- generated geometries ---------------------------------------------------------------------------------------

    internal sealed record ConvCase(int Batch, int C, int O, int Groups, int H, int W, int Kh, int Kw, int Sh, int Sw,
        int Pt, int Pl, int Pb, int Pr, int Dh, int Dw, bool Bias, bool Relu, int Seed)
    {
        public Conv2DGeometry Geometry => new(C, H, W, O, Kh, Kw, Sh, Sw, Pt, Pl, Pb, Pr, Dh, Dw, Groups);

        public override string ToString() =>
            $"batch {Batch}, C {C}, O {O}, groups {Groups}, {H}×{W}, kernel {Kh}×{Kw}, stride {Sh}×{Sw}, pad t{Pt} l{Pl} b{Pb} r{Pr}, " +
            $"dilation {Dh}×{Dw}, bias {Bias}, relu {Relu}, seed {Seed}";
    }

    /// <summary>The input extent that gives about <paramref name="target"/> outputs (at least the smallest valid extent).</summary>
    private static int Extent(int target, int kernel, int stride, int dilation, int padA, int padB, int extra) =>
        Math.Max(Math.Max(1, dilation * (kernel - 1) + 1 - padA - padB), (target - 1) * stride + dilation * (kernel - 1) + 1 - padA - padB + extra % stride);

    /// <summary>
    /// Modes: 0 dense (groups 1), 1 groups 2, 2 depthwise (groups = C = O), 3 pointwise (1×1, stride 1, no padding,
    /// groups 1 or 2). Output heights 1–4 and widths 1–37 (1×1 often) give patch-matrix rows (OH·OW columns of the
    /// GEMM) below 4, below 8, below 16 and past 16 — the scalar, 256-bit and 512-bit paths for float and double, with and
    /// without a vector tail; K = C/groups·kh·kw ranges 1–100 and O/groups 1–20 likewise (the weight gradient's GEMM
    /// runs over one of them, whichever way it is laid out).
    /// </summary>
    internal static readonly Gen<ConvCase> Cases =
        from mode in Gen.Int[0, 3]
        from batch in Gen.Int[1, 4]
        from cPerGroup in Gen.Int[1, 4]
        from oPerGroup in Gen.OneOf(Gen.Int[1, 3], Gen.Int[4, 9], Gen.Int[10, 20])
        from depth in Gen.Int[1, 5]
        from kh in Gen.Int[1, 5]
        from kw in Gen.Int[1, 5]
        from sh in Gen.Int[1, 3]
        from sw in Gen.Int[1, 3]
        from pads in Gen.Int[0, 2].Array[4]
        from dh in Gen.Int[1, 2]
        from dw in Gen.Int[1, 2]
        from oh in Gen.OneOf(Gen.Const(1), Gen.Int[1, 4])
        from ow in Gen.OneOf(Gen.Const(1), Gen.Int[1, 3], Gen.Int[4, 7], Gen.Int[8, 16], Gen.Int[17, 37])
        from extraH in Gen.Int[0, 2]
        from extraW in Gen.Int[0, 2]
        from bias in Gen.Bool
        from relu in Gen.Bool
        from pointwiseGroups in Gen.Int[1, 2]
        from seed in Gen.Int[0, int.MaxValue]
        select Make(mode, batch, cPerGroup, oPerGroup, depth, kh, kw, sh, sw, pads, dh, dw, oh, ow, extraH, extraW, bias, relu, pointwiseGroups, seed);

    /// <summary>
    /// Shapes of the implicit-GEMM path (stride 1, one group, 8–20 input channels, square kernel 1–5 with padding, or
    /// dilation 1–2): the per-tap GEMMs over a zero-padded input, the output extended to the padded width and rounded to 16
    /// columns, and the accumulation across taps and samples.
    /// </summary>
    internal static readonly Gen<ConvCase> ImplicitCases =
        from batch in Gen.Int[1, 3]
        from c in Gen.Int[8, 20]
        from o in Gen.OneOf(Gen.Int[1, 3], Gen.Int[4, 17], Gen.Int[18, 40])
        from k in Gen.Int[1, 5]
        from pads in Gen.Int[0, 2].Array[4]
        from d in Gen.Int[1, 2]
        from oh in Gen.Int[1, 6]
        from ow in Gen.OneOf(Gen.Int[1, 7], Gen.Int[8, 20])
        from bias in Gen.Bool
        from relu in Gen.Bool
        from seed in Gen.Int[0, int.MaxValue]
        select Make(0, batch, c, o, 1, k, k, 1, 1, k == 1 && pads.All(p => p == 0) ? [1, 0, 0, 0] : pads, d, d, oh, ow, 0, 0, bias, relu, 1, seed);

    private static ConvCase Make(int mode, int batch, int cPerGroup, int oPerGroup, int depth, int kh, int kw, int sh, int sw, int[] pads,
        int dh, int dw, int oh, int ow, int extraH, int extraW, bool bias, bool relu, int pointwiseGroups, int seed)
    {
        int groups = mode switch { 0 => 1, 1 => 2, 2 => depth, _ => pointwiseGroups };
        int c = mode == 2 ? depth : groups * cPerGroup, o = mode == 2 ? depth : groups * oPerGroup;
        if (mode == 3) { kh = kw = sh = sw = 1; pads = [0, 0, 0, 0]; }
        int h = Extent(oh, kh, sh, dh, pads[0], pads[2], extraH), w = Extent(ow, kw, sw, dw, pads[1], pads[3], extraW);
        return new ConvCase(batch, c, o, groups, h, w, kh, kw, sh, sw, pads[0], pads[1], pads[2], pads[3], dh, dw, bias, relu, seed);
    }

    private static (double[] X, double[] W, double[] B, double[] Dy) Inputs<T>(ConvCase c, Conv2DGeometry g) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        var random = new Random(c.Seed);
        double[] x = SpatialTestSupport.RoundTo<T>(SpatialTestSupport.RandomArray(random, c.Batch * g.InputSize));
        double[] w = SpatialTestSupport.RoundTo<T>(SpatialTestSupport.RandomArray(random, g.WeightLength));
        double[] b = c.Bias ? SpatialTestSupport.RoundTo<T>(SpatialTestSupport.RandomArray(random, g.OutChannels)) : [];
        double[] dy = SpatialTestSupport.RoundTo<T>(SpatialTestSupport.RandomArray(random, c.Batch * g.OutputSize));
        return (x, w, b, dy);
    }

    private const int Sentinels = 3;

    /// <summary>The sentinel tail past a result (outputs must not be written past the geometry's length).</summary>
    private static void AssertSentinels<T>(T[] values, int length, T sentinel, string what) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        for (int i = length; i < values.Length; i++)
            Assert.True(values[i] == sentinel, $"{what}[{i}] past the end was overwritten");
    }

    private static void CheckForward<T>(ConvCase c) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        Conv2DGeometry g = c.Geometry;
        var (x, w, b, _) = Inputs<T>(c, g);
        var (expected, scale) = NaiveForward(x, w, b, c.Batch, g, c.Relu);
        T sentinel = T.CreateTruncating(12345.5);
        T[] y = SpatialTestSupport.Filled(c.Batch * g.OutputSize + Sentinels, T.NaN);
        y.AsSpan(c.Batch * g.OutputSize).Fill(sentinel);
        T[] scratch = SpatialTestSupport.Filled(g.ScratchLength, T.NaN); // the kernel must not read stale scratch
        if (c.Relu) Convolution.Forward<T, ReluOp<T>>(SpatialTestSupport.As<T>(x), SpatialTestSupport.As<T>(w), SpatialTestSupport.As<T>(b), y, scratch, c.Batch, g);
        else Convolution.Forward<T, IdentityOp<T>>(SpatialTestSupport.As<T>(x), SpatialTestSupport.As<T>(w), SpatialTestSupport.As<T>(b), y, scratch, c.Batch, g);
        SpatialTestSupport.AssertClose<T>(y, expected, scale, $"y ({c})");
        AssertSentinels(y, c.Batch * g.OutputSize, sentinel, "y");
    }

    private static void CheckBackward<T>(ConvCase c) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        Conv2DGeometry g = c.Geometry;
        var (x, w, _, dy) = Inputs<T>(c, g);
        T sentinel = T.CreateTruncating(-777.25);

        // Input gradient: overwritten (NaN beforehand), equal to the naive transposed loop.
        T[] dx = SpatialTestSupport.Filled(c.Batch * g.InputSize + Sentinels, T.NaN);
        dx.AsSpan(c.Batch * g.InputSize).Fill(sentinel);
        T[] scratch = SpatialTestSupport.Filled(g.ScratchLength, T.NaN);
        Convolution.BackwardInput<T>(SpatialTestSupport.As<T>(dy), SpatialTestSupport.As<T>(w), dx, scratch, c.Batch, g);
        var (dxExpected, dxScale) = NaiveBackwardInput(dy, w, c.Batch, g);
        SpatialTestSupport.AssertClose<T>(dx, dxExpected, dxScale, $"dx ({c})");
        AssertSentinels(dx, c.Batch * g.InputSize, sentinel, "dx");

        // Adjoint identity ⟨conv(x), dy⟩ = ⟨x, convᵀ(dy)⟩: the left side from the naive forward, the right from the kernel.
        var (y, yScale) = NaiveForward(x, w, [], c.Batch, g);
        double lhs = 0, bound = 0;
        for (int i = 0; i < y.Length; i++) { lhs += y[i] * dy[i]; bound += yScale[i] * Math.Abs(dy[i]); }
        double rhs = 0;
        for (int i = 0; i < x.Length; i++) rhs += x[i] * double.CreateTruncating(dx[i]);
        Assert.True(Math.Abs(lhs - rhs) <= 2 * SpatialTestSupport.Tolerance<T>() * bound + 1e-300,
            $"⟨conv(x), dy⟩ = {lhs:R} but ⟨x, convᵀ(dy)⟩ = {rhs:R} ({c})");

        // Parameter gradients: overwritten (NaN beforehand), with and without the bias gradient.
        T[] dw = SpatialTestSupport.Filled(g.WeightLength, T.NaN);
        T[] db = c.Bias ? SpatialTestSupport.Filled(g.OutChannels, T.NaN) : [];
        Array.Fill(scratch, T.NaN);
        Convolution.BackwardParameters<T>(SpatialTestSupport.As<T>(x), SpatialTestSupport.As<T>(dy), dw, db, scratch, c.Batch, g);
        var (dwExpected, dwScale, dbExpected, dbScale) = NaiveBackwardParameters(x, dy, c.Batch, g);
        SpatialTestSupport.AssertClose<T>(dw, dwExpected, dwScale, $"dW ({c})");
        if (c.Bias) SpatialTestSupport.AssertClose<T>(db, dbExpected, dbScale, $"db ({c})");
    }

    [Fact]
    public void Forward_matches_the_naive_loop_in_float() => Cases.Sample(CheckForward<float>, iter: 250);

    [Fact]
    public void Implicit_gemm_path_matches_the_naive_loops()
    {
        ImplicitCases.Sample(c => Assert.True(c.Geometry.IsImplicit, c.ToString()), iter: 50);
        ImplicitCases.Sample(c => { CheckForward<float>(c); CheckBackward<float>(c); }, iter: 60);
        ImplicitCases.Sample(c => { CheckForward<double>(c); CheckBackward<double>(c); }, iter: 60);
    }

    [Fact]
    public void Forward_matches_the_naive_loop_in_double() => Cases.Sample(CheckForward<double>, iter: 250);

    [Fact]
    public void Backward_matches_the_naive_loops_in_float() => Cases.Sample(CheckBackward<float>, iter: 250);

    [Fact]
    public void Backward_matches_the_naive_loops_in_double() => Cases.Sample(CheckBackward<double>, iter: 250);

    /// <summary>Every path by name: pointwise, depthwise, groups, dilation, 1×1 outputs, rows past 16 with tails.</summary>
    public static TheoryData<string> Shapes => new()
    {
        // "batch C H W O kh kw sh sw pt pl pb pr dilation groups"
        "2 3 5 19 4 1 1 1 1 0 0 0 0 1 1", // pointwise, 95 columns
        "3 4 3 3 6 1 1 1 1 0 0 0 0 1 2", // pointwise, groups 2, 9 columns
        "2 5 7 9 5 3 3 1 1 1 1 1 1 1 5", // depthwise 3×3
        "1 3 11 11 3 5 5 2 2 2 2 2 2 1 3", // depthwise 5×5 stride 2
        "2 2 6 40 3 3 2 1 1 0 1 2 0 2 1", // dilated, asymmetric pad, wide rows
        "4 2 3 4 3 3 4 1 1 0 0 0 0 1 1", // 1×1 output
        "1 1 1 1 1 1 1 1 1 0 0 0 0 1 1", // the smallest convolution
        "2 2 4 4 2 1 1 1 1 2 2 2 2 1 1", // 1×1 with padding wider than the kernel: border outputs see only padding
        "2 6 5 17 4 2 3 3 3 1 0 1 2 2 2", // groups 2, stride 3, dilation 2
        "3 2 4 33 4 3 3 1 1 1 1 1 1 1 1", // K = 18, OW = 33: vector tails in dW and y
        "2 1 5 5 2 3 3 1 1 1 1 1 1 1 1", // K = 9: dW columns between 8 and 16
        "2 3 4 6 17 3 3 1 1 1 1 1 1 1 1", // O = 17: one 512-bit float vector plus a tail
        "3 2 5 5 9 2 2 1 1 0 0 1 1 1 1", // O = 9, K = 8
        "2 4 4 5 40 1 1 1 1 0 0 0 0 1 2", // pointwise, 20 outputs per group
        "1 2 17 19 5 3 3 1 1 1 1 1 1 1 1", // 323 columns, 4 + 1 rows: the single-row GEMM at its widest
        "2 3 20 20 3 3 3 1 1 1 1 1 1 1 3", // depthwise, 400 columns, one row per group
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Named_shapes_match_the_naive_loops(string shape)
    {
        int[] v = shape.Split(' ').Select(int.Parse).ToArray();
        foreach (bool bias in new[] { true, false })
        {
            var cc = new ConvCase(v[0], v[1], v[4], v[14], v[2], v[3], v[5], v[6], v[7], v[8], v[9], v[10], v[11], v[12], v[13], v[13], bias, !bias, 17 + v[2] * v[3]);
            CheckForward<float>(cc); CheckForward<double>(cc);
            CheckBackward<float>(cc); CheckBackward<double>(cc);
        }
    }

    /// <summary>
    /// Central differences in double of L = Σ r·sin(conv(x, w) + b), through the kernels' Forward, against the
    /// kernels' gradients with dy = r·cos(y) — at a few coordinates of x, w and b.
    /// </summary>
    [Fact]
    public void Gradients_match_central_differences() =>
        Cases.Sample(c =>
        {
            c = c with { Bias = true, Relu = false };
            Conv2DGeometry g = c.Geometry;
            var (x, w, b, r) = Inputs<double>(c, g);
            double[] scratch = new double[g.ScratchLength];
            double[] y = new double[c.Batch * g.OutputSize];
            double Loss(double[] xs, double[] ws, double[] bs)
            {
                Convolution.Forward<double, IdentityOp<double>>(xs, ws, bs, y, scratch, c.Batch, g);
                double l = 0;
                for (int i = 0; i < y.Length; i++) l += r[i] * Math.Sin(y[i]);
                return l;
            }
            Loss(x, w, b);
            double[] dy = y.Select((v, i) => r[i] * Math.Cos(v)).ToArray();
            double[] dx = new double[x.Length], dw = new double[w.Length], db = new double[b.Length];
            Convolution.BackwardInput<double>(dy, w, dx, scratch, c.Batch, g);
            Convolution.BackwardParameters<double>(x, dy, dw, db, scratch, c.Batch, g);
            var random = new Random(c.Seed ^ 0x5bd1e995);
            const double h = 1e-5;
            void Check(double[] values, double[] gradient, string name, int count)
            {
                for (int k = 0; k < count; k++)
                {
                    int at = random.Next(values.Length);
                    double keep = values[at];
                    values[at] = keep + h; double plus = Loss(x, w, b);
                    values[at] = keep - h; double minus = Loss(x, w, b);
                    values[at] = keep;
                    double numeric = (plus - minus) / (2 * h);
                    Assert.True(Math.Abs(numeric - gradient[at]) <= 1e-6 * (1 + Math.Abs(numeric)),
                        $"∂L/∂{name}[{at}]: kernel {gradient[at]:R}, central difference {numeric:R} ({c})");
                }
            }
            Check(x, dx, "x", 4);
            Check(w, dw, "w", 4);
            Check(b, db, "b", 2);
        }, iter: 40);

    [Fact]
    public void Pytorch_goldens_match()
    {
        JsonElement[] cases = SpatialTestSupport.Goldens("conv");
        Assert.NotEmpty(cases);
        foreach (JsonElement e in cases)
        {
            string name = e.GetProperty("name").GetString()!;
            int batch = e.Int("batch");
            var g = new Conv2DGeometry(e.Int("channels"), e.Int("height"), e.Int("width"), e.Int("outChannels"), e.Int("kernelHeight"), e.Int("kernelWidth"),
                e.Int("strideHeight"), e.Int("strideWidth"), e.Int("padTop"), e.Int("padLeft"), e.Int("padBottom"), e.Int("padRight"),
                e.Int("dilationHeight"), e.Int("dilationWidth"), e.Int("groups"));
            Assert.Equal(e.Int("outHeight"), g.OutHeight);
            Assert.Equal(e.Int("outWidth"), g.OutWidth);
            double[] x = e.Doubles("x"), w = e.Doubles("weights"), b = e.Doubles("bias"), dy = e.Doubles("dy");
            double[] scratch = new double[g.ScratchLength];
            double[] y = new double[batch * g.OutputSize];
            Convolution.Forward<double, IdentityOp<double>>(x, w, b, y, scratch, batch, g);
            SpatialTestSupport.AssertNear(y, e.Doubles("y"), 1e-10, $"{name}: y");
            double[] dx = new double[x.Length];
            Convolution.BackwardInput<double>(dy, w, dx, scratch, batch, g);
            SpatialTestSupport.AssertNear(dx, e.Doubles("dx"), 1e-10, $"{name}: dx");
            double[] dw = new double[w.Length], db = new double[b.Length];
            Convolution.BackwardParameters<double>(x, dy, dw, db, scratch, batch, g);
            SpatialTestSupport.AssertNear(dw, e.Doubles("dWeights"), 1e-10, $"{name}: dW");
            SpatialTestSupport.AssertNear(db, e.Doubles("dBias"), 1e-10, $"{name}: db");
        }
    }

    [Fact]
    public void Geometry_reports_pytorch_shapes()
    {
        // nn.Conv2d(3, 8, (3, 5), stride=(2, 1), padding=(1, 2), dilation=(1, 2)) on 10×12: OH = ⌊(10 + 2 − 2 − 1)/2⌋ + 1 = 5,
        // OW = ⌊(12 + 4 − 8 − 1)/1⌋ + 1 = 8.
        var g = new Conv2DGeometry(3, 10, 12, 8, 3, 5, 2, 1, 1, 2, 1, 2, 1, 2);
        Assert.Equal(5, g.OutHeight);
        Assert.Equal(8, g.OutWidth);
        Assert.Equal(3 * 10 * 12, g.InputSize);
        Assert.Equal(8 * 5 * 8, g.OutputSize);
        Assert.Equal(8 * 3 * 3 * 5, g.WeightLength);
        Assert.Equal(3 * 3 * 5, g.PatchSize);
        Assert.False(g.IsPointwise);
        var depthwise = new Conv2DGeometry(6, 4, 4, 6, 3, 3, padTop: 1, padLeft: 1, padBottom: 1, padRight: 1, groups: 6);
        Assert.Equal(6 * 9, depthwise.WeightLength);
        Assert.Equal(9, depthwise.PatchSize);
        Assert.True(new Conv2DGeometry(4, 3, 3, 2, 1, 1).IsPointwise);
        // Asymmetric padding: top 0, bottom 2 on height 4 with a 3-tall kernel and stride 2 → ⌊(4 + 2 − 3)/2⌋ + 1 = 2.
        Assert.Equal(2, new Conv2DGeometry(1, 4, 4, 1, 3, 3, 2, 2, 0, 0, 2, 0).OutHeight);
    }

    // ---- validation -------------------------------------------------------------------------------------------------

    [Fact]
    public void Invalid_geometries_throw_ArgumentOutOfRange()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new Conv2DGeometry(1, 3, 3, 1, 4, 1));                          // kernel taller than the input
        Assert.Throws<ArgumentOutOfRangeException>(() => new Conv2DGeometry(1, 3, 3, 1, 1, 6, padLeft: 1, padRight: 1)); // wider than the padded input
        Assert.Throws<ArgumentOutOfRangeException>(() => new Conv2DGeometry(1, 5, 5, 1, 3, 3, dilationHeight: 3));     // dilated extent 7 > 5
        Assert.Throws<ArgumentOutOfRangeException>(() => new Conv2DGeometry(3, 5, 5, 4, 3, 3, groups: 2));             // groups ∤ C
        Assert.Throws<ArgumentOutOfRangeException>(() => new Conv2DGeometry(4, 5, 5, 3, 3, 3, groups: 2));             // groups ∤ O
        Assert.Throws<ArgumentOutOfRangeException>(() => new Conv2DGeometry(2, 5, 5, 2, 3, 3, padTop: -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Conv2DGeometry(2, 5, 5, 2, 3, 3, padRight: -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Conv2DGeometry(2, 5, 5, 2, 3, 3, strideHeight: 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Conv2DGeometry(2, 5, 5, 2, 3, 3, dilationWidth: 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Conv2DGeometry(0, 5, 5, 2, 3, 3));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Conv2DGeometry(2, 5, 5, 2, 0, 3));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Conv2DGeometry(2, 5, 5, 2, 3, 3, groups: 0));
        // Fits exactly: no throw.
        _ = new Conv2DGeometry(1, 3, 3, 1, 5, 5, padTop: 1, padLeft: 1, padBottom: 1, padRight: 1);
    }

    [Fact]
    public void Short_spans_throw_ArgumentException()
    {
        var g = new Conv2DGeometry(2, 4, 5, 3, 3, 3, padTop: 1, padLeft: 1, padBottom: 1, padRight: 1);
        const int batch = 2;
        var x = new float[batch * g.InputSize];
        var w = new float[g.WeightLength];
        var b = new float[g.OutChannels];
        var y = new float[batch * g.OutputSize];
        var s = new float[g.ScratchLength];
        var dx = new float[batch * g.InputSize];
        var dw = new float[g.WeightLength];
        var db = new float[g.OutChannels];
        Assert.Throws<ArgumentException>(() => Convolution.Forward<float, IdentityOp<float>>(x.AsSpan(1), w, b, y, s, batch, g));
        Assert.Throws<ArgumentException>(() => Convolution.Forward<float, IdentityOp<float>>(x, w.AsSpan(1), b, y, s, batch, g));
        Assert.Throws<ArgumentException>(() => Convolution.Forward<float, IdentityOp<float>>(x, w, b.AsSpan(1), y, s, batch, g));
        Assert.Throws<ArgumentException>(() => Convolution.Forward<float, IdentityOp<float>>(x, w, b, y.AsSpan(1), s, batch, g));
        Assert.Throws<ArgumentException>(() => Convolution.Forward<float, IdentityOp<float>>(x, w, b, y, s.AsSpan(1), batch, g));
        Assert.Throws<ArgumentException>(() => Convolution.BackwardParameters<float>(x.AsSpan(1), y, dw, db, s, batch, g));
        Assert.Throws<ArgumentException>(() => Convolution.BackwardParameters<float>(x, y.AsSpan(1), dw, db, s, batch, g));
        Assert.Throws<ArgumentException>(() => Convolution.BackwardParameters<float>(x, y, dw.AsSpan(1), db, s, batch, g));
        Assert.Throws<ArgumentException>(() => Convolution.BackwardParameters<float>(x, y, dw, db.AsSpan(1), s, batch, g));
        Assert.Throws<ArgumentException>(() => Convolution.BackwardParameters<float>(x, y, dw, db, s.AsSpan(1), batch, g));
        Assert.Throws<ArgumentException>(() => Convolution.BackwardInput<float>(y.AsSpan(1), w, dx, s, batch, g));
        Assert.Throws<ArgumentException>(() => Convolution.BackwardInput<float>(y, w.AsSpan(1), dx, s, batch, g));
        Assert.Throws<ArgumentException>(() => Convolution.BackwardInput<float>(y, w, dx.AsSpan(1), s, batch, g));
        Assert.Throws<ArgumentException>(() => Convolution.BackwardInput<float>(y, w, dx, s.AsSpan(1), batch, g));
        Assert.Throws<ArgumentOutOfRangeException>(() => Convolution.Forward<float, IdentityOp<float>>(x, w, b, y, s, 0, g));
        // A batch larger than the spans hold.
        Assert.Throws<ArgumentException>(() => Convolution.Forward<float, IdentityOp<float>>(x, w, b, y, s, batch + 1, g));
    }

    // ---- allocation -------------------------------------------------------------------------------------------------

    [Fact]
    public void Warm_calls_allocate_nothing()
    {
        var g = new Conv2DGeometry(4, 9, 11, 6, 3, 3, 1, 2, 1, 1, 1, 1, 1, 1, 2);
        var pw = new Conv2DGeometry(4, 5, 7, 3, 1, 1);
        const int batch = 3;
        var x = new float[batch * g.InputSize];
        var w = new float[g.WeightLength];
        var b = new float[g.OutChannels];
        var y = new float[batch * g.OutputSize];
        var s = new float[g.ScratchLength];
        var dx = new float[batch * g.InputSize];
        var dw = new float[g.WeightLength];
        var db = new float[g.OutChannels];
        var xd = new double[batch * pw.InputSize];
        var wd = new double[pw.WeightLength];
        var yd = new double[batch * pw.OutputSize];
        var sd = new double[Math.Max(1, pw.ScratchLength)];
        var dxd = new double[batch * pw.InputSize];
        var dwd = new double[pw.WeightLength];
        var random = new Random(3);
        for (int i = 0; i < x.Length; i++) x[i] = (float)random.NextDouble();
        for (int i = 0; i < w.Length; i++) w[i] = (float)random.NextDouble();

        void HotCalls()
        {
            Convolution.Forward<float, ReluOp<float>>(x, w, b, y, s, batch, g);
            Convolution.BackwardParameters<float>(x, y, dw, db, s, batch, g);
            Convolution.BackwardInput<float>(y, w, dx, s, batch, g);
            Convolution.Forward<double, IdentityOp<double>>(xd, wd, ReadOnlySpan<double>.Empty, yd, sd, batch, pw);
            Convolution.BackwardParameters<double>(xd, yd, dwd, Span<double>.Empty, sd, batch, pw);
            Convolution.BackwardInput<double>(yd, wd, dxd, sd, batch, pw);
        }

        HotLoop.WarmUp(HotCalls);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 10; i++) HotCalls();
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
