using System;
using System.Diagnostics;
using System.Numerics;
using System.Runtime.CompilerServices;
using KernelGen.Operators;

namespace KernelGen.Kernels;

// The forward pass and the weight gradient are both C = init + A·B with one element of A broadcast against vector
// rows of B (the register-blocked "broadcast" GEMM of XNNPACK's f32-gemm microkernels):
//   forward: A = x [batch × nIn], B = W [nIn × nOut], init = b, C = y, then the activation;
//   dW:      A = xᵀ (A[i, r] = x[r, i]), B = dZ [batch × nOut], init = 0, C = dW.
// Every element of C is one multiply-add chain over k in ascending order whatever tile computes it, so tiles of any
// shape (and the one-row matrix-vector path) give bit-identical results for the same element.
//
// Tile shapes per register width (accumulators + B vectors + one broadcast must fit in the register file):
//   512-bit (32 zmm): 6 rows × 4 vectors = 24 accumulators + 4 + 1 = 29 registers (4 × 4 when fewer rows are left):
//     10 loads per 24 FMAs instead of 8 per 16; the batch-64 MLP forward went from 83 % to 89 % of the FMA peak;
//   256-bit (16 ymm on AVX2): 4 rows × 2 vectors = 8 accumulators + 2 + 1 = 11 registers (4 × 4 spilled);
//   scalar: 4 rows × 2.
// Column remainders take 4 rows × 1 vector tiles, and the last partial vector is computed as the overlapping vector
// ending at the last column (a pure map: the overlapped columns get the same values again).
// A single remaining row (batch 1 in particular) takes the matrix-vector path: x[k] broadcast against 16 (512-bit
// only: a whole 256-float row of W per k, one sequential stream), 8, 4 or 1 vectors of W row k, so W streams through
// once; rows 2–3 of a partial block reuse the 4-row tile with the missing rows repeating the last one (same inputs,
// same outputs, same addresses), so W streams once for them too. dW at batch 1 is an outer product (a store stream).
// Tried and dropped (no gain in min-of-N timings): software prefetch in the matrix-vector loop, visiting row-major W in
// column-panel-major order, and k-blocking the tiles so a panel of B stays in L1. Fixed weights packed into contiguous
// panels do pay (Dense.Packed.cs: the inference form).
public static partial class Dense
{
    /// <summary>Rows of A per register tile.</summary>
    private const int GemmRows = 4;

    /// <summary>Vectors of B per register tile: 4 with 512-bit registers, else 2. JIT-time constant.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int GemmVectors<T, TV>() where T : unmanaged, IBinaryFloatingPointIeee754<T> where TV : struct, ISimd<TV, T> =>
        IsWide<T, TV>() ? 4 : 2;

    // ---- forward: Y = f(X·W + b) ----------------------------------------------------------------------------------

    /// <summary>The forward pass at register type <typeparamref name="TV"/> (narrower if a row is shorter than it).</summary>
    internal static void ForwardCore<T, TAct, TV>(ref T x, ref T w, ref T b, ref T y, int batch, int nIn, int nOut)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> where TAct : IActivationOp<T> where TV : struct, ISimd<TV, T> =>
        ForwardRows<T, TAct, TV>(ref x, ref w, ref b, ref y, 0, batch, nIn, nOut);

    /// <summary>The forward pass for batch rows [<paramref name="r0"/>, <paramref name="r1"/>).</summary>
    internal static void ForwardRows<T, TAct, TV>(ref T x, ref T w, ref T b, ref T y, int r0, int r1, int nIn, int nOut)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> where TAct : IActivationOp<T> where TV : struct, ISimd<TV, T>
    {
        if (nOut < TV.Count)
        {
            if (TV.Count > Simd256<T>.Count) ForwardRows<T, TAct, Simd256<T>>(ref x, ref w, ref b, ref y, r0, r1, nIn, nOut);
            else ForwardRows<T, TAct, SimdScalar<T>>(ref x, ref w, ref b, ref y, r0, r1, nIn, nOut);
            return;
        }
        nuint kIn = (nuint)nIn, n = (nuint)nOut;
        Gemm<T, TAct, TV>(ref Unsafe.Add(ref x, (nuint)r0 * kIn), kIn, 1, ref w, n, kIn, ref b, true,
            ref Unsafe.Add(ref y, (nuint)r0 * n), n, r1 - r0, 0, nOut);
    }

    /// <summary>
    /// The forward pass of every row for output columns [<paramref name="j0"/>, <paramref name="j1"/>), a range of at
    /// least one vector of the width the row runs at (see <see cref="ColumnSplit{T, TV}"/>).
    /// </summary>
    internal static void ForwardColumns<T, TAct, TV>(ref T x, ref T w, ref T b, ref T y, int batch, int nIn, int nOut, int j0, int j1)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> where TAct : IActivationOp<T> where TV : struct, ISimd<TV, T>
    {
        if (nOut < TV.Count)
        {
            if (TV.Count > Simd256<T>.Count) ForwardColumns<T, TAct, Simd256<T>>(ref x, ref w, ref b, ref y, batch, nIn, nOut, j0, j1);
            else ForwardColumns<T, TAct, SimdScalar<T>>(ref x, ref w, ref b, ref y, batch, nIn, nOut, j0, j1);
            return;
        }
        nuint kIn = (nuint)nIn, n = (nuint)nOut;
        Gemm<T, TAct, TV>(ref x, kIn, 1, ref w, n, kIn, ref b, true, ref y, n, batch, j0, j1);
    }

    // ---- backward: dW = Xᵀ·dZ, db = Σ dZ --------------------------------------------------------------------------

    /// <summary>dW and db at register type <typeparamref name="TV"/> (narrower if a row is shorter than it).</summary>
    internal static void BackwardParametersCore<T, TV>(ref T x, ref T dz, ref T dw, ref T db, int batch, int nIn, int nOut)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> where TV : struct, ISimd<TV, T>
    {
        WeightGradient<T, TV>(ref x, ref dz, ref dw, 0, nIn, 0, nOut, batch, nIn, nOut);
        BiasGradient<T, TV>(ref dz, ref db, 0, nOut, batch, nOut);
    }

    /// <summary>
    /// dW[i, j] for i in [<paramref name="i0"/>, <paramref name="i1"/>) and j in [<paramref name="j0"/>,
    /// <paramref name="j1"/>); a column range narrower than the full row must hold at least one vector.
    /// </summary>
    internal static void WeightGradient<T, TV>(ref T x, ref T dz, ref T dw, int i0, int i1, int j0, int j1, int batch, int nIn, int nOut)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> where TV : struct, ISimd<TV, T>
    {
        if (nOut < TV.Count)
        {
            if (TV.Count > Simd256<T>.Count) WeightGradient<T, Simd256<T>>(ref x, ref dz, ref dw, i0, i1, j0, j1, batch, nIn, nOut);
            else WeightGradient<T, SimdScalar<T>>(ref x, ref dz, ref dw, i0, i1, j0, j1, batch, nIn, nOut);
            return;
        }
        nuint n = (nuint)nOut;
        if (batch == 1)
        {
            OuterProduct<T, TV>(ref x, ref dz, ref dw, i0, i1, j0, j1, n);
            return;
        }
        // A[i, r] = x[r·nIn + i]: rows of A are adjacent elements of x, k (the batch row) strides by nIn.
        Gemm<T, IdentityOp<T>, TV>(ref Unsafe.Add(ref x, (nuint)i0), 1, (nuint)nIn, ref dz, n, (nuint)batch, ref dw, false,
            ref Unsafe.Add(ref dw, (nuint)i0 * n), n, i1 - i0, j0, j1);
    }

    /// <summary>
    /// Batch 1: dW[i, j] = x[i]·dZ[j] (computed as the one-step chain 0 + x[i]·dZ[j], as the tiles would), row by row
    /// with dZ in cache; a pure store stream.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void OuterProduct<T, TV>(ref T x, ref T dz, ref T dw, int i0, int i1, int j0, int j1, nuint n)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> where TV : struct, ISimd<TV, T>
    {
        nuint v = (nuint)TV.Count, start = (nuint)j0, end = (nuint)j1;
        for (nuint i = (nuint)i0; i < (nuint)i1; i++)
        {
            TV s = TV.Create(Unsafe.Add(ref x, i));
            ref T row = ref Unsafe.Add(ref dw, i * n);
            nuint j = start;
            for (; j + 4 * v <= end; j += 4 * v)
            {
                TV.Store(TV.MultiplyAdd(s, TV.Load(ref dz, j), TV.Zero), ref row, j);
                TV.Store(TV.MultiplyAdd(s, TV.Load(ref dz, j + v), TV.Zero), ref row, j + v);
                TV.Store(TV.MultiplyAdd(s, TV.Load(ref dz, j + 2 * v), TV.Zero), ref row, j + 2 * v);
                TV.Store(TV.MultiplyAdd(s, TV.Load(ref dz, j + 3 * v), TV.Zero), ref row, j + 3 * v);
            }
            for (; j + v <= end; j += v) TV.Store(TV.MultiplyAdd(s, TV.Load(ref dz, j), TV.Zero), ref row, j);
            if (j < end) TV.Store(TV.MultiplyAdd(s, TV.Load(ref dz, end - v), TV.Zero), ref row, end - v); // overlapping final vector
        }
    }

    /// <summary>db[j] = Σ_r dZ[r, j] (rows ascending) for j in [<paramref name="j0"/>, <paramref name="j1"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void BiasGradient<T, TV>(ref T dz, ref T db, int j0, int j1, int batch, int nOut)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> where TV : struct, ISimd<TV, T>
    {
        nuint v = (nuint)TV.Count, n = (nuint)nOut, rows = (nuint)batch, j = (nuint)j0, end = (nuint)j1;
        for (; j + 4 * v <= end; j += 4 * v)
        {
            // Four independent chains; each lane still adds the rows in ascending order.
            TV s0 = TV.Zero, s1 = TV.Zero, s2 = TV.Zero, s3 = TV.Zero;
            ref T g = ref Unsafe.Add(ref dz, j);
            for (nuint r = 0; r < rows; r++)
            {
                s0 += TV.Load(ref g, 0); s1 += TV.Load(ref g, v); s2 += TV.Load(ref g, 2 * v); s3 += TV.Load(ref g, 3 * v);
                g = ref Unsafe.Add(ref g, n);
            }
            TV.Store(s0, ref db, j); TV.Store(s1, ref db, j + v); TV.Store(s2, ref db, j + 2 * v); TV.Store(s3, ref db, j + 3 * v);
        }
        for (; j + v <= end; j += v)
        {
            TV s = TV.Zero;
            for (nuint r = 0; r < rows; r++) s += TV.Load(ref dz, r * n + j);
            TV.Store(s, ref db, j);
        }
        for (; j < end; j++)
        {
            // Lane-wise vector addition rounds exactly like scalar addition, so the tail matches the vector lanes.
            T s = T.Zero;
            for (nuint r = 0; r < rows; r++) s += Unsafe.Add(ref dz, r * n + j);
            Unsafe.Add(ref db, j) = s;
        }
    }

    // ---- the shared GEMM driver -----------------------------------------------------------------------------------

    /// <summary>
    /// C[m, j] = TAct(init[j] + Σ_k A[m, k]·B[k, j]) for m in [0, <paramref name="rows"/>), j in
    /// [<paramref name="j0"/>, <paramref name="j1"/>), k in [0, <paramref name="kCount"/>) ascending; A[m, k] is at
    /// a[m·aRow + k·aK], B[k, j] at b[k·ldb + j], C[m, j] at c[m·ldc + j], init[m, j] at init[m·ldi + j] (ldi = 0: one
    /// row for all, the dense bias; ldi = ldc with init = c: accumulation into C); init is read only if
    /// <paramref name="hasInit"/> (else 0). Needs j1 − j0 ≥ one vector. An accumulating caller must keep j1 − j0 a whole
    /// number of vectors: the overlapping final vector would read columns it has already updated.
    /// </summary>
    internal static void Gemm<T, TAct, TV>(ref T a, nuint aRow, nuint aK, ref T b, nuint ldb, nuint kCount, ref T init, bool hasInit,
        ref T c, nuint ldc, int rows, int j0, int j1, nuint ldi = 0)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> where TAct : IActivationOp<T> where TV : struct, ISimd<TV, T>
    {
        Debug.Assert(j1 - j0 >= TV.Count);
        int m = 0, block = BlockRows<T, TV>();
        for (; m + block <= rows; m += block)
            GemmBlock<T, TAct, TV>(ref Unsafe.Add(ref a, (nuint)m * aRow), aRow, aK, block, ref b, ldb, kCount, ref Unsafe.Add(ref init, (nuint)m * ldi), hasInit, ldi,
                ref Unsafe.Add(ref c, (nuint)m * ldc), ldc, j0, j1);
        int left = rows - m;
        if (left == 1)
            GemmRow<T, TAct, TV>(ref Unsafe.Add(ref a, (nuint)m * aRow), aK, ref b, ldb, kCount, ref Unsafe.Add(ref init, (nuint)m * ldi), hasInit, ref Unsafe.Add(ref c, (nuint)m * ldc), j0, j1);
        else if (left > 1)
            GemmBlock<T, TAct, TV>(ref Unsafe.Add(ref a, (nuint)m * aRow), aRow, aK, left, ref b, ldb, kCount, ref Unsafe.Add(ref init, (nuint)m * ldi), hasInit, ldi,
                ref Unsafe.Add(ref c, (nuint)m * ldc), ldc, j0, j1);
    }

    /// <summary>Rows of A per block: 6 with 512-bit registers (the 6 × 4 tile), else <see cref="GemmRows"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int BlockRows<T, TV>() where T : unmanaged, IBinaryFloatingPointIeee754<T> where TV : struct, ISimd<TV, T> =>
        GemmVectors<T, TV>() == 4 ? 6 : GemmRows;

    /// <summary>Up to <see cref="BlockRows{T, TV}"/> rows across columns [j0, j1).</summary>
    private static void GemmBlock<T, TAct, TV>(ref T a, nuint aRow, nuint aK, int rows, ref T b, nuint ldb, nuint kCount, ref T init, bool hasInit, nuint ldi,
        ref T c, nuint ldc, int j0, int j1)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> where TAct : IActivationOp<T> where TV : struct, ISimd<TV, T>
    {
        nuint v = (nuint)TV.Count, j = (nuint)j0, end = (nuint)j1;
        if (GemmVectors<T, TV>() == 4)
        {
            for (; j + 4 * v <= end; j += 4 * v)
                if (rows > GemmRows)
                    Tile6x4<T, TAct, TV>(ref a, aRow, aK, rows, ref Unsafe.Add(ref b, j), ldb, kCount, ref Unsafe.Add(ref init, j), hasInit, ldi, ref Unsafe.Add(ref c, j), ldc);
                else
                    Tile4x4<T, TAct, TV>(ref a, aRow, aK, rows, ref Unsafe.Add(ref b, j), ldb, kCount, ref Unsafe.Add(ref init, j), hasInit, ldi, ref Unsafe.Add(ref c, j), ldc);
        }
        // The narrower tiles take 4 rows at a time.
        for (int r = 0; r < rows; r += GemmRows)
        {
            int n = Math.Min(GemmRows, rows - r);
            ref T ar = ref Unsafe.Add(ref a, (nuint)r * aRow);
            ref T ir = ref Unsafe.Add(ref init, (nuint)r * ldi);
            ref T cr = ref Unsafe.Add(ref c, (nuint)r * ldc);
            nuint jr = j;
            // Two vectors left (or the 256-bit tile): 8 independent accumulators instead of 4 (a 32-column convolution weight gradient).
            for (; jr + 2 * v <= end; jr += 2 * v)
                Tile4x2<T, TAct, TV>(ref ar, aRow, aK, n, ref Unsafe.Add(ref b, jr), ldb, kCount, ref Unsafe.Add(ref ir, jr), hasInit, ldi, ref Unsafe.Add(ref cr, jr), ldc);
            for (; jr + v <= end; jr += v)
                Tile4x1<T, TAct, TV>(ref ar, aRow, aK, n, ref Unsafe.Add(ref b, jr), ldb, kCount, ref Unsafe.Add(ref ir, jr), hasInit, ldi, ref Unsafe.Add(ref cr, jr), ldc);
            if (jr < end)
            {
                jr = end - v; // overlapping final vector
                Tile4x1<T, TAct, TV>(ref ar, aRow, aK, n, ref Unsafe.Add(ref b, jr), ldb, kCount, ref Unsafe.Add(ref ir, jr), hasInit, ldi, ref Unsafe.Add(ref cr, jr), ldc);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile6x4<T, TAct, TV>(ref T a, nuint aRow, nuint aK, int rows, ref T b, nuint ldb, nuint kCount, ref T init, bool hasInit, nuint ldi, ref T c, nuint ldc)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> where TAct : IActivationOp<T> where TV : struct, ISimd<TV, T>
    {
        nuint v = (nuint)TV.Count;
        ref T a0 = ref a;
        ref T a1 = ref TileRow(ref a, aRow, 1, rows);
        ref T a2 = ref TileRow(ref a, aRow, 2, rows);
        ref T a3 = ref TileRow(ref a, aRow, 3, rows);
        ref T a4 = ref TileRow(ref a, aRow, 4, rows);
        ref T a5 = ref TileRow(ref a, aRow, 5, rows);
        ref T n0 = ref init;
        ref T n1 = ref TileRow(ref init, ldi, 1, rows);
        ref T n2 = ref TileRow(ref init, ldi, 2, rows);
        ref T n3 = ref TileRow(ref init, ldi, 3, rows);
        ref T n4 = ref TileRow(ref init, ldi, 4, rows);
        ref T n5 = ref TileRow(ref init, ldi, 5, rows);
        TV c00 = Init<T, TV>(ref n0, 0, hasInit), c01 = Init<T, TV>(ref n0, v, hasInit), c02 = Init<T, TV>(ref n0, 2 * v, hasInit), c03 = Init<T, TV>(ref n0, 3 * v, hasInit);
        TV c10 = Init<T, TV>(ref n1, 0, hasInit), c11 = Init<T, TV>(ref n1, v, hasInit), c12 = Init<T, TV>(ref n1, 2 * v, hasInit), c13 = Init<T, TV>(ref n1, 3 * v, hasInit);
        TV c20 = Init<T, TV>(ref n2, 0, hasInit), c21 = Init<T, TV>(ref n2, v, hasInit), c22 = Init<T, TV>(ref n2, 2 * v, hasInit), c23 = Init<T, TV>(ref n2, 3 * v, hasInit);
        TV c30 = Init<T, TV>(ref n3, 0, hasInit), c31 = Init<T, TV>(ref n3, v, hasInit), c32 = Init<T, TV>(ref n3, 2 * v, hasInit), c33 = Init<T, TV>(ref n3, 3 * v, hasInit);
        TV c40 = Init<T, TV>(ref n4, 0, hasInit), c41 = Init<T, TV>(ref n4, v, hasInit), c42 = Init<T, TV>(ref n4, 2 * v, hasInit), c43 = Init<T, TV>(ref n4, 3 * v, hasInit);
        TV c50 = Init<T, TV>(ref n5, 0, hasInit), c51 = Init<T, TV>(ref n5, v, hasInit), c52 = Init<T, TV>(ref n5, 2 * v, hasInit), c53 = Init<T, TV>(ref n5, 3 * v, hasInit);
        nuint ka = 0;
        for (nuint k = 0; k < kCount; k++)
        {
            TV b0 = TV.Load(ref b, 0), b1 = TV.Load(ref b, v), b2 = TV.Load(ref b, 2 * v), b3 = TV.Load(ref b, 3 * v);
            TV s = TV.Create(Unsafe.Add(ref a0, ka));
            c00 = TV.MultiplyAdd(s, b0, c00); c01 = TV.MultiplyAdd(s, b1, c01); c02 = TV.MultiplyAdd(s, b2, c02); c03 = TV.MultiplyAdd(s, b3, c03);
            s = TV.Create(Unsafe.Add(ref a1, ka));
            c10 = TV.MultiplyAdd(s, b0, c10); c11 = TV.MultiplyAdd(s, b1, c11); c12 = TV.MultiplyAdd(s, b2, c12); c13 = TV.MultiplyAdd(s, b3, c13);
            s = TV.Create(Unsafe.Add(ref a2, ka));
            c20 = TV.MultiplyAdd(s, b0, c20); c21 = TV.MultiplyAdd(s, b1, c21); c22 = TV.MultiplyAdd(s, b2, c22); c23 = TV.MultiplyAdd(s, b3, c23);
            s = TV.Create(Unsafe.Add(ref a3, ka));
            c30 = TV.MultiplyAdd(s, b0, c30); c31 = TV.MultiplyAdd(s, b1, c31); c32 = TV.MultiplyAdd(s, b2, c32); c33 = TV.MultiplyAdd(s, b3, c33);
            s = TV.Create(Unsafe.Add(ref a4, ka));
            c40 = TV.MultiplyAdd(s, b0, c40); c41 = TV.MultiplyAdd(s, b1, c41); c42 = TV.MultiplyAdd(s, b2, c42); c43 = TV.MultiplyAdd(s, b3, c43);
            s = TV.Create(Unsafe.Add(ref a5, ka));
            c50 = TV.MultiplyAdd(s, b0, c50); c51 = TV.MultiplyAdd(s, b1, c51); c52 = TV.MultiplyAdd(s, b2, c52); c53 = TV.MultiplyAdd(s, b3, c53);
            ka += aK;
            b = ref Unsafe.Add(ref b, ldb);
        }
        // A repeated (missing) row stores the same values to the same address again.
        ref T r = ref TileRow(ref c, ldc, 5, rows);
        TV.Store(TAct.Forward(c50), ref r, 0); TV.Store(TAct.Forward(c51), ref r, v); TV.Store(TAct.Forward(c52), ref r, 2 * v); TV.Store(TAct.Forward(c53), ref r, 3 * v);
        r = ref TileRow(ref c, ldc, 4, rows);
        TV.Store(TAct.Forward(c40), ref r, 0); TV.Store(TAct.Forward(c41), ref r, v); TV.Store(TAct.Forward(c42), ref r, 2 * v); TV.Store(TAct.Forward(c43), ref r, 3 * v);
        r = ref TileRow(ref c, ldc, 3, rows);
        TV.Store(TAct.Forward(c30), ref r, 0); TV.Store(TAct.Forward(c31), ref r, v); TV.Store(TAct.Forward(c32), ref r, 2 * v); TV.Store(TAct.Forward(c33), ref r, 3 * v);
        r = ref TileRow(ref c, ldc, 2, rows);
        TV.Store(TAct.Forward(c20), ref r, 0); TV.Store(TAct.Forward(c21), ref r, v); TV.Store(TAct.Forward(c22), ref r, 2 * v); TV.Store(TAct.Forward(c23), ref r, 3 * v);
        r = ref TileRow(ref c, ldc, 1, rows);
        TV.Store(TAct.Forward(c10), ref r, 0); TV.Store(TAct.Forward(c11), ref r, v); TV.Store(TAct.Forward(c12), ref r, 2 * v); TV.Store(TAct.Forward(c13), ref r, 3 * v);
        TV.Store(TAct.Forward(c00), ref c, 0); TV.Store(TAct.Forward(c01), ref c, v); TV.Store(TAct.Forward(c02), ref c, 2 * v); TV.Store(TAct.Forward(c03), ref c, 3 * v);
    }

    /// <summary>One row across columns [j0, j1): the matrix-vector path (B streams through once).</summary>
    private static void GemmRow<T, TAct, TV>(ref T a, nuint aK, ref T b, nuint ldb, nuint kCount, ref T init, bool hasInit, ref T c, int j0, int j1)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> where TAct : IActivationOp<T> where TV : struct, ISimd<TV, T>
    {
        nuint v = (nuint)TV.Count, j = (nuint)j0, end = (nuint)j1;
        if (IsWide<T, TV>())
            for (; j + 16 * v <= end; j += 16 * v)
                Row16<T, TAct, TV>(ref a, aK, ref Unsafe.Add(ref b, j), ldb, kCount, ref Unsafe.Add(ref init, j), hasInit, ref Unsafe.Add(ref c, j));
        for (; j + 8 * v <= end; j += 8 * v)
            Row8<T, TAct, TV>(ref a, aK, ref Unsafe.Add(ref b, j), ldb, kCount, ref Unsafe.Add(ref init, j), hasInit, ref Unsafe.Add(ref c, j));
        if (j + 4 * v <= end)
        {
            Row4<T, TAct, TV>(ref a, aK, ref Unsafe.Add(ref b, j), ldb, kCount, ref Unsafe.Add(ref init, j), hasInit, ref Unsafe.Add(ref c, j));
            j += 4 * v;
        }
        for (; j + v <= end; j += v)
            Row1<T, TAct, TV>(ref a, aK, ref Unsafe.Add(ref b, j), ldb, kCount, ref Unsafe.Add(ref init, j), hasInit, ref Unsafe.Add(ref c, j));
        if (j < end)
        {
            j = end - v; // overlapping final vector
            Row1<T, TAct, TV>(ref a, aK, ref Unsafe.Add(ref b, j), ldb, kCount, ref Unsafe.Add(ref init, j), hasInit, ref Unsafe.Add(ref c, j));
        }
    }

    /// <summary>Row <paramref name="index"/> of a tile of <paramref name="count"/> rows; missing rows repeat the last.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ref T TileRow<T>(ref T first, nuint stride, int index, int count) =>
        ref Unsafe.Add(ref first, (nuint)Math.Min(index, count - 1) * stride);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TV Init<T, TV>(ref T init, nuint offset, bool hasInit) where T : unmanaged, IBinaryFloatingPointIeee754<T> where TV : struct, ISimd<TV, T> =>
        hasInit ? TV.Load(ref init, offset) : TV.Zero;

    // ---- register tiles -------------------------------------------------------------------------------------------

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile4x4<T, TAct, TV>(ref T a, nuint aRow, nuint aK, int rows, ref T b, nuint ldb, nuint kCount, ref T init, bool hasInit, nuint ldi, ref T c, nuint ldc)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> where TAct : IActivationOp<T> where TV : struct, ISimd<TV, T>
    {
        nuint v = (nuint)TV.Count;
        ref T a0 = ref a;
        ref T a1 = ref TileRow(ref a, aRow, 1, rows);
        ref T a2 = ref TileRow(ref a, aRow, 2, rows);
        ref T a3 = ref TileRow(ref a, aRow, 3, rows);
        ref T n0 = ref init;
        ref T n1 = ref TileRow(ref init, ldi, 1, rows);
        ref T n2 = ref TileRow(ref init, ldi, 2, rows);
        ref T n3 = ref TileRow(ref init, ldi, 3, rows);
        TV c00 = Init<T, TV>(ref n0, 0, hasInit), c01 = Init<T, TV>(ref n0, v, hasInit), c02 = Init<T, TV>(ref n0, 2 * v, hasInit), c03 = Init<T, TV>(ref n0, 3 * v, hasInit);
        TV c10 = Init<T, TV>(ref n1, 0, hasInit), c11 = Init<T, TV>(ref n1, v, hasInit), c12 = Init<T, TV>(ref n1, 2 * v, hasInit), c13 = Init<T, TV>(ref n1, 3 * v, hasInit);
        TV c20 = Init<T, TV>(ref n2, 0, hasInit), c21 = Init<T, TV>(ref n2, v, hasInit), c22 = Init<T, TV>(ref n2, 2 * v, hasInit), c23 = Init<T, TV>(ref n2, 3 * v, hasInit);
        TV c30 = Init<T, TV>(ref n3, 0, hasInit), c31 = Init<T, TV>(ref n3, v, hasInit), c32 = Init<T, TV>(ref n3, 2 * v, hasInit), c33 = Init<T, TV>(ref n3, 3 * v, hasInit);
        nuint ka = 0;
        for (nuint k = 0; k < kCount; k++)
        {
            TV b0 = TV.Load(ref b, 0), b1 = TV.Load(ref b, v), b2 = TV.Load(ref b, 2 * v), b3 = TV.Load(ref b, 3 * v);
            TV s = TV.Create(Unsafe.Add(ref a0, ka));
            c00 = TV.MultiplyAdd(s, b0, c00); c01 = TV.MultiplyAdd(s, b1, c01); c02 = TV.MultiplyAdd(s, b2, c02); c03 = TV.MultiplyAdd(s, b3, c03);
            s = TV.Create(Unsafe.Add(ref a1, ka));
            c10 = TV.MultiplyAdd(s, b0, c10); c11 = TV.MultiplyAdd(s, b1, c11); c12 = TV.MultiplyAdd(s, b2, c12); c13 = TV.MultiplyAdd(s, b3, c13);
            s = TV.Create(Unsafe.Add(ref a2, ka));
            c20 = TV.MultiplyAdd(s, b0, c20); c21 = TV.MultiplyAdd(s, b1, c21); c22 = TV.MultiplyAdd(s, b2, c22); c23 = TV.MultiplyAdd(s, b3, c23);
            s = TV.Create(Unsafe.Add(ref a3, ka));
            c30 = TV.MultiplyAdd(s, b0, c30); c31 = TV.MultiplyAdd(s, b1, c31); c32 = TV.MultiplyAdd(s, b2, c32); c33 = TV.MultiplyAdd(s, b3, c33);
            ka += aK;
            b = ref Unsafe.Add(ref b, ldb);
        }
        // A repeated (missing) row stores the same values to the same address again.
        ref T r = ref TileRow(ref c, ldc, 3, rows);
        TV.Store(TAct.Forward(c30), ref r, 0); TV.Store(TAct.Forward(c31), ref r, v); TV.Store(TAct.Forward(c32), ref r, 2 * v); TV.Store(TAct.Forward(c33), ref r, 3 * v);
        r = ref TileRow(ref c, ldc, 2, rows);
        TV.Store(TAct.Forward(c20), ref r, 0); TV.Store(TAct.Forward(c21), ref r, v); TV.Store(TAct.Forward(c22), ref r, 2 * v); TV.Store(TAct.Forward(c23), ref r, 3 * v);
        r = ref TileRow(ref c, ldc, 1, rows);
        TV.Store(TAct.Forward(c10), ref r, 0); TV.Store(TAct.Forward(c11), ref r, v); TV.Store(TAct.Forward(c12), ref r, 2 * v); TV.Store(TAct.Forward(c13), ref r, 3 * v);
        TV.Store(TAct.Forward(c00), ref c, 0); TV.Store(TAct.Forward(c01), ref c, v); TV.Store(TAct.Forward(c02), ref c, 2 * v); TV.Store(TAct.Forward(c03), ref c, 3 * v);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile4x2<T, TAct, TV>(ref T a, nuint aRow, nuint aK, int rows, ref T b, nuint ldb, nuint kCount, ref T init, bool hasInit, nuint ldi, ref T c, nuint ldc)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> where TAct : IActivationOp<T> where TV : struct, ISimd<TV, T>
    {
        nuint v = (nuint)TV.Count;
        ref T a0 = ref a;
        ref T a1 = ref TileRow(ref a, aRow, 1, rows);
        ref T a2 = ref TileRow(ref a, aRow, 2, rows);
        ref T a3 = ref TileRow(ref a, aRow, 3, rows);
        ref T n1 = ref TileRow(ref init, ldi, 1, rows);
        ref T n2 = ref TileRow(ref init, ldi, 2, rows);
        ref T n3 = ref TileRow(ref init, ldi, 3, rows);
        TV c00 = Init<T, TV>(ref init, 0, hasInit), c01 = Init<T, TV>(ref init, v, hasInit), c10 = Init<T, TV>(ref n1, 0, hasInit), c11 = Init<T, TV>(ref n1, v, hasInit);
        TV c20 = Init<T, TV>(ref n2, 0, hasInit), c21 = Init<T, TV>(ref n2, v, hasInit), c30 = Init<T, TV>(ref n3, 0, hasInit), c31 = Init<T, TV>(ref n3, v, hasInit);
        nuint ka = 0;
        for (nuint k = 0; k < kCount; k++)
        {
            TV b0 = TV.Load(ref b, 0), b1 = TV.Load(ref b, v);
            TV s = TV.Create(Unsafe.Add(ref a0, ka));
            c00 = TV.MultiplyAdd(s, b0, c00); c01 = TV.MultiplyAdd(s, b1, c01);
            s = TV.Create(Unsafe.Add(ref a1, ka));
            c10 = TV.MultiplyAdd(s, b0, c10); c11 = TV.MultiplyAdd(s, b1, c11);
            s = TV.Create(Unsafe.Add(ref a2, ka));
            c20 = TV.MultiplyAdd(s, b0, c20); c21 = TV.MultiplyAdd(s, b1, c21);
            s = TV.Create(Unsafe.Add(ref a3, ka));
            c30 = TV.MultiplyAdd(s, b0, c30); c31 = TV.MultiplyAdd(s, b1, c31);
            ka += aK;
            b = ref Unsafe.Add(ref b, ldb);
        }
        ref T r = ref TileRow(ref c, ldc, 3, rows);
        TV.Store(TAct.Forward(c30), ref r, 0); TV.Store(TAct.Forward(c31), ref r, v);
        r = ref TileRow(ref c, ldc, 2, rows);
        TV.Store(TAct.Forward(c20), ref r, 0); TV.Store(TAct.Forward(c21), ref r, v);
        r = ref TileRow(ref c, ldc, 1, rows);
        TV.Store(TAct.Forward(c10), ref r, 0); TV.Store(TAct.Forward(c11), ref r, v);
        TV.Store(TAct.Forward(c00), ref c, 0); TV.Store(TAct.Forward(c01), ref c, v);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile4x1<T, TAct, TV>(ref T a, nuint aRow, nuint aK, int rows, ref T b, nuint ldb, nuint kCount, ref T init, bool hasInit, nuint ldi, ref T c, nuint ldc)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> where TAct : IActivationOp<T> where TV : struct, ISimd<TV, T>
    {
        ref T a0 = ref a;
        ref T a1 = ref TileRow(ref a, aRow, 1, rows);
        ref T a2 = ref TileRow(ref a, aRow, 2, rows);
        ref T a3 = ref TileRow(ref a, aRow, 3, rows);
        TV c0 = Init<T, TV>(ref init, 0, hasInit), c1 = Init<T, TV>(ref TileRow(ref init, ldi, 1, rows), 0, hasInit);
        TV c2 = Init<T, TV>(ref TileRow(ref init, ldi, 2, rows), 0, hasInit), c3 = Init<T, TV>(ref TileRow(ref init, ldi, 3, rows), 0, hasInit);
        nuint ka = 0;
        for (nuint k = 0; k < kCount; k++)
        {
            TV b0 = TV.Load(ref b, 0);
            c0 = TV.MultiplyAdd(TV.Create(Unsafe.Add(ref a0, ka)), b0, c0);
            c1 = TV.MultiplyAdd(TV.Create(Unsafe.Add(ref a1, ka)), b0, c1);
            c2 = TV.MultiplyAdd(TV.Create(Unsafe.Add(ref a2, ka)), b0, c2);
            c3 = TV.MultiplyAdd(TV.Create(Unsafe.Add(ref a3, ka)), b0, c3);
            ka += aK;
            b = ref Unsafe.Add(ref b, ldb);
        }
        TV.Store(TAct.Forward(c3), ref TileRow(ref c, ldc, 3, rows), 0);
        TV.Store(TAct.Forward(c2), ref TileRow(ref c, ldc, 2, rows), 0);
        TV.Store(TAct.Forward(c1), ref TileRow(ref c, ldc, 1, rows), 0);
        TV.Store(TAct.Forward(c0), ref c, 0);
    }

    /// <summary>One row × 16 vectors (512-bit only: 16 accumulators): a whole 256-float row of W per k.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Row16<T, TAct, TV>(ref T a, nuint aK, ref T b, nuint ldb, nuint kCount, ref T init, bool hasInit, ref T c)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> where TAct : IActivationOp<T> where TV : struct, ISimd<TV, T>
    {
        nuint v = (nuint)TV.Count;
        TV c0 = Init<T, TV>(ref init, 0, hasInit), c1 = Init<T, TV>(ref init, v, hasInit), c2 = Init<T, TV>(ref init, 2 * v, hasInit), c3 = Init<T, TV>(ref init, 3 * v, hasInit);
        TV c4 = Init<T, TV>(ref init, 4 * v, hasInit), c5 = Init<T, TV>(ref init, 5 * v, hasInit), c6 = Init<T, TV>(ref init, 6 * v, hasInit), c7 = Init<T, TV>(ref init, 7 * v, hasInit);
        TV c8 = Init<T, TV>(ref init, 8 * v, hasInit), c9 = Init<T, TV>(ref init, 9 * v, hasInit), c10 = Init<T, TV>(ref init, 10 * v, hasInit), c11 = Init<T, TV>(ref init, 11 * v, hasInit);
        TV c12 = Init<T, TV>(ref init, 12 * v, hasInit), c13 = Init<T, TV>(ref init, 13 * v, hasInit), c14 = Init<T, TV>(ref init, 14 * v, hasInit), c15 = Init<T, TV>(ref init, 15 * v, hasInit);
        nuint ka = 0;
        for (nuint k = 0; k < kCount; k++)
        {
            TV s = TV.Create(Unsafe.Add(ref a, ka));
            c0 = TV.MultiplyAdd(s, TV.Load(ref b, 0), c0); c1 = TV.MultiplyAdd(s, TV.Load(ref b, v), c1);
            c2 = TV.MultiplyAdd(s, TV.Load(ref b, 2 * v), c2); c3 = TV.MultiplyAdd(s, TV.Load(ref b, 3 * v), c3);
            c4 = TV.MultiplyAdd(s, TV.Load(ref b, 4 * v), c4); c5 = TV.MultiplyAdd(s, TV.Load(ref b, 5 * v), c5);
            c6 = TV.MultiplyAdd(s, TV.Load(ref b, 6 * v), c6); c7 = TV.MultiplyAdd(s, TV.Load(ref b, 7 * v), c7);
            c8 = TV.MultiplyAdd(s, TV.Load(ref b, 8 * v), c8); c9 = TV.MultiplyAdd(s, TV.Load(ref b, 9 * v), c9);
            c10 = TV.MultiplyAdd(s, TV.Load(ref b, 10 * v), c10); c11 = TV.MultiplyAdd(s, TV.Load(ref b, 11 * v), c11);
            c12 = TV.MultiplyAdd(s, TV.Load(ref b, 12 * v), c12); c13 = TV.MultiplyAdd(s, TV.Load(ref b, 13 * v), c13);
            c14 = TV.MultiplyAdd(s, TV.Load(ref b, 14 * v), c14); c15 = TV.MultiplyAdd(s, TV.Load(ref b, 15 * v), c15);
            ka += aK;
            b = ref Unsafe.Add(ref b, ldb);
        }
        TV.Store(TAct.Forward(c0), ref c, 0); TV.Store(TAct.Forward(c1), ref c, v); TV.Store(TAct.Forward(c2), ref c, 2 * v); TV.Store(TAct.Forward(c3), ref c, 3 * v);
        TV.Store(TAct.Forward(c4), ref c, 4 * v); TV.Store(TAct.Forward(c5), ref c, 5 * v); TV.Store(TAct.Forward(c6), ref c, 6 * v); TV.Store(TAct.Forward(c7), ref c, 7 * v);
        TV.Store(TAct.Forward(c8), ref c, 8 * v); TV.Store(TAct.Forward(c9), ref c, 9 * v); TV.Store(TAct.Forward(c10), ref c, 10 * v); TV.Store(TAct.Forward(c11), ref c, 11 * v);
        TV.Store(TAct.Forward(c12), ref c, 12 * v); TV.Store(TAct.Forward(c13), ref c, 13 * v); TV.Store(TAct.Forward(c14), ref c, 14 * v); TV.Store(TAct.Forward(c15), ref c, 15 * v);
    }

    /// <summary>One row × 8 vectors; k unrolled by two (the same chains, so the order is unchanged).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Row8<T, TAct, TV>(ref T a, nuint aK, ref T b, nuint ldb, nuint kCount, ref T init, bool hasInit, ref T c)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> where TAct : IActivationOp<T> where TV : struct, ISimd<TV, T>
    {
        nuint v = (nuint)TV.Count;
        TV c0 = Init<T, TV>(ref init, 0, hasInit), c1 = Init<T, TV>(ref init, v, hasInit), c2 = Init<T, TV>(ref init, 2 * v, hasInit), c3 = Init<T, TV>(ref init, 3 * v, hasInit);
        TV c4 = Init<T, TV>(ref init, 4 * v, hasInit), c5 = Init<T, TV>(ref init, 5 * v, hasInit), c6 = Init<T, TV>(ref init, 6 * v, hasInit), c7 = Init<T, TV>(ref init, 7 * v, hasInit);
        nuint ka = 0, k = 0;
        for (; k + 2 <= kCount; k += 2)
        {
            TV s = TV.Create(Unsafe.Add(ref a, ka));
            c0 = TV.MultiplyAdd(s, TV.Load(ref b, 0), c0); c1 = TV.MultiplyAdd(s, TV.Load(ref b, v), c1);
            c2 = TV.MultiplyAdd(s, TV.Load(ref b, 2 * v), c2); c3 = TV.MultiplyAdd(s, TV.Load(ref b, 3 * v), c3);
            c4 = TV.MultiplyAdd(s, TV.Load(ref b, 4 * v), c4); c5 = TV.MultiplyAdd(s, TV.Load(ref b, 5 * v), c5);
            c6 = TV.MultiplyAdd(s, TV.Load(ref b, 6 * v), c6); c7 = TV.MultiplyAdd(s, TV.Load(ref b, 7 * v), c7);
            ref T b1 = ref Unsafe.Add(ref b, ldb);
            s = TV.Create(Unsafe.Add(ref a, ka + aK));
            c0 = TV.MultiplyAdd(s, TV.Load(ref b1, 0), c0); c1 = TV.MultiplyAdd(s, TV.Load(ref b1, v), c1);
            c2 = TV.MultiplyAdd(s, TV.Load(ref b1, 2 * v), c2); c3 = TV.MultiplyAdd(s, TV.Load(ref b1, 3 * v), c3);
            c4 = TV.MultiplyAdd(s, TV.Load(ref b1, 4 * v), c4); c5 = TV.MultiplyAdd(s, TV.Load(ref b1, 5 * v), c5);
            c6 = TV.MultiplyAdd(s, TV.Load(ref b1, 6 * v), c6); c7 = TV.MultiplyAdd(s, TV.Load(ref b1, 7 * v), c7);
            ka += 2 * aK;
            b = ref Unsafe.Add(ref b1, ldb);
        }
        if (k < kCount)
        {
            TV s = TV.Create(Unsafe.Add(ref a, ka));
            c0 = TV.MultiplyAdd(s, TV.Load(ref b, 0), c0); c1 = TV.MultiplyAdd(s, TV.Load(ref b, v), c1);
            c2 = TV.MultiplyAdd(s, TV.Load(ref b, 2 * v), c2); c3 = TV.MultiplyAdd(s, TV.Load(ref b, 3 * v), c3);
            c4 = TV.MultiplyAdd(s, TV.Load(ref b, 4 * v), c4); c5 = TV.MultiplyAdd(s, TV.Load(ref b, 5 * v), c5);
            c6 = TV.MultiplyAdd(s, TV.Load(ref b, 6 * v), c6); c7 = TV.MultiplyAdd(s, TV.Load(ref b, 7 * v), c7);
        }
        TV.Store(TAct.Forward(c0), ref c, 0); TV.Store(TAct.Forward(c1), ref c, v); TV.Store(TAct.Forward(c2), ref c, 2 * v); TV.Store(TAct.Forward(c3), ref c, 3 * v);
        TV.Store(TAct.Forward(c4), ref c, 4 * v); TV.Store(TAct.Forward(c5), ref c, 5 * v); TV.Store(TAct.Forward(c6), ref c, 6 * v); TV.Store(TAct.Forward(c7), ref c, 7 * v);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Row4<T, TAct, TV>(ref T a, nuint aK, ref T b, nuint ldb, nuint kCount, ref T init, bool hasInit, ref T c)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> where TAct : IActivationOp<T> where TV : struct, ISimd<TV, T>
    {
        nuint v = (nuint)TV.Count;
        TV c0 = Init<T, TV>(ref init, 0, hasInit), c1 = Init<T, TV>(ref init, v, hasInit), c2 = Init<T, TV>(ref init, 2 * v, hasInit), c3 = Init<T, TV>(ref init, 3 * v, hasInit);
        nuint ka = 0;
        for (nuint k = 0; k < kCount; k++)
        {
            TV s = TV.Create(Unsafe.Add(ref a, ka));
            c0 = TV.MultiplyAdd(s, TV.Load(ref b, 0), c0); c1 = TV.MultiplyAdd(s, TV.Load(ref b, v), c1);
            c2 = TV.MultiplyAdd(s, TV.Load(ref b, 2 * v), c2); c3 = TV.MultiplyAdd(s, TV.Load(ref b, 3 * v), c3);
            ka += aK;
            b = ref Unsafe.Add(ref b, ldb);
        }
        TV.Store(TAct.Forward(c0), ref c, 0); TV.Store(TAct.Forward(c1), ref c, v); TV.Store(TAct.Forward(c2), ref c, 2 * v); TV.Store(TAct.Forward(c3), ref c, 3 * v);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Row1<T, TAct, TV>(ref T a, nuint aK, ref T b, nuint ldb, nuint kCount, ref T init, bool hasInit, ref T c)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> where TAct : IActivationOp<T> where TV : struct, ISimd<TV, T>
    {
        TV c0 = Init<T, TV>(ref init, 0, hasInit);
        nuint ka = 0;
        for (nuint k = 0; k < kCount; k++)
        {
            c0 = TV.MultiplyAdd(TV.Create(Unsafe.Add(ref a, ka)), TV.Load(ref b, 0), c0);
            ka += aK;
            b = ref Unsafe.Add(ref b, ldb);
        }
        TV.Store(TAct.Forward(c0), ref c, 0);
    }
}
