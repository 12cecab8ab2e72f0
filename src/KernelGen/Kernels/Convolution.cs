using System;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using KernelGen.Operators;

namespace KernelGen.Kernels;

/// <summary>
/// 2-D convolution kernels on NCHW data with PyTorch <c>Conv2d</c> weights [O, C/groups, kh, kw] (see
/// <see cref="Conv2DGeometry"/>). Each sample and group is lowered to the register-tiled GEMM the dense layers use:
/// <list type="bullet">
/// <item>forward: Y_g [O_g × P] = W_g [O_g × K] · X̃_g [K × P], X̃ the patch matrix (im2col: row k = (c, i, j) holds
/// the input pixels kernel tap (i, j) of channel c meets at each of the P = OH·OW output positions, 0 in the padding),
/// then y = f(y + b) per output channel (bias and activation in one pass over the cache-hot output);</item>
/// <item>weight gradient: dW_gᵀ [K × O_g] += X̃_g [K × P] · dY_gᵀ [P × O_g], accumulated across the batch inside the
/// GEMM (each weight is one multiply-add chain over samples and positions in ascending order), transposed once at the
/// end; db = Σ dY;</item>
/// <item>input gradient: dX̃_g [K × P] = W_gᵀ · dY_g, then col2im adds each patch entry back to its input pixel.</item>
/// </list>
/// A 1×1 kernel with stride 1 and no padding uses the input as X̃ and writes dX directly. The scratch span holds one
/// group's patch matrix, one group's transposed output gradient and the transposed weight gradient
/// (<see cref="Conv2DGeometry.ScratchLength"/>); nothing is allocated. Results are deterministic;
/// the bias gradient's sums over positions are vectorized, so vector widths may differ by float reordering there.
/// </summary>
public static partial class Convolution
{
    /// <summary>
    /// y = f(conv(x, w) + b) for <paramref name="batch"/> samples. <paramref name="bias"/> may be empty (no bias).
    /// <paramref name="y"/> must not overlap <paramref name="x"/>.
    /// </summary>
    /// <exception cref="ArgumentException">A span is shorter than the geometry needs, or the bias is neither empty nor O long.</exception>
    public static void Forward<T, TAct>(ReadOnlySpan<T> x, ReadOnlySpan<T> weights, ReadOnlySpan<T> bias, Span<T> y, Span<T> scratch, int batch, Conv2DGeometry g)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> where TAct : IActivationOp<T>
    {
        Validate(x.Length, y.Length, weights.Length, bias.Length, scratch.Length, batch, g);
        ref T xr = ref MemoryMarshal.GetReference(x);
        ref T wr = ref MemoryMarshal.GetReference(weights);
        ref T yr = ref MemoryMarshal.GetReference(y);
        ref T col = ref MemoryMarshal.GetReference(scratch);
        ref T br = ref MemoryMarshal.GetReference(bias);
        if (SplitSamples(batch, scratch.Length, g) is int split and > 0)
        {
            ConvolutionWork<T, TAct>.Run(ConvolutionWork<T, TAct>.Pass.Forward, ref xr, ref wr, ref br, bias.Length, ref yr, ref col, batch, split, g);
            return;
        }
        ForwardSamples<T, TAct>(ref xr, ref wr, ref br, bias.Length, ref yr, ref col, batch, g);
    }

    /// <summary>The forward pass of <paramref name="batch"/> samples (the refs at the first one) with one scratch area.</summary>
    internal static void ForwardSamples<T, TAct>(ref T xr, ref T wr, ref T br, int biasLength, ref T yr, ref T col, int batch, Conv2DGeometry g)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> where TAct : IActivationOp<T>
    {
        ReadOnlySpan<T> bias = MemoryMarshal.CreateReadOnlySpan(ref br, biasLength);
        if (g.IsDepthwise)
        {
            DepthwiseForward<T, TAct>(ref xr, ref wr, bias, ref yr, ref col, batch, g);
            return;
        }
        if (g.IsImplicit)
        {
            ImplicitForward<T, TAct>(ref xr, ref wr, bias, ref yr, ref col, batch, g);
            return;
        }
        int p = g.OutputPixels, k = g.PatchSize, og = g.GroupOutChannels;
        for (int b = 0; b < batch; b++)
        {
            ref T xs = ref Unsafe.Add(ref xr, (nuint)b * (nuint)g.InputSize);
            ref T ys = ref Unsafe.Add(ref yr, (nuint)b * (nuint)g.OutputSize);
            for (int grp = 0; grp < g.Groups; grp++)
            {
                ref T patches = ref col;
                if (g.IsPointwise) patches = ref Unsafe.Add(ref xs, (nuint)grp * (nuint)g.GroupChannels * (nuint)p);
                else Im2Col(ref xs, ref col, g, grp * g.GroupChannels);
                // A = W_g [og × k] (rows of W), B = X̃ [k × p], C = Y_g [og × p].
                Gemm<T, IdentityOp<T>>(ref Unsafe.Add(ref wr, (nuint)grp * (nuint)og * (nuint)k), (nuint)k, 1, ref patches, (nuint)p, (nuint)k,
                    ref patches, false, 0, ref Unsafe.Add(ref ys, (nuint)grp * (nuint)og * (nuint)p), (nuint)p, og, p);
            }
            BiasActivation<T, TAct>(ref ys, bias, g.OutChannels, p);
        }
    }

    /// <summary>
    /// With <see cref="KernelParallelism.DegreeOfParallelism"/> = 2, a batch of at least <see cref="KernelParallelism.MinimumBatch"/>
    /// samples and scratch for two parts (<see cref="Conv2DGeometry.ScratchLength"/> each; generated networks reserve it):
    /// the first sample of the worker's half, after the worker is claimed; else 0 (one thread). Samples are independent,
    /// so the split results are bit-identical.
    /// </summary>
    private static int SplitSamples(int batch, int scratchLength, Conv2DGeometry g) =>
        KernelParallelism.ShouldSplit(batch) && scratchLength >= 2 * g.ScratchLength && KernelParallelism.TryEnter() ? batch / 2 : 0;

    /// <summary>
    /// The parameter gradients: dW = Σ_samples dY·X̃ᵀ and, unless <paramref name="biasGradient"/> is empty, db = Σ dY
    /// (both overwritten). <paramref name="outputGradient"/> is ∂L/∂y after the activation's derivative.
    /// </summary>
    /// <remarks>Computed transposed, dWᵀ_g [K × O_g] += X̃_g [K × P] · dY_gᵀ [P × O_g]: the patch matrix is the same
    /// contiguous im2col as the forward pass (the input itself for a pointwise convolution) and only dY_g is transposed
    /// (O_g·P values per sample, fewer than the K·P of a transposed patch matrix); dWᵀ accumulates over the batch in the
    /// scratch and is transposed into dW once.</remarks>
    public static void BackwardParameters<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> outputGradient, Span<T> weightGradient, Span<T> biasGradient, Span<T> scratch, int batch, Conv2DGeometry g)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        Validate(x.Length, outputGradient.Length, weightGradient.Length, biasGradient.Length, scratch.Length, batch, g);
        ref T xr = ref MemoryMarshal.GetReference(x);
        ref T dyr = ref MemoryMarshal.GetReference(outputGradient);
        ref T dw = ref MemoryMarshal.GetReference(weightGradient);
        int p = g.OutputPixels, k = g.PatchSize, og = g.GroupOutChannels;
        ref T col = ref MemoryMarshal.GetReference(scratch);
        ref T dyt = ref Unsafe.Add(ref col, (nuint)k * (nuint)p);
        ref T dwt = ref Unsafe.Add(ref dyt, (nuint)p * (nuint)og);
        if (g.IsDepthwise) DepthwiseBackwardWeights(ref xr, ref dyr, ref dw, ref col, batch, g);
        else if (!g.IsImplicit) WeightGradient(ref xr, ref dyr, ref dw, ref col, ref dyt, ref dwt, batch, g);
        else if (KernelParallelism.ShouldSplit(batch) && scratch.Length >= 2 * g.ScratchLength && g.KernelHeight * g.KernelWidth > 1 && KernelParallelism.TryEnter())
            // Taps [0, t/2) here, the rest on the worker, each with its own padded input; both write disjoint taps of one dWᵀ.
            ConvolutionWork<T, IdentityOp<T>>.Run(ConvolutionWork<T, IdentityOp<T>>.Pass.WeightGradient, ref xr, ref dyr, ref dw, 0, ref dw, ref col, batch,
                g.KernelHeight * g.KernelWidth / 2, g);
        else ImplicitBackwardParameters(ref xr, ref dyr, ref dw, ref col, ref ImplicitWeightScratch(ref col, g), batch, g, 0, g.KernelHeight * g.KernelWidth);
        if (biasGradient.IsEmpty) return;
        ref T db = ref MemoryMarshal.GetReference(biasGradient);
        for (int o = 0; o < g.OutChannels; o++)
        {
            T sum = T.Zero;
            for (int b = 0; b < batch; b++) sum += Sum(ref Unsafe.Add(ref dyr, (nuint)b * (nuint)g.OutputSize + (nuint)o * (nuint)p), p);
            Unsafe.Add(ref db, (nuint)o) = sum;
        }
    }

    private static void WeightGradient<T>(ref T xr, ref T dyr, ref T dw, ref T col, ref T dyt, ref T dwt, int batch, Conv2DGeometry g)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        int p = g.OutputPixels, k = g.PatchSize, og = g.GroupOutChannels;
        if (og <= DotProductChannels)
        {
            // Few output channels per group (a first layer, a depthwise convolution): dW[o, k] += ⟨dY row o, X̃ row k⟩ as dot
            // products, without transposing dY or dW (a GEMM over og ≤ 16 columns would run one-vector tiles).
            for (int b = 0; b < batch; b++)
            {
                ref T xs = ref Unsafe.Add(ref xr, (nuint)b * (nuint)g.InputSize);
                ref T dys = ref Unsafe.Add(ref dyr, (nuint)b * (nuint)g.OutputSize);
                for (int grp = 0; grp < g.Groups; grp++)
                {
                    ref T patches = ref col;
                    if (g.IsPointwise) patches = ref Unsafe.Add(ref xs, (nuint)grp * (nuint)g.GroupChannels * (nuint)p);
                    else Im2Col(ref xs, ref col, g, grp * g.GroupChannels);
                    DotProducts(ref Unsafe.Add(ref dys, (nuint)grp * (nuint)og * (nuint)p), ref patches, ref Unsafe.Add(ref dw, (nuint)grp * (nuint)og * (nuint)k), og, k, p, b > 0);
                }
            }
            return;
        }
        for (int b = 0; b < batch; b++)
        {
            ref T xs = ref Unsafe.Add(ref xr, (nuint)b * (nuint)g.InputSize);
            ref T dys = ref Unsafe.Add(ref dyr, (nuint)b * (nuint)g.OutputSize);
            for (int grp = 0; grp < g.Groups; grp++)
            {
                ref T patches = ref col;
                if (g.IsPointwise) patches = ref Unsafe.Add(ref xs, (nuint)grp * (nuint)g.GroupChannels * (nuint)p);
                else Im2Col(ref xs, ref col, g, grp * g.GroupChannels);
                Transpose(ref Unsafe.Add(ref dys, (nuint)grp * (nuint)og * (nuint)p), ref dyt, og, p);
                ref T target = ref Unsafe.Add(ref dwt, (nuint)grp * (nuint)k * (nuint)og);
                // A = X̃ [k × p], B = dYᵀ [p × og], C = dWᵀ_g [k × og], accumulated from the second sample on.
                Gemm<T, IdentityOp<T>>(ref patches, (nuint)p, 1, ref dyt, (nuint)og, (nuint)p, ref target, b > 0, (nuint)og, ref target, (nuint)og, k, og);
            }
        }
        for (int grp = 0; grp < g.Groups; grp++)
            Transpose(ref Unsafe.Add(ref dwt, (nuint)grp * (nuint)k * (nuint)og), ref Unsafe.Add(ref dw, (nuint)grp * (nuint)og * (nuint)k), k, og);
    }

    /// <summary>Output channels per group up to which the im2col weight gradient uses dot products.</summary>
    private const int DotProductChannels = 16;

    /// <summary>c[i, j] (+)= Σ_q a[i, q]·b[j, q] for a [rows × n], b [columns × n], c [rows × columns] (the "NT" product).</summary>
    private static void DotProducts<T>(ref T a, ref T b, ref T c, int rows, int columns, int n, bool accumulate) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        if (Vector512.IsHardwareAccelerated && n >= Simd512<T>.Count) DotProducts<T, Simd512<T>>(ref a, ref b, ref c, rows, columns, n, accumulate);
        else if (Vector256.IsHardwareAccelerated && n >= Simd256<T>.Count) DotProducts<T, Simd256<T>>(ref a, ref b, ref c, rows, columns, n, accumulate);
        else DotProducts<T, SimdScalar<T>>(ref a, ref b, ref c, rows, columns, n, accumulate);
    }

    /// <summary>Blocks of 4 rows × 2 columns (8 accumulators, 6 loads per 8 multiply-adds); remainders one by one.</summary>
    private static void DotProducts<T, TV>(ref T a, ref T b, ref T c, int rows, int columns, int n, bool accumulate)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> where TV : struct, ISimd<TV, T>
    {
        nuint v = (nuint)TV.Count, len = (nuint)n, whole = len / v * v;
        int i = 0;
        for (; i + 4 <= rows; i += 4)
        {
            ref T a0 = ref Unsafe.Add(ref a, (nuint)i * len);
            ref T a1 = ref Unsafe.Add(ref a0, len);
            ref T a2 = ref Unsafe.Add(ref a1, len);
            ref T a3 = ref Unsafe.Add(ref a2, len);
            int j = 0;
            for (; j + 2 <= columns; j += 2)
            {
                ref T b0 = ref Unsafe.Add(ref b, (nuint)j * len);
                ref T b1 = ref Unsafe.Add(ref b0, len);
                TV s00 = TV.Zero, s01 = TV.Zero, s10 = TV.Zero, s11 = TV.Zero, s20 = TV.Zero, s21 = TV.Zero, s30 = TV.Zero, s31 = TV.Zero;
                for (nuint q = 0; q < whole; q += v)
                {
                    TV x0 = TV.Load(ref b0, q), x1 = TV.Load(ref b1, q);
                    TV y = TV.Load(ref a0, q); s00 = TV.MultiplyAdd(y, x0, s00); s01 = TV.MultiplyAdd(y, x1, s01);
                    y = TV.Load(ref a1, q); s10 = TV.MultiplyAdd(y, x0, s10); s11 = TV.MultiplyAdd(y, x1, s11);
                    y = TV.Load(ref a2, q); s20 = TV.MultiplyAdd(y, x0, s20); s21 = TV.MultiplyAdd(y, x1, s21);
                    y = TV.Load(ref a3, q); s30 = TV.MultiplyAdd(y, x0, s30); s31 = TV.MultiplyAdd(y, x1, s31);
                }
                Finish(ref c, i, j, columns, TV.Sum(s00), ref a0, ref b0, whole, len, accumulate);
                Finish(ref c, i, j + 1, columns, TV.Sum(s01), ref a0, ref b1, whole, len, accumulate);
                Finish(ref c, i + 1, j, columns, TV.Sum(s10), ref a1, ref b0, whole, len, accumulate);
                Finish(ref c, i + 1, j + 1, columns, TV.Sum(s11), ref a1, ref b1, whole, len, accumulate);
                Finish(ref c, i + 2, j, columns, TV.Sum(s20), ref a2, ref b0, whole, len, accumulate);
                Finish(ref c, i + 2, j + 1, columns, TV.Sum(s21), ref a2, ref b1, whole, len, accumulate);
                Finish(ref c, i + 3, j, columns, TV.Sum(s30), ref a3, ref b0, whole, len, accumulate);
                Finish(ref c, i + 3, j + 1, columns, TV.Sum(s31), ref a3, ref b1, whole, len, accumulate);
            }
            for (; j < columns; j++)
                for (int r = i; r < i + 4; r++) Single<T, TV>(ref a, ref b, ref c, r, j, columns, len, whole, accumulate);
        }
        for (; i < rows; i++)
            for (int j = 0; j < columns; j++) Single<T, TV>(ref a, ref b, ref c, i, j, columns, len, whole, accumulate);
    }

    private static void Single<T, TV>(ref T a, ref T b, ref T c, int i, int j, int columns, nuint len, nuint whole, bool accumulate)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> where TV : struct, ISimd<TV, T>
    {
        ref T ai = ref Unsafe.Add(ref a, (nuint)i * len);
        ref T bj = ref Unsafe.Add(ref b, (nuint)j * len);
        TV s = TV.Zero;
        for (nuint q = 0; q < whole; q += (nuint)TV.Count) s = TV.MultiplyAdd(TV.Load(ref ai, q), TV.Load(ref bj, q), s);
        Finish(ref c, i, j, columns, TV.Sum(s), ref ai, ref bj, whole, len, accumulate);
    }

    /// <summary>Adds the scalar tail [whole, len) to a dot product's vector sum and stores (or accumulates) it at c[i, j].</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Finish<T>(ref T c, int i, int j, int columns, T sum, ref T ai, ref T bj, nuint whole, nuint len, bool accumulate)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        for (nuint q = whole; q < len; q++) sum += Unsafe.Add(ref ai, q) * Unsafe.Add(ref bj, q);
        ref T target = ref Unsafe.Add(ref c, (nuint)i * (nuint)columns + (nuint)j);
        target = accumulate ? target + sum : sum;
    }

    /// <summary>destination [columns × rows] = source [rows × columns]ᵀ, in 8 × 8 blocks.</summary>
    private static void Transpose<T>(ref T source, ref T destination, int rows, int columns) where T : unmanaged
    {
        const int Block = 8;
        for (int r0 = 0; r0 < rows; r0 += Block)
        {
            int r1 = Math.Min(rows, r0 + Block);
            for (int c0 = 0; c0 < columns; c0 += Block)
            {
                int c1 = Math.Min(columns, c0 + Block);
                for (int r = r0; r < r1; r++)
                {
                    ref T row = ref Unsafe.Add(ref source, (nuint)r * (nuint)columns);
                    for (int c = c0; c < c1; c++) Unsafe.Add(ref destination, (nuint)c * (nuint)rows + (nuint)r) = Unsafe.Add(ref row, (nuint)c);
                }
            }
        }
    }

    /// <summary>∂L/∂x = convᵀ(dY, W) (overwritten). <paramref name="inputGradient"/> must not overlap <paramref name="outputGradient"/>.</summary>
    public static void BackwardInput<T>(ReadOnlySpan<T> outputGradient, ReadOnlySpan<T> weights, Span<T> inputGradient, Span<T> scratch, int batch, Conv2DGeometry g)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        Validate(inputGradient.Length, outputGradient.Length, weights.Length, 0, scratch.Length, batch, g);
        ref T dyr = ref MemoryMarshal.GetReference(outputGradient);
        ref T wr = ref MemoryMarshal.GetReference(weights);
        ref T dxr = ref MemoryMarshal.GetReference(inputGradient);
        ref T col = ref MemoryMarshal.GetReference(scratch);
        if (SplitSamples(batch, scratch.Length, g) is int split and > 0)
        {
            ConvolutionWork<T, IdentityOp<T>>.Run(ConvolutionWork<T, IdentityOp<T>>.Pass.InputGradient, ref dyr, ref wr, ref wr, 0, ref dxr, ref col, batch, split, g);
            return;
        }
        BackwardInputSamples(ref dyr, ref wr, ref dxr, ref col, batch, g);
    }

    /// <summary>∂L/∂x of <paramref name="batch"/> samples (the refs at the first one) with one scratch area.</summary>
    internal static void BackwardInputSamples<T>(ref T dyr, ref T wr, ref T dxr, ref T col, int batch, Conv2DGeometry g)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        if (g.IsDepthwise)
        {
            DepthwiseBackwardInput(ref dyr, ref wr, ref dxr, ref col, batch, g);
            return;
        }
        if (g.IsImplicit)
        {
            ImplicitBackwardInput(ref dyr, ref wr, ref dxr, ref col, batch, g);
            return;
        }
        int p = g.OutputPixels, k = g.PatchSize, og = g.GroupOutChannels;
        for (int b = 0; b < batch; b++)
        {
            ref T dxs = ref Unsafe.Add(ref dxr, (nuint)b * (nuint)g.InputSize);
            ref T dys = ref Unsafe.Add(ref dyr, (nuint)b * (nuint)g.OutputSize);
            if (!g.IsPointwise) MemoryMarshal.CreateSpan(ref dxs, g.InputSize).Clear();
            for (int grp = 0; grp < g.Groups; grp++)
            {
                ref T target = ref g.IsPointwise ? ref Unsafe.Add(ref dxs, (nuint)grp * (nuint)g.GroupChannels * (nuint)p) : ref col;
                // A[m = patch row, kk = output channel] = W[kk, m]: rows of A are adjacent weights, kk strides by K.
                Gemm<T, IdentityOp<T>>(ref Unsafe.Add(ref wr, (nuint)grp * (nuint)og * (nuint)k), 1, (nuint)k,
                    ref Unsafe.Add(ref dys, (nuint)grp * (nuint)og * (nuint)p), (nuint)p, (nuint)og, ref target, false, 0, ref target, (nuint)p, k, p);
                if (!g.IsPointwise) Col2Im(ref col, ref dxs, g, grp * g.GroupChannels);
            }
        }
    }

    /// <summary>
    /// One split convolution call: part 0 runs on the calling thread, part 1 on the worker. The forward pass and the input
    /// gradient split the samples (each part with its own half of the scratch); the implicit weight gradient splits the
    /// kernel taps (each part pads the input into its own half; both write disjoint taps of the first half's dWᵀ).
    /// </summary>
    private sealed unsafe class ConvolutionWork<T, TAct> : ParallelWork
        where T : unmanaged, IBinaryFloatingPointIeee754<T> where TAct : IActivationOp<T>
    {
        public enum Pass { Forward, InputGradient, WeightGradient }

        private static readonly ConvolutionWork<T, TAct> Instance = new();
        private T* _a, _w, _b, _out, _scratch;
        private int _biasLength, _batch, _split;
        private Pass _pass;
        private Conv2DGeometry? _g;

        /// <summary>Forward: a = x, w = weights, b = bias; input gradient: a = dy, w = weights; weight gradient: a = x,
        /// w = dy, output = dW; split = the first sample (or tap) of part 1.</summary>
        public static void Run(Pass pass, ref T a, ref T w, ref T b, int biasLength, ref T output, ref T scratch, int batch, int split, Conv2DGeometry g)
        {
            fixed (T* pa = &a, pw = &w, pb = &b, po = &output, ps = &scratch)
            {
                ConvolutionWork<T, TAct> work = Instance;
                work._a = pa; work._w = pw; work._b = pb; work._out = po; work._scratch = ps;
                (work._pass, work._biasLength, work._batch, work._split, work._g) = (pass, biasLength, batch, split, g);
                KernelParallelism.Run(work);
                work._a = null; work._w = null; work._b = null; work._out = null; work._scratch = null; work._g = null;
            }
        }

        internal override void Execute(int part)
        {
            Conv2DGeometry g = _g!;
            ref T scratch = ref Unsafe.Add(ref *_scratch, part == 0 ? 0 : (nuint)g.ScratchLength);
            if (_pass == Pass.WeightGradient)
            {
                int taps = g.KernelHeight * g.KernelWidth;
                ImplicitBackwardParameters(ref *_a, ref *_w, ref *_out, ref scratch, ref ImplicitWeightScratch(ref *_scratch, g), _batch, g,
                    part == 0 ? 0 : _split, part == 0 ? _split : taps);
                return;
            }
            int b0 = part == 0 ? 0 : _split, count = part == 0 ? _split : _batch - _split;
            if (_pass == Pass.Forward)
                ForwardSamples<T, TAct>(ref Unsafe.Add(ref *_a, (nuint)b0 * (nuint)g.InputSize), ref *_w, ref *_b, _biasLength,
                    ref Unsafe.Add(ref *_out, (nuint)b0 * (nuint)g.OutputSize), ref scratch, count, g);
            else
                BackwardInputSamples(ref Unsafe.Add(ref *_a, (nuint)b0 * (nuint)g.OutputSize), ref *_w,
                    ref Unsafe.Add(ref *_out, (nuint)b0 * (nuint)g.InputSize), ref scratch, count, g);
        }
    }

    // ---- validation --------------------------------------------------------------------------------------------------

    private static void Validate(int inputLength, int outputLength, int weightLength, int biasLength, int scratchLength, int batch, Conv2DGeometry g)
    {
        ArgumentNullException.ThrowIfNull(g);
        if (batch <= 0) ThrowHelper.ThrowArgumentOutOfRange(nameof(batch), batch, "The batch size must be positive.");
        if ((long)batch * g.InputSize > int.MaxValue || (long)batch * g.OutputSize > int.MaxValue)
            ThrowHelper.ThrowArgumentOutOfRange(nameof(batch), batch, "batch × sample size exceeds the largest span length.");
        ThrowHelper.ThrowIfLengthLessThan(inputLength, batch * g.InputSize, "x");
        ThrowHelper.ThrowIfLengthLessThan(outputLength, batch * g.OutputSize, "y");
        ThrowHelper.ThrowIfLengthNotEqual(weightLength, g.WeightLength, "weights");
        if (biasLength != 0) ThrowHelper.ThrowIfLengthNotEqual(biasLength, g.OutChannels, "bias");
        ThrowHelper.ThrowIfLengthLessThan(scratchLength, g.ScratchLength, "scratch");
    }

    // ---- patch matrices ----------------------------------------------------------------------------------------------

    /// <summary>X̃ [K × P] of channels [c0, c0 + C/groups) of one sample: X̃[(c, i, j), (oh, ow)] = x[c, oh·sh − pt + i·dh, ow·sw − pl + j·dw], 0 outside.</summary>
    private static void Im2Col<T>(ref T x, ref T col, Conv2DGeometry g, int c0) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        int H = g.Height, W = g.Width, OH = g.OutHeight, OW = g.OutWidth, sh = g.StrideHeight, sw = g.StrideWidth;
        nuint row = 0;
        for (int c = 0; c < g.GroupChannels; c++)
        {
            ref T plane = ref Unsafe.Add(ref x, (nuint)(c0 + c) * (nuint)g.InputPixels);
            for (int i = 0; i < g.KernelHeight; i++)
                for (int j = 0; j < g.KernelWidth; j++)
                {
                    (int iw0, int lo, int hi) = InsideColumns(g, j);
                    for (int oh = 0; oh < OH; oh++, row += (nuint)OW)
                    {
                        ref T dst = ref Unsafe.Add(ref col, row);
                        int ih = oh * sh - g.PadTop + i * g.DilationHeight;
                        if ((uint)ih >= (uint)H) { Zero(ref dst, 0, OW); continue; }
                        ref T src = ref Unsafe.Add(ref plane, (nuint)ih * (nuint)W);
                        Zero(ref dst, 0, lo);
                        if (sw == 1) Copy(ref Unsafe.Add(ref src, (nint)(lo + iw0)), ref Unsafe.Add(ref dst, (nuint)lo), hi - lo);
                        else for (int ow = lo; ow < hi; ow++) Unsafe.Add(ref dst, (nuint)ow) = Unsafe.Add(ref src, (nint)(ow * sw + iw0));
                        Zero(ref dst, hi, OW);
                    }
                }
        }
    }

    /// <summary>For kernel column <paramref name="j"/>: the input column of output column 0 (iw0 = j·dw − pl) and the output
    /// columns [lo, hi) whose input column ow·sw + iw0 lies inside [0, W) (lo ≤ hi, both within [0, OW]).</summary>
    private static (int Iw0, int Lo, int Hi) InsideColumns(Conv2DGeometry g, int j)
    {
        int iw0 = j * g.DilationWidth - g.PadLeft, ow = g.OutWidth, sw = g.StrideWidth;
        int lo = iw0 >= 0 ? 0 : Math.Min(ow, (-iw0 + sw - 1) / sw);
        int hi = g.Width - iw0 <= 0 ? 0 : Math.Min(ow, (g.Width - 1 - iw0) / sw + 1);
        return (iw0, lo, Math.Max(lo, hi));
    }

    /// <summary>dx[c, ih, iw] += dX̃[(c, i, j), (oh, ow)] over every patch entry that read that pixel (the adjoint of im2col).</summary>
    private static void Col2Im<T>(ref T col, ref T dx, Conv2DGeometry g, int c0) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        int H = g.Height, W = g.Width, OH = g.OutHeight, OW = g.OutWidth, sh = g.StrideHeight, sw = g.StrideWidth;
        nuint row = 0;
        for (int c = 0; c < g.GroupChannels; c++)
        {
            ref T plane = ref Unsafe.Add(ref dx, (nuint)(c0 + c) * (nuint)g.InputPixels);
            for (int i = 0; i < g.KernelHeight; i++)
                for (int j = 0; j < g.KernelWidth; j++)
                {
                    (int iw0, int lo, int hi) = InsideColumns(g, j);
                    for (int oh = 0; oh < OH; oh++, row += (nuint)OW)
                    {
                        int ih = oh * sh - g.PadTop + i * g.DilationHeight;
                        if ((uint)ih >= (uint)H || hi <= lo) continue;
                        ref T src = ref Unsafe.Add(ref col, row);
                        ref T dst = ref Unsafe.Add(ref plane, (nuint)ih * (nuint)W);
                        if (sw == 1) ScaleAdd(ref Unsafe.Add(ref src, (nuint)lo), ref Unsafe.Add(ref dst, (nint)(lo + iw0)), T.One, hi - lo); // 1·x + y rounds as x + y
                        else for (int ow = lo; ow < hi; ow++) Unsafe.Add(ref dst, (nint)(ow * sw + iw0)) += Unsafe.Add(ref src, (nuint)ow);
                    }
                }
        }
    }

    // ---- vector helpers ----------------------------------------------------------------------------------------------

    /// <summary>Copies <paramref name="n"/> elements; short rows (a 14- or 7-pixel feature map) in a plain loop, which beats
    /// the call overhead of a span copy.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Copy<T>(ref T source, ref T destination, int n) where T : unmanaged
    {
        if (n >= 32)
        {
            MemoryMarshal.CreateReadOnlySpan(ref source, n).CopyTo(MemoryMarshal.CreateSpan(ref destination, n));
            return;
        }
        for (int i = 0; i < n; i++) Unsafe.Add(ref destination, (nuint)i) = Unsafe.Add(ref source, (nuint)i);
    }

    /// <summary>Zeroes elements [<paramref name="from"/>, <paramref name="to"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Zero<T>(ref T row, int from, int to) where T : unmanaged
    {
        for (int i = from; i < to; i++) Unsafe.Add(ref row, (nuint)i) = default;
    }

    /// <summary>
    /// The GEMM of <see cref="Dense"/> at the widest register that fits a row of <paramref name="columns"/>. When it
    /// accumulates (<paramref name="hasInit"/> with a row stride: init is C itself) the last partial vector is computed
    /// with scalar registers instead of the overlapping final vector, which would add the overlapped columns twice.
    /// </summary>
    private static void Gemm<T, TAct>(ref T a, nuint aRow, nuint aK, ref T b, nuint ldb, nuint kCount, ref T init, bool hasInit, nuint ldi,
        ref T c, nuint ldc, int rows, int columns)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> where TAct : IActivationOp<T>
    {
        switch (Dense.Width<T>(columns))
        {
            case 512: Split<T, TAct, Simd512<T>>(ref a, aRow, aK, ref b, ldb, kCount, ref init, hasInit, ldi, ref c, ldc, rows, columns); break;
            case 256: Split<T, TAct, Simd256<T>>(ref a, aRow, aK, ref b, ldb, kCount, ref init, hasInit, ldi, ref c, ldc, rows, columns); break;
            default: Dense.Gemm<T, TAct, SimdScalar<T>>(ref a, aRow, aK, ref b, ldb, kCount, ref init, hasInit, ref c, ldc, rows, 0, columns, ldi); break;
        }
    }

    private static void Split<T, TAct, TV>(ref T a, nuint aRow, nuint aK, ref T b, nuint ldb, nuint kCount, ref T init, bool hasInit, nuint ldi,
        ref T c, nuint ldc, int rows, int columns)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> where TAct : IActivationOp<T> where TV : struct, ISimd<TV, T>
    {
        bool accumulates = hasInit && ldi != 0;
        int whole = accumulates ? columns / TV.Count * TV.Count : columns;
        Dense.Gemm<T, TAct, TV>(ref a, aRow, aK, ref b, ldb, kCount, ref init, hasInit, ref c, ldc, rows, 0, whole, ldi);
        if (whole < columns) Dense.Gemm<T, TAct, SimdScalar<T>>(ref a, aRow, aK, ref b, ldb, kCount, ref init, hasInit, ref c, ldc, rows, whole, columns, ldi);
    }

    private static void BiasActivation<T, TAct>(ref T y, ReadOnlySpan<T> bias, int channels, int pixels)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> where TAct : IActivationOp<T>
    {
        if (bias.IsEmpty && typeof(TAct) == typeof(IdentityOp<T>)) return;
        for (int o = 0; o < channels; o++)
        {
            T b = bias.IsEmpty ? T.Zero : bias[o];
            ref T row = ref Unsafe.Add(ref y, (nuint)o * (nuint)pixels);
            if (Vector512.IsHardwareAccelerated) BiasActivationRow<T, TAct, Simd512<T>>(ref row, b, pixels);
            else if (Vector256.IsHardwareAccelerated) BiasActivationRow<T, TAct, Simd256<T>>(ref row, b, pixels);
            else BiasActivationRow<T, TAct, SimdScalar<T>>(ref row, b, pixels);
        }
    }

    private static void BiasActivationRow<T, TAct, TV>(ref T row, T bias, int n)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> where TAct : IActivationOp<T> where TV : struct, ISimd<TV, T>
    {
        TV b = TV.Create(bias);
        nuint v = (nuint)TV.Count, i = 0, end = (nuint)n;
        for (; i + v <= end; i += v) TV.Store(TAct.Forward(TV.Load(ref row, i) + b), ref row, i);
        for (; i < end; i++) Unsafe.Add(ref row, i) = TAct.Forward(SimdScalar<T>.Create(Unsafe.Add(ref row, i) + bias)).V;
    }

    private static T Sum<T>(ref T data, int n) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        if (Vector512.IsHardwareAccelerated) return Sum<T, Simd512<T>>(ref data, n);
        if (Vector256.IsHardwareAccelerated) return Sum<T, Simd256<T>>(ref data, n);
        return Sum<T, SimdScalar<T>>(ref data, n);
    }

    private static T Sum<T, TV>(ref T data, int n) where T : unmanaged, IBinaryFloatingPointIeee754<T> where TV : struct, ISimd<TV, T>
    {
        nuint v = (nuint)TV.Count, i = 0, end = (nuint)n;
        TV s = TV.Zero;
        for (; i + v <= end; i += v) s += TV.Load(ref data, i);
        T total = TV.Sum(s);
        for (; i < end; i++) total += Unsafe.Add(ref data, i);
        return total;
    }
}
