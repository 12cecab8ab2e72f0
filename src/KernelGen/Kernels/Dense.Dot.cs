using System;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using KernelGen.Operators;

namespace KernelGen.Kernels;

// dX = dZ·Wᵀ: dX[r, i] = Σ_j dZ[r, j]·W[i, j] is a dot product of two contiguous rows. A register tile of R batch
// rows × 4 rows of W keeps 4R vector accumulators over j (R + 4 loads per 4R multiply-adds instead of 2 per 1), and
// reduces each group of 4 accumulators to 4 adjacent outputs with one transposing reduction (StoreSum4: three
// horizontal adds for 8 floats) instead of four separate horizontal sums.
//   512-bit: 4 batch rows × 4 W rows = 16 accumulators + 4 + 1 = 21 registers;
//   256-bit and scalar: 2 batch rows × 4 W rows = 8 accumulators + 4 + 1 = 13 registers (16 ymm on AVX2);
//   one batch row (batch 1, or a single leftover row): 1 × 8 W rows, 8 independent chains.
// Every output is the same lane-wise chain over the vectors of j (the last partial vector masked so no element counts
// twice), reduced by the same tree, whatever tile computes it: a row's result does not depend on the batch size.
public static partial class Dense
{
    /// <summary>Batch rows per dX register tile: 4 with 512-bit registers, else 2. JIT-time constant.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int DotRows<T, TV>() where T : unmanaged, IBinaryFloatingPointIeee754<T> where TV : struct, ISimd<TV, T> =>
        IsWide<T, TV>() ? 4 : 2;

    /// <summary>dX at register type <typeparamref name="TV"/> (narrower if a row of dZ is shorter than it).</summary>
    internal static void BackwardInputCore<T, TV>(ref T dz, ref T w, ref T dx, int batch, int nIn, int nOut)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> where TV : struct, ISimd<TV, T> =>
        BackwardInputRows<T, TV>(ref dz, ref w, ref dx, 0, batch, nIn, nOut);

    /// <summary>dX for batch rows [<paramref name="r0"/>, <paramref name="r1"/>).</summary>
    internal static void BackwardInputRows<T, TV>(ref T dz, ref T w, ref T dx, int r0, int r1, int nIn, int nOut)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> where TV : struct, ISimd<TV, T>
    {
        if (nOut < TV.Count)
        {
            if (TV.Count > Simd256<T>.Count) BackwardInputRows<T, Simd256<T>>(ref dz, ref w, ref dx, r0, r1, nIn, nOut);
            else BackwardInputRows<T, SimdScalar<T>>(ref dz, ref w, ref dx, r0, r1, nIn, nOut);
            return;
        }
        nuint n = (nuint)nOut, kIn = (nuint)nIn;
        int rows = DotRows<T, TV>();
        // A W larger than about a third of a 1 MB L2 goes in chunks of about 32 KB of rows (held in L1) outside the batch
        // loop, so it is read from L2 once per chunk instead of once per batch block and need not stay in L2 whole
        // (dZ rows come from L2 instead; dZ is much smaller). A smaller W stays in L2 and is swept once per batch block,
        // which measured ~10% faster at 256 × 256 (dZ rows stay in L1).
        int chunk = (long)nIn * nOut * Unsafe.SizeOf<T>() > 384 * 1024 ? Math.Max(8, 32 * 1024 / (nOut * Unsafe.SizeOf<T>()) / 8 * 8) : nIn;
        for (int i0 = 0; i0 < nIn; i0 += chunk)
        {
            int i1 = Math.Min(nIn, i0 + chunk), r = r0;
            for (; r + rows <= r1; r += rows)
                DotBlock<T, TV>(ref Unsafe.Add(ref dz, (nuint)r * n), ref w, ref Unsafe.Add(ref dx, (nuint)r * kIn), rows, i0, i1, nIn, nOut);
            int left = r1 - r;
            if (left == 1) DotRow<T, TV>(ref Unsafe.Add(ref dz, (nuint)r * n), ref w, ref Unsafe.Add(ref dx, (nuint)r * kIn), i0, i1, nOut);
            else if (left > 1) DotBlock<T, TV>(ref Unsafe.Add(ref dz, (nuint)r * n), ref w, ref Unsafe.Add(ref dx, (nuint)r * kIn), left, i0, i1, nIn, nOut);
        }
    }

    /// <summary>
    /// Up to <see cref="DotRows{T, TV}"/> batch rows (missing rows repeat the last) over dX columns [i0, i1); only a
    /// range ending at nIn may end in a partial group of 4.
    /// </summary>
    private static void DotBlock<T, TV>(ref T g, ref T w, ref T d, int rows, int i0, int i1, int nIn, int nOut)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> where TV : struct, ISimd<TV, T>
    {
        nuint n = (nuint)nOut, kIn = (nuint)nIn;
        int i = i0;
        for (; i + 4 <= i1; i += 4)
        {
            if (DotRows<T, TV>() == 4) DotTile4x4<T, TV>(ref g, n, rows, ref Unsafe.Add(ref w, (nuint)i * n), 4, ref Unsafe.Add(ref d, (nuint)i), kIn);
            else DotTile2x4<T, TV>(ref g, n, rows, ref Unsafe.Add(ref w, (nuint)i * n), 4, ref Unsafe.Add(ref d, (nuint)i), kIn);
        }
        if (i < i1)
        {
            // The last 1–3 features: the missing W rows repeat the last one, and the 4 × 4 results go to scratch first.
            Span<T> scratch = stackalloc T[16];
            ref T s = ref MemoryMarshal.GetReference(scratch);
            if (DotRows<T, TV>() == 4) DotTile4x4<T, TV>(ref g, n, rows, ref Unsafe.Add(ref w, (nuint)i * n), i1 - i, ref s, 4);
            else DotTile2x4<T, TV>(ref g, n, rows, ref Unsafe.Add(ref w, (nuint)i * n), i1 - i, ref s, 4);
            for (int q = 0; q < rows; q++)
                for (int t = i; t < i1; t++)
                    Unsafe.Add(ref d, (nuint)q * kIn + (nuint)t) = Unsafe.Add(ref s, (nuint)(q * 4 + t - i));
        }
    }

    /// <summary>One batch row over dX columns [i0, i1) (8 W rows at a time).</summary>
    private static void DotRow<T, TV>(ref T g, ref T w, ref T d, int i0, int i1, int nOut)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> where TV : struct, ISimd<TV, T>
    {
        nuint n = (nuint)nOut;
        int i = i0;
        for (; i + 8 <= i1; i += 8) DotRow8<T, TV>(ref g, ref Unsafe.Add(ref w, (nuint)i * n), n, 8, ref Unsafe.Add(ref d, (nuint)i));
        if (i < i1)
        {
            Span<T> scratch = stackalloc T[8];
            ref T s = ref MemoryMarshal.GetReference(scratch);
            DotRow8<T, TV>(ref g, ref Unsafe.Add(ref w, (nuint)i * n), n, i1 - i, ref s);
            for (int t = i; t < i1; t++) Unsafe.Add(ref d, (nuint)t) = Unsafe.Add(ref s, (nuint)(t - i));
        }
    }

    /// <summary>
    /// Lane indices 0, 1, 2, … as <typeparamref name="T"/>, for building tail masks: a constant, so the kernels make no
    /// calls (a static-initialization helper call makes the JIT spill every accumulator around the loop).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TV LaneIndices<T, TV>() where T : unmanaged, IBinaryFloatingPointIeee754<T> where TV : struct, ISimd<TV, T>
    {
        if (typeof(TV) == typeof(Simd512<T>)) return Unsafe.BitCast<Vector512<T>, TV>(Vector512<T>.Indices);
        if (typeof(TV) == typeof(Simd256<T>)) return Unsafe.BitCast<Vector256<T>, TV>(Vector256<T>.Indices);
        return TV.Zero; // one lane
    }

    /// <summary>
    /// The last vector of a row of <paramref name="n"/> elements that does not end on a vector boundary: the vector
    /// ending at element n − 1, with the lanes already covered by whole vectors zeroed (a select, so NaN and ∞ there
    /// vanish too). Returns the lane selector's threshold; lanes with index &gt; threshold are kept.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TV TailThreshold<T, TV>(nuint n) where T : unmanaged, IBinaryFloatingPointIeee754<T> where TV : struct, ISimd<TV, T>
    {
        nuint v = (nuint)TV.Count;
        return TV.Create(T.CreateTruncating((int)(v - n % v)) - T.One);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TV LoadTail<T, TV>(ref T row, nuint n, TV lanes, TV threshold) where T : unmanaged, IBinaryFloatingPointIeee754<T> where TV : struct, ISimd<TV, T> =>
        TV.SelectGreaterThan(lanes, threshold, TV.Load(ref row, n - (nuint)TV.Count), TV.Zero);

    // ---- register tiles -------------------------------------------------------------------------------------------

    /// <summary>
    /// dX[q, t] for batch rows q &lt; 4 (rows of dZ at g + q·n; missing rows repeat the last) and W rows t &lt; 4 (at w +
    /// t·n; missing rows repeat the last); results at d + q·ldd + t.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void DotTile4x4<T, TV>(ref T g, nuint n, int rows, ref T w, int wRows, ref T d, nuint ldd)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> where TV : struct, ISimd<TV, T>
    {
        nuint v = (nuint)TV.Count, vEnd = n - n % v;
        ref T g0 = ref g;
        ref T g1 = ref TileRow(ref g, n, 1, rows);
        ref T g2 = ref TileRow(ref g, n, 2, rows);
        ref T g3 = ref TileRow(ref g, n, 3, rows);
        ref T w0 = ref w;
        ref T w1 = ref TileRow(ref w, n, 1, wRows);
        ref T w2 = ref TileRow(ref w, n, 2, wRows);
        ref T w3 = ref TileRow(ref w, n, 3, wRows);
        TV a00 = TV.Zero, a01 = TV.Zero, a02 = TV.Zero, a03 = TV.Zero;
        TV a10 = TV.Zero, a11 = TV.Zero, a12 = TV.Zero, a13 = TV.Zero;
        TV a20 = TV.Zero, a21 = TV.Zero, a22 = TV.Zero, a23 = TV.Zero;
        TV a30 = TV.Zero, a31 = TV.Zero, a32 = TV.Zero, a33 = TV.Zero;
        for (nuint o = 0; o < vEnd; o += v)
        {
            TV x0 = TV.Load(ref w0, o), x1 = TV.Load(ref w1, o), x2 = TV.Load(ref w2, o), x3 = TV.Load(ref w3, o);
            TV z = TV.Load(ref g0, o);
            a00 = TV.MultiplyAdd(z, x0, a00); a01 = TV.MultiplyAdd(z, x1, a01); a02 = TV.MultiplyAdd(z, x2, a02); a03 = TV.MultiplyAdd(z, x3, a03);
            z = TV.Load(ref g1, o);
            a10 = TV.MultiplyAdd(z, x0, a10); a11 = TV.MultiplyAdd(z, x1, a11); a12 = TV.MultiplyAdd(z, x2, a12); a13 = TV.MultiplyAdd(z, x3, a13);
            z = TV.Load(ref g2, o);
            a20 = TV.MultiplyAdd(z, x0, a20); a21 = TV.MultiplyAdd(z, x1, a21); a22 = TV.MultiplyAdd(z, x2, a22); a23 = TV.MultiplyAdd(z, x3, a23);
            z = TV.Load(ref g3, o);
            a30 = TV.MultiplyAdd(z, x0, a30); a31 = TV.MultiplyAdd(z, x1, a31); a32 = TV.MultiplyAdd(z, x2, a32); a33 = TV.MultiplyAdd(z, x3, a33);
        }
        if (vEnd != n)
        {
            TV lanes = LaneIndices<T, TV>(), threshold = TailThreshold<T, TV>(n);
            TV x0 = LoadTail(ref w0, n, lanes, threshold), x1 = LoadTail(ref w1, n, lanes, threshold);
            TV x2 = LoadTail(ref w2, n, lanes, threshold), x3 = LoadTail(ref w3, n, lanes, threshold);
            TV z = LoadTail(ref g0, n, lanes, threshold);
            a00 = TV.MultiplyAdd(z, x0, a00); a01 = TV.MultiplyAdd(z, x1, a01); a02 = TV.MultiplyAdd(z, x2, a02); a03 = TV.MultiplyAdd(z, x3, a03);
            z = LoadTail(ref g1, n, lanes, threshold);
            a10 = TV.MultiplyAdd(z, x0, a10); a11 = TV.MultiplyAdd(z, x1, a11); a12 = TV.MultiplyAdd(z, x2, a12); a13 = TV.MultiplyAdd(z, x3, a13);
            z = LoadTail(ref g2, n, lanes, threshold);
            a20 = TV.MultiplyAdd(z, x0, a20); a21 = TV.MultiplyAdd(z, x1, a21); a22 = TV.MultiplyAdd(z, x2, a22); a23 = TV.MultiplyAdd(z, x3, a23);
            z = LoadTail(ref g3, n, lanes, threshold);
            a30 = TV.MultiplyAdd(z, x0, a30); a31 = TV.MultiplyAdd(z, x1, a31); a32 = TV.MultiplyAdd(z, x2, a32); a33 = TV.MultiplyAdd(z, x3, a33);
        }
        StoreSum4<T, TV>(a30, a31, a32, a33, ref TileRow(ref d, ldd, 3, rows));
        StoreSum4<T, TV>(a20, a21, a22, a23, ref TileRow(ref d, ldd, 2, rows));
        StoreSum4<T, TV>(a10, a11, a12, a13, ref TileRow(ref d, ldd, 1, rows));
        StoreSum4<T, TV>(a00, a01, a02, a03, ref d);
    }

    /// <summary>As <see cref="DotTile4x4{T, TV}"/> with 2 batch rows.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void DotTile2x4<T, TV>(ref T g, nuint n, int rows, ref T w, int wRows, ref T d, nuint ldd)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> where TV : struct, ISimd<TV, T>
    {
        nuint v = (nuint)TV.Count, vEnd = n - n % v;
        ref T g0 = ref g;
        ref T g1 = ref TileRow(ref g, n, 1, rows);
        ref T w0 = ref w;
        ref T w1 = ref TileRow(ref w, n, 1, wRows);
        ref T w2 = ref TileRow(ref w, n, 2, wRows);
        ref T w3 = ref TileRow(ref w, n, 3, wRows);
        TV a00 = TV.Zero, a01 = TV.Zero, a02 = TV.Zero, a03 = TV.Zero;
        TV a10 = TV.Zero, a11 = TV.Zero, a12 = TV.Zero, a13 = TV.Zero;
        for (nuint o = 0; o < vEnd; o += v)
        {
            TV x0 = TV.Load(ref w0, o), x1 = TV.Load(ref w1, o), x2 = TV.Load(ref w2, o), x3 = TV.Load(ref w3, o);
            TV z = TV.Load(ref g0, o);
            a00 = TV.MultiplyAdd(z, x0, a00); a01 = TV.MultiplyAdd(z, x1, a01); a02 = TV.MultiplyAdd(z, x2, a02); a03 = TV.MultiplyAdd(z, x3, a03);
            z = TV.Load(ref g1, o);
            a10 = TV.MultiplyAdd(z, x0, a10); a11 = TV.MultiplyAdd(z, x1, a11); a12 = TV.MultiplyAdd(z, x2, a12); a13 = TV.MultiplyAdd(z, x3, a13);
        }
        if (vEnd != n)
        {
            TV lanes = LaneIndices<T, TV>(), threshold = TailThreshold<T, TV>(n);
            TV x0 = LoadTail(ref w0, n, lanes, threshold), x1 = LoadTail(ref w1, n, lanes, threshold);
            TV x2 = LoadTail(ref w2, n, lanes, threshold), x3 = LoadTail(ref w3, n, lanes, threshold);
            TV z = LoadTail(ref g0, n, lanes, threshold);
            a00 = TV.MultiplyAdd(z, x0, a00); a01 = TV.MultiplyAdd(z, x1, a01); a02 = TV.MultiplyAdd(z, x2, a02); a03 = TV.MultiplyAdd(z, x3, a03);
            z = LoadTail(ref g1, n, lanes, threshold);
            a10 = TV.MultiplyAdd(z, x0, a10); a11 = TV.MultiplyAdd(z, x1, a11); a12 = TV.MultiplyAdd(z, x2, a12); a13 = TV.MultiplyAdd(z, x3, a13);
        }
        StoreSum4<T, TV>(a10, a11, a12, a13, ref TileRow(ref d, ldd, 1, rows));
        StoreSum4<T, TV>(a00, a01, a02, a03, ref d);
    }

    /// <summary>dX[t] for one batch row (g) and W rows t &lt; 8 (missing rows repeat the last); results at d + t.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void DotRow8<T, TV>(ref T g, ref T w, nuint n, int wRows, ref T d)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> where TV : struct, ISimd<TV, T>
    {
        nuint v = (nuint)TV.Count, vEnd = n - n % v;
        ref T w0 = ref w;
        ref T w1 = ref TileRow(ref w, n, 1, wRows);
        ref T w2 = ref TileRow(ref w, n, 2, wRows);
        ref T w3 = ref TileRow(ref w, n, 3, wRows);
        ref T w4 = ref TileRow(ref w, n, 4, wRows);
        ref T w5 = ref TileRow(ref w, n, 5, wRows);
        ref T w6 = ref TileRow(ref w, n, 6, wRows);
        ref T w7 = ref TileRow(ref w, n, 7, wRows);
        TV a0 = TV.Zero, a1 = TV.Zero, a2 = TV.Zero, a3 = TV.Zero, a4 = TV.Zero, a5 = TV.Zero, a6 = TV.Zero, a7 = TV.Zero;
        for (nuint o = 0; o < vEnd; o += v)
        {
            TV z = TV.Load(ref g, o);
            a0 = TV.MultiplyAdd(z, TV.Load(ref w0, o), a0); a1 = TV.MultiplyAdd(z, TV.Load(ref w1, o), a1);
            a2 = TV.MultiplyAdd(z, TV.Load(ref w2, o), a2); a3 = TV.MultiplyAdd(z, TV.Load(ref w3, o), a3);
            a4 = TV.MultiplyAdd(z, TV.Load(ref w4, o), a4); a5 = TV.MultiplyAdd(z, TV.Load(ref w5, o), a5);
            a6 = TV.MultiplyAdd(z, TV.Load(ref w6, o), a6); a7 = TV.MultiplyAdd(z, TV.Load(ref w7, o), a7);
        }
        if (vEnd != n)
        {
            TV lanes = LaneIndices<T, TV>(), threshold = TailThreshold<T, TV>(n);
            TV z = LoadTail(ref g, n, lanes, threshold);
            a0 = TV.MultiplyAdd(z, LoadTail(ref w0, n, lanes, threshold), a0); a1 = TV.MultiplyAdd(z, LoadTail(ref w1, n, lanes, threshold), a1);
            a2 = TV.MultiplyAdd(z, LoadTail(ref w2, n, lanes, threshold), a2); a3 = TV.MultiplyAdd(z, LoadTail(ref w3, n, lanes, threshold), a3);
            a4 = TV.MultiplyAdd(z, LoadTail(ref w4, n, lanes, threshold), a4); a5 = TV.MultiplyAdd(z, LoadTail(ref w5, n, lanes, threshold), a5);
            a6 = TV.MultiplyAdd(z, LoadTail(ref w6, n, lanes, threshold), a6); a7 = TV.MultiplyAdd(z, LoadTail(ref w7, n, lanes, threshold), a7);
        }
        StoreSum4<T, TV>(a0, a1, a2, a3, ref d);
        StoreSum4<T, TV>(a4, a5, a6, a7, ref Unsafe.Add(ref d, 4));
    }

    // ---- the transposing reduction --------------------------------------------------------------------------------

    /// <summary>
    /// Computes d[0..3] = (Σ lanes of a, Σ b, Σ c, Σ d) in one fixed order for every vector: 512-bit registers first
    /// add their halves (lane l + lane l + half), then 8 floats sum as ((v0+v1)+(v2+v3))+((v4+v5)+(v6+v7)) and 4 doubles
    /// as (v0+v1)+(v2+v3) — the order of AVX horizontal adds, which do the four at once; the portable path computes
    /// the same tree lane by lane.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void StoreSum4<T, TV>(TV a, TV b, TV c, TV d, ref T destination)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> where TV : struct, ISimd<TV, T>
    {
        if (typeof(TV) == typeof(Simd512<float>))
            Sum4(Fold(Unsafe.BitCast<TV, Vector512<float>>(a)), Fold(Unsafe.BitCast<TV, Vector512<float>>(b)),
                 Fold(Unsafe.BitCast<TV, Vector512<float>>(c)), Fold(Unsafe.BitCast<TV, Vector512<float>>(d)), ref Unsafe.As<T, float>(ref destination));
        else if (typeof(TV) == typeof(Simd256<float>))
            Sum4(Unsafe.BitCast<TV, Vector256<float>>(a), Unsafe.BitCast<TV, Vector256<float>>(b),
                 Unsafe.BitCast<TV, Vector256<float>>(c), Unsafe.BitCast<TV, Vector256<float>>(d), ref Unsafe.As<T, float>(ref destination));
        else if (typeof(TV) == typeof(Simd512<double>))
            Sum4(Fold(Unsafe.BitCast<TV, Vector512<double>>(a)), Fold(Unsafe.BitCast<TV, Vector512<double>>(b)),
                 Fold(Unsafe.BitCast<TV, Vector512<double>>(c)), Fold(Unsafe.BitCast<TV, Vector512<double>>(d)), ref Unsafe.As<T, double>(ref destination));
        else if (typeof(TV) == typeof(Simd256<double>))
            Sum4(Unsafe.BitCast<TV, Vector256<double>>(a), Unsafe.BitCast<TV, Vector256<double>>(b),
                 Unsafe.BitCast<TV, Vector256<double>>(c), Unsafe.BitCast<TV, Vector256<double>>(d), ref Unsafe.As<T, double>(ref destination));
        else
        {
            destination = TV.Sum(a);
            Unsafe.Add(ref destination, 1) = TV.Sum(b);
            Unsafe.Add(ref destination, 2) = TV.Sum(c);
            Unsafe.Add(ref destination, 3) = TV.Sum(d);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Fold(Vector512<float> v) => v.GetLower() + v.GetUpper();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<double> Fold(Vector512<double> v) => v.GetLower() + v.GetUpper();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Sum4(Vector256<float> a, Vector256<float> b, Vector256<float> c, Vector256<float> d, ref float destination)
    {
        if (Avx.IsSupported)
        {
            // hadd(a, b) = [a0+a1, a2+a3, b0+b1, b2+b3 | a4+a5, a6+a7, b4+b5, b6+b7]; a second hadd of the two pairs
            // leaves [Σa, Σb, Σc, Σd] of each 128-bit half; adding the halves finishes the tree.
            Vector256<float> h = Avx.HorizontalAdd(Avx.HorizontalAdd(a, b), Avx.HorizontalAdd(c, d));
            (h.GetLower() + h.GetUpper()).StoreUnsafe(ref destination);
        }
        else
        {
            destination = Tree(a);
            Unsafe.Add(ref destination, 1) = Tree(b);
            Unsafe.Add(ref destination, 2) = Tree(c);
            Unsafe.Add(ref destination, 3) = Tree(d);
        }

        static float Tree(Vector256<float> v) =>
            ((v.GetElement(0) + v.GetElement(1)) + (v.GetElement(2) + v.GetElement(3))) + ((v.GetElement(4) + v.GetElement(5)) + (v.GetElement(6) + v.GetElement(7)));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Sum4(Vector256<double> a, Vector256<double> b, Vector256<double> c, Vector256<double> d, ref double destination)
    {
        if (Avx.IsSupported)
        {
            // hadd(a, b) = [a0+a1, b0+b1 | a2+a3, b2+b3]; adding the halves gives [Σa, Σb].
            Vector256<double> ab = Avx.HorizontalAdd(a, b), cd = Avx.HorizontalAdd(c, d);
            (ab.GetLower() + ab.GetUpper()).StoreUnsafe(ref destination);
            (cd.GetLower() + cd.GetUpper()).StoreUnsafe(ref destination, 2);
        }
        else
        {
            destination = Tree(a);
            Unsafe.Add(ref destination, 1) = Tree(b);
            Unsafe.Add(ref destination, 2) = Tree(c);
            Unsafe.Add(ref destination, 3) = Tree(d);
        }

        static double Tree(Vector256<double> v) => (v.GetElement(0) + v.GetElement(1)) + (v.GetElement(2) + v.GetElement(3));
    }
}
