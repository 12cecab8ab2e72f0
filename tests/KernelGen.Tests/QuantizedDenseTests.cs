using System;
using System.Linq;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;
using KernelGen.Kernels;
using KernelGen.Operators;
using Xunit;

namespace KernelGen.Tests;

/// <summary>
/// The reduced-precision dense kernels (<see cref="QuantizedDense"/>): the packed weights against their float values,
/// every vector path (512, 256 bits, scalar; AVX-VNNI and the scalar integer loop) instantiated directly and against a
/// scalar reference written here, batch and thread invariance, and validation of every span before the unsafe loops.
/// CI reruns this class with DOTNET_EnableAVX512=0, DOTNET_EnableAVX2=0 and DOTNET_EnableHWIntrinsic=0, so the public
/// entry points take each path too.
/// </summary>
[Collection(KernelParallelismCollection.Name)]
public class QuantizedDenseTests
{
    public static TheoryData<int> Batches => new() { 1, 2, 3, 4, 5, 7, 9 };

    /// <summary>(nIn, nOut): tiny, an odd tail, one group, partial groups, whole groups, a wide layer, a ragged one.</summary>
    private static readonly (int NIn, int NOut)[] Shapes = [(1, 1), (3, 5), (7, 10), (9, 32), (33, 37), (17, 77), (40, 256), (13, 300)];

    private static float[] Random(int n, int seed, double scale = 1)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => (float)((2 * random.NextDouble() - 1) * scale)).ToArray();
    }

    private static void AssertBitIdentical(ReadOnlySpan<float> actual, ReadOnlySpan<float> expected, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            if (BitConverter.SingleToInt32Bits(actual[i]) != BitConverter.SingleToInt32Bits(expected[i]))
                Assert.Fail($"{what}: element {i} is {actual[i]:R}, expected {expected[i]:R}");
    }

    // ---- bfloat16 ---------------------------------------------------------------------------------------------------

    private static uint[] PackBFloat16(float[] w, int nIn, int nOut)
    {
        var packed = new uint[QuantizedDense.BFloat16Words(nIn, nOut)];
        QuantizedDense.PackBFloat16(w, packed, nIn, nOut);
        return packed;
    }

    [Fact]
    public void BFloat16_weights_are_within_half_a_bfloat16_step()
    {
        foreach (var (nIn, nOut) in Shapes)
        {
            float[] w = Random(nIn * nOut, nIn + nOut, 3);
            // Zeros, tiny values (which would decode to denormals), powers of two and large values in both halves.
            for (int i = 0; i < w.Length; i += 7) w[i] = 0;
            for (int i = 3; i < w.Length; i += 11) w[i] = 1e-30f * (i % 2 == 0 ? 1 : -1);
            for (int i = 5; i < w.Length; i += 13) w[i] = MathF.ScaleB(1, i % 40 - 20);
            for (int i = 9; i < w.Length; i += 17) w[i] = -3e37f;
            uint[] packed = PackBFloat16(w, nIn, nOut);
            for (int k = 0; k < nIn; k++)
                for (int j = 0; j < nOut; j++)
                {
                    float value = w[k * nOut + j], decoded = QuantizedDense.BFloat16Weight(packed, nIn, nOut, k, j);
                    Assert.True(float.IsNormal(decoded) || decoded == 0, $"[{k}, {j}] decodes to the denormal {decoded:R}");
                    double bound = Math.Abs(value) < 8.7e-19 ? 1e-18 : Math.ScaleB(Math.Abs((double)value), -8) * 1.0000001; // half a step: at most 2^-8 of the magnitude
                    Assert.True(Math.Abs((double)decoded - value) <= bound, $"[{k}, {j}] {value:R} decodes to {decoded:R}");
                    if (j % 32 < 16 && Math.Abs(value) >= 8.7e-19)
                        Assert.Equal(BitConverter.SingleToUInt32Bits((float)(BFloat16Reference(value))), BitConverter.SingleToUInt32Bits(decoded));
                }
        }

        // Round to nearest even, as a float with 8 significant bits.
        static double BFloat16Reference(float value)
        {
            uint bits = BitConverter.SingleToUInt32Bits(value);
            return BitConverter.UInt32BitsToSingle((bits + 0x7FFF + (bits >> 16 & 1)) & 0xFFFF0000u);
        }
    }

    /// <summary>y = f(b + Σ x·w) in double from the decoded weights: the kernels' sums differ from it by float rounding only.</summary>
    private static void AssertBFloat16Close(float[] actual, float[] x, uint[] packed, float[] b, int batch, int nIn, int nOut, bool relu, string what)
    {
        for (int r = 0; r < batch; r++)
            for (int j = 0; j < nOut; j++)
            {
                double s = 0, scale = Math.Abs(b[j]);
                for (int k = 0; k < nIn; k++)
                {
                    double t = (double)x[r * nIn + k] * QuantizedDense.BFloat16Weight(packed, nIn, nOut, k, j);
                    s += t;
                    scale += Math.Abs(t);
                }
                s += b[j];
                double expected = relu ? Math.Max(0, s) : s;
                double bound = (nIn + 3) * Math.ScaleB(1, -24) * scale + 1e-30;
                Assert.True(Math.Abs(actual[r * nOut + j] - expected) <= bound, $"{what} [{r}, {j}]: {actual[r * nOut + j]:R} vs {expected:R} (bound {bound:G3})");
            }
    }

    private delegate void Core(ref float x, ref uint w, ref float b, ref float y, int batch, int nIn, int nOut, int m0, int m1);

    private static readonly (string Name, Core Relu, Core Identity)[] BFloat16Widths =
    [
        ("512", QuantizedDense.ForwardBFloat16Core<float, ReluOp<float>, Simd512<float>>, QuantizedDense.ForwardBFloat16Core<float, IdentityOp<float>, Simd512<float>>),
        ("256", QuantizedDense.ForwardBFloat16Core<float, ReluOp<float>, Simd256<float>>, QuantizedDense.ForwardBFloat16Core<float, IdentityOp<float>, Simd256<float>>),
        ("scalar", QuantizedDense.ForwardBFloat16Core<float, ReluOp<float>, SimdScalar<float>>, QuantizedDense.ForwardBFloat16Core<float, IdentityOp<float>, SimdScalar<float>>),
    ];

    [Theory]
    [MemberData(nameof(Batches))]
    public void BFloat16_every_width_matches_the_reference_and_each_other_bit_for_bit(int batch)
    {
        foreach (var (nIn, nOut) in Shapes)
        {
            float[] x = Random(batch * nIn, 1 + nIn), w = Random(nIn * nOut, 2 + nOut), b = Random(nOut, 3);
            uint[] packed = PackBFloat16(w, nIn, nOut);
            int words = QuantizedDense.BFloat16Columns(nOut) / 2;
            float[]? first = null;
            foreach (var (name, relu, identity) in BFloat16Widths)
            {
                // The direct instantiations run whatever the CPU accelerates (software vectors otherwise).
                foreach (bool isRelu in new[] { true, false })
                {
                    var y = new float[batch * nOut + 5]; // the kernels must not write past batch × nOut
                    (isRelu ? relu : identity)(ref x[0], ref packed[0], ref b[0], ref y[0], batch, nIn, nOut, 0, words);
                    Assert.All(y[(batch * nOut)..], v => Assert.Equal(0f, v));
                    float[] result = y[..(batch * nOut)];
                    AssertBFloat16Close(result, x, packed, b, batch, nIn, nOut, isRelu, $"{name} {nIn}→{nOut} batch {batch}");
                    if (!isRelu) continue;
                    if (first is null) first = result;
                    else AssertBitIdentical(result, first, $"{name} vs 512 {nIn}→{nOut} batch {batch}");
                }
            }
            // The public entry point, and every row on its own (a row's result does not depend on the batch).
            var all = new float[batch * nOut];
            QuantizedDense.ForwardBFloat16<ReluOp<float>>(x, packed, b, all, batch, nIn, nOut);
            AssertBitIdentical(all, first!, $"public {nIn}→{nOut} batch {batch}");
            for (int r = 0; r < batch; r++)
            {
                var row = new float[nOut];
                QuantizedDense.ForwardBFloat16<ReluOp<float>>(x.AsSpan(r * nIn, nIn), packed, b, row, 1, nIn, nOut);
                AssertBitIdentical(row, all.AsSpan(r * nOut, nOut), $"row {r} alone {nIn}→{nOut}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Batches))]
    public void BFloat16_forward_is_within_the_formats_bound_of_the_float_weights(int batch)
    {
        // Against the original float weights: each decoded weight is within 2⁻⁸·|w| (half a step of bfloat16's 8
        // significant bits), so |y − Σ x·w − b| ≤ 2⁻⁸·Σ|x·w| plus the float rounding of an n-term FMA chain.
        foreach (var (nIn, nOut) in Shapes)
        {
            float[] x = Random(batch * nIn, 20 + nIn, 4), w = Random(nIn * nOut, 21 + nOut, 0.5), b = Random(nOut, 22);
            uint[] packed = PackBFloat16(w, nIn, nOut);
            var y = new float[batch * nOut];
            QuantizedDense.ForwardBFloat16<IdentityOp<float>>(x, packed, b, y, batch, nIn, nOut);
            bool differs = false;
            for (int r = 0; r < batch; r++)
                for (int j = 0; j < nOut; j++)
                {
                    double exact = b[j], magnitude = 0;
                    for (int k = 0; k < nIn; k++)
                    {
                        exact += (double)x[r * nIn + k] * w[k * nOut + j];
                        magnitude += Math.Abs((double)x[r * nIn + k] * w[k * nOut + j]);
                    }
                    double bound = Math.ScaleB(magnitude, -8) + (nIn + 3) * Math.ScaleB(magnitude * (1 + Math.ScaleB(1, -8)) + Math.Abs(b[j]), -24);
                    double error = Math.Abs(y[r * nOut + j] - exact);
                    Assert.True(error <= bound, $"{nIn}→{nOut} [{r}, {j}]: {y[r * nOut + j]:R} vs {exact:R} (bound {bound:G3})");
                    differs |= error > Math.ScaleB(magnitude, -20);
                }
            if (nIn * nOut > 16) Assert.True(differs, $"{nIn}→{nOut}: no output shows the weights' rounding");
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void BFloat16_two_threads_are_bit_identical(int batch)
    {
        const int nIn = 784, nOut = 300; // 470 KB of words: split
        float[] x = Random(batch * nIn, 4), w = Random(nIn * nOut, 5), b = Random(nOut, 6);
        uint[] packed = PackBFloat16(w, nIn, nOut);
        float[] one = new float[batch * nOut], two = new float[batch * nOut];
        QuantizedDense.ForwardBFloat16<TanhOp<float>>(x, packed, b, one, batch, nIn, nOut);
        KernelParallelism.DegreeOfParallelism = 2;
        try
        {
            long splits = KernelParallelism.SplitCalls;
            for (int i = 0; i < 10; i++)
            {
                QuantizedDense.ForwardBFloat16<TanhOp<float>>(x, packed, b, two, batch, nIn, nOut);
                AssertBitIdentical(two, one, $"two threads batch {batch}");
            }
            Assert.Equal(splits + 10, KernelParallelism.SplitCalls);
        }
        finally
        {
            KernelParallelism.DegreeOfParallelism = 1;
        }
    }

    // ---- int8 --------------------------------------------------------------------------------------------------------

    private static (sbyte[] Packed, float[] Scales, float[] Sums) PackInt8(float[] w, int nIn, int nOut)
    {
        var packed = new sbyte[QuantizedDense.Int8Bytes(nIn, nOut)];
        var scales = new float[QuantizedDense.Int8Columns(nOut)];
        var sums = new float[scales.Length];
        QuantizedDense.PackInt8(w, packed, scales, sums, nIn, nOut);
        return (packed, scales, sums);
    }

    [Fact]
    public void Int8_weights_are_within_half_a_step_of_their_column_scale()
    {
        foreach (var (nIn, nOut) in Shapes)
        {
            float[] w = Random(nIn * nOut, 7 + nIn, 2);
            if (nOut > 1) for (int k = 0; k < nIn; k++) w[k * nOut + 1] = 0; // a column of zeros: scale 0
            var (packed, scales, sums) = PackInt8(w, nIn, nOut);
            for (int j = 0; j < nOut; j++)
            {
                float largest = 0;
                for (int k = 0; k < nIn; k++) largest = MathF.Max(largest, MathF.Abs(w[k * nOut + j]));
                Assert.Equal(largest / 127, scales[j]);
                int sum = 0;
                for (int k = 0; k < nIn; k++)
                {
                    float decoded = QuantizedDense.Int8Weight(packed, scales, nIn, nOut, k, j);
                    Assert.True(Math.Abs(decoded - w[k * nOut + j]) <= 0.5001 * scales[j] + 1e-30, $"[{k}, {j}] {w[k * nOut + j]} → {decoded}");
                    sum += scales[j] == 0 ? 0 : (int)MathF.Round(decoded / scales[j]);
                }
                Assert.Equal(sum, sums[j]);
            }
        }
    }

    /// <summary>The int8 forward pass written out: the same quantization, exact integer sums, the same float steps.</summary>
    private static float[] Int8Reference(float[] x, sbyte[] packed, float[] scales, float[] sums, float[] b, int batch, int nIn, int nOut, bool relu)
    {
        var y = new float[batch * nOut];
        int p = QuantizedDense.Int8Columns(nOut);
        for (int r = 0; r < batch; r++)
        {
            float[] row = x[(r * nIn)..((r + 1) * nIn)];
            float min = row.Min(), max = row.Max(), s = (max - min) / 255f;
            if (!float.IsNormal(s)) s = 1f;
            float inverse = 1f / s;
            int[] a = row.Select(v => (int)MathF.Min(MathF.Max(MathF.Round((v - min) * inverse), 0f), 255f)).ToArray();
            for (int j = 0; j < nOut; j++)
            {
                int acc = 0;
                for (int k = 0; k < nIn; k++) acc += a[k] * packed[(k / 4 * p + j) * 4 + k % 4];
                float z = scales[j] * MathF.FusedMultiplyAdd(min, sums[j], s * acc) + b[j];
                y[r * nOut + j] = relu ? MathF.Max(z, 0) : z;
            }
        }
        return y;
    }

    private delegate void Int8Core(ref byte a, ref sbyte w, ref float scales, ref float sums, ref float b, ref float y, ref float rowScales,
        int batch, int nIn, int nOut, int j0, int j1);

    [Theory]
    [MemberData(nameof(Batches))]
    public void Int8_every_path_matches_the_reference_bit_for_bit(int batch)
    {
        foreach (var (nIn, nOut) in Shapes)
        {
            float[] x = Random(batch * nIn, 8 + nIn, 3), w = Random(nIn * nOut, 9 + nOut), b = Random(nOut, 10);
            if (batch > 1) Array.Fill(x, 0.25f, nIn, nIn); // a constant row (scale 1, every activation 0)
            var (packed, scales, sums) = PackInt8(w, nIn, nOut);
            float[] expected = Int8Reference(x, packed, scales, sums, b, batch, nIn, nOut, relu: true);
            var y = new float[batch * nOut + 3];
            var scratch = new byte[QuantizedDense.Int8ScratchBytes(batch, nIn)];
            QuantizedDense.ForwardInt8<ReluOp<float>>(x, packed, scales, sums, b, y, scratch, batch, nIn, nOut);
            Assert.All(y[(batch * nOut)..], v => Assert.Equal(0f, v));
            AssertBitIdentical(y[..(batch * nOut)], expected, $"public {nIn}→{nOut} batch {batch}");

            // Each path on the activations the public call quantized into the scratch.
            int kPad = QuantizedDense.Int8Inputs(nIn), p = QuantizedDense.Int8Columns(nOut);
            float[] rowScales = MemoryMarshal.Cast<byte, float>(scratch.AsSpan(batch * kPad, batch * 8)).ToArray();
            foreach (var (name, core) in new (string, Int8Core)[]
            {
                ("scalar", QuantizedDense.ForwardInt8Scalar<float, ReluOp<float>>),
                ("avx-vnni", QuantizedDense.ForwardInt8Vnni<float, ReluOp<float>>),
            })
            {
                if (name == "avx-vnni" && !AvxVnni.IsSupported) continue;
                var z = new float[batch * nOut + 3];
                core(ref scratch[0], ref packed[0], ref scales[0], ref sums[0], ref b[0], ref z[0], ref rowScales[0], batch, nIn, nOut, 0, p);
                Assert.All(z[(batch * nOut)..], v => Assert.Equal(0f, v));
                AssertBitIdentical(z[..(batch * nOut)], expected, $"{name} {nIn}→{nOut} batch {batch}");
            }

            // Within the quantization error of the float product: |Σ x·w − Σ x̂·ŵ| ≤ Σ (|x|·s_j/2 + |w|·s/2 + s·s_j/4).
            for (int r = 0; r < batch; r++)
            {
                float[] row = x[(r * nIn)..((r + 1) * nIn)];
                double s = (row.Max() - row.Min()) / 255.0;
                for (int j = 0; j < nOut; j++)
                {
                    double exact = b[j], bound = 1e-5;
                    for (int k = 0; k < nIn; k++)
                    {
                        exact += (double)row[k] * w[k * nOut + j];
                        bound += Math.Abs(row[k]) * scales[j] / 2 + Math.Abs(w[k * nOut + j]) * s / 2 + s * scales[j] / 4;
                    }
                    Assert.True(Math.Abs(y[r * nOut + j] - Math.Max(0, exact)) <= bound * 1.01, $"[{r}, {j}] {y[r * nOut + j]} vs {exact} (bound {bound})");
                }
            }
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(5)]
    public void Int8_two_threads_are_bit_identical(int batch)
    {
        const int nIn = 784, nOut = 300; // 235 KB: split
        float[] x = Random(batch * nIn, 11), w = Random(nIn * nOut, 12), b = Random(nOut, 13);
        var (packed, scales, sums) = PackInt8(w, nIn, nOut);
        var scratch = new byte[QuantizedDense.Int8ScratchBytes(batch, nIn)];
        float[] one = new float[batch * nOut], two = new float[batch * nOut];
        QuantizedDense.ForwardInt8<ReluOp<float>>(x, packed, scales, sums, b, one, scratch, batch, nIn, nOut);
        KernelParallelism.DegreeOfParallelism = 2;
        try
        {
            long splits = KernelParallelism.SplitCalls;
            for (int i = 0; i < 10; i++)
            {
                QuantizedDense.ForwardInt8<ReluOp<float>>(x, packed, scales, sums, b, two, scratch, batch, nIn, nOut);
                AssertBitIdentical(two, one, $"two threads batch {batch}");
            }
            Assert.Equal(splits + 10, KernelParallelism.SplitCalls);
        }
        finally
        {
            KernelParallelism.DegreeOfParallelism = 1;
        }
    }

    // ---- validation -------------------------------------------------------------------------------------------------

    [Fact]
    public void Out_of_range_spans_and_sizes_throw_before_anything_is_written()
    {
        const int batch = 3, nIn = 5, nOut = 17;
        float[] x = new float[batch * nIn], w = new float[nIn * nOut], b = new float[nOut], y = new float[batch * nOut];
        uint[] words = new uint[QuantizedDense.BFloat16Words(nIn, nOut)];
        Assert.Equal("w", Assert.Throws<ArgumentException>(() => QuantizedDense.PackBFloat16(w.AsSpan(1), words, nIn, nOut)).ParamName);
        Assert.Equal("packed", Assert.Throws<ArgumentException>(() => QuantizedDense.PackBFloat16(w, words.AsSpan(1), nIn, nOut)).ParamName);
        Assert.Equal("x", Assert.Throws<ArgumentException>(() => QuantizedDense.ForwardBFloat16<ReluOp<float>>(x.AsSpan(1), words, b, y, batch, nIn, nOut)).ParamName);
        Assert.Equal("packed", Assert.Throws<ArgumentException>(() => QuantizedDense.ForwardBFloat16<ReluOp<float>>(x, words.AsSpan(1), b, y, batch, nIn, nOut)).ParamName);
        Assert.Equal("b", Assert.Throws<ArgumentException>(() => QuantizedDense.ForwardBFloat16<ReluOp<float>>(x, words, b.AsSpan(1), y, batch, nIn, nOut)).ParamName);
        Assert.Equal("y", Assert.Throws<ArgumentException>(() => QuantizedDense.ForwardBFloat16<ReluOp<float>>(x, words, b, y.AsSpan(1), batch, nIn, nOut)).ParamName);
        Assert.Equal("batch", Assert.Throws<ArgumentOutOfRangeException>(() => QuantizedDense.ForwardBFloat16<ReluOp<float>>(x, words, b, y, 0, nIn, nOut)).ParamName);
        Assert.Equal("nIn", Assert.Throws<ArgumentOutOfRangeException>(() => QuantizedDense.ForwardBFloat16<ReluOp<float>>(x, words, b, y, batch, -1, nOut)).ParamName);
        Assert.Equal("nIn", Assert.Throws<ArgumentOutOfRangeException>(() => QuantizedDense.BFloat16Words(1 << 16, 1 << 16)).ParamName);
        Assert.Equal("j", Assert.Throws<ArgumentOutOfRangeException>(() => QuantizedDense.BFloat16Weight(words, nIn, nOut, 0, nOut)).ParamName);
        Assert.Equal("k", Assert.Throws<ArgumentOutOfRangeException>(() => QuantizedDense.BFloat16Weight(words, nIn, nOut, -1, 0)).ParamName);

        var (packed, scales, sums) = PackInt8(Random(nIn * nOut, 1), nIn, nOut);
        var scratch = new byte[QuantizedDense.Int8ScratchBytes(batch, nIn)];
        Assert.Equal("packed", Assert.Throws<ArgumentException>(() => QuantizedDense.ForwardInt8<ReluOp<float>>(x, packed.AsSpan(1), scales, sums, b, y, scratch, batch, nIn, nOut)).ParamName);
        Assert.Equal("x", Assert.Throws<ArgumentException>(() => QuantizedDense.ForwardInt8<ReluOp<float>>(x.AsSpan(1), packed, scales, sums, b, y, scratch, batch, nIn, nOut)).ParamName);
        Assert.Equal("scales", Assert.Throws<ArgumentException>(() => QuantizedDense.ForwardInt8<ReluOp<float>>(x, packed, scales.AsSpan(1), sums, b, y, scratch, batch, nIn, nOut)).ParamName);
        Assert.Equal("columnSums", Assert.Throws<ArgumentException>(() => QuantizedDense.ForwardInt8<ReluOp<float>>(x, packed, scales, sums.AsSpan(1), b, y, scratch, batch, nIn, nOut)).ParamName);
        Assert.Equal("b", Assert.Throws<ArgumentException>(() => QuantizedDense.ForwardInt8<ReluOp<float>>(x, packed, scales, sums, b.AsSpan(1), y, scratch, batch, nIn, nOut)).ParamName);
        Assert.Equal("y", Assert.Throws<ArgumentException>(() => QuantizedDense.ForwardInt8<ReluOp<float>>(x, packed, scales, sums, b, y.AsSpan(1), scratch, batch, nIn, nOut)).ParamName);
        Assert.Equal("scratch", Assert.Throws<ArgumentException>(() => QuantizedDense.ForwardInt8<ReluOp<float>>(x, packed, scales, sums, b, y, scratch.AsSpan(1), batch, nIn, nOut)).ParamName);
        Assert.Equal("batch", Assert.Throws<ArgumentOutOfRangeException>(() => QuantizedDense.ForwardInt8<ReluOp<float>>(x, packed, scales, sums, b, y, scratch, 0, nIn, nOut)).ParamName);
        Assert.Equal("nIn", Assert.Throws<ArgumentOutOfRangeException>(() => QuantizedDense.Int8Bytes(QuantizedDense.MaximumInt8Inputs + 1, 1)).ParamName);
        float[] bad = Random(nIn * nOut, 2);
        bad[7] = float.NaN;
        Assert.Equal("w", Assert.Throws<ArgumentException>(() => QuantizedDense.PackInt8(bad, new sbyte[packed.Length], new float[scales.Length], new float[sums.Length], nIn, nOut)).ParamName);
        Assert.All(y, v => Assert.Equal(0f, v));
    }
}
