using System;
using System.Numerics;
using System.Runtime.InteropServices;
using CsCheck;
using KernelGen.Kernels;
using KernelGen.Operators;
using Xunit;

namespace KernelGen.Tests;

/// <summary>
/// Dropout masks (values, drop rate, determinism, width independence), the masked multiply and its gradient, and Maxout
/// (reference, tie and NaN rules, central-difference gradient), plus validation and allocation.
/// </summary>
public class DropoutMaxoutKernelTests
{
    private const int MaxLength = 3 * 16 + 1; // 3·Vector512<float>.Count + 1: every main loop and tail at every width

    private static ref T R<T>(T[] a) => ref MemoryMarshal.GetArrayDataReference(a);

    private static double[] Random(Random rng, int n, double lo = -2, double hi = 2)
    {
        var a = new double[n];
        for (int i = 0; i < n; i++) a[i] = lo + (hi - lo) * rng.NextDouble();
        return a;
    }

    private static double RelativeError(double[] a, double[] n)
    {
        double d = 0, na = 0, nn = 0;
        for (int i = 0; i < a.Length; i++) { d += (a[i] - n[i]) * (a[i] - n[i]); na += a[i] * a[i]; nn += n[i] * n[i]; }
        return Math.Sqrt(d) / (Math.Sqrt(na) + Math.Sqrt(nn) + 1e-300);
    }

    private static T[] Mask<T, TV>(int n, double p, ulong seed, ulong counter, T sentinel)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> where TV : struct, ISimd<TV, T>
    {
        var m = new T[n + 1];
        m[n] = sentinel;
        Dropout.FillMaskCore<T, TV>(ref R(m), (nuint)n, p, seed, counter);
        Assert.Equal(sentinel, m[n]);
        return m[..n];
    }

    // ---- dropout ----------------------------------------------------------------------------------------------------

    [Theory]
    [InlineData(0.1)]
    [InlineData(0.5)]
    [InlineData(0.9)]
    public void Mask_holds_only_zero_or_the_keep_scale_and_drops_a_fraction_p(double p)
    {
        const int n = 1_000_000;
        var mask = new float[n];
        Dropout.FillMask<float>(mask, p, seed: 42, counter: 7);
        float keep = (float)(1 / (1 - p));
        int zeros = 0, others = 0;
        double sum = 0;
        foreach (float m in mask)
        {
            if (m == 0) zeros++;
            else if (m != keep) others++;
            sum += m;
        }
        Assert.Equal(0, others); // every value is 0 or 1/(1 − p)
        double fraction = (double)zeros / n;
        Assert.True(Math.Abs(fraction - p) < 0.005, $"dropped {fraction}, expected {p}");
        Assert.True(Math.Abs(sum / n - 1) < 0.01, $"mean mask {sum / n}: inverted dropout keeps the expectation at 1");

        var maskD = new double[10_000];
        Dropout.FillMask<double>(maskD, p, seed: 42, counter: 7);
        for (int i = 0; i < maskD.Length; i++)
        {
            Assert.True(maskD[i] == 0 || maskD[i] == 1 / (1 - p));
            Assert.Equal(mask[i] == 0, maskD[i] == 0); // the same elements drop in float and double
        }
    }

    [Fact]
    public void Same_seed_and_counter_repeat_the_mask_and_new_counters_or_seeds_change_it()
    {
        const int n = 4096;
        float[] Fill(ulong seed, ulong counter)
        {
            var m = new float[n];
            Dropout.FillMask<float>(m, 0.5, seed, counter);
            return m;
        }
        static int Differences(float[] a, float[] b)
        {
            int d = 0;
            for (int i = 0; i < a.Length; i++) if (a[i] != b[i]) d++;
            return d;
        }
        Assert.Equal(Fill(1, 0), Fill(1, 0));
        Assert.Equal(Fill(123456789, 99), Fill(123456789, 99));
        // Independent masks at p = ½ disagree on about half the elements.
        foreach (var (a, b) in new[] { (Fill(1, 0), Fill(1, 1)), (Fill(1, 0), Fill(2, 0)), (Fill(0, 0), Fill(0, 1)), (Fill(1, 5), Fill(5, 1)) })
        {
            int d = Differences(a, b);
            Assert.InRange(d, n / 2 - 200, n / 2 + 200);
        }
    }

    [Fact]
    public void Mask_is_identical_at_every_width_for_every_length()
    {
        for (int n = 0; n <= MaxLength; n++) Check(n);
        Check(1000);
        Check(4099);

        static void Check(int n)
        {
            foreach (double p in new[] { 0.0, 0.3, 0.75 })
            {
                ulong seed = (ulong)n * 31 + 5, counter = 11;
                float[] f512 = Mask<float, Simd512<float>>(n, p, seed, counter, 9f);
                float[] f256 = Mask<float, Simd256<float>>(n, p, seed, counter, 9f);
                float[] f1 = Mask<float, SimdScalar<float>>(n, p, seed, counter, 9f);
                double[] d512 = Mask<double, Simd512<double>>(n, p, seed, counter, 9.0);
                double[] d256 = Mask<double, Simd256<double>>(n, p, seed, counter, 9.0);
                double[] d1 = Mask<double, SimdScalar<double>>(n, p, seed, counter, 9.0);
                Assert.Equal(f1, f512); Assert.Equal(f1, f256);
                Assert.Equal(d1, d512); Assert.Equal(d1, d256);
                Dropout.Key(seed, counter, out uint k0, out uint k1);
                uint threshold = (uint)(p * 4294967296.0);
                for (int i = 0; i < n; i++)
                {
                    bool dropped = Dropout.Hash((uint)i, k0, k1) < threshold; // the scalar definition
                    Assert.Equal(dropped, f1[i] == 0);
                    Assert.Equal(dropped, d1[i] == 0);
                }
            }
        }
    }

    [Fact]
    public void Zero_drop_probability_fills_ones()
    {
        var f = new float[MaxLength];
        Dropout.FillMask<float>(f, 0, 3, 4);
        Assert.All(f, v => Assert.Equal(1f, v));
        var d = new double[MaxLength];
        Dropout.FillMask<double>(d, 0, 3, 4);
        Assert.All(d, v => Assert.Equal(1.0, v));
    }

    [Fact]
    public void Apply_multiplies_every_element_once_at_every_width_in_and_out_of_place()
    {
        var rng = new Random(8);
        for (int n = 0; n <= MaxLength; n++)
        {
            double[] x = Random(rng, n), mask = new double[n];
            Dropout.FillMask<double>(mask, 0.4, (ulong)n, 0);
            Check<Simd512<double>>();
            Check<Simd256<double>>();
            Check<SimdScalar<double>>();

            void Check<TV>() where TV : struct, ISimd<TV, double>
            {
                var y = new double[n + 1];
                y[n] = 7;
                Dropout.ApplyCore<double, TV>(ref R(x), ref R(mask), ref R(y), (nuint)n);
                Assert.Equal(7, y[n]);
                for (int i = 0; i < n; i++) Assert.Equal(x[i] * mask[i], y[i]);
                var inPlace = (double[])x.Clone();
                Dropout.ApplyCore<double, TV>(ref R(inPlace), ref R(mask), ref R(inPlace), (nuint)n);
                Assert.Equal(y[..n], inPlace);
            }
        }
        var xf = new float[] { 1, 2, 3 };
        Dropout.Apply<float>(xf, new float[] { 0, 2, 2 }, xf);
        Assert.Equal(new float[] { 0, 4, 6 }, xf);
    }

    [Fact]
    public void Dropout_gradient_with_a_fixed_mask_is_the_mask() =>
        Gen.Select(Gen.Int[1, 200], Gen.Double[0, 0.95], Gen.Int[0, int.MaxValue]).Sample(c =>
        {
            var (n, p, seed) = c;
            var rng = new Random(seed);
            double[] x = Random(rng, n), r = Random(rng, n), mask = new double[n], y = new double[n];
            Dropout.FillMask<double>(mask, p, (ulong)seed, 1);
            const double h = 1e-5;
            var numeric = new double[n];
            for (int i = 0; i < n; i++)
            {
                double saved = x[i];
                x[i] = saved + h; Dropout.Apply<double>(x, mask, y); double plus = Dot(r, y);
                x[i] = saved - h; Dropout.Apply<double>(x, mask, y); double minus = Dot(r, y);
                x[i] = saved;
                numeric[i] = (plus - minus) / (2 * h);
            }
            var dx = new double[n];
            Dropout.Apply<double>(r, mask, dx); // backward: dx = dy ⊙ mask
            double e = RelativeError(dx, numeric);
            Assert.True(e < 1e-7, $"dropout: relative error {e}");
            for (int i = 0; i < n; i++) Assert.Equal(r[i] * mask[i], dx[i]);
        }, iter: 30);

    private static double Dot(double[] a, double[] b)
    {
        double s = 0;
        for (int i = 0; i < a.Length; i++) s += a[i] * b[i];
        return s;
    }

    // ---- maxout -----------------------------------------------------------------------------------------------------

    private static (double[] Y, int[] Arg) MaxoutReference(double[] z, int batch, int units, int pieces)
    {
        var y = new double[batch * units];
        var arg = new int[batch * units];
        for (int o = 0; o < batch * units; o++)
        {
            int best = 0;
            for (int i = 1; i < pieces; i++) if (z[o * pieces + i] > z[o * pieces + best]) best = i;
            arg[o] = best;
            y[o] = z[o * pieces + best];
        }
        return (y, arg);
    }

    [Fact]
    public void Maxout_matches_the_reference_for_every_unit_count()
    {
        var rng = new Random(9);
        foreach (int batch in new[] { 1, 3 })
            for (int units = 1; units <= MaxLength; units++)
                for (int pieces = 1; pieces <= 5; pieces++)
                {
                    double[] z = Random(rng, batch * units * pieces), dy = Random(rng, batch * units);
                    if (pieces >= 2) z[0] = z[1] = 3; // the first unit's maximum is tied between pieces 0 and 1: piece 0 wins
                    var (yRef, arg) = MaxoutReference(z, batch, units, pieces);
                    var y = new double[batch * units + 1];
                    y[^1] = 7;
                    Maxout.ForwardCore(ref R(z), ref R(y), (nuint)(batch * units), (nuint)pieces);
                    Assert.Equal(7, y[^1]);
                    Assert.Equal(yRef, y[..^1]);
                    var dz = new double[z.Length + 1];
                    dz.AsSpan().Fill(double.NaN); // must be overwritten everywhere
                    Maxout.BackwardCore(ref R(z), ref R(dy), ref R(dz), (nuint)(batch * units), (nuint)pieces);
                    Assert.True(double.IsNaN(dz[^1]), "wrote past the end");
                    for (int o = 0; o < batch * units; o++)
                        for (int i = 0; i < pieces; i++)
                            Assert.Equal(i == arg[o] ? dy[o] : 0.0, dz[o * pieces + i]);
                }
    }

    [Fact]
    public void Maxout_ties_go_to_the_first_piece_and_nan_propagates()
    {
        float[] z = [1, 3, 3, 2, /**/ -1, -1, -1, -1, /**/ 0, float.NaN, 5, float.NaN, /**/ float.NegativeInfinity, float.NegativeInfinity, float.NegativeInfinity, float.NegativeInfinity];
        var y = new float[4];
        Maxout.Forward<float>(z, y, batch: 2, units: 2, pieces: 4);
        Assert.Equal(3f, y[0]);
        Assert.Equal(-1f, y[1]);
        Assert.True(float.IsNaN(y[2]));
        Assert.Equal(float.NegativeInfinity, y[3]);
        var dz = new float[16];
        Maxout.Backward<float>(z, [10, 20, 30, 40], dz, 2, 2, 4);
        Assert.Equal(new float[] { 0, 10, 0, 0, 20, 0, 0, 0, 0, 30, 0, 0, 40, 0, 0, 0 }, dz);

        // dz may alias z.
        float[] inPlace = [4, 9, 9, 1];
        Maxout.Backward<float>(inPlace, [2f], inPlace, 1, 1, 4);
        Assert.Equal(new float[] { 0, 2, 0, 0 }, inPlace);
    }

    [Fact]
    public void Maxout_gradient_matches_central_differences_away_from_ties() =>
        Gen.Select(Gen.Int[1, 4], Gen.Int[1, 12], Gen.Int[1, 5], Gen.Int[0, int.MaxValue]).Sample(c =>
        {
            var (batch, units, pieces, seed) = c;
            var rng = new Random(seed);
            double[] z = Random(rng, batch * units * pieces), r = Random(rng, batch * units);
            // Skip draws where some unit's top two pieces are within 1e-3: the max is not differentiable there.
            for (int o = 0; o < batch * units; o++)
                for (int i = 0; i < pieces; i++)
                    for (int j = i + 1; j < pieces; j++)
                        if (Math.Abs(z[o * pieces + i] - z[o * pieces + j]) < 1e-3) return;
            var y = new double[batch * units];
            const double h = 1e-6;
            var numeric = new double[z.Length];
            for (int k = 0; k < z.Length; k++)
            {
                double saved = z[k];
                z[k] = saved + h; Maxout.Forward<double>(z, y, batch, units, pieces); double plus = Dot(r, y);
                z[k] = saved - h; Maxout.Forward<double>(z, y, batch, units, pieces); double minus = Dot(r, y);
                z[k] = saved;
                numeric[k] = (plus - minus) / (2 * h);
            }
            var dz = new double[z.Length];
            Maxout.Backward<double>(z, r, dz, batch, units, pieces);
            double e = RelativeError(dz, numeric);
            Assert.True(e < 1e-7, $"maxout: relative error {e} at batch {batch}, units {units}, pieces {pieces}, seed {seed}");
        }, iter: 60);

    // ---- validation and allocation ----------------------------------------------------------------------------------

    private static void Throws(string param, Action call) => Assert.Equal(param, Assert.ThrowsAny<ArgumentException>(call).ParamName);

    [Fact]
    public void Arguments_are_validated_and_named()
    {
        foreach (double p in new[] { -0.1, 1.0, 1.5, double.NaN })
            Assert.Equal("dropProbability", Assert.Throws<ArgumentOutOfRangeException>(() => Dropout.FillMask<float>(new float[4], p, 0, 0)).ParamName);
        Throws("mask", () => Dropout.Apply<float>(new float[4], new float[3], new float[4]));
        Throws("y", () => Dropout.Apply<float>(new float[4], new float[4], new float[3]));

        Maxout.Forward<float>(new float[12], new float[4], 2, 2, 3);
        Throws("z", () => Maxout.Forward<float>(new float[11], new float[4], 2, 2, 3));
        Throws("y", () => Maxout.Forward<float>(new float[12], new float[3], 2, 2, 3));
        Throws("batch", () => Maxout.Forward<float>(new float[12], new float[4], 0, 2, 3));
        Throws("units", () => Maxout.Forward<float>(new float[12], new float[4], 2, 0, 3));
        Throws("pieces", () => Maxout.Forward<float>(new float[12], new float[4], 2, 2, 0));
        Maxout.Backward<float>(new float[12], new float[4], new float[12], 2, 2, 3);
        Throws("z", () => Maxout.Backward<float>(new float[11], new float[4], new float[12], 2, 2, 3));
        Throws("dy", () => Maxout.Backward<float>(new float[12], new float[3], new float[12], 2, 2, 3));
        Throws("dz", () => Maxout.Backward<float>(new float[12], new float[4], new float[11], 2, 2, 3));
    }

    [Fact]
    public void Hot_calls_allocate_nothing()
    {
        float[] x = new float[1000], mask = new float[1000], y = new float[1000], z = new float[300], u = new float[100], dz = new float[300];
        double[] maskD = new double[77];
        void Hot()
        {
            Dropout.FillMask<float>(mask, 0.3, 1, 2);
            Dropout.FillMask<double>(maskD, 0.3, 1, 2);
            Dropout.Apply<float>(x, mask, y);
            Dropout.Apply<float>(y, mask, y);
            Maxout.Forward<float>(z, u, 4, 25, 3);
            Maxout.Backward<float>(z, u, dz, 4, 25, 3);
        }
        HotLoop.WarmUp(Hot);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 20; i++) Hot();
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
