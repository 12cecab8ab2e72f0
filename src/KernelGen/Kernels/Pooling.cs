using System;
using System.Numerics;

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
