using System;
using System.Collections.Generic;
using System.Linq;
using System.Numerics;
using System.Runtime.InteropServices;
using KernelGen.Kernels;
using KernelGen.Operators;
using Xunit;

namespace KernelGen.Tests;

/// <summary>Tests that change <see cref="KernelParallelism.DegreeOfParallelism"/> (process-wide) run one at a time.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class KernelParallelismCollection
{
    /// <summary>The collection's name.</summary>
    public const string Name = "KernelParallelism";
}

/// <summary>
/// The dense kernels (<see cref="Dense"/>) at the batch sizes that select their paths — 1 (matrix-vector), 2 and 3
/// (a partial 4-row tile), 4, 5 (a partial 6-row tile at 512 bits, a tile plus one row below), 6 and 12 (whole 6-row
/// blocks), 7 (a block plus one row), 11 (a block plus five), 63, 64, 65 — against a double-precision reference written here,
/// at every register width (the cores instantiated directly, whatever the CPU) and through the public entry points;
/// plus batch invariance, two-thread bit-identity, zero allocation and argument validation. CI reruns this class with
/// DOTNET_EnableAVX512=0, DOTNET_EnableAVX2=0 and DOTNET_EnableHWIntrinsic=0 so the public entry points take the
/// 256-bit and scalar paths too.
/// </summary>
[Collection(KernelParallelismCollection.Name)]
public class DenseKernelTests
{
    public static TheoryData<int> Batches => new() { 1, 2, 3, 4, 5, 6, 7, 11, 12, 63, 64, 65 };

    /// <summary>(nIn, nOut): rows shorter than a vector, one float tail, whole vectors, odd tails, a wide layer.</summary>
    private static readonly (int NIn, int NOut)[] Shapes = [(1, 1), (3, 5), (7, 10), (9, 16), (33, 37), (17, 77), (40, 256)];

    // ---- reference (double) ---------------------------------------------------------------------------------------

    private static double[] Random(int n, int seed)
    {
        var random = new Random(seed);
        var values = new double[n];
        for (int i = 0; i < n; i++) values[i] = 4 * random.NextDouble() - 2;
        return values;
    }

    private static T[] As<T>(double[] values) where T : unmanaged, IBinaryFloatingPointIeee754<T> =>
        values.Select(T.CreateTruncating).ToArray();

    private static double[] ToDouble<T>(ReadOnlySpan<T> values) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        var result = new double[values.Length];
        for (int i = 0; i < values.Length; i++) result[i] = double.CreateTruncating(values[i]);
        return result;
    }

    /// <summary>Exact-ish sums and Σ|terms| per output (the scale of the rounding-error bound).</summary>
    private static (double[] Value, double[] Scale) ReferenceForward(double[] x, double[] w, double[] b, int batch, int nIn, int nOut, bool relu)
    {
        var value = new double[batch * nOut];
        var scale = new double[batch * nOut];
        for (int r = 0; r < batch; r++)
            for (int j = 0; j < nOut; j++)
            {
                double s = b[j], a = Math.Abs(b[j]);
                for (int k = 0; k < nIn; k++)
                {
                    s += x[r * nIn + k] * w[k * nOut + j];
                    a += Math.Abs(x[r * nIn + k] * w[k * nOut + j]);
                }
                value[r * nOut + j] = relu ? Math.Max(0, s) : s;
                scale[r * nOut + j] = a;
            }
        return (value, scale);
    }

    private static (double[] Dw, double[] DwScale, double[] Db, double[] DbScale) ReferenceParameters(double[] x, double[] dz, int batch, int nIn, int nOut)
    {
        var dw = new double[nIn * nOut];
        var dwScale = new double[nIn * nOut];
        var db = new double[nOut];
        var dbScale = new double[nOut];
        for (int r = 0; r < batch; r++)
            for (int j = 0; j < nOut; j++)
            {
                db[j] += dz[r * nOut + j];
                dbScale[j] += Math.Abs(dz[r * nOut + j]);
                for (int i = 0; i < nIn; i++)
                {
                    dw[i * nOut + j] += x[r * nIn + i] * dz[r * nOut + j];
                    dwScale[i * nOut + j] += Math.Abs(x[r * nIn + i] * dz[r * nOut + j]);
                }
            }
        return (dw, dwScale, db, dbScale);
    }

    private static (double[] Value, double[] Scale) ReferenceInput(double[] dz, double[] w, int batch, int nIn, int nOut)
    {
        var dx = new double[batch * nIn];
        var scale = new double[batch * nIn];
        for (int r = 0; r < batch; r++)
            for (int i = 0; i < nIn; i++)
                for (int j = 0; j < nOut; j++)
                {
                    dx[r * nIn + i] += dz[r * nOut + j] * w[i * nOut + j];
                    scale[r * nIn + i] += Math.Abs(dz[r * nOut + j] * w[i * nOut + j]);
                }
        return (dx, scale);
    }

    /// <summary>
    /// |actual − expected| ≤ (terms + 2)·u·Σ|terms| for every element: the standard bound for any summation order
    /// (u = 2⁻²⁴ for float, 2⁻⁵³ for double), with the inputs already rounded to T so the reference is exact up to
    /// double rounding.
    /// </summary>
    private static void AssertClose<T>(ReadOnlySpan<T> actual, double[] expected, double[] scale, int terms, string what)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        double u = typeof(T) == typeof(float) ? Math.ScaleB(1, -24) : Math.ScaleB(1, -53);
        for (int i = 0; i < expected.Length; i++)
        {
            double a = double.CreateTruncating(actual[i]);
            double bound = (terms + 2) * u * scale[i] + 1e-300;
            if (!(Math.Abs(a - expected[i]) <= bound))
                Assert.Fail($"{what}: element {i} is {a:R}, expected {expected[i]:R} (bound {bound:G3})");
        }
    }

    private static void AssertBitIdentical<T>(ReadOnlySpan<T> actual, ReadOnlySpan<T> expected, string what) where T : unmanaged
    {
        if (!MemoryMarshal.AsBytes(actual).SequenceEqual(MemoryMarshal.AsBytes(expected)))
        {
            int i = 0;
            while (i < actual.Length && EqualityComparer<T>.Default.Equals(actual[i], expected[i])) i++;
            Assert.Fail($"{what}: not bit-identical (first difference at or after element {i}).");
        }
    }

    private static T[] WithSentinel<T>(int length) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        var a = new T[length + 1];
        a.AsSpan().Fill(T.CreateTruncating(-7.25));
        return a;
    }

    private static void AssertSentinel<T>(T[] a, string what) where T : unmanaged, IBinaryFloatingPointIeee754<T> =>
        Assert.True(a[^1] == T.CreateTruncating(-7.25), $"{what}: wrote past the end");

    // ---- forward --------------------------------------------------------------------------------------------------

    private delegate void ForwardKernel<T>(T[] x, T[] w, T[] b, T[] y, int batch, int nIn, int nOut);

    private static void CheckForward<T>(int batch, ForwardKernel<T> kernel, bool relu, string what) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        foreach (var (nIn, nOut) in Shapes)
        {
            int seed = batch * 1000 + nIn * 10 + nOut;
            T[] x = As<T>(Random(batch * nIn, seed)), w = As<T>(Random(nIn * nOut, seed + 1)), b = As<T>(Random(nOut, seed + 2));
            var (expected, scale) = ReferenceForward(ToDouble<T>(x), ToDouble<T>(w), ToDouble<T>(b), batch, nIn, nOut, relu);
            T[] y = WithSentinel<T>(batch * nOut);
            kernel(x, w, b, y, batch, nIn, nOut);
            AssertSentinel(y, what);
            AssertClose<T>(y.AsSpan(0, batch * nOut), expected, scale, nIn + 1, $"{what} {typeof(T).Name} batch {batch} {nIn}→{nOut}");
        }
    }

    [Theory, MemberData(nameof(Batches))]
    public void Forward_matches_the_double_reference(int batch)
    {
        CheckForward<float>(batch, (x, w, b, y, n, i, o) => Dense.Forward<float, ReluOp<float>>(x, w, b, y, n, i, o), relu: true, "Forward");
        CheckForward<double>(batch, (x, w, b, y, n, i, o) => Dense.Forward<double, IdentityOp<double>>(x, w, b, y, n, i, o), relu: false, "Forward");
    }

    [Theory, MemberData(nameof(Batches))]
    public void Forward_matches_the_double_reference_at_every_width(int batch)
    {
        CheckForward<float>(batch, Core<float, Simd512<float>>, relu: true, "Forward 512");
        CheckForward<float>(batch, Core<float, Simd256<float>>, relu: true, "Forward 256");
        CheckForward<float>(batch, Core<float, SimdScalar<float>>, relu: true, "Forward scalar");
        CheckForward<double>(batch, Core<double, Simd512<double>>, relu: true, "Forward 512");
        CheckForward<double>(batch, Core<double, Simd256<double>>, relu: true, "Forward 256");
        CheckForward<double>(batch, Core<double, SimdScalar<double>>, relu: true, "Forward scalar");

        static void Core<T, TV>(T[] x, T[] w, T[] b, T[] y, int batch, int nIn, int nOut)
            where T : unmanaged, IBinaryFloatingPointIeee754<T> where TV : struct, ISimd<TV, T> =>
            Dense.ForwardCore<T, ReluOp<T>, TV>(ref x[0], ref w[0], ref b[0], ref y[0], batch, nIn, nOut);
    }

    // ---- dW, db -----------------------------------------------------------------------------------------------------

    private delegate void ParametersKernel<T>(T[] x, T[] dz, T[] dw, T[] db, int batch, int nIn, int nOut);

    private static void CheckParameters<T>(int batch, ParametersKernel<T> kernel, string what) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        foreach (var (nIn, nOut) in Shapes)
        {
            int seed = batch * 1000 + nIn * 10 + nOut + 5;
            T[] x = As<T>(Random(batch * nIn, seed)), dz = As<T>(Random(batch * nOut, seed + 1));
            var (dwRef, dwScale, dbRef, dbScale) = ReferenceParameters(ToDouble<T>(x), ToDouble<T>(dz), batch, nIn, nOut);
            T[] dw = WithSentinel<T>(nIn * nOut), db = WithSentinel<T>(nOut);
            kernel(x, dz, dw, db, batch, nIn, nOut);
            AssertSentinel(dw, what);
            AssertSentinel(db, what);
            AssertClose<T>(dw.AsSpan(0, nIn * nOut), dwRef, dwScale, batch, $"{what} dW {typeof(T).Name} batch {batch} {nIn}→{nOut}");
            AssertClose<T>(db.AsSpan(0, nOut), dbRef, dbScale, batch, $"{what} db {typeof(T).Name} batch {batch} {nIn}→{nOut}");
        }
    }

    [Theory, MemberData(nameof(Batches))]
    public void BackwardParameters_matches_the_double_reference(int batch)
    {
        CheckParameters<float>(batch, (x, dz, dw, db, n, i, o) => Dense.BackwardParameters<float>(x, dz, dw.AsSpan(0, i * o), db.AsSpan(0, o), n, i, o), "BackwardParameters");
        CheckParameters<double>(batch, (x, dz, dw, db, n, i, o) => Dense.BackwardParameters<double>(x, dz, dw.AsSpan(0, i * o), db.AsSpan(0, o), n, i, o), "BackwardParameters");
    }

    [Theory, MemberData(nameof(Batches))]
    public void BackwardParameters_matches_the_double_reference_at_every_width(int batch)
    {
        CheckParameters<float>(batch, Core<float, Simd512<float>>, "BackwardParameters 512");
        CheckParameters<float>(batch, Core<float, Simd256<float>>, "BackwardParameters 256");
        CheckParameters<float>(batch, Core<float, SimdScalar<float>>, "BackwardParameters scalar");
        CheckParameters<double>(batch, Core<double, Simd512<double>>, "BackwardParameters 512");
        CheckParameters<double>(batch, Core<double, Simd256<double>>, "BackwardParameters 256");
        CheckParameters<double>(batch, Core<double, SimdScalar<double>>, "BackwardParameters scalar");

        static void Core<T, TV>(T[] x, T[] dz, T[] dw, T[] db, int batch, int nIn, int nOut)
            where T : unmanaged, IBinaryFloatingPointIeee754<T> where TV : struct, ISimd<TV, T> =>
            Dense.BackwardParametersCore<T, TV>(ref x[0], ref dz[0], ref dw[0], ref db[0], batch, nIn, nOut);
    }

    // ---- dX -----------------------------------------------------------------------------------------------------------

    private delegate void InputKernel<T>(T[] dz, T[] w, T[] dx, int batch, int nIn, int nOut);

    private static void CheckInput<T>(int batch, InputKernel<T> kernel, string what) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        foreach (var (nIn, nOut) in Shapes)
        {
            int seed = batch * 1000 + nIn * 10 + nOut + 9;
            T[] dz = As<T>(Random(batch * nOut, seed)), w = As<T>(Random(nIn * nOut, seed + 1));
            var (expected, scale) = ReferenceInput(ToDouble<T>(dz), ToDouble<T>(w), batch, nIn, nOut);
            T[] dx = WithSentinel<T>(batch * nIn);
            kernel(dz, w, dx, batch, nIn, nOut);
            AssertSentinel(dx, what);
            AssertClose<T>(dx.AsSpan(0, batch * nIn), expected, scale, nOut, $"{what} {typeof(T).Name} batch {batch} {nIn}→{nOut}");
        }
    }

    [Theory, MemberData(nameof(Batches))]
    public void BackwardInput_matches_the_double_reference(int batch)
    {
        CheckInput<float>(batch, (dz, w, dx, n, i, o) => Dense.BackwardInput<float>(dz, w, dx, n, i, o), "BackwardInput");
        CheckInput<double>(batch, (dz, w, dx, n, i, o) => Dense.BackwardInput<double>(dz, w, dx, n, i, o), "BackwardInput");
    }

    [Theory, MemberData(nameof(Batches))]
    public void BackwardInput_matches_the_double_reference_at_every_width(int batch)
    {
        CheckInput<float>(batch, Core<float, Simd512<float>>, "BackwardInput 512");
        CheckInput<float>(batch, Core<float, Simd256<float>>, "BackwardInput 256");
        CheckInput<float>(batch, Core<float, SimdScalar<float>>, "BackwardInput scalar");
        CheckInput<double>(batch, Core<double, Simd512<double>>, "BackwardInput 512");
        CheckInput<double>(batch, Core<double, Simd256<double>>, "BackwardInput 256");
        CheckInput<double>(batch, Core<double, SimdScalar<double>>, "BackwardInput scalar");

        static void Core<T, TV>(T[] dz, T[] w, T[] dx, int batch, int nIn, int nOut)
            where T : unmanaged, IBinaryFloatingPointIeee754<T> where TV : struct, ISimd<TV, T> =>
            Dense.BackwardInputCore<T, TV>(ref dz[0], ref w[0], ref dx[0], batch, nIn, nOut);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(5)]
    [InlineData(65)]
    public void BackwardInput_matches_the_reference_when_W_is_swept_in_chunks(int batch)
    {
        // 403 × 256 floats (412 KB) is above the chunking threshold: W rows go in chunks of 32, the last one partial.
        const int nIn = 403, nOut = 256;
        foreach (var (name, run) in new (string, InputKernel<float>)[]
        {
            ("public", (dz, w, dx, n, i, o) => Dense.BackwardInput<float>(dz, w, dx, n, i, o)),
            ("512", (dz, w, dx, n, i, o) => Dense.BackwardInputCore<float, Simd512<float>>(ref dz[0], ref w[0], ref dx[0], n, i, o)),
            ("256", (dz, w, dx, n, i, o) => Dense.BackwardInputCore<float, Simd256<float>>(ref dz[0], ref w[0], ref dx[0], n, i, o)),
        })
        {
            float[] dz = As<float>(Random(batch * nOut, 41)), w = As<float>(Random(nIn * nOut, 42));
            var (expected, scale) = ReferenceInput(ToDouble<float>(dz), ToDouble<float>(w), batch, nIn, nOut);
            float[] dx = WithSentinel<float>(batch * nIn);
            run(dz, w, dx, batch, nIn, nOut);
            AssertSentinel(dx, name);
            AssertClose<float>(dx.AsSpan(0, batch * nIn), expected, scale, nOut, $"chunked BackwardInput {name} batch {batch}");
        }
    }

    [Fact]
    public void StoreSum4_gives_the_same_tree_with_and_without_AVX()
    {
        // The AVX path (horizontal adds) and the portable lane-by-lane path must agree bit for bit; when AVX is off
        // (DOTNET_EnableHWIntrinsic=0) both sides run the portable tree and the check is trivially true.
        var random = new Random(11);
        for (int t = 0; t < 200; t++)
        {
            float[] f = Enumerable.Range(0, 4 * 16).Select(_ => (float)((random.NextDouble() - 0.5) * Math.Pow(2, random.Next(-20, 20)))).ToArray();
            var got = new float[4];
            Dense.StoreSum4(Load512(f, 0), Load512(f, 16), Load512(f, 32), Load512(f, 48), ref got[0]);
            for (int q = 0; q < 4; q++)
            {
                // Fold the 512-bit halves, then ((v0+v1)+(v2+v3))+((v4+v5)+(v6+v7)).
                float[] h = Enumerable.Range(0, 8).Select(l => f[q * 16 + l] + f[q * 16 + l + 8]).ToArray();
                float expected = ((h[0] + h[1]) + (h[2] + h[3])) + ((h[4] + h[5]) + (h[6] + h[7]));
                Assert.Equal(BitConverter.SingleToInt32Bits(expected), BitConverter.SingleToInt32Bits(got[q]));
            }
            double[] d = Enumerable.Range(0, 4 * 4).Select(_ => (random.NextDouble() - 0.5) * Math.Pow(2, random.Next(-40, 40))).ToArray();
            var gotD = new double[4];
            Dense.StoreSum4(Load256(d, 0), Load256(d, 4), Load256(d, 8), Load256(d, 12), ref gotD[0]);
            for (int q = 0; q < 4; q++)
            {
                double expected = (d[q * 4] + d[q * 4 + 1]) + (d[q * 4 + 2] + d[q * 4 + 3]);
                Assert.Equal(BitConverter.DoubleToInt64Bits(expected), BitConverter.DoubleToInt64Bits(gotD[q]));
            }
        }

        static Simd512<float> Load512(float[] a, int offset) => Simd512<float>.Load(ref a[offset], 0);
        static Simd256<double> Load256(double[] a, int offset) => Simd256<double>.Load(ref a[offset], 0);
    }

    // ---- batch invariance -------------------------------------------------------------------------------------------

    [Fact]
    public void Forward_and_dX_rows_do_not_depend_on_the_batch()
    {
        const int batch = 65;
        foreach (var (nIn, nOut) in Shapes)
        {
            float[] x = As<float>(Random(batch * nIn, 1)), w = As<float>(Random(nIn * nOut, 2)), b = As<float>(Random(nOut, 3));
            float[] dz = As<float>(Random(batch * nOut, 4));
            var y = new float[batch * nOut];
            var dx = new float[batch * nIn];
            Dense.Forward<float, ReluOp<float>>(x, w, b, y, batch, nIn, nOut);
            Dense.BackwardInput<float>(dz, w, dx, batch, nIn, nOut);
            foreach (int first in new[] { 0, 1, 30, 61, 62, 64 })
                foreach (int rows in new[] { 1, 2, 3, 5 })
                {
                    if (first + rows > batch) continue;
                    var yPart = new float[rows * nOut];
                    var dxPart = new float[rows * nIn];
                    Dense.Forward<float, ReluOp<float>>(x.AsSpan(first * nIn, rows * nIn), w, b, yPart, rows, nIn, nOut);
                    Dense.BackwardInput<float>(dz.AsSpan(first * nOut, rows * nOut), w, dxPart, rows, nIn, nOut);
                    AssertBitIdentical<float>(yPart, y.AsSpan(first * nOut, rows * nOut), $"forward rows {first}+{rows} of {nIn}→{nOut}");
                    AssertBitIdentical<float>(dxPart, dx.AsSpan(first * nIn, rows * nIn), $"dX rows {first}+{rows} of {nIn}→{nOut}");
                }
        }
    }

    // ---- two threads --------------------------------------------------------------------------------------------------

    [Theory]
    [InlineData(64)]
    [InlineData(65)]
    [InlineData(130)]
    public void Two_threads_give_bit_identical_results(int batch)
    {
        // (784, 256) and (256, 128) split dW by columns; (128, 10) and (37, 30) are too narrow and split dW by input rows.
        foreach (var (nIn, nOut) in new[] { (784, 256), (256, 128), (128, 10), (37, 30) })
        {
            Check<float>(nIn, nOut);
            Check<double>(nIn, nOut);
        }

        void Check<T>(int nIn, int nOut) where T : unmanaged, IBinaryFloatingPointIeee754<T>
        {
            T[] x = As<T>(Random(batch * nIn, 21)), w = As<T>(Random(nIn * nOut, 22)), b = As<T>(Random(nOut, 23)), dz = As<T>(Random(batch * nOut, 24));
            var one = Run(1);
            long splits = KernelParallelism.SplitCalls;
            var two = Run(2);
            Assert.Equal(splits + 3, KernelParallelism.SplitCalls);
            string what = $"{typeof(T).Name} batch {batch} {nIn}→{nOut}";
            AssertBitIdentical<T>(two.Y, one.Y, "forward " + what);
            AssertBitIdentical<T>(two.Dw, one.Dw, "dW " + what);
            AssertBitIdentical<T>(two.Db, one.Db, "db " + what);
            AssertBitIdentical<T>(two.Dx, one.Dx, "dX " + what);

            (T[] Y, T[] Dw, T[] Db, T[] Dx) Run(int degree)
            {
                var result = (Y: new T[batch * nOut], Dw: new T[nIn * nOut], Db: new T[nOut], Dx: new T[batch * nIn]);
                KernelParallelism.DegreeOfParallelism = degree;
                try
                {
                    Dense.Forward<T, TanhOp<T>>(x, w, b, result.Y, batch, nIn, nOut);
                    Dense.BackwardParameters<T>(x, dz, result.Dw, result.Db, batch, nIn, nOut);
                    Dense.BackwardInput<T>(dz, w, result.Dx, batch, nIn, nOut);
                }
                finally
                {
                    KernelParallelism.DegreeOfParallelism = 1;
                }
                return result;
            }
        }
    }

    [Fact]
    public void Two_threads_split_only_at_the_minimum_batch()
    {
        var x = new float[63 * 32];
        var w = new float[32 * 32];
        var b = new float[32];
        var y = new float[63 * 32];
        KernelParallelism.DegreeOfParallelism = 2;
        try
        {
            long splits = KernelParallelism.SplitCalls;
            Dense.Forward<float, IdentityOp<float>>(x, w, b, y, KernelParallelism.MinimumBatch - 1, 32, 32);
            Assert.Equal(splits, KernelParallelism.SplitCalls);
        }
        finally
        {
            KernelParallelism.DegreeOfParallelism = 1;
        }
    }

    // ---- allocation -----------------------------------------------------------------------------------------------------

    [Fact]
    public void Kernels_allocate_nothing_at_batch_1_and_with_two_threads()
    {
        const int nIn = 784, nOut = 256, batch = 64;
        float[] x = As<float>(Random(batch * nIn, 31)), w = As<float>(Random(nIn * nOut, 32)), b = As<float>(Random(nOut, 33)), dz = As<float>(Random(batch * nOut, 34));
        var y = new float[batch * nOut];
        var dw = new float[nIn * nOut];
        var db = new float[nOut];
        var dx = new float[batch * nIn];
        float[] w2 = As<float>(Random(128 * 10, 35)), b2 = new float[10], y2 = new float[batch * 10], dz2 = As<float>(Random(batch * 10, 36));
        float[] dw2 = new float[128 * 10], db2 = new float[10], dx2 = new float[batch * 128];

        void Calls(int rows)
        {
            Dense.Forward<float, ReluOp<float>>(x, w, b, y, rows, nIn, nOut);
            Dense.BackwardParameters<float>(x, dz, dw, db, rows, nIn, nOut);
            Dense.BackwardInput<float>(dz, w, dx, rows, nIn, nOut);
            Dense.Forward<float, IdentityOp<float>>(x.AsSpan(0, rows * 128), w2, b2, y2, rows, 128, 10);
            Dense.BackwardParameters<float>(x.AsSpan(0, rows * 128), dz2, dw2, db2, rows, 128, 10);
            Dense.BackwardInput<float>(dz2, w2, dx2, rows, 128, 10);
        }

        HotLoop.WarmUp(() => Calls(1));
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 10; i++) Calls(1);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);

        KernelParallelism.DegreeOfParallelism = 2;
        try
        {
            HotLoop.WarmUp(() => Calls(batch));
            long splits = KernelParallelism.SplitCalls;
            long worker = KernelParallelism.WorkerAllocatedBytes;
            before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 10; i++) Calls(batch);
            Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
            Assert.Equal(0, KernelParallelism.WorkerAllocatedBytes - worker); // the worker's own count after its last job
            Assert.Equal(splits + 60, KernelParallelism.SplitCalls);
        }
        finally
        {
            KernelParallelism.DegreeOfParallelism = 1;
        }
    }

    // ---- validation -------------------------------------------------------------------------------------------------------

    [Fact]
    public void Out_of_range_span_lengths_and_sizes_throw()
    {
        const int batch = 3, nIn = 5, nOut = 17;
        var x = new float[batch * nIn];
        var w = new float[nIn * nOut];
        var b = new float[nOut];
        var y = new float[batch * nOut];
        var dz = new float[batch * nOut];
        var dw = new float[nIn * nOut];
        var db = new float[nOut];
        var dx = new float[batch * nIn];

        Assert.Equal("x", Assert.Throws<ArgumentException>(() => Dense.Forward<float, ReluOp<float>>(x.AsSpan(1), w, b, y, batch, nIn, nOut)).ParamName);
        Assert.Equal("w", Assert.Throws<ArgumentException>(() => Dense.Forward<float, ReluOp<float>>(x, w.AsSpan(1), b, y, batch, nIn, nOut)).ParamName);
        Assert.Equal("w", Assert.Throws<ArgumentException>(() => Dense.Forward<float, ReluOp<float>>(x, new float[w.Length + 1], b, y, batch, nIn, nOut)).ParamName);
        Assert.Equal("b", Assert.Throws<ArgumentException>(() => Dense.Forward<float, ReluOp<float>>(x, w, b.AsSpan(1), y, batch, nIn, nOut)).ParamName);
        Assert.Equal("b", Assert.Throws<ArgumentException>(() => Dense.Forward<float, ReluOp<float>>(x, w, new float[nOut + 1], y, batch, nIn, nOut)).ParamName);
        Assert.Equal("y", Assert.Throws<ArgumentException>(() => Dense.Forward<float, ReluOp<float>>(x, w, b, y.AsSpan(1), batch, nIn, nOut)).ParamName);

        Assert.Equal("x", Assert.Throws<ArgumentException>(() => Dense.BackwardParameters<float>(x.AsSpan(1), dz, dw, db, batch, nIn, nOut)).ParamName);
        Assert.Equal("dz", Assert.Throws<ArgumentException>(() => Dense.BackwardParameters<float>(x, dz.AsSpan(1), dw, db, batch, nIn, nOut)).ParamName);
        Assert.Equal("dw", Assert.Throws<ArgumentException>(() => Dense.BackwardParameters<float>(x, dz, dw.AsSpan(1), db, batch, nIn, nOut)).ParamName);
        Assert.Equal("dw", Assert.Throws<ArgumentException>(() => Dense.BackwardParameters<float>(x, dz, new float[dw.Length + 1], db, batch, nIn, nOut)).ParamName);
        Assert.Equal("db", Assert.Throws<ArgumentException>(() => Dense.BackwardParameters<float>(x, dz, dw, db.AsSpan(1), batch, nIn, nOut)).ParamName);

        Assert.Equal("dz", Assert.Throws<ArgumentException>(() => Dense.BackwardInput<float>(dz.AsSpan(1), w, dx, batch, nIn, nOut)).ParamName);
        Assert.Equal("w", Assert.Throws<ArgumentException>(() => Dense.BackwardInput<float>(dz, w.AsSpan(1), dx, batch, nIn, nOut)).ParamName);
        Assert.Equal("dx", Assert.Throws<ArgumentException>(() => Dense.BackwardInput<float>(dz, w, dx.AsSpan(1), batch, nIn, nOut)).ParamName);

        foreach (var (n, i, o, name) in new[] { (0, nIn, nOut, "batch"), (-1, nIn, nOut, "batch"), (batch, 0, nOut, "nIn"), (batch, nIn, -2, "nOut") })
        {
            Assert.Equal(name, Assert.Throws<ArgumentOutOfRangeException>(() => Dense.Forward<float, ReluOp<float>>(x, w, b, y, n, i, o)).ParamName);
            Assert.Equal(name, Assert.Throws<ArgumentOutOfRangeException>(() => Dense.BackwardParameters<float>(x, dz, dw, db, n, i, o)).ParamName);
            Assert.Equal(name, Assert.Throws<ArgumentOutOfRangeException>(() => Dense.BackwardInput<float>(dz, w, dx, n, i, o)).ParamName);
        }
        // Sizes whose products overflow int are rejected before any length check could be fooled by the wrap-around.
        Assert.Equal("batch", Assert.Throws<ArgumentOutOfRangeException>(() => Dense.Forward<float, ReluOp<float>>(x, w, b, y, 1 << 20, 1 << 12, nOut)).ParamName);
        Assert.Equal("batch", Assert.Throws<ArgumentOutOfRangeException>(() => Dense.BackwardInput<float>(dz, w, dx, 3, 1 << 16, 1 << 16)).ParamName);
        // Nothing was written by the failed calls.
        Assert.All(y, v => Assert.Equal(0f, v));
        Assert.All(dw, v => Assert.Equal(0f, v));
        Assert.All(dx, v => Assert.Equal(0f, v));
    }

    [Fact]
    public void DegreeOfParallelism_accepts_only_1_or_2()
    {
        Assert.Equal(1, KernelParallelism.DegreeOfParallelism);
        foreach (int bad in new[] { 0, -1, 3, 64 })
            Assert.Throws<ArgumentOutOfRangeException>(() => KernelParallelism.DegreeOfParallelism = bad);
        Assert.Equal(1, KernelParallelism.DegreeOfParallelism);
        KernelParallelism.DegreeOfParallelism = 2;
        Assert.Equal(2, KernelParallelism.DegreeOfParallelism);
        KernelParallelism.DegreeOfParallelism = 1;
        Assert.Equal(1, KernelParallelism.DegreeOfParallelism);
    }
}
