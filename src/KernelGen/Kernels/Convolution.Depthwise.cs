using System;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using KernelGen.Operators;

namespace KernelGen.Kernels;

// Depthwise convolutions (groups = channels = output channels): each channel is filtered by its own kh × kw kernel, so a
// GEMM per channel would have one row. Direct loops instead, over one zero-padded plane at a time. With stride 1 the
// output is computed on the padded width (columns ow ≥ OW unused, as in the implicit GEMMs), so each kernel tap is one
// long vector multiply-add of the plane shifted by i·dh·Wp + j·dw: y += k·xp (forward), dxp += k·dy (input gradient),
// dW += ⟨dy, xp⟩ (weight gradient). Other strides loop over rows.
public static partial class Convolution
{
    private static int DepthwisePlane(Conv2DGeometry g) => (g.Height + g.PadTop + g.PadBottom) * PaddedWidth(g);
    /// <summary>A padded plane plus the slack the last tap's shifted reads reach: (kw − 1)·dw + 16 elements.</summary>
    private static int DepthwiseRegion(Conv2DGeometry g) => DepthwisePlane(g) + (g.KernelWidth - 1) * g.DilationWidth + 16;

    private static void DepthwiseForward<T, TAct>(ref T xr, ref T wr, ReadOnlySpan<T> bias, ref T yr, ref T xp, int batch, Conv2DGeometry g)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> where TAct : IActivationOp<T>
    {
        for (int b = 0; b < batch; b++)
        {
            ref T ys = ref Unsafe.Add(ref yr, (nuint)b * (nuint)g.OutputSize);
            for (int c = 0; c < g.Channels; c++)
            {
                PadPlane(ref Unsafe.Add(ref xr, (nuint)(b * g.Channels + c) * (nuint)g.InputPixels), ref xp, g, DepthwiseRegion(g));
                ref T kernel = ref Unsafe.Add(ref wr, (nuint)c * (nuint)(g.KernelHeight * g.KernelWidth));
                ref T plane = ref Unsafe.Add(ref ys, (nuint)c * (nuint)g.OutputPixels);
                if (g.StrideHeight == 1 && g.StrideWidth == 1)
                {
                    int wp = PaddedWidth(g), n = g.OutHeight * wp;
                    ref T ext = ref Unsafe.Add(ref xp, (nuint)DepthwiseRegion(g));
                    Zero(ref ext, 0, n);
                    for (int tap = 0; tap < g.KernelHeight * g.KernelWidth; tap++)
                        ScaleAdd(ref Unsafe.Add(ref xp, (nuint)TapOffset(g, tap)), ref ext, Unsafe.Add(ref kernel, (nuint)tap), n);
                    for (int oh = 0; oh < g.OutHeight; oh++)
                        Copy(ref Unsafe.Add(ref ext, (nuint)(oh * wp)), ref Unsafe.Add(ref plane, (nuint)(oh * g.OutWidth)), g.OutWidth);
                }
                else if (Vector512.IsHardwareAccelerated) DepthwiseRows<T, Simd512<T>>(ref xp, ref kernel, ref plane, g);
                else if (Vector256.IsHardwareAccelerated) DepthwiseRows<T, Simd256<T>>(ref xp, ref kernel, ref plane, g);
                else DepthwiseRows<T, SimdScalar<T>>(ref xp, ref kernel, ref plane, g);
            }
            BiasActivation<T, TAct>(ref ys, bias, g.OutChannels, g.OutputPixels);
        }
    }

    /// <summary>One channel's output plane from its padded input plane: y[oh, ow] = Σ_ij k[i, j]·xp[oh·sh + i·dh, ow·sw + j·dw].</summary>
    private static void DepthwiseRows<T, TV>(ref T xp, ref T kernel, ref T y, Conv2DGeometry g)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> where TV : struct, ISimd<TV, T>
    {
        int wp = PaddedWidth(g), kh = g.KernelHeight, kw = g.KernelWidth;
        nuint v = (nuint)TV.Count;
        for (int oh = 0; oh < g.OutHeight; oh++)
        {
            ref T row = ref Unsafe.Add(ref y, (nuint)(oh * g.OutWidth));
            ref T source = ref Unsafe.Add(ref xp, (nuint)(oh * g.StrideHeight * wp));
            nuint ow = 0;
            if (g.StrideWidth == 1)
                for (; ow + v <= (nuint)g.OutWidth; ow += v)
                {
                    TV sum = TV.Zero;
                    for (int i = 0; i < kh; i++)
                        for (int j = 0; j < kw; j++)
                            sum = TV.MultiplyAdd(TV.Create(Unsafe.Add(ref kernel, (nuint)(i * kw + j))),
                                TV.Load(ref source, (nuint)(i * g.DilationHeight * wp + j * g.DilationWidth) + ow), sum);
                    TV.Store(sum, ref row, ow);
                }
            for (; ow < (nuint)g.OutWidth; ow++)
            {
                T sum = T.Zero;
                for (int i = 0; i < kh; i++)
                    for (int j = 0; j < kw; j++)
                        sum = T.FusedMultiplyAdd(Unsafe.Add(ref kernel, (nuint)(i * kw + j)),
                            Unsafe.Add(ref source, (nuint)(i * g.DilationHeight * wp + j * g.DilationWidth) + ow * (nuint)g.StrideWidth), sum);
                Unsafe.Add(ref row, ow) = sum;
            }
        }
    }

    /// <summary>Kernel tap (i, j)'s offset in a padded plane: i·dh·Wp + j·dw.</summary>
    private static int TapOffset(Conv2DGeometry g, int tap) => tap / g.KernelWidth * g.DilationHeight * PaddedWidth(g) + tap % g.KernelWidth * g.DilationWidth;

    /// <summary>dy of one channel on the padded width: dyext[oh·Wp + ow] = dy[oh, ow], 0 for ow ≥ OW.</summary>
    private static void ExtendPlane<T>(ref T dy, ref T ext, Conv2DGeometry g) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        int wp = PaddedWidth(g);
        for (int oh = 0; oh < g.OutHeight; oh++)
        {
            ref T row = ref Unsafe.Add(ref ext, (nuint)(oh * wp));
            Copy(ref Unsafe.Add(ref dy, (nuint)(oh * g.OutWidth)), ref row, g.OutWidth);
            Zero(ref row, g.OutWidth, wp);
        }
    }

    private static void DepthwiseBackwardInput<T>(ref T dyr, ref T wr, ref T dxr, ref T dxp, int batch, Conv2DGeometry g)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        int wp = PaddedWidth(g), kh = g.KernelHeight, kw = g.KernelWidth, region = DepthwiseRegion(g);
        bool unit = g.StrideHeight == 1 && g.StrideWidth == 1;
        ref T ext = ref Unsafe.Add(ref dxp, (nuint)region);
        for (int b = 0; b < batch; b++)
            for (int c = 0; c < g.Channels; c++)
            {
                MemoryMarshal.CreateSpan(ref dxp, region).Clear();
                ref T kernel = ref Unsafe.Add(ref wr, (nuint)c * (nuint)(kh * kw));
                ref T dy = ref Unsafe.Add(ref dyr, (nuint)(b * g.Channels + c) * (nuint)g.OutputPixels);
                if (unit)
                {
                    ExtendPlane(ref dy, ref ext, g);
                    for (int tap = 0; tap < kh * kw; tap++)
                        ScaleAdd(ref ext, ref Unsafe.Add(ref dxp, (nuint)TapOffset(g, tap)), Unsafe.Add(ref kernel, (nuint)tap), g.OutHeight * wp);
                }
                else
                {
                    // dxp[oh·sh + i·dh, ow·sw + j·dw] += k[i, j]·dy[oh, ow], taps in order, then positions in order.
                    for (int oh = 0; oh < g.OutHeight; oh++)
                        for (int i = 0; i < kh; i++)
                            for (int j = 0; j < kw; j++)
                            {
                                T k = Unsafe.Add(ref kernel, (nuint)(i * kw + j));
                                ref T target = ref Unsafe.Add(ref dxp, (nuint)((oh * g.StrideHeight + i * g.DilationHeight) * wp + j * g.DilationWidth));
                                ref T source = ref Unsafe.Add(ref dy, (nuint)(oh * g.OutWidth));
                                if (g.StrideWidth == 1) ScaleAdd(ref source, ref target, k, g.OutWidth);
                                else
                                    for (int ow = 0; ow < g.OutWidth; ow++)
                                        Unsafe.Add(ref target, (nuint)(ow * g.StrideWidth)) = T.FusedMultiplyAdd(k, Unsafe.Add(ref source, (nuint)ow), Unsafe.Add(ref target, (nuint)(ow * g.StrideWidth)));
                            }
                }
                ref T dx = ref Unsafe.Add(ref dxr, (nuint)(b * g.Channels + c) * (nuint)g.InputPixels);
                for (int ih = 0; ih < g.Height; ih++)
                    Copy(ref Unsafe.Add(ref dxp, (nuint)((ih + g.PadTop) * wp + g.PadLeft)), ref Unsafe.Add(ref dx, (nuint)(ih * g.Width)), g.Width);
            }
    }

    private static void DepthwiseBackwardWeights<T>(ref T xr, ref T dyr, ref T dw, ref T xp, int batch, Conv2DGeometry g)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        int wp = PaddedWidth(g), kh = g.KernelHeight, kw = g.KernelWidth;
        bool unit = g.StrideHeight == 1 && g.StrideWidth == 1;
        ref T ext = ref Unsafe.Add(ref xp, (nuint)DepthwiseRegion(g));
        for (int c = 0; c < g.Channels; c++)
        {
            ref T kernel = ref Unsafe.Add(ref dw, (nuint)c * (nuint)(kh * kw));
            MemoryMarshal.CreateSpan(ref kernel, kh * kw).Clear();
            for (int b = 0; b < batch; b++)
            {
                PadPlane(ref Unsafe.Add(ref xr, (nuint)(b * g.Channels + c) * (nuint)g.InputPixels), ref xp, g, DepthwiseRegion(g));
                ref T dy = ref Unsafe.Add(ref dyr, (nuint)(b * g.Channels + c) * (nuint)g.OutputPixels);
                if (unit)
                {
                    ExtendPlane(ref dy, ref ext, g);
                    for (int tap = 0; tap < kh * kw; tap++)
                        Unsafe.Add(ref kernel, (nuint)tap) += Dot(ref ext, ref Unsafe.Add(ref xp, (nuint)TapOffset(g, tap)), g.OutHeight * wp);
                    continue;
                }
                // dW[c, i, j] += Σ_(oh, ow) dy[oh, ow]·xp[oh·sh + i·dh, ow·sw + j·dw], sample after sample.
                for (int i = 0; i < kh; i++)
                    for (int j = 0; j < kw; j++)
                    {
                        T sum = T.Zero;
                        for (int oh = 0; oh < g.OutHeight; oh++)
                        {
                            ref T source = ref Unsafe.Add(ref xp, (nuint)((oh * g.StrideHeight + i * g.DilationHeight) * wp + j * g.DilationWidth));
                            ref T grad = ref Unsafe.Add(ref dy, (nuint)(oh * g.OutWidth));
                            sum += g.StrideWidth == 1 ? Dot(ref grad, ref source, g.OutWidth) : StridedDot(ref grad, ref source, g.OutWidth, g.StrideWidth);
                        }
                        Unsafe.Add(ref kernel, (nuint)(i * kw + j)) += sum;
                    }
            }
        }
    }

    /// <summary>One channel of one sample into a zero-padded Hp × Wp plane, and zeros after it up to <paramref name="length"/>.</summary>
    private static void PadPlane<T>(ref T x, ref T xp, Conv2DGeometry g, int length) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        int wp = PaddedWidth(g);
        Zero(ref xp, 0, g.PadTop * wp);
        for (int ih = 0; ih < g.Height; ih++)
        {
            ref T row = ref Unsafe.Add(ref xp, (nuint)((ih + g.PadTop) * wp));
            Zero(ref row, 0, g.PadLeft);
            Copy(ref Unsafe.Add(ref x, (nuint)(ih * g.Width)), ref Unsafe.Add(ref row, (nuint)g.PadLeft), g.Width);
            Zero(ref row, g.PadLeft + g.Width, wp);
        }
        Zero(ref xp, (g.PadTop + g.Height) * wp, length);
    }

    private static void ScaleAdd<T>(ref T source, ref T target, T k, int n) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        if (Vector512.IsHardwareAccelerated) ScaleAdd<T, Simd512<T>>(ref source, ref target, k, n);
        else if (Vector256.IsHardwareAccelerated) ScaleAdd<T, Simd256<T>>(ref source, ref target, k, n);
        else ScaleAdd<T, SimdScalar<T>>(ref source, ref target, k, n);
    }

    private static void ScaleAdd<T, TV>(ref T source, ref T target, T k, int n) where T : unmanaged, IBinaryFloatingPointIeee754<T> where TV : struct, ISimd<TV, T>
    {
        nuint v = (nuint)TV.Count, i = 0, end = (nuint)n;
        TV kv = TV.Create(k);
        for (; i + v <= end; i += v) TV.Store(TV.MultiplyAdd(kv, TV.Load(ref source, i), TV.Load(ref target, i)), ref target, i);
        for (; i < end; i++) Unsafe.Add(ref target, i) = T.FusedMultiplyAdd(k, Unsafe.Add(ref source, i), Unsafe.Add(ref target, i));
    }

    private static T Dot<T>(ref T a, ref T b, int n) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        if (Vector512.IsHardwareAccelerated) return Dot<T, Simd512<T>>(ref a, ref b, n);
        if (Vector256.IsHardwareAccelerated) return Dot<T, Simd256<T>>(ref a, ref b, n);
        return Dot<T, SimdScalar<T>>(ref a, ref b, n);
    }

    private static T Dot<T, TV>(ref T a, ref T b, int n) where T : unmanaged, IBinaryFloatingPointIeee754<T> where TV : struct, ISimd<TV, T>
    {
        nuint v = (nuint)TV.Count, i = 0, end = (nuint)n;
        TV s = TV.Zero;
        for (; i + v <= end; i += v) s = TV.MultiplyAdd(TV.Load(ref a, i), TV.Load(ref b, i), s);
        T sum = TV.Sum(s);
        for (; i < end; i++) sum += Unsafe.Add(ref a, i) * Unsafe.Add(ref b, i);
        return sum;
    }

    private static T StridedDot<T>(ref T grad, ref T source, int n, int stride) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        T sum = T.Zero;
        for (int i = 0; i < n; i++) sum += Unsafe.Add(ref grad, (nuint)i) * Unsafe.Add(ref source, (nuint)(i * stride));
        return sum;
    }
}
