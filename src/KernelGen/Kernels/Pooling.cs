using System;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace KernelGen.Kernels;

/// <summary>
/// 2-D pooling on NCHW data (see <see cref="Pool2DGeometry"/>), with PyTorch's semantics: <c>MaxPool2d</c> (padding
/// counts as −∞; the gradient goes to the first maximal element of each window in row-major order, or to the last NaN,
/// as PyTorch's CPU kernel picks), <c>AvgPool2d</c> (the divisor is kh·kw when padding counts, else the number of input
/// elements in the window: <c>count_include_pad</c>) and <c>AdaptiveAvgPool2d(1)</c> followed by a flatten
/// (global average pooling). Deterministic; nothing is allocated.
/// </summary>
public static class Pooling
{
    /// <summary>y = the maximum of each window.</summary>
    public static void MaxForward<T>(ReadOnlySpan<T> x, Span<T> y, int batch, Pool2DGeometry g) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        Validate(x.Length, y.Length, batch, g);
        int planes = batch * g.Channels, inPlane = g.Height * g.Width, outPlane = g.OutHeight * g.OutWidth;
        if (g.PadHeight == 0 && g.PadWidth == 0)
        {
            // Every window lies inside the plane (floor rounding, no padding): no clipping, validated lengths above.
            ref T xr = ref MemoryMarshal.GetReference(x);
            ref T yr = ref MemoryMarshal.GetReference(y);
            if (KernelParallelism.ShouldSplit(batch) && KernelParallelism.TryEnter())
                PoolWork<T>.Run(ref xr, ref yr, ref yr, planes, g, backward: false);
            else MaxPlanes(ref xr, ref yr, 0, planes, g);
            return;
        }
        for (int p = 0; p < planes; p++)
        {
            ReadOnlySpan<T> src = x.Slice(p * inPlane, inPlane);
            Span<T> dst = y.Slice(p * outPlane, outPlane);
            for (int oh = 0, o = 0; oh < g.OutHeight; oh++)
                for (int ow = 0; ow < g.OutWidth; ow++, o++)
                    dst[o] = src[ArgMax(src, g, oh, ow)];
        }
    }

    /// <summary>dx (overwritten) = dy routed to each window's maximal element (summed where windows overlap).</summary>
    public static void MaxBackward<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> dy, Span<T> dx, int batch, Pool2DGeometry g) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        Validate(x.Length, dy.Length, batch, g);
        ThrowHelper.ThrowIfLengthLessThan(dx.Length, batch * g.InputSize, nameof(dx));
        int planes = batch * g.Channels, inPlane = g.Height * g.Width, outPlane = g.OutHeight * g.OutWidth;
        if (g.PadHeight == 0 && g.PadWidth == 0)
        {
            ref T xr = ref MemoryMarshal.GetReference(x);
            ref T dyr = ref MemoryMarshal.GetReference(dy);
            ref T dxr = ref MemoryMarshal.GetReference(dx);
            if (KernelParallelism.ShouldSplit(batch) && KernelParallelism.TryEnter())
                PoolWork<T>.Run(ref xr, ref dyr, ref dxr, planes, g, backward: true);
            else MaxBackwardPlanes(ref xr, ref dyr, ref dxr, 0, planes, g);
            return;
        }
        dx.Slice(0, batch * g.InputSize).Clear();
        for (int p = 0; p < planes; p++)
        {
            ReadOnlySpan<T> src = x.Slice(p * inPlane, inPlane), grad = dy.Slice(p * outPlane, outPlane);
            Span<T> dst = dx.Slice(p * inPlane, inPlane);
            for (int oh = 0, o = 0; oh < g.OutHeight; oh++)
                for (int ow = 0; ow < g.OutWidth; ow++, o++)
                    dst[ArgMax(src, g, oh, ow)] += grad[o];
        }
    }

    /// <summary>Max pooling without padding of planes [<paramref name="p0"/>, <paramref name="p1"/>).</summary>
    private static void MaxPlanes<T>(ref T xr, ref T yr, int p0, int p1, Pool2DGeometry g) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        int inPlane = g.Height * g.Width, outPlane = g.OutHeight * g.OutWidth;
        for (int p = p0; p < p1; p++)
        {
            ref T src = ref Unsafe.Add(ref xr, (nuint)p * (nuint)inPlane);
            ref T dst = ref Unsafe.Add(ref yr, (nuint)p * (nuint)outPlane);
            for (int oh = 0, o = 0; oh < g.OutHeight; oh++)
                for (int ow = 0; ow < g.OutWidth; ow++, o++)
                    Unsafe.Add(ref dst, (nuint)o) = InsideMax(ref src, g, oh, ow);
        }
    }

    /// <summary>Its backward pass for planes [<paramref name="p0"/>, <paramref name="p1"/>) (their dx cleared first).</summary>
    private static void MaxBackwardPlanes<T>(ref T xr, ref T dyr, ref T dxr, int p0, int p1, Pool2DGeometry g) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        int inPlane = g.Height * g.Width, outPlane = g.OutHeight * g.OutWidth;
        MemoryMarshal.CreateSpan(ref Unsafe.Add(ref dxr, (nuint)p0 * (nuint)inPlane), (p1 - p0) * inPlane).Clear();
        for (int p = p0; p < p1; p++)
        {
            ref T src = ref Unsafe.Add(ref xr, (nuint)p * (nuint)inPlane);
            ref T grad = ref Unsafe.Add(ref dyr, (nuint)p * (nuint)outPlane);
            ref T dst = ref Unsafe.Add(ref dxr, (nuint)p * (nuint)inPlane);
            for (int oh = 0, o = 0; oh < g.OutHeight; oh++)
                for (int ow = 0; ow < g.OutWidth; ow++, o++)
                    Unsafe.Add(ref dst, (nuint)InsideArgMax(ref src, g, oh, ow)) += Unsafe.Add(ref grad, (nuint)o);
        }
    }

    /// <summary>Max pooling (forward or backward) split by planes over two threads; planes are independent, so the results
    /// are bit-identical to one thread.</summary>
    private sealed unsafe class PoolWork<T> : ParallelWork where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        private static readonly PoolWork<T> Instance = new();
        private T* _x, _a, _b;
        private int _planes;
        private bool _backward;
        private Pool2DGeometry? _g;

        /// <summary>Forward: a = y; backward: a = dy, b = dx.</summary>
        public static void Run(ref T x, ref T a, ref T b, int planes, Pool2DGeometry g, bool backward)
        {
            fixed (T* px = &x, pa = &a, pb = &b)
            {
                PoolWork<T> work = Instance;
                work._x = px; work._a = pa; work._b = pb;
                (work._planes, work._g, work._backward) = (planes, g, backward);
                KernelParallelism.Run(work);
                work._x = null; work._a = null; work._b = null; work._g = null;
            }
        }

        internal override void Execute(int part)
        {
            int split = _planes / 2, p0 = part == 0 ? 0 : split, p1 = part == 0 ? split : _planes;
            if (_backward) MaxBackwardPlanes(ref *_x, ref *_a, ref *_b, p0, p1, _g!);
            else MaxPlanes(ref *_x, ref *_a, p0, p1, _g!);
        }
    }

    /// <summary>y = the mean of each window.</summary>
    public static void AverageForward<T>(ReadOnlySpan<T> x, Span<T> y, int batch, Pool2DGeometry g, bool countIncludePad) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        Validate(x.Length, y.Length, batch, g);
        int planes = batch * g.Channels, inPlane = g.Height * g.Width, outPlane = g.OutHeight * g.OutWidth;
        for (int p = 0; p < planes; p++)
        {
            ReadOnlySpan<T> src = x.Slice(p * inPlane, inPlane);
            Span<T> dst = y.Slice(p * outPlane, outPlane);
            for (int oh = 0, o = 0; oh < g.OutHeight; oh++)
                for (int ow = 0; ow < g.OutWidth; ow++, o++)
                {
                    Window(g, oh, ow, out int h0, out int h1, out int w0, out int w1);
                    T sum = T.Zero;
                    for (int ih = h0; ih < h1; ih++)
                        for (int iw = w0; iw < w1; iw++) sum += src[ih * g.Width + iw];
                    dst[o] = sum / Divisor<T>(g, h0, h1, w0, w1, countIncludePad);
                }
        }
    }

    /// <summary>dx (overwritten) = each window's dy spread evenly over its elements (summed where windows overlap).</summary>
    public static void AverageBackward<T>(ReadOnlySpan<T> dy, Span<T> dx, int batch, Pool2DGeometry g, bool countIncludePad) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        Validate(dx.Length, dy.Length, batch, g);
        int planes = batch * g.Channels, inPlane = g.Height * g.Width, outPlane = g.OutHeight * g.OutWidth;
        dx.Slice(0, batch * g.InputSize).Clear();
        for (int p = 0; p < planes; p++)
        {
            ReadOnlySpan<T> grad = dy.Slice(p * outPlane, outPlane);
            Span<T> dst = dx.Slice(p * inPlane, inPlane);
            for (int oh = 0, o = 0; oh < g.OutHeight; oh++)
                for (int ow = 0; ow < g.OutWidth; ow++, o++)
                {
                    Window(g, oh, ow, out int h0, out int h1, out int w0, out int w1);
                    T share = grad[o] / Divisor<T>(g, h0, h1, w0, w1, countIncludePad);
                    for (int ih = h0; ih < h1; ih++)
                        for (int iw = w0; iw < w1; iw++) dst[ih * g.Width + iw] += share;
                }
        }
    }

    /// <summary>y[b, c] = the mean of channel c's <paramref name="pixels"/> values of sample b.</summary>
    public static void GlobalAverageForward<T>(ReadOnlySpan<T> x, Span<T> y, int batch, int channels, int pixels) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        int planes = GlobalArea(batch, channels, pixels);
        ThrowHelper.ThrowIfLengthLessThan(x.Length, planes * pixels, nameof(x));
        ThrowHelper.ThrowIfLengthLessThan(y.Length, planes, nameof(y));
        T count = T.CreateTruncating(pixels);
        for (int p = 0; p < planes; p++)
        {
            T sum = T.Zero;
            foreach (T v in x.Slice(p * pixels, pixels)) sum += v;
            y[p] = sum / count;
        }
    }

    /// <summary>dx (overwritten) = dy[b, c]/pixels at every pixel of channel c of sample b.</summary>
    public static void GlobalAverageBackward<T>(ReadOnlySpan<T> dy, Span<T> dx, int batch, int channels, int pixels) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        int planes = GlobalArea(batch, channels, pixels);
        ThrowHelper.ThrowIfLengthLessThan(dy.Length, planes, nameof(dy));
        ThrowHelper.ThrowIfLengthLessThan(dx.Length, planes * pixels, nameof(dx));
        T count = T.CreateTruncating(pixels);
        for (int p = 0; p < planes; p++) dx.Slice(p * pixels, pixels).Fill(dy[p] / count);
    }

    private static int GlobalArea(int batch, int channels, int pixels)
    {
        if (batch <= 0 || channels <= 0 || pixels <= 0) ThrowHelper.ThrowArgumentOutOfRange(nameof(batch), batch, "Sizes must be positive.");
        if ((long)batch * channels * pixels > int.MaxValue) ThrowHelper.ThrowArgumentOutOfRange(nameof(batch), batch, "The tensors must fit in a span.");
        return batch * channels;
    }

    private static void Validate(int inputLength, int outputLength, int batch, Pool2DGeometry g)
    {
        ArgumentNullException.ThrowIfNull(g);
        if (batch <= 0) ThrowHelper.ThrowArgumentOutOfRange(nameof(batch), batch, "The batch size must be positive.");
        if ((long)batch * g.InputSize > int.MaxValue) ThrowHelper.ThrowArgumentOutOfRange(nameof(batch), batch, "batch × sample size exceeds the largest span length.");
        ThrowHelper.ThrowIfLengthLessThan(inputLength, batch * g.InputSize, "x");
        ThrowHelper.ThrowIfLengthLessThan(outputLength, batch * g.OutputSize, "y");
    }

    /// <summary>The window of output (oh, ow), clipped to the input: rows [h0, h1), columns [w0, w1).</summary>
    private static void Window(Pool2DGeometry g, int oh, int ow, out int h0, out int h1, out int w0, out int w1)
    {
        int hs = oh * g.StrideHeight - g.PadHeight, ws = ow * g.StrideWidth - g.PadWidth;
        h0 = Math.Max(hs, 0); h1 = Math.Min(hs + g.KernelHeight, g.Height);
        w0 = Math.Max(ws, 0); w1 = Math.Min(ws + g.KernelWidth, g.Width);
    }

    private static T Divisor<T>(Pool2DGeometry g, int h0, int h1, int w0, int w1, bool countIncludePad) where T : unmanaged, IBinaryFloatingPointIeee754<T> =>
        T.CreateTruncating(countIncludePad ? g.KernelHeight * g.KernelWidth : (h1 - h0) * (w1 - w0));

    /// <summary>The maximum of a window inside the plane; NaN if any element is NaN (IEEE maximum, as PyTorch propagates NaN).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static T InsideMax<T>(ref T plane, Pool2DGeometry g, int oh, int ow) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        int h0 = oh * g.StrideHeight, w0 = ow * g.StrideWidth, width = g.Width;
        T max = Unsafe.Add(ref plane, (nuint)(h0 * width + w0));
        for (int i = 0; i < g.KernelHeight; i++)
        {
            ref T row = ref Unsafe.Add(ref plane, (nuint)((h0 + i) * width + w0));
            for (int j = 0; j < g.KernelWidth; j++) max = T.Max(max, Unsafe.Add(ref row, (nuint)j));
        }
        return max;
    }

    /// <summary>
    /// As <see cref="ArgMax{T}"/> for a window that lies inside the plane, without clipping, bounds checks or
    /// data-dependent branches (which element wins is random and would mispredict): the maximum first, then the first
    /// element equal to it from a bit mask. A NaN window takes the plain loop (the last NaN wins).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int InsideArgMax<T>(ref T plane, Pool2DGeometry g, int oh, int ow) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        int h0 = oh * g.StrideHeight, w0 = ow * g.StrideWidth, width = g.Width, kw = g.KernelWidth;
        if (kw == 2 && g.KernelHeight == 2)
        {
            // The common 2 × 2 window, unrolled.
            ref T r0 = ref Unsafe.Add(ref plane, (nuint)(h0 * width + w0));
            ref T r1 = ref Unsafe.Add(ref r0, (nuint)width);
            T a = r0, b = Unsafe.Add(ref r0, 1), c = r1, d = Unsafe.Add(ref r1, 1);
            T m = T.Max(T.Max(a, b), T.Max(c, d));
            if (!T.IsNaN(m))
            {
                // One vector compare: scalar floating-point compares become branches, which mispredict on random data.
                uint bits = typeof(T) == typeof(float)
                    ? Vector128.Equals(Vector128.Create(Unsafe.As<T, float>(ref a), Unsafe.As<T, float>(ref b), Unsafe.As<T, float>(ref c), Unsafe.As<T, float>(ref d)),
                        Vector128.Create(Unsafe.As<T, float>(ref m))).ExtractMostSignificantBits()
                    : typeof(T) == typeof(double)
                        ? Vector256.Equals(Vector256.Create(Unsafe.As<T, double>(ref a), Unsafe.As<T, double>(ref b), Unsafe.As<T, double>(ref c), Unsafe.As<T, double>(ref d)),
                            Vector256.Create(Unsafe.As<T, double>(ref m))).ExtractMostSignificantBits()
                        : (a == m ? 1u : 0u) | (b == m ? 2u : 0u) | (c == m ? 4u : 0u) | (d == m ? 8u : 0u);
                int k = BitOperations.TrailingZeroCount(bits);
                return (h0 + (k >> 1)) * width + w0 + (k & 1);
            }
        }
        T max = InsideMax(ref plane, g, oh, ow);
        if (g.KernelHeight > 8 || kw > 8 || T.IsNaN(max)) return ArgMaxLoop(ref plane, g, h0, w0);
        // Bit 8·i + j for element (i, j): row and column come back by shifts, not divisions.
        ulong mask = 0;
        for (int i = 0; i < g.KernelHeight; i++)
        {
            ref T row = ref Unsafe.Add(ref plane, (nuint)((h0 + i) * width + w0));
            for (int j = 0; j < kw; j++) mask |= (Unsafe.Add(ref row, (nuint)j) == max ? 1UL : 0UL) << (8 * i + j);
        }
        int first = BitOperations.TrailingZeroCount(mask);
        return (h0 + (first >> 3)) * width + w0 + (first & 7);
    }

    private static int ArgMaxLoop<T>(ref T plane, Pool2DGeometry g, int h0, int w0) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        int width = g.Width, best = h0 * width + w0;
        T max = Unsafe.Add(ref plane, (nuint)best);
        for (int i = 0; i < g.KernelHeight; i++)
            for (int j = 0; j < g.KernelWidth; j++)
            {
                int at = (h0 + i) * width + w0 + j;
                T v = Unsafe.Add(ref plane, (nuint)at);
                if (v > max || T.IsNaN(v)) { max = v; best = at; }
            }
        return best;
    }

    /// <summary>The index (in the plane) of the window's maximum: the first strictly greater value in row-major order, or
    /// the last NaN (PyTorch's <c>val &gt; max || isnan(val)</c>).</summary>
    private static int ArgMax<T>(ReadOnlySpan<T> plane, Pool2DGeometry g, int oh, int ow) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        Window(g, oh, ow, out int h0, out int h1, out int w0, out int w1);
        int best = h0 * g.Width + w0;
        T max = T.NegativeInfinity;
        bool first = true;
        for (int ih = h0; ih < h1; ih++)
            for (int iw = w0; iw < w1; iw++)
            {
                int at = ih * g.Width + iw;
                T v = plane[at];
                if (first || v > max || T.IsNaN(v)) { max = v; best = at; first = false; }
            }
        return best;
    }
}
