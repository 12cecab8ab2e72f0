using System;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using KernelGen.Kernels;

namespace KernelGen.Operators;

/// <summary>
/// Loop drivers for element-wise activations: validate once, pick the widest accelerated width, run a 2× unrolled
/// vector loop, a one-vector loop and a scalar tail. Every element is read and written exactly once.
/// </summary>
public static class Elementwise
{
    /// <summary>Computes data[i] = f(data[i]) in place.</summary>
    public static void ForwardInPlace<T, TOp>(Span<T> data)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> where TOp : IActivationOp<T>
    {
        if (Vector512.IsHardwareAccelerated) Forward<T, TOp, Simd512<T>>(ref MemoryMarshal.GetReference(data), (nuint)data.Length);
        else if (Vector256.IsHardwareAccelerated) Forward<T, TOp, Simd256<T>>(ref MemoryMarshal.GetReference(data), (nuint)data.Length);
        else Forward<T, TOp, SimdScalar<T>>(ref MemoryMarshal.GetReference(data), (nuint)data.Length);
    }

    /// <summary>Computes gradient[i] = gradient[i]·f′(x[i]) in place, given output[i] = f(x[i]).</summary>
    public static void BackwardInPlace<T, TOp>(ReadOnlySpan<T> output, Span<T> gradient)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> where TOp : IActivationOp<T>
    {
        ThrowHelper.ThrowIfLengthLessThan(output.Length, gradient.Length, nameof(output));
        ref T y = ref MemoryMarshal.GetReference(output);
        ref T g = ref MemoryMarshal.GetReference(gradient);
        nuint n = (nuint)gradient.Length;
        if (KernelParallelism.ShouldSplitElements(gradient.Length, MinimumSplitActivation) && KernelParallelism.TryEnter())
            BackwardWork<T, TOp>.Run(ref y, ref g, n, SplitPoint<T>(n));
        else
            BackwardAt<T, TOp>(ref y, ref g, n);
    }

    /// <summary>The smallest activation pass (elements) split between two threads: 64 KB of floats, about a microsecond.</summary>
    internal const int MinimumSplitActivation = 16_384;

    /// <summary>
    /// About half of <paramref name="n"/>, rounded down to whole 64-byte blocks: split there, each part runs every element
    /// in the same vector lane or scalar tail as one pass over all <paramref name="n"/> would.
    /// </summary>
    internal static nuint SplitPoint<T>(nuint n)
    {
        nuint block = (nuint)(64 / Unsafe.SizeOf<T>());
        return n / 2 / block * block;
    }

    private static void BackwardAt<T, TOp>(ref T y, ref T g, nuint n)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> where TOp : IActivationOp<T>
    {
        if (Vector512.IsHardwareAccelerated) Backward<T, TOp, Simd512<T>>(ref y, ref g, n);
        else if (Vector256.IsHardwareAccelerated) Backward<T, TOp, Simd256<T>>(ref y, ref g, n);
        else Backward<T, TOp, SimdScalar<T>>(ref y, ref g, n);
    }

    /// <summary>Computes output[i] = f(input[i]) for an activation whose derivative needs its input (input is kept).</summary>
    public static void ForwardInput<T, TOp>(ReadOnlySpan<T> input, Span<T> output)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> where TOp : IInputActivationOp<T>
    {
        ThrowHelper.ThrowIfLengthLessThan(input.Length, output.Length, nameof(input));
        ref T x = ref MemoryMarshal.GetReference(input);
        ref T y = ref MemoryMarshal.GetReference(output);
        nuint n = (nuint)output.Length;
        if (Vector512.IsHardwareAccelerated) ForwardInputCore<T, TOp, Simd512<T>>(ref x, ref y, n);
        else if (Vector256.IsHardwareAccelerated) ForwardInputCore<T, TOp, Simd256<T>>(ref x, ref y, n);
        else ForwardInputCore<T, TOp, SimdScalar<T>>(ref x, ref y, n);
    }

    /// <summary>Computes gradient[i] = gradient[i]·f′(input[i]) in place.</summary>
    public static void BackwardInputInPlace<T, TOp>(ReadOnlySpan<T> input, Span<T> gradient)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> where TOp : IInputActivationOp<T>
    {
        ThrowHelper.ThrowIfLengthLessThan(input.Length, gradient.Length, nameof(input));
        ref T x = ref MemoryMarshal.GetReference(input);
        ref T g = ref MemoryMarshal.GetReference(gradient);
        nuint n = (nuint)gradient.Length;
        if (Vector512.IsHardwareAccelerated) BackwardInputCore<T, TOp, Simd512<T>>(ref x, ref g, n);
        else if (Vector256.IsHardwareAccelerated) BackwardInputCore<T, TOp, Simd256<T>>(ref x, ref g, n);
        else BackwardInputCore<T, TOp, SimdScalar<T>>(ref x, ref g, n);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void ForwardInputCore<T, TOp, TV>(ref T x, ref T y, nuint n)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> where TOp : IInputActivationOp<T> where TV : struct, ISimd<TV, T>
    {
        nuint w = (nuint)TV.Count, i = 0;
        for (; i + w <= n; i += w) TV.Store(TOp.Forward(TV.Load(ref x, i)), ref y, i);
        for (; i < n; i++) SimdScalar<T>.Store(TOp.Forward(SimdScalar<T>.Load(ref x, i)), ref y, i);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void BackwardInputCore<T, TOp, TV>(ref T x, ref T g, nuint n)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> where TOp : IInputActivationOp<T> where TV : struct, ISimd<TV, T>
    {
        nuint w = (nuint)TV.Count, i = 0;
        for (; i + w <= n; i += w) TV.Store(TOp.Backward(TV.Load(ref x, i), TV.Load(ref g, i)), ref g, i);
        for (; i < n; i++) SimdScalar<T>.Store(TOp.Backward(SimdScalar<T>.Load(ref x, i), SimdScalar<T>.Load(ref g, i)), ref g, i);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void Forward<T, TOp, TV>(ref T x, nuint n)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> where TOp : IActivationOp<T> where TV : struct, ISimd<TV, T>
    {
        nuint w = (nuint)TV.Count, i = 0;
        for (; i + 2 * w <= n; i += 2 * w)
        {
            TV a = TOp.Forward(TV.Load(ref x, i));
            TV b = TOp.Forward(TV.Load(ref x, i + w));
            TV.Store(a, ref x, i);
            TV.Store(b, ref x, i + w);
        }
        for (; i + w <= n; i += w) TV.Store(TOp.Forward(TV.Load(ref x, i)), ref x, i);
        for (; i < n; i++) SimdScalar<T>.Store(TOp.Forward(SimdScalar<T>.Load(ref x, i)), ref x, i);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void Backward<T, TOp, TV>(ref T y, ref T g, nuint n)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> where TOp : IActivationOp<T> where TV : struct, ISimd<TV, T>
    {
        nuint w = (nuint)TV.Count, i = 0;
        for (; i + w <= n; i += w) TV.Store(TOp.Backward(TV.Load(ref y, i), TV.Load(ref g, i)), ref g, i);
        for (; i < n; i++) SimdScalar<T>.Store(TOp.Backward(SimdScalar<T>.Load(ref y, i), SimdScalar<T>.Load(ref g, i)), ref g, i);
    }

    /// <summary>Returns the index of the first NaN or infinite element, or −1 when all are finite.</summary>
    public static int IndexOfNonFinite<T>(ReadOnlySpan<T> data) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        ref T x = ref MemoryMarshal.GetReference(data);
        nuint n = (nuint)data.Length;
        if (KernelParallelism.ShouldSplitElements(data.Length, KernelParallelism.MinimumSplitElements) && KernelParallelism.TryEnter())
            return IndexOfNonFiniteWork<T>.Run(ref x, n, SplitPoint<T>(n));
        return IndexOfNonFiniteAt(ref x, n);
    }

    private static int IndexOfNonFiniteAt<T>(ref T x, nuint n) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        nuint i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            nuint w = (nuint)Vector512<T>.Count;
            for (; i + w <= n; i += w) if (!Simd512<T>.AllFinite(Simd512<T>.Load(ref x, i))) break;
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            nuint w = (nuint)Vector256<T>.Count;
            for (; i + w <= n; i += w) if (!Simd256<T>.AllFinite(Simd256<T>.Load(ref x, i))) break;
        }
        for (; i < n; i++) if (!T.IsFinite(Unsafe.Add(ref x, i))) return (int)i;
        return -1;
    }

    /// <summary>
    /// Σ x² accumulated in <typeparamref name="T"/> with four independent fused multiply-add chains: one load and one FMA
    /// per vector. NaN when any element is NaN, +∞ when any is infinite or the sum overflows, so a finite result proves
    /// every element finite with a finite square.
    /// </summary>
    /// <remarks>
    /// From <see cref="KernelParallelism.MinimumSplitElements"/> elements on, the sum is the first part's plus the
    /// second's, split at half the length rounded down to whole 64-byte blocks, each summed as above: a fixed partition,
    /// so the result is the same whether the two parts run on one thread or (with
    /// <see cref="KernelParallelism.DegreeOfParallelism"/> = 2) on two.
    /// </remarks>
    public static T SumOfSquares<T>(ReadOnlySpan<T> data) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        ref T x = ref MemoryMarshal.GetReference(data);
        nuint n = (nuint)data.Length;
        if (data.Length < KernelParallelism.MinimumSplitElements) return SumOfSquaresAt(ref x, n);
        nuint split = SplitPoint<T>(n);
        if (KernelParallelism.ShouldSplitElements(data.Length, KernelParallelism.MinimumSplitElements) && KernelParallelism.TryEnter())
            return SumOfSquaresWork<T>.Run(ref x, n, split);
        return SumOfSquaresAt(ref x, split) + SumOfSquaresAt(ref Unsafe.Add(ref x, split), n - split);
    }

    private static T SumOfSquaresAt<T>(ref T x, nuint n) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        if (Vector512.IsHardwareAccelerated) return SumOfSquaresCore<T, Simd512<T>>(ref x, n);
        if (Vector256.IsHardwareAccelerated) return SumOfSquaresCore<T, Simd256<T>>(ref x, n);
        return SumOfSquaresCore<T, SimdScalar<T>>(ref x, n);
    }

    private static T SumOfSquaresCore<T, TV>(ref T x, nuint n)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> where TV : struct, ISimd<TV, T>
    {
        nuint w = (nuint)TV.Count, i = 0;
        TV a0 = TV.Zero, a1 = a0, a2 = a0, a3 = a0;
        for (; i + 4 * w <= n; i += 4 * w)
        {
            TV v0 = TV.Load(ref x, i), v1 = TV.Load(ref x, i + w), v2 = TV.Load(ref x, i + 2 * w), v3 = TV.Load(ref x, i + 3 * w);
            a0 = TV.MultiplyAdd(v0, v0, a0); a1 = TV.MultiplyAdd(v1, v1, a1);
            a2 = TV.MultiplyAdd(v2, v2, a2); a3 = TV.MultiplyAdd(v3, v3, a3);
        }
        for (; i + w <= n; i += w) { TV v = TV.Load(ref x, i); a0 = TV.MultiplyAdd(v, v, a0); }
        T sum = TV.Sum((a0 + a1) + (a2 + a3));
        for (; i < n; i++) { T v = Unsafe.Add(ref x, i); sum = T.FusedMultiplyAdd(v, v, sum); }
        return sum;
    }

    /// <summary>Returns the index of the first element whose magnitude is not below <paramref name="bound"/> (NaN and
    /// infinities included), or −1 when every element is finite and below it.</summary>
    public static int IndexOfNotBelow<T>(ReadOnlySpan<T> data, T bound) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        ref T x = ref MemoryMarshal.GetReference(data);
        nuint n = (nuint)data.Length, i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            nuint w = (nuint)Vector512<T>.Count;
            Vector512<T> b = Vector512.Create(bound);
            for (; i + 4 * w <= n; i += 4 * w)
            {
                // Four vectors per test, so the common all-good case costs one branch per 64 floats; a NaN compares false.
                Vector512<T> ok = Vector512.LessThan(Vector512.Abs(Vector512.LoadUnsafe(ref x, i)), b)
                    & Vector512.LessThan(Vector512.Abs(Vector512.LoadUnsafe(ref x, i + w)), b)
                    & Vector512.LessThan(Vector512.Abs(Vector512.LoadUnsafe(ref x, i + 2 * w)), b)
                    & Vector512.LessThan(Vector512.Abs(Vector512.LoadUnsafe(ref x, i + 3 * w)), b);
                if (!Vector512.EqualsAll(ok.AsByte(), Vector512<byte>.AllBitsSet)) break;
            }
            for (; i + w <= n; i += w) if (!Vector512.LessThanAll(Vector512.Abs(Vector512.LoadUnsafe(ref x, i)), b)) break;
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            nuint w = (nuint)Vector256<T>.Count;
            Vector256<T> b = Vector256.Create(bound);
            for (; i + w <= n; i += w) if (!Vector256.LessThanAll(Vector256.Abs(Vector256.LoadUnsafe(ref x, i)), b)) break;
        }
        for (; i < n; i++) if (!(T.Abs(Unsafe.Add(ref x, i)) < bound)) return (int)i;
        return -1;
    }

    /// <summary>Throws an <see cref="ArgumentException"/> naming the first NaN or infinite element.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void ThrowIfNotFinite<T>(ReadOnlySpan<T> data, string paramName) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        int bad = IndexOfNonFinite(data);
        if (bad >= 0) ThrowHelper.ThrowNotFinite(paramName, bad);
    }

    // ---- two threads: each part covers its own elements [0, split) or [split, n) ------------------------------------

    private sealed unsafe class BackwardWork<T, TOp> : ParallelWork
        where T : unmanaged, IBinaryFloatingPointIeee754<T> where TOp : IActivationOp<T>
    {
        private static readonly BackwardWork<T, TOp> Instance = new();
        private T* _y, _g;
        private nuint _n, _split;

        public static void Run(ref T y, ref T g, nuint n, nuint split)
        {
            fixed (T* py = &y, pg = &g)
            {
                BackwardWork<T, TOp> work = Instance;
                work._y = py; work._g = pg; (work._n, work._split) = (n, split);
                KernelParallelism.Run(work);
                work._y = null; work._g = null;
            }
        }

        internal override void Execute(int part)
        {
            nuint start = part == 0 ? 0 : _split;
            BackwardAt<T, TOp>(ref Unsafe.AsRef<T>(_y + start), ref Unsafe.AsRef<T>(_g + start), (part == 0 ? _split : _n) - start);
        }
    }

    private sealed unsafe class IndexOfNonFiniteWork<T> : ParallelWork where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        private static readonly IndexOfNonFiniteWork<T> Instance = new();
        private T* _x;
        private nuint _n, _split;
        private int _first, _second;

        /// <summary>The first part's index if it found one, else the second part's.</summary>
        public static int Run(ref T x, nuint n, nuint split)
        {
            fixed (T* px = &x)
            {
                IndexOfNonFiniteWork<T> work = Instance;
                work._x = px; (work._n, work._split) = (n, split);
                KernelParallelism.Run(work);
                work._x = null;
                return work._first >= 0 ? work._first : work._second >= 0 ? (int)split + work._second : -1;
            }
        }

        internal override void Execute(int part)
        {
            if (part == 0) _first = IndexOfNonFiniteAt(ref Unsafe.AsRef<T>(_x), _split);
            else _second = IndexOfNonFiniteAt(ref Unsafe.AsRef<T>(_x + _split), _n - _split);
        }
    }

    private sealed unsafe class SumOfSquaresWork<T> : ParallelWork where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        private static readonly SumOfSquaresWork<T> Instance = new();
        private T* _x;
        private nuint _n, _split;
        private T _first, _second;

        /// <summary>The two parts' sums added, as the one-thread path adds them.</summary>
        public static T Run(ref T x, nuint n, nuint split)
        {
            fixed (T* px = &x)
            {
                SumOfSquaresWork<T> work = Instance;
                work._x = px; (work._n, work._split) = (n, split);
                KernelParallelism.Run(work);
                work._x = null;
                return work._first + work._second;
            }
        }

        internal override void Execute(int part)
        {
            if (part == 0) _first = SumOfSquaresAt(ref Unsafe.AsRef<T>(_x), _split);
            else _second = SumOfSquaresAt(ref Unsafe.AsRef<T>(_x + _split), _n - _split);
        }
    }
}
