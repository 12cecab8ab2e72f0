using System;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using KernelGen.Operators;

namespace KernelGen.Kernels;

/// <summary>
/// Dense (fully connected) layer kernels on row-major data: X is [batch × nIn], W is [nIn × nOut], b is [nOut],
/// Y is [batch × nOut]. Each public method validates every span length once and then runs register-blocked loops
/// without per-element checks, at the widest hardware-accelerated vector width (512, 256 bits, or scalar).
/// </summary>
/// <remarks>
/// Summation order is fixed for a given width (k ascending inside each accumulator), so results are bit-identical
/// from run to run on one machine; different widths may differ by float reordering.
/// </remarks>
public static class Dense
{
    private const int Rows = 4;    // batch rows per register block
    private const int Panels = 4;  // vectors per register block

    /// <summary>Computes y = f(x·W + b) for <paramref name="batch"/> rows.</summary>
    public static void Forward<T, TAct>(ReadOnlySpan<T> x, ReadOnlySpan<T> w, ReadOnlySpan<T> b, Span<T> y, int batch, int nIn, int nOut)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> where TAct : IActivationOp<T>
    {
        Validate(batch, nIn, nOut);
        ThrowHelper.ThrowIfLengthLessThan(x.Length, batch * nIn, nameof(x));
        ThrowHelper.ThrowIfLengthNotEqual(w.Length, nIn * nOut, nameof(w));
        ThrowHelper.ThrowIfLengthNotEqual(b.Length, nOut, nameof(b));
        ThrowHelper.ThrowIfLengthLessThan(y.Length, batch * nOut, nameof(y));
        ref T xr = ref MemoryMarshal.GetReference(x);
        ref T wr = ref MemoryMarshal.GetReference(w);
        ref T br = ref MemoryMarshal.GetReference(b);
        ref T yr = ref MemoryMarshal.GetReference(y);
        if (Vector512.IsHardwareAccelerated) ForwardCore<T, TAct, Simd512<T>>(ref xr, ref wr, ref br, ref yr, batch, nIn, nOut);
        else if (Vector256.IsHardwareAccelerated) ForwardCore<T, TAct, Simd256<T>>(ref xr, ref wr, ref br, ref yr, batch, nIn, nOut);
        else ForwardCore<T, TAct, SimdScalar<T>>(ref xr, ref wr, ref br, ref yr, batch, nIn, nOut);
    }

    /// <summary>
    /// Given dZ = ∂L/∂(x·W + b) for <paramref name="batch"/> rows, computes dW = xᵀ·dZ and db = Σ_rows dZ
    /// (overwriting both).
    /// </summary>
    public static void BackwardParameters<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> dz, Span<T> dw, Span<T> db, int batch, int nIn, int nOut)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        Validate(batch, nIn, nOut);
        ThrowHelper.ThrowIfLengthLessThan(x.Length, batch * nIn, nameof(x));
        ThrowHelper.ThrowIfLengthLessThan(dz.Length, batch * nOut, nameof(dz));
        ThrowHelper.ThrowIfLengthNotEqual(dw.Length, nIn * nOut, nameof(dw));
        ThrowHelper.ThrowIfLengthNotEqual(db.Length, nOut, nameof(db));
        ref T xr = ref MemoryMarshal.GetReference(x);
        ref T dzr = ref MemoryMarshal.GetReference(dz);
        ref T dwr = ref MemoryMarshal.GetReference(dw);
        ref T dbr = ref MemoryMarshal.GetReference(db);
        if (Vector512.IsHardwareAccelerated) BackwardParametersCore<T, Simd512<T>>(ref xr, ref dzr, ref dwr, ref dbr, batch, nIn, nOut);
        else if (Vector256.IsHardwareAccelerated) BackwardParametersCore<T, Simd256<T>>(ref xr, ref dzr, ref dwr, ref dbr, batch, nIn, nOut);
        else BackwardParametersCore<T, SimdScalar<T>>(ref xr, ref dzr, ref dwr, ref dbr, batch, nIn, nOut);
    }

    /// <summary>Given dZ for <paramref name="batch"/> rows, computes dX = dZ·Wᵀ (overwriting dX).</summary>
    public static void BackwardInput<T>(ReadOnlySpan<T> dz, ReadOnlySpan<T> w, Span<T> dx, int batch, int nIn, int nOut)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        Validate(batch, nIn, nOut);
        ThrowHelper.ThrowIfLengthLessThan(dz.Length, batch * nOut, nameof(dz));
        ThrowHelper.ThrowIfLengthNotEqual(w.Length, nIn * nOut, nameof(w));
        ThrowHelper.ThrowIfLengthLessThan(dx.Length, batch * nIn, nameof(dx));
        ref T dzr = ref MemoryMarshal.GetReference(dz);
        ref T wr = ref MemoryMarshal.GetReference(w);
        ref T dxr = ref MemoryMarshal.GetReference(dx);
        if (Vector512.IsHardwareAccelerated) BackwardInputCore<T, Simd512<T>>(ref dzr, ref wr, ref dxr, batch, nIn, nOut);
        else if (Vector256.IsHardwareAccelerated) BackwardInputCore<T, Simd256<T>>(ref dzr, ref wr, ref dxr, batch, nIn, nOut);
        else BackwardInputCore<T, SimdScalar<T>>(ref dzr, ref wr, ref dxr, batch, nIn, nOut);
    }

    private static void Validate(int batch, int nIn, int nOut)
    {
        if (batch <= 0) ThrowHelper.ThrowArgumentOutOfRange(nameof(batch), batch, "The batch size must be positive.");
        if (nIn <= 0) ThrowHelper.ThrowArgumentOutOfRange(nameof(nIn), nIn, "The input width must be positive.");
        if (nOut <= 0) ThrowHelper.ThrowArgumentOutOfRange(nameof(nOut), nOut, "The output width must be positive.");
    }

    // ---- forward: Y = f(X·W + b) -------------------------------------------------------------------------------

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void ForwardCore<T, TAct, TV>(ref T x, ref T w, ref T b, ref T y, int batch, int nIn, int nOut)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> where TAct : IActivationOp<T> where TV : struct, ISimd<TV, T>
    {
        int v = TV.Count, j = 0;
        for (; j + Panels * v <= nOut; j += Panels * v) ForwardPanel4<T, TAct, TV>(ref x, ref w, ref b, ref y, batch, nIn, nOut, j);
        for (; j + v <= nOut; j += v) ForwardPanel1<T, TAct, TV>(ref x, ref w, ref b, ref y, batch, nIn, nOut, j);
        for (; j < nOut; j++) ForwardPanel1<T, TAct, SimdScalar<T>>(ref x, ref w, ref b, ref y, batch, nIn, nOut, j);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ForwardPanel4<T, TAct, TV>(ref T x, ref T w, ref T b, ref T y, int batch, int nIn, int nOut, int j)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> where TAct : IActivationOp<T> where TV : struct, ISimd<TV, T>
    {
        nuint v = (nuint)TV.Count, uj = (nuint)j, n = (nuint)nOut, kIn = (nuint)nIn;
        TV b0 = TV.Load(ref b, uj), b1 = TV.Load(ref b, uj + v), b2 = TV.Load(ref b, uj + 2 * v), b3 = TV.Load(ref b, uj + 3 * v);
        int r = 0;
        for (; r + Rows <= batch; r += Rows)
        {
            TV a00 = b0, a01 = b1, a02 = b2, a03 = b3;
            TV a10 = b0, a11 = b1, a12 = b2, a13 = b3;
            TV a20 = b0, a21 = b1, a22 = b2, a23 = b3;
            TV a30 = b0, a31 = b1, a32 = b2, a33 = b3;
            ref T x0 = ref Unsafe.Add(ref x, (nuint)r * kIn);
            ref T x1 = ref Unsafe.Add(ref x0, kIn);
            ref T x2 = ref Unsafe.Add(ref x1, kIn);
            ref T x3 = ref Unsafe.Add(ref x2, kIn);
            ref T wk = ref Unsafe.Add(ref w, uj);
            for (nuint k = 0; k < kIn; k++)
            {
                TV w0 = TV.Load(ref wk, 0), w1 = TV.Load(ref wk, v), w2 = TV.Load(ref wk, 2 * v), w3 = TV.Load(ref wk, 3 * v);
                TV s = TV.Create(Unsafe.Add(ref x0, k));
                a00 = TV.MultiplyAdd(s, w0, a00); a01 = TV.MultiplyAdd(s, w1, a01); a02 = TV.MultiplyAdd(s, w2, a02); a03 = TV.MultiplyAdd(s, w3, a03);
                s = TV.Create(Unsafe.Add(ref x1, k));
                a10 = TV.MultiplyAdd(s, w0, a10); a11 = TV.MultiplyAdd(s, w1, a11); a12 = TV.MultiplyAdd(s, w2, a12); a13 = TV.MultiplyAdd(s, w3, a13);
                s = TV.Create(Unsafe.Add(ref x2, k));
                a20 = TV.MultiplyAdd(s, w0, a20); a21 = TV.MultiplyAdd(s, w1, a21); a22 = TV.MultiplyAdd(s, w2, a22); a23 = TV.MultiplyAdd(s, w3, a23);
                s = TV.Create(Unsafe.Add(ref x3, k));
                a30 = TV.MultiplyAdd(s, w0, a30); a31 = TV.MultiplyAdd(s, w1, a31); a32 = TV.MultiplyAdd(s, w2, a32); a33 = TV.MultiplyAdd(s, w3, a33);
                wk = ref Unsafe.Add(ref wk, n);
            }
            ref T y0 = ref Unsafe.Add(ref y, (nuint)r * n + uj);
            TV.Store(TAct.Forward(a00), ref y0, 0); TV.Store(TAct.Forward(a01), ref y0, v); TV.Store(TAct.Forward(a02), ref y0, 2 * v); TV.Store(TAct.Forward(a03), ref y0, 3 * v);
            y0 = ref Unsafe.Add(ref y0, n);
            TV.Store(TAct.Forward(a10), ref y0, 0); TV.Store(TAct.Forward(a11), ref y0, v); TV.Store(TAct.Forward(a12), ref y0, 2 * v); TV.Store(TAct.Forward(a13), ref y0, 3 * v);
            y0 = ref Unsafe.Add(ref y0, n);
            TV.Store(TAct.Forward(a20), ref y0, 0); TV.Store(TAct.Forward(a21), ref y0, v); TV.Store(TAct.Forward(a22), ref y0, 2 * v); TV.Store(TAct.Forward(a23), ref y0, 3 * v);
            y0 = ref Unsafe.Add(ref y0, n);
            TV.Store(TAct.Forward(a30), ref y0, 0); TV.Store(TAct.Forward(a31), ref y0, v); TV.Store(TAct.Forward(a32), ref y0, 2 * v); TV.Store(TAct.Forward(a33), ref y0, 3 * v);
        }
        for (; r < batch; r++)
        {
            // One row: unroll k by two into separate accumulator sets so the FMA chains overlap (GEMV shape).
            TV a0 = b0, a1 = b1, a2 = b2, a3 = b3;
            TV c0 = TV.Zero, c1 = TV.Zero, c2 = TV.Zero, c3 = TV.Zero;
            ref T x0 = ref Unsafe.Add(ref x, (nuint)r * kIn);
            ref T wk = ref Unsafe.Add(ref w, uj);
            nuint k = 0;
            for (; k + 2 <= kIn; k += 2)
            {
                TV s = TV.Create(Unsafe.Add(ref x0, k));
                a0 = TV.MultiplyAdd(s, TV.Load(ref wk, 0), a0); a1 = TV.MultiplyAdd(s, TV.Load(ref wk, v), a1);
                a2 = TV.MultiplyAdd(s, TV.Load(ref wk, 2 * v), a2); a3 = TV.MultiplyAdd(s, TV.Load(ref wk, 3 * v), a3);
                wk = ref Unsafe.Add(ref wk, n);
                s = TV.Create(Unsafe.Add(ref x0, k + 1));
                c0 = TV.MultiplyAdd(s, TV.Load(ref wk, 0), c0); c1 = TV.MultiplyAdd(s, TV.Load(ref wk, v), c1);
                c2 = TV.MultiplyAdd(s, TV.Load(ref wk, 2 * v), c2); c3 = TV.MultiplyAdd(s, TV.Load(ref wk, 3 * v), c3);
                wk = ref Unsafe.Add(ref wk, n);
            }
            if (k < kIn)
            {
                TV s = TV.Create(Unsafe.Add(ref x0, k));
                a0 = TV.MultiplyAdd(s, TV.Load(ref wk, 0), a0); a1 = TV.MultiplyAdd(s, TV.Load(ref wk, v), a1);
                a2 = TV.MultiplyAdd(s, TV.Load(ref wk, 2 * v), a2); a3 = TV.MultiplyAdd(s, TV.Load(ref wk, 3 * v), a3);
            }
            ref T y0 = ref Unsafe.Add(ref y, (nuint)r * n + uj);
            TV.Store(TAct.Forward(a0 + c0), ref y0, 0); TV.Store(TAct.Forward(a1 + c1), ref y0, v);
            TV.Store(TAct.Forward(a2 + c2), ref y0, 2 * v); TV.Store(TAct.Forward(a3 + c3), ref y0, 3 * v);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ForwardPanel1<T, TAct, TV>(ref T x, ref T w, ref T b, ref T y, int batch, int nIn, int nOut, int j)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> where TAct : IActivationOp<T> where TV : struct, ISimd<TV, T>
    {
        nuint uj = (nuint)j, n = (nuint)nOut, kIn = (nuint)nIn;
        TV b0 = TV.Load(ref b, uj);
        int r = 0;
        for (; r + Rows <= batch; r += Rows)
        {
            TV a0 = b0, a1 = b0, a2 = b0, a3 = b0;
            ref T x0 = ref Unsafe.Add(ref x, (nuint)r * kIn);
            ref T wk = ref Unsafe.Add(ref w, uj);
            for (nuint k = 0; k < kIn; k++)
            {
                TV wv = TV.Load(ref wk, 0);
                a0 = TV.MultiplyAdd(TV.Create(Unsafe.Add(ref x0, k)), wv, a0);
                a1 = TV.MultiplyAdd(TV.Create(Unsafe.Add(ref x0, k + kIn)), wv, a1);
                a2 = TV.MultiplyAdd(TV.Create(Unsafe.Add(ref x0, k + 2 * kIn)), wv, a2);
                a3 = TV.MultiplyAdd(TV.Create(Unsafe.Add(ref x0, k + 3 * kIn)), wv, a3);
                wk = ref Unsafe.Add(ref wk, n);
            }
            ref T y0 = ref Unsafe.Add(ref y, (nuint)r * n + uj);
            TV.Store(TAct.Forward(a0), ref y0, 0);
            TV.Store(TAct.Forward(a1), ref y0, n);
            TV.Store(TAct.Forward(a2), ref y0, 2 * n);
            TV.Store(TAct.Forward(a3), ref y0, 3 * n);
        }
        for (; r < batch; r++)
        {
            TV a0 = b0;
            ref T x0 = ref Unsafe.Add(ref x, (nuint)r * kIn);
            ref T wk = ref Unsafe.Add(ref w, uj);
            for (nuint k = 0; k < kIn; k++)
            {
                a0 = TV.MultiplyAdd(TV.Create(Unsafe.Add(ref x0, k)), TV.Load(ref wk, 0), a0);
                wk = ref Unsafe.Add(ref wk, n);
            }
            TV.Store(TAct.Forward(a0), ref y, (nuint)r * n + uj);
        }
    }

    // ---- backward: dW = Xᵀ·dZ, db = Σ dZ --------------------------------------------------------------------------

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void BackwardParametersCore<T, TV>(ref T x, ref T dz, ref T dw, ref T db, int batch, int nIn, int nOut)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> where TV : struct, ISimd<TV, T>
    {
        int v = TV.Count, j = 0;
        for (; j + Panels * v <= nOut; j += Panels * v) WeightPanel4<T, TV>(ref x, ref dz, ref dw, batch, nIn, nOut, j);
        for (; j + v <= nOut; j += v) WeightPanel1<T, TV>(ref x, ref dz, ref dw, batch, nIn, nOut, j);
        for (; j < nOut; j++) WeightPanel1<T, SimdScalar<T>>(ref x, ref dz, ref dw, batch, nIn, nOut, j);

        // db[j] = Σ_r dZ[r, j], rows in ascending order.
        nuint n = (nuint)nOut, uv = (nuint)v, jj = 0;
        for (; jj + uv <= n; jj += uv)
        {
            TV s = TV.Zero;
            for (nuint r = 0; r < (nuint)batch; r++) s += TV.Load(ref dz, r * n + jj);
            TV.Store(s, ref db, jj);
        }
        for (; jj < n; jj++)
        {
            T s = T.Zero;
            for (nuint r = 0; r < (nuint)batch; r++) s += Unsafe.Add(ref dz, r * n + jj);
            Unsafe.Add(ref db, jj) = s;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void WeightPanel4<T, TV>(ref T x, ref T dz, ref T dw, int batch, int nIn, int nOut, int j)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> where TV : struct, ISimd<TV, T>
    {
        nuint v = (nuint)TV.Count, uj = (nuint)j, n = (nuint)nOut, kIn = (nuint)nIn, rows = (nuint)batch;
        nuint i = 0;
        for (; i + Rows <= kIn; i += Rows)
        {
            TV a00 = TV.Zero, a01 = TV.Zero, a02 = TV.Zero, a03 = TV.Zero;
            TV a10 = TV.Zero, a11 = TV.Zero, a12 = TV.Zero, a13 = TV.Zero;
            TV a20 = TV.Zero, a21 = TV.Zero, a22 = TV.Zero, a23 = TV.Zero;
            TV a30 = TV.Zero, a31 = TV.Zero, a32 = TV.Zero, a33 = TV.Zero;
            ref T xi = ref Unsafe.Add(ref x, i);
            ref T dzr = ref Unsafe.Add(ref dz, uj);
            for (nuint r = 0; r < rows; r++)
            {
                TV g0 = TV.Load(ref dzr, 0), g1 = TV.Load(ref dzr, v), g2 = TV.Load(ref dzr, 2 * v), g3 = TV.Load(ref dzr, 3 * v);
                TV s = TV.Create(Unsafe.Add(ref xi, 0));
                a00 = TV.MultiplyAdd(s, g0, a00); a01 = TV.MultiplyAdd(s, g1, a01); a02 = TV.MultiplyAdd(s, g2, a02); a03 = TV.MultiplyAdd(s, g3, a03);
                s = TV.Create(Unsafe.Add(ref xi, 1));
                a10 = TV.MultiplyAdd(s, g0, a10); a11 = TV.MultiplyAdd(s, g1, a11); a12 = TV.MultiplyAdd(s, g2, a12); a13 = TV.MultiplyAdd(s, g3, a13);
                s = TV.Create(Unsafe.Add(ref xi, 2));
                a20 = TV.MultiplyAdd(s, g0, a20); a21 = TV.MultiplyAdd(s, g1, a21); a22 = TV.MultiplyAdd(s, g2, a22); a23 = TV.MultiplyAdd(s, g3, a23);
                s = TV.Create(Unsafe.Add(ref xi, 3));
                a30 = TV.MultiplyAdd(s, g0, a30); a31 = TV.MultiplyAdd(s, g1, a31); a32 = TV.MultiplyAdd(s, g2, a32); a33 = TV.MultiplyAdd(s, g3, a33);
                xi = ref Unsafe.Add(ref xi, kIn);
                dzr = ref Unsafe.Add(ref dzr, n);
            }
            ref T d0 = ref Unsafe.Add(ref dw, i * n + uj);
            TV.Store(a00, ref d0, 0); TV.Store(a01, ref d0, v); TV.Store(a02, ref d0, 2 * v); TV.Store(a03, ref d0, 3 * v);
            d0 = ref Unsafe.Add(ref d0, n);
            TV.Store(a10, ref d0, 0); TV.Store(a11, ref d0, v); TV.Store(a12, ref d0, 2 * v); TV.Store(a13, ref d0, 3 * v);
            d0 = ref Unsafe.Add(ref d0, n);
            TV.Store(a20, ref d0, 0); TV.Store(a21, ref d0, v); TV.Store(a22, ref d0, 2 * v); TV.Store(a23, ref d0, 3 * v);
            d0 = ref Unsafe.Add(ref d0, n);
            TV.Store(a30, ref d0, 0); TV.Store(a31, ref d0, v); TV.Store(a32, ref d0, 2 * v); TV.Store(a33, ref d0, 3 * v);
        }
        for (; i < kIn; i++)
        {
            TV a0 = TV.Zero, a1 = TV.Zero, a2 = TV.Zero, a3 = TV.Zero;
            ref T xi = ref Unsafe.Add(ref x, i);
            ref T dzr = ref Unsafe.Add(ref dz, uj);
            for (nuint r = 0; r < rows; r++)
            {
                TV s = TV.Create(xi);
                a0 = TV.MultiplyAdd(s, TV.Load(ref dzr, 0), a0); a1 = TV.MultiplyAdd(s, TV.Load(ref dzr, v), a1);
                a2 = TV.MultiplyAdd(s, TV.Load(ref dzr, 2 * v), a2); a3 = TV.MultiplyAdd(s, TV.Load(ref dzr, 3 * v), a3);
                xi = ref Unsafe.Add(ref xi, kIn);
                dzr = ref Unsafe.Add(ref dzr, n);
            }
            ref T d0 = ref Unsafe.Add(ref dw, i * n + uj);
            TV.Store(a0, ref d0, 0); TV.Store(a1, ref d0, v); TV.Store(a2, ref d0, 2 * v); TV.Store(a3, ref d0, 3 * v);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void WeightPanel1<T, TV>(ref T x, ref T dz, ref T dw, int batch, int nIn, int nOut, int j)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> where TV : struct, ISimd<TV, T>
    {
        nuint uj = (nuint)j, n = (nuint)nOut, kIn = (nuint)nIn, rows = (nuint)batch;
        for (nuint i = 0; i < kIn; i++)
        {
            TV a0 = TV.Zero;
            ref T xi = ref Unsafe.Add(ref x, i);
            ref T dzr = ref Unsafe.Add(ref dz, uj);
            for (nuint r = 0; r < rows; r++)
            {
                a0 = TV.MultiplyAdd(TV.Create(xi), TV.Load(ref dzr, 0), a0);
                xi = ref Unsafe.Add(ref xi, kIn);
                dzr = ref Unsafe.Add(ref dzr, n);
            }
            TV.Store(a0, ref dw, i * n + uj);
        }
    }

    // ---- backward: dX = dZ·Wᵀ (dot products along the rows of W) --------------------------------------------------

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void BackwardInputCore<T, TV>(ref T dz, ref T w, ref T dx, int batch, int nIn, int nOut)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> where TV : struct, ISimd<TV, T>
    {
        nuint v = (nuint)TV.Count, n = (nuint)nOut, kIn = (nuint)nIn;
        nuint vEnd = n - n % v;
        int r = 0;
        for (; r + Rows <= batch; r += Rows)
        {
            ref T g0 = ref Unsafe.Add(ref dz, (nuint)r * n);
            ref T g1 = ref Unsafe.Add(ref g0, n);
            ref T g2 = ref Unsafe.Add(ref g1, n);
            ref T g3 = ref Unsafe.Add(ref g2, n);
            for (nuint i = 0; i < kIn; i++)
            {
                ref T wi = ref Unsafe.Add(ref w, i * n);
                TV a0 = TV.Zero, a1 = TV.Zero, a2 = TV.Zero, a3 = TV.Zero;
                nuint o = 0;
                for (; o < vEnd; o += v)
                {
                    TV wv = TV.Load(ref wi, o);
                    a0 = TV.MultiplyAdd(TV.Load(ref g0, o), wv, a0);
                    a1 = TV.MultiplyAdd(TV.Load(ref g1, o), wv, a1);
                    a2 = TV.MultiplyAdd(TV.Load(ref g2, o), wv, a2);
                    a3 = TV.MultiplyAdd(TV.Load(ref g3, o), wv, a3);
                }
                T s0 = TV.Sum(a0), s1 = TV.Sum(a1), s2 = TV.Sum(a2), s3 = TV.Sum(a3);
                for (; o < n; o++)
                {
                    T wo = Unsafe.Add(ref wi, o);
                    s0 += Unsafe.Add(ref g0, o) * wo; s1 += Unsafe.Add(ref g1, o) * wo;
                    s2 += Unsafe.Add(ref g2, o) * wo; s3 += Unsafe.Add(ref g3, o) * wo;
                }
                ref T d = ref Unsafe.Add(ref dx, (nuint)r * kIn + i);
                d = s0; Unsafe.Add(ref d, kIn) = s1; Unsafe.Add(ref d, 2 * kIn) = s2; Unsafe.Add(ref d, 3 * kIn) = s3;
            }
        }
        for (; r < batch; r++)
        {
            ref T g0 = ref Unsafe.Add(ref dz, (nuint)r * n);
            for (nuint i = 0; i < kIn; i++)
            {
                ref T wi = ref Unsafe.Add(ref w, i * n);
                TV a0 = TV.Zero;
                nuint o = 0;
                for (; o < vEnd; o += v) a0 = TV.MultiplyAdd(TV.Load(ref g0, o), TV.Load(ref wi, o), a0);
                T s0 = TV.Sum(a0);
                for (; o < n; o++) s0 += Unsafe.Add(ref g0, o) * Unsafe.Add(ref wi, o);
                Unsafe.Add(ref dx, (nuint)r * kIn + i) = s0;
            }
        }
    }
}
