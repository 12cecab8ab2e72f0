using System;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using KernelGen.Operators;

namespace KernelGen.Kernels;

// Stride-1 convolutions without groups as implicit GEMMs (no patch matrix). With the input copied into zero-padded
// channel planes of Hp × Wp (plus (kw − 1)·dw slack so the last tap's reads stay inside the plane), kernel tap (i, j)
// reads the padded plane at a constant offset i·dh·Wp + j·dw from each output position q = oh·Wp + ow of an output
// "extended" to the padded width (columns ow ≥ OW are never used). So each tap is one GEMM over the channels:
//   forward:        Yext [O × OH·Wp]   += W[:, :, i, j] [O × C] · Xp shifted [C × OH·Wp]
//   input gradient: dXp shifted [C × OH·Wp] += W[:, :, i, j]ᵀ · dYext [O × OH·Wp]   (dYext zero in unused columns)
//   weight gradient: dWᵀ_ij [C × O]   += Xp shifted [C × OH·Wp] · dYextᵀ [OH·Wp × O]
// The GEMM accumulates tap after tap (and sample after sample for dW) inside its tiles.
public static partial class Convolution
{
    private static int PaddedWidth(Conv2DGeometry g) => g.Width + g.PadLeft + g.PadRight;
    /// <summary>GEMM columns: OH·Wp rounded up to 16 (whole vectors; see <see cref="Catalog.OpCatalog.ExtendedColumns"/>).</summary>
    private static int ExtendedPixels(Conv2DGeometry g) => (int)Catalog.OpCatalog.ExtendedColumns((long)g.OutHeight * PaddedWidth(g));
    /// <summary>A padded plane and its slack: the last tap reads up to its offset (kh − 1)·dh·Wp + (kw − 1)·dw plus the GEMM's columns.</summary>
    private static int PlaneStride(Conv2DGeometry g) =>
        (g.Height + g.PadTop + g.PadBottom) * PaddedWidth(g) + (g.KernelWidth - 1) * g.DilationWidth + ExtendedPixels(g) - g.OutHeight * PaddedWidth(g);

    private static void ImplicitForward<T, TAct>(ref T xr, ref T wr, ReadOnlySpan<T> bias, ref T yr, ref T scratch, int batch, Conv2DGeometry g)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> where TAct : IActivationOp<T>
    {
        int s = PlaneStride(g), e = ExtendedPixels(g), wp = PaddedWidth(g), taps = g.KernelHeight * g.KernelWidth;
        ref T xp = ref scratch;
        ref T yext = ref Unsafe.Add(ref scratch, (nuint)g.Channels * (nuint)s);
        for (int b = 0; b < batch; b++)
        {
            Pad(ref Unsafe.Add(ref xr, (nuint)b * (nuint)g.InputSize), ref xp, g);
            for (int tap = 0; tap < taps; tap++)
            {
                int offset = tap / g.KernelWidth * g.DilationHeight * wp + tap % g.KernelWidth * g.DilationWidth;
                // A[o, c] = W[o, c, i, j] (rows K apart, channels kh·kw apart), B = the shifted planes, C = Yext.
                Gemm<T, IdentityOp<T>>(ref Unsafe.Add(ref wr, (nuint)tap), (nuint)g.PatchSize, (nuint)taps, ref Unsafe.Add(ref xp, (nuint)offset), (nuint)s,
                    (nuint)g.Channels, ref yext, tap > 0, (nuint)e, ref yext, (nuint)e, g.OutChannels, e);
            }
            ref T ys = ref Unsafe.Add(ref yr, (nuint)b * (nuint)g.OutputSize);
            for (int o = 0; o < g.OutChannels; o++)
                for (int oh = 0; oh < g.OutHeight; oh++)
                    Copy(ref Unsafe.Add(ref yext, (nuint)o * (nuint)e + (nuint)oh * (nuint)wp), ref Unsafe.Add(ref ys, (nuint)((o * g.OutHeight + oh) * g.OutWidth)), g.OutWidth);
            BiasActivation<T, TAct>(ref ys, bias, g.OutChannels, g.OutputPixels);
        }
    }

    /// <summary>Where the implicit path keeps dWᵀ: after the padded input and the transposed output gradient.</summary>
    private static ref T ImplicitWeightScratch<T>(ref T scratch, Conv2DGeometry g) =>
        ref Unsafe.Add(ref scratch, (nuint)g.Channels * (nuint)PlaneStride(g) + (nuint)ExtendedPixels(g) * (nuint)g.OutChannels);

    /// <summary>dW for kernel taps [<paramref name="t0"/>, <paramref name="t1"/>): the padded input and dYextᵀ in
    /// <paramref name="scratch"/>, dWᵀ per tap in <paramref name="dwt"/>.</summary>
    private static void ImplicitBackwardParameters<T>(ref T xr, ref T dyr, ref T dw, ref T scratch, ref T dwt, int batch, Conv2DGeometry g, int t0, int t1)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        int s = PlaneStride(g), e = ExtendedPixels(g), wp = PaddedWidth(g), taps = g.KernelHeight * g.KernelWidth, o = g.OutChannels, c = g.Channels;
        ref T xp = ref scratch;
        ref T dyt = ref Unsafe.Add(ref scratch, (nuint)c * (nuint)s);
        for (int b = 0; b < batch; b++)
        {
            Pad(ref Unsafe.Add(ref xr, (nuint)b * (nuint)g.InputSize), ref xp, g);
            // dYextᵀ [q × O]: row q = oh·Wp + ow holds dY[:, oh, ow], zero for the unused columns ow ≥ OW.
            ref T dys = ref Unsafe.Add(ref dyr, (nuint)b * (nuint)g.OutputSize);
            for (int oh = 0; oh < g.OutHeight; oh++)
            {
                for (int ow = 0; ow < g.OutWidth; ow++)
                {
                    ref T row = ref Unsafe.Add(ref dyt, (nuint)(oh * wp + ow) * (nuint)o);
                    nuint at = (nuint)(oh * g.OutWidth + ow);
                    for (int k = 0; k < o; k++) Unsafe.Add(ref row, (nuint)k) = Unsafe.Add(ref dys, (nuint)k * (nuint)g.OutputPixels + at);
                }
                Zero(ref Unsafe.Add(ref dyt, (nuint)(oh * wp) * (nuint)o), g.OutWidth * o, wp * o);
            }
            Zero(ref dyt, g.OutHeight * wp * o, e * o); // the rounding columns
            for (int tap = t0; tap < t1; tap++)
            {
                int offset = tap / g.KernelWidth * g.DilationHeight * wp + tap % g.KernelWidth * g.DilationWidth;
                ref T target = ref Unsafe.Add(ref dwt, (nuint)tap * (nuint)c * (nuint)o);
                // A = the shifted planes [C × q], B = dYextᵀ [q × O], C = dWᵀ_tap [C × O], accumulated from the second sample on.
                Gemm<T, IdentityOp<T>>(ref Unsafe.Add(ref xp, (nuint)offset), (nuint)s, 1, ref dyt, (nuint)o, (nuint)e, ref target, b > 0, (nuint)o, ref target, (nuint)o, c, o);
            }
        }
        // dW[o, c, tap] = dWᵀ_tap[c, o].
        for (int tap = t0; tap < t1; tap++)
            for (int ci = 0; ci < c; ci++)
            {
                ref T row = ref Unsafe.Add(ref dwt, (nuint)(tap * c + ci) * (nuint)o);
                for (int k = 0; k < o; k++) Unsafe.Add(ref dw, (nuint)k * (nuint)g.PatchSize + (nuint)(ci * taps + tap)) = Unsafe.Add(ref row, (nuint)k);
            }
    }

    private static void ImplicitBackwardInput<T>(ref T dyr, ref T wr, ref T dxr, ref T scratch, int batch, Conv2DGeometry g)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        int s = PlaneStride(g), e = ExtendedPixels(g), wp = PaddedWidth(g), taps = g.KernelHeight * g.KernelWidth;
        ref T dxp = ref scratch;
        ref T dyext = ref Unsafe.Add(ref scratch, (nuint)g.Channels * (nuint)s);
        for (int b = 0; b < batch; b++)
        {
            ref T dys = ref Unsafe.Add(ref dyr, (nuint)b * (nuint)g.OutputSize);
            for (int o = 0; o < g.OutChannels; o++)
                for (int oh = 0; oh < g.OutHeight; oh++)
                {
                    ref T row = ref Unsafe.Add(ref dyext, (nuint)o * (nuint)e + (nuint)oh * (nuint)wp);
                    Copy(ref Unsafe.Add(ref dys, (nuint)((o * g.OutHeight + oh) * g.OutWidth)), ref row, g.OutWidth);
                    Zero(ref row, g.OutWidth, wp);
                }
            for (int o = 0; o < g.OutChannels; o++) Zero(ref Unsafe.Add(ref dyext, (nuint)o * (nuint)e), g.OutHeight * wp, e); // the rounding columns
            MemoryMarshal.CreateSpan(ref dxp, g.Channels * s).Clear();
            for (int tap = 0; tap < taps; tap++)
            {
                int offset = tap / g.KernelWidth * g.DilationHeight * wp + tap % g.KernelWidth * g.DilationWidth;
                ref T target = ref Unsafe.Add(ref dxp, (nuint)offset);
                // A[c, o] = W[o, c, i, j] (rows kh·kw apart, output channels K apart), B = dYext, C = the shifted planes of dXp.
                Gemm<T, IdentityOp<T>>(ref Unsafe.Add(ref wr, (nuint)tap), (nuint)taps, (nuint)g.PatchSize, ref dyext, (nuint)e, (nuint)g.OutChannels,
                    ref target, true, (nuint)s, ref target, (nuint)s, g.Channels, e);
            }
            ref T dxs = ref Unsafe.Add(ref dxr, (nuint)b * (nuint)g.InputSize);
            for (int c = 0; c < g.Channels; c++)
                for (int ih = 0; ih < g.Height; ih++)
                    Copy(ref Unsafe.Add(ref dxp, (nuint)c * (nuint)s + (nuint)((ih + g.PadTop) * wp + g.PadLeft)), ref Unsafe.Add(ref dxs, (nuint)((c * g.Height + ih) * g.Width)), g.Width);
        }
    }

    /// <summary>Copies one sample into zero-padded channel planes (Hp × Wp, then the slack, zeroed too), s elements apart.</summary>
    private static void Pad<T>(ref T x, ref T xp, Conv2DGeometry g) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        int s = PlaneStride(g);
        for (int c = 0; c < g.Channels; c++)
            PadPlane(ref Unsafe.Add(ref x, (nuint)c * (nuint)g.InputPixels), ref Unsafe.Add(ref xp, (nuint)c * (nuint)s), g, s);
    }
}
