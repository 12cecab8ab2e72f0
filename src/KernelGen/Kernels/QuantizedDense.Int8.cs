using System;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using KernelGen.Operators;

namespace KernelGen.Kernels;

/// <summary>
/// Dense forward passes on reduced-precision weights, for the inference form's
/// <see cref="Runtime.InferencePrecision"/> options: bfloat16 weights with float accumulation, and 8-bit integer weights
/// (one scale per output column) with 8-bit activations (one scale and offset per row, chosen per call) and exact
/// 32-bit integer dot products (AVX-VNNI). Batch-1 inference streams the weights from cache, so fewer bytes per weight
/// is less time. Each kernel validates its spans once; the packing functions write the layouts the kernels read.
/// </summary>
/// <remarks>
/// With <see cref="KernelParallelism.DegreeOfParallelism"/> = 2, a call below <see cref="KernelParallelism.MinimumBatch"/>
/// rows whose packed weights take at least <see cref="KernelParallelism.MinimumSplitWeightBytes"/> is split by output
/// columns, as <see cref="Dense.Forward{T, TAct}"/> is; the results are bit-identical to one thread.
/// </remarks>
public static partial class QuantizedDense
{
    // Int8 layout. Columns padded to a multiple of 8 (Int8Columns, P), rows to a multiple of 4 (the padding is zero);
    // weights quantized per column j: s_j = max_k |w[k, j]| / 127, q[k, j] = round(w[k, j] / s_j) in [−127, 127];
    // stored as [k / 4][P][4] bytes, so 32 bytes hold 4 consecutive rows of 8 consecutive columns: the operand of one
    // vpdpbusd (u8 × s8 → s32, four products per lane). C_j = Σ_k q[k, j] is kept as a float (exact: |C_j| < 2²⁴).
    //
    // Activations: per row r, m = min x, s = (max x − m)/255 (1 when the row is constant), a[k] = round_even((x[k] − m)·(1/s))
    // in [0, 255], so x[k] ≈ m + s·a[k]. Then Σ_k x[k]·w[k, j] ≈ s_j·(s·Σ_k a[k]·q[k, j] + m·C_j), and
    //   y[r, j] = f(s_j·fma(m, C_j, s·float(acc_j)) + b[j]),   acc_j = Σ_k a[k]·q[k, j] (exact int32).
    // The integer sum is exact in any order and every float step is the same operation at every width (fused in the
    // scalar path too), so the vector and scalar paths give the same bits (activations built from exact operations, like
    // ReLU, at least; the others are the operator's at the width that ran).

    /// <summary>The largest input width the int8 kernels take: 255 · 127 · nIn must fit in an int32.</summary>
    public const int MaximumInt8Inputs = 65_536;

    /// <summary>The packed width: <paramref name="nOut"/> rounded up to a multiple of 8.</summary>
    public static int Int8Columns(int nOut) => (nOut + 7) / 8 * 8;

    /// <summary>The input width rounded up to a multiple of 4 (the rows of one 32-bit lane).</summary>
    public static int Int8Inputs(int nIn) => (nIn + 3) / 4 * 4;

    /// <summary>The bytes of a packed [nIn × nOut] weight matrix.</summary>
    public static int Int8Bytes(int nIn, int nOut)
    {
        ValidateInt8Shape(nIn, nOut);
        return checked(Int8Inputs(nIn) * Int8Columns(nOut));
    }

    /// <summary>The scratch bytes <see cref="ForwardInt8{TAct}"/> needs for <paramref name="batch"/> rows: the quantized
    /// activations, then a scale and an offset (two floats) per row.</summary>
    public static int Int8ScratchBytes(int batch, int nIn) => checked(batch * (Int8Inputs(nIn) + 2 * sizeof(float)));

    /// <summary>
    /// Quantizes the row-major float weights <paramref name="w"/> [nIn × nOut] to 8 bits with one scale per column,
    /// writing the packed weights, <paramref name="scales"/> (s_j, [Int8Columns]) and <paramref name="columnSums"/>
    /// (Σ_k q[k, j], [Int8Columns]). A column of zeros gets scale 0.
    /// </summary>
    /// <exception cref="ArgumentException">A span has the wrong length, or a weight is NaN or infinite.</exception>
    public static void PackInt8(ReadOnlySpan<float> w, Span<sbyte> packed, Span<float> scales, Span<float> columnSums, int nIn, int nOut)
    {
        ValidateInt8Shape(nIn, nOut);
        ThrowHelper.ThrowIfLengthNotEqual(w.Length, nIn * nOut, nameof(w));
        ThrowHelper.ThrowIfLengthNotEqual(packed.Length, Int8Bytes(nIn, nOut), nameof(packed));
        int p = Int8Columns(nOut);
        ThrowHelper.ThrowIfLengthNotEqual(scales.Length, p, nameof(scales));
        ThrowHelper.ThrowIfLengthNotEqual(columnSums.Length, p, nameof(columnSums));
        Elementwise.ThrowIfNotFinite(w, nameof(w));
        packed.Clear();
        scales.Clear();
        columnSums.Clear();
        for (int j = 0; j < nOut; j++)
        {
            float largest = 0;
            for (int k = 0; k < nIn; k++) largest = MathF.Max(largest, MathF.Abs(w[k * nOut + j]));
            float scale = largest / 127;
            if (scale == 0 || !float.IsNormal(scale)) continue; // a column of zeros (or of denormals): all q = 0
            scales[j] = scale;
            int sum = 0;
            for (int k = 0; k < nIn; k++)
            {
                int q = (int)Math.Clamp(MathF.Round(w[k * nOut + j] / scale), -127, 127);
                packed[(k / 4 * p + j) * 4 + k % 4] = (sbyte)q;
                sum += q;
            }
            columnSums[j] = sum;
        }
    }

    /// <summary>The weight of row <paramref name="k"/>, column <paramref name="j"/> the int8 kernels use: s_j·q[k, j].</summary>
    public static float Int8Weight(ReadOnlySpan<sbyte> packed, ReadOnlySpan<float> scales, int nIn, int nOut, int k, int j)
    {
        ThrowHelper.ThrowIfLengthNotEqual(packed.Length, Int8Bytes(nIn, nOut), nameof(packed));
        ThrowHelper.ThrowIfLengthNotEqual(scales.Length, Int8Columns(nOut), nameof(scales));
        if ((uint)k >= (uint)nIn) ThrowHelper.ThrowArgumentOutOfRange(nameof(k), k, "Not a row of the weights.");
        if ((uint)j >= (uint)nOut) ThrowHelper.ThrowArgumentOutOfRange(nameof(j), j, "Not a column of the weights.");
        return scales[j] * packed[(k / 4 * Int8Columns(nOut) + j) * 4 + k % 4];
    }

    /// <summary>
    /// Computes y = f(x·W + b) for <paramref name="batch"/> rows from the int8 weights (<see cref="PackInt8"/>),
    /// quantizing each row of <paramref name="x"/> to 8 bits into <paramref name="scratch"/>
    /// (<see cref="Int8ScratchBytes"/>).
    /// </summary>
    public static void ForwardInt8<TAct>(ReadOnlySpan<float> x, ReadOnlySpan<sbyte> packed, ReadOnlySpan<float> scales, ReadOnlySpan<float> columnSums,
        ReadOnlySpan<float> b, Span<float> y, Span<byte> scratch, int batch, int nIn, int nOut)
        where TAct : IActivationOp<float> =>
        ForwardInt8<float, TAct>(x, packed, scales, columnSums, b, y, scratch, batch, nIn, nOut);

    /// <summary>The int8 forward pass for a float <typeparamref name="T"/> (the generic form the network state calls).</summary>
    internal static void ForwardInt8<T, TAct>(ReadOnlySpan<T> x, ReadOnlySpan<sbyte> packed, ReadOnlySpan<T> scales, ReadOnlySpan<T> columnSums,
        ReadOnlySpan<T> b, Span<T> y, Span<byte> scratch, int batch, int nIn, int nOut)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> where TAct : IActivationOp<T>
    {
        if (typeof(T) != typeof(float)) throw new NotSupportedException("The int8 kernels compute in float.");
        if (batch <= 0) ThrowHelper.ThrowArgumentOutOfRange(nameof(batch), batch, "The batch size must be positive.");
        int p = Int8Columns(nOut);
        ThrowHelper.ThrowIfLengthNotEqual(packed.Length, Int8Bytes(nIn, nOut), nameof(packed));
        if ((long)batch * Int8Inputs(nIn) > int.MaxValue / 2 || (long)batch * nOut > int.MaxValue)
            ThrowHelper.ThrowArgumentOutOfRange(nameof(batch), batch, "The tensor sizes must fit in a span.");
        ThrowHelper.ThrowIfLengthLessThan(x.Length, batch * nIn, nameof(x));
        ThrowHelper.ThrowIfLengthNotEqual(scales.Length, p, nameof(scales));
        ThrowHelper.ThrowIfLengthNotEqual(columnSums.Length, p, nameof(columnSums));
        ThrowHelper.ThrowIfLengthNotEqual(b.Length, nOut, nameof(b));
        ThrowHelper.ThrowIfLengthLessThan(y.Length, batch * nOut, nameof(y));
        ThrowHelper.ThrowIfLengthLessThan(scratch.Length, Int8ScratchBytes(batch, nIn), nameof(scratch));
        int kPad = Int8Inputs(nIn);
        Span<byte> activations = scratch.Slice(0, batch * kPad);
        Span<T> rowScales = MemoryMarshal.Cast<byte, T>(scratch.Slice(batch * kPad, batch * 2 * sizeof(float)));
        for (int r = 0; r < batch; r++)
            QuantizeRow(x.Slice(r * nIn, nIn), activations.Slice(r * kPad, kPad), ref rowScales[2 * r]);
        ref byte ar = ref MemoryMarshal.GetReference(activations);
        ref sbyte wr = ref MemoryMarshal.GetReference(packed);
        ref T sr = ref MemoryMarshal.GetReference(scales);
        ref T cr = ref MemoryMarshal.GetReference(columnSums);
        ref T br = ref MemoryMarshal.GetReference(b);
        ref T yr = ref MemoryMarshal.GetReference(y);
        ref T qr = ref MemoryMarshal.GetReference(rowScales);
        int split = p / 2 / 8 * 8;
        if (batch < KernelParallelism.MinimumBatch && split > 0 && KernelParallelism.ShouldSplitColumns((long)kPad * p) && KernelParallelism.TryEnter())
        {
            Int8Work<T, TAct>.Run(ref ar, ref wr, ref sr, ref cr, ref br, ref yr, ref qr, batch, nIn, nOut, split);
            return;
        }
        ForwardInt8Columns<T, TAct>(ref ar, ref wr, ref sr, ref cr, ref br, ref yr, ref qr, batch, nIn, nOut, 0, p);
    }

    /// <summary>
    /// Quantizes one row: (s, m) into <paramref name="scale"/> and the next element, a[k] = round_even((x[k] − m)·(1/s))
    /// into <paramref name="activations"/> (the padding zero). Every width computes the same values (min and max are
    /// exact, and each a[k] is the same three roundings).
    /// </summary>
    private static void QuantizeRow<T>(ReadOnlySpan<T> x, Span<byte> activations, ref T scale) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        ref float xr = ref Unsafe.As<T, float>(ref MemoryMarshal.GetReference(x));
        ref byte ar = ref MemoryMarshal.GetReference(activations);
        nuint n = (nuint)x.Length, i = 0;
        (float min, float max) = MinMax(ref xr, n);
        float s = (max - min) / 255f;
        if (!float.IsNormal(s)) s = 1f; // a constant row (or one too narrow to scale): every a[k] = 0, x = m exactly
        float inverse = 1f / s;
        if (Vector512.IsHardwareAccelerated && Avx512F.IsSupported)
        {
            Vector512<float> vm = Vector512.Create(min), vi = Vector512.Create(inverse), top = Vector512.Create(255f);
            for (; i + 16 <= n; i += 16)
            {
                Vector512<float> t = Vector512.Min(Vector512.Max(Vector512.Round((Vector512.LoadUnsafe(ref xr, i) - vm) * vi), Vector512<float>.Zero), top);
                Avx512F.ConvertToVector128Byte(Vector512.ConvertToInt32(t)).StoreUnsafe(ref ar, i); // vpmovdb: 16 ints in [0, 255] to bytes
            }
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            Vector256<float> vm = Vector256.Create(min), vi = Vector256.Create(inverse), top = Vector256.Create(255f);
            for (; i + 8 <= n; i += 8)
            {
                Vector256<float> t = Vector256.Min(Vector256.Max(Vector256.Round((Vector256.LoadUnsafe(ref xr, i) - vm) * vi), Vector256<float>.Zero), top);
                Vector256<int> q = Vector256.ConvertToInt32(t);
                Vector128<ushort> words = Vector128.Narrow(q.GetLower().AsUInt32(), q.GetUpper().AsUInt32());
                Unsafe.WriteUnaligned(ref Unsafe.Add(ref ar, i), Vector64.Narrow(words.GetLower(), words.GetUpper()));
            }
        }
        for (; i < n; i++)
            Unsafe.Add(ref ar, i) = (byte)MathF.Min(MathF.Max(MathF.Round((Unsafe.Add(ref xr, i) - min) * inverse), 0f), 255f);
        activations.Slice(x.Length).Clear();
        scale = T.CreateTruncating(s);
        Unsafe.Add(ref scale, 1) = T.CreateTruncating(min);
    }

    /// <summary>The smallest and largest of <paramref name="n"/> floats (exact whatever the width).</summary>
    private static (float Min, float Max) MinMax(ref float x, nuint n)
    {
        float min = float.PositiveInfinity, max = float.NegativeInfinity;
        nuint i = 0;
        if (Vector512.IsHardwareAccelerated && n >= 16)
        {
            Vector512<float> lo = Vector512.LoadUnsafe(ref x), hi = lo;
            for (i = 16; i + 16 <= n; i += 16)
            {
                Vector512<float> v = Vector512.LoadUnsafe(ref x, i);
                lo = Vector512.Min(lo, v);
                hi = Vector512.Max(hi, v);
            }
            (min, max) = (MinAcross(Vector256.Min(lo.GetLower(), lo.GetUpper())), MaxAcross(Vector256.Max(hi.GetLower(), hi.GetUpper())));
        }
        else if (Vector256.IsHardwareAccelerated && n >= 8)
        {
            Vector256<float> lo = Vector256.LoadUnsafe(ref x), hi = lo;
            for (i = 8; i + 8 <= n; i += 8)
            {
                Vector256<float> v = Vector256.LoadUnsafe(ref x, i);
                lo = Vector256.Min(lo, v);
                hi = Vector256.Max(hi, v);
            }
            (min, max) = (MinAcross(lo), MaxAcross(hi));
        }
        for (; i < n; i++)
        {
            float v = Unsafe.Add(ref x, i);
            min = MathF.Min(min, v);
            max = MathF.Max(max, v);
        }
        return (min, max);

        static float MinAcross(Vector256<float> v)
        {
            Vector128<float> h = Vector128.Min(v.GetLower(), v.GetUpper());
            return MathF.Min(MathF.Min(h.GetElement(0), h.GetElement(1)), MathF.Min(h.GetElement(2), h.GetElement(3)));
        }

        static float MaxAcross(Vector256<float> v)
        {
            Vector128<float> h = Vector128.Max(v.GetLower(), v.GetUpper());
            return MathF.Max(MathF.Max(h.GetElement(0), h.GetElement(1)), MathF.Max(h.GetElement(2), h.GetElement(3)));
        }
    }

    /// <summary>Columns [<paramref name="j0"/>, <paramref name="j1"/>) (multiples of 8) of every row, on the widest path
    /// the hardware has (AVX-VNNI, else the scalar integer loop).</summary>
    internal static void ForwardInt8Columns<T, TAct>(ref byte a, ref sbyte w, ref T scales, ref T sums, ref T b, ref T y, ref T rowScales,
        int batch, int nIn, int nOut, int j0, int j1)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> where TAct : IActivationOp<T>
    {
        if (AvxVnni.IsSupported) ForwardInt8Vnni<T, TAct>(ref a, ref w, ref scales, ref sums, ref b, ref y, ref rowScales, batch, nIn, nOut, j0, j1);
        else ForwardInt8Scalar<T, TAct>(ref a, ref w, ref scales, ref sums, ref b, ref y, ref rowScales, batch, nIn, nOut, j0, j1);
    }

    /// <summary>The scalar path: the same integer sums and float steps, one column at a time.</summary>
    internal static void ForwardInt8Scalar<T, TAct>(ref byte a, ref sbyte w, ref T scales, ref T sums, ref T b, ref T y, ref T rowScales,
        int batch, int nIn, int nOut, int j0, int j1)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> where TAct : IActivationOp<T>
    {
        int p = Int8Columns(nOut), kPad = Int8Inputs(nIn);
        for (int r = 0; r < batch; r++)
        {
            ref byte ar = ref Unsafe.Add(ref a, r * kPad);
            for (int j = j0; j < Math.Min(j1, nOut); j++)
            {
                int acc = 0;
                for (int k = 0; k < kPad; k++) acc += Unsafe.Add(ref ar, k) * Unsafe.Add(ref w, (k / 4 * p + j) * 4 + k % 4);
                SimdScalar<T> z = Int8Output<T, SimdScalar<T>>(Unsafe.BitCast<float, SimdScalar<T>>((float)acc),
                    SimdScalar<T>.Load(ref scales, (nuint)j), SimdScalar<T>.Load(ref sums, (nuint)j),
                    SimdScalar<T>.Create(Unsafe.Add(ref rowScales, 2 * r)), SimdScalar<T>.Create(Unsafe.Add(ref rowScales, 2 * r + 1)));
                SimdScalar<T>.Store(TAct.Forward(z + SimdScalar<T>.Load(ref b, (nuint)j)), ref y, (nuint)(r * nOut + j));
            }
        }
    }

    /// <summary>x·W of one row and column from the integer sum (as a float): s_j·fma(m, C_j, s·acc); the bias is added
    /// to it after, then f.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TV Int8Output<T, TV>(TV acc, TV columnScale, TV columnSum, TV rowScale, TV rowMin)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> where TV : struct, ISimd<TV, T> =>
        columnScale * Fma<T, TV>(rowMin, columnSum, rowScale * acc);

    /// <summary>The AVX-VNNI path (vpdpbusd on 256-bit registers): one row × 8 vectors (64 columns) at a time, or 4 rows
    /// × 2 vectors.</summary>
    internal static void ForwardInt8Vnni<T, TAct>(ref byte a, ref sbyte w, ref T scales, ref T sums, ref T b, ref T y, ref T rowScales,
        int batch, int nIn, int nOut, int j0, int j1)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> where TAct : IActivationOp<T>
    {
        int p = Int8Columns(nOut), kPad = Int8Inputs(nIn), r = 0;
        // Whole vectors of columns below nOut through the tiles (epilogues without calls, so no accumulator spills);
        // the last, partial vector of a width that is not a multiple of 8 through the tail.
        int full = nOut / 8 * 8, f1 = Math.Min(j1, full), t0 = Math.Max(j0, full);
        for (; r + 4 <= batch; r += 4)
            for (int j = j0; j < f1; j += 16)
                Int8Tile4<T, TAct>(ref a, r, ref w, ref scales, ref sums, ref b, ref y, ref rowScales, kPad, p, nOut, j, Math.Min(16, f1 - j));
        for (; r < batch; r++)
        {
            int j = j0;
            for (; j + 64 <= f1; j += 64)
                Int8Row8<T, TAct>(ref Unsafe.Add(ref a, r * kPad), ref w, ref scales, ref sums, ref b, ref Unsafe.Add(ref y, r * nOut), ref Unsafe.Add(ref rowScales, 2 * r), kPad, p, j);
            for (; j < f1; j += 8)
                Int8Row1<T, TAct>(ref Unsafe.Add(ref a, r * kPad), ref w, ref scales, ref sums, ref b, ref Unsafe.Add(ref y, r * nOut), ref Unsafe.Add(ref rowScales, 2 * r), kPad, p, j);
        }
        if (j1 > t0)
            for (r = 0; r < batch; r++)
            {
                Vector256<int> acc = Int8Dot(ref Unsafe.Add(ref a, r * kPad), ref Unsafe.Add(ref w, t0 * 4), kPad, p);
                ref T rowScale = ref Unsafe.Add(ref rowScales, 2 * r);
                var z = Int8Output<T, Simd256<T>>(Unsafe.BitCast<Vector256<float>, Simd256<T>>(Vector256.ConvertToSingle(acc)),
                    Simd256<T>.Load(ref scales, (nuint)t0), Simd256<T>.Load(ref sums, (nuint)t0), Simd256<T>.Create(rowScale), Simd256<T>.Create(Unsafe.Add(ref rowScale, 1)));
                StorePart<T, TAct, Simd256<T>>(z, ref b, ref Unsafe.Add(ref y, r * nOut), (nuint)t0, nOut);
            }
    }

    /// <summary>The integer sums of one row for the 8 columns at <paramref name="w"/>.</summary>
    private static Vector256<int> Int8Dot(ref byte a, ref sbyte w, int kPad, int p)
    {
        Vector256<int> acc = default;
        for (int k = 0; k < kPad; k += 4)
        {
            acc = AvxVnni.MultiplyWideningAndAdd(acc, Vector256.Create(Unsafe.ReadUnaligned<int>(ref Unsafe.Add(ref a, k))).AsByte(), Vector256.LoadUnsafe(ref w, 0));
            w = ref Unsafe.Add(ref w, p * 4);
        }
        return acc;
    }

    /// <summary>Stores f of eight columns' outputs from <paramref name="acc"/> (all below nOut).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreInt8<T, TAct>(Vector256<int> acc, ref T scales, ref T sums, ref T b, ref T y, ref T rowScale, int j)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> where TAct : IActivationOp<T>
    {
        var z = Int8Output<T, Simd256<T>>(Unsafe.BitCast<Vector256<float>, Simd256<T>>(Vector256.ConvertToSingle(acc)),
            Simd256<T>.Load(ref scales, (nuint)j), Simd256<T>.Load(ref sums, (nuint)j),
            Simd256<T>.Create(rowScale), Simd256<T>.Create(Unsafe.Add(ref rowScale, 1)));
        Store<T, TAct, Simd256<T>>(z, ref b, ref y, (nuint)j); // f(z + b)
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Int8Row8<T, TAct>(ref byte a, ref sbyte w, ref T scales, ref T sums, ref T b, ref T y, ref T rowScale, int kPad, int p, int j)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> where TAct : IActivationOp<T>
    {
        Vector256<int> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default, a6 = default, a7 = default;
        ref sbyte wr = ref Unsafe.Add(ref w, j * 4);
        nuint stride = (nuint)(p * 4);
        for (int k = 0; k < kPad; k += 4)
        {
            Vector256<byte> s = Vector256.Create(Unsafe.ReadUnaligned<int>(ref Unsafe.Add(ref a, k))).AsByte();
            a0 = AvxVnni.MultiplyWideningAndAdd(a0, s, Vector256.LoadUnsafe(ref wr, 0));
            a1 = AvxVnni.MultiplyWideningAndAdd(a1, s, Vector256.LoadUnsafe(ref wr, 32));
            a2 = AvxVnni.MultiplyWideningAndAdd(a2, s, Vector256.LoadUnsafe(ref wr, 64));
            a3 = AvxVnni.MultiplyWideningAndAdd(a3, s, Vector256.LoadUnsafe(ref wr, 96));
            a4 = AvxVnni.MultiplyWideningAndAdd(a4, s, Vector256.LoadUnsafe(ref wr, 128));
            a5 = AvxVnni.MultiplyWideningAndAdd(a5, s, Vector256.LoadUnsafe(ref wr, 160));
            a6 = AvxVnni.MultiplyWideningAndAdd(a6, s, Vector256.LoadUnsafe(ref wr, 192));
            a7 = AvxVnni.MultiplyWideningAndAdd(a7, s, Vector256.LoadUnsafe(ref wr, 224));
            wr = ref Unsafe.Add(ref wr, stride);
        }
        StoreInt8<T, TAct>(a0, ref scales, ref sums, ref b, ref y, ref rowScale, j);
        StoreInt8<T, TAct>(a1, ref scales, ref sums, ref b, ref y, ref rowScale, j + 8);
        StoreInt8<T, TAct>(a2, ref scales, ref sums, ref b, ref y, ref rowScale, j + 16);
        StoreInt8<T, TAct>(a3, ref scales, ref sums, ref b, ref y, ref rowScale, j + 24);
        StoreInt8<T, TAct>(a4, ref scales, ref sums, ref b, ref y, ref rowScale, j + 32);
        StoreInt8<T, TAct>(a5, ref scales, ref sums, ref b, ref y, ref rowScale, j + 40);
        StoreInt8<T, TAct>(a6, ref scales, ref sums, ref b, ref y, ref rowScale, j + 48);
        StoreInt8<T, TAct>(a7, ref scales, ref sums, ref b, ref y, ref rowScale, j + 56);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Int8Row1<T, TAct>(ref byte a, ref sbyte w, ref T scales, ref T sums, ref T b, ref T y, ref T rowScale, int kPad, int p, int j)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> where TAct : IActivationOp<T>
    {
        Vector256<int> a0 = default;
        ref sbyte wr = ref Unsafe.Add(ref w, j * 4);
        nuint stride = (nuint)(p * 4);
        for (int k = 0; k < kPad; k += 4)
        {
            a0 = AvxVnni.MultiplyWideningAndAdd(a0, Vector256.Create(Unsafe.ReadUnaligned<int>(ref Unsafe.Add(ref a, k))).AsByte(), Vector256.LoadUnsafe(ref wr, 0));
            wr = ref Unsafe.Add(ref wr, stride);
        }
        StoreInt8<T, TAct>(a0, ref scales, ref sums, ref b, ref y, ref rowScale, j);
    }

    /// <summary>4 rows from <paramref name="r"/> × <paramref name="columns"/> (8 or 16, all below nOut) columns from <paramref name="j"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Int8Tile4<T, TAct>(ref byte a, int r, ref sbyte w, ref T scales, ref T sums, ref T b, ref T y, ref T rowScales,
        int kPad, int p, int nOut, int j, int columns)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> where TAct : IActivationOp<T>
    {
        Vector256<int> a00 = default, a01 = default, a10 = default, a11 = default, a20 = default, a21 = default, a30 = default, a31 = default;
        ref byte x0 = ref Unsafe.Add(ref a, r * kPad);
        ref byte x1 = ref Unsafe.Add(ref x0, kPad);
        ref byte x2 = ref Unsafe.Add(ref x1, kPad);
        ref byte x3 = ref Unsafe.Add(ref x2, kPad);
        ref sbyte wr = ref Unsafe.Add(ref w, j * 4);
        nuint stride = (nuint)(p * 4), second = columns > 8 ? 32u : 0u; // a single vector computes its columns twice
        for (int k = 0; k < kPad; k += 4)
        {
            Vector256<sbyte> w0 = Vector256.LoadUnsafe(ref wr, 0), w1 = Vector256.LoadUnsafe(ref wr, second);
            Vector256<byte> s = Vector256.Create(Unsafe.ReadUnaligned<int>(ref Unsafe.Add(ref x0, k))).AsByte();
            a00 = AvxVnni.MultiplyWideningAndAdd(a00, s, w0); a01 = AvxVnni.MultiplyWideningAndAdd(a01, s, w1);
            s = Vector256.Create(Unsafe.ReadUnaligned<int>(ref Unsafe.Add(ref x1, k))).AsByte();
            a10 = AvxVnni.MultiplyWideningAndAdd(a10, s, w0); a11 = AvxVnni.MultiplyWideningAndAdd(a11, s, w1);
            s = Vector256.Create(Unsafe.ReadUnaligned<int>(ref Unsafe.Add(ref x2, k))).AsByte();
            a20 = AvxVnni.MultiplyWideningAndAdd(a20, s, w0); a21 = AvxVnni.MultiplyWideningAndAdd(a21, s, w1);
            s = Vector256.Create(Unsafe.ReadUnaligned<int>(ref Unsafe.Add(ref x3, k))).AsByte();
            a30 = AvxVnni.MultiplyWideningAndAdd(a30, s, w0); a31 = AvxVnni.MultiplyWideningAndAdd(a31, s, w1);
            wr = ref Unsafe.Add(ref wr, stride);
        }
        ref T row = ref Unsafe.Add(ref y, r * nOut);
        ref T rowScale = ref Unsafe.Add(ref rowScales, 2 * r);
        StoreInt8<T, TAct>(a00, ref scales, ref sums, ref b, ref row, ref rowScale, j);
        if (columns > 8) StoreInt8<T, TAct>(a01, ref scales, ref sums, ref b, ref row, ref rowScale, j + 8);
        row = ref Unsafe.Add(ref row, nOut); rowScale = ref Unsafe.Add(ref rowScale, 2);
        StoreInt8<T, TAct>(a10, ref scales, ref sums, ref b, ref row, ref rowScale, j);
        if (columns > 8) StoreInt8<T, TAct>(a11, ref scales, ref sums, ref b, ref row, ref rowScale, j + 8);
        row = ref Unsafe.Add(ref row, nOut); rowScale = ref Unsafe.Add(ref rowScale, 2);
        StoreInt8<T, TAct>(a20, ref scales, ref sums, ref b, ref row, ref rowScale, j);
        if (columns > 8) StoreInt8<T, TAct>(a21, ref scales, ref sums, ref b, ref row, ref rowScale, j + 8);
        row = ref Unsafe.Add(ref row, nOut); rowScale = ref Unsafe.Add(ref rowScale, 2);
        StoreInt8<T, TAct>(a30, ref scales, ref sums, ref b, ref row, ref rowScale, j);
        if (columns > 8) StoreInt8<T, TAct>(a31, ref scales, ref sums, ref b, ref row, ref rowScale, j + 8);
    }

    // ---- two threads ----------------------------------------------------------------------------------------------

    /// <summary>Columns [0, split) of every row here, [split, P) on the worker (the activations are quantized before).</summary>
    private sealed unsafe class Int8Work<T, TAct> : ParallelWork
        where T : unmanaged, IBinaryFloatingPointIeee754<T> where TAct : IActivationOp<T>
    {
        private static readonly Int8Work<T, TAct> Instance = new();
        private byte* _a;
        private sbyte* _w;
        private T* _scales, _sums, _b, _y, _rowScales;
        private int _batch, _nIn, _nOut, _split;

        public static void Run(ref byte a, ref sbyte w, ref T scales, ref T sums, ref T b, ref T y, ref T rowScales, int batch, int nIn, int nOut, int split)
        {
            fixed (byte* pa = &a)
            fixed (sbyte* pw = &w)
            fixed (T* ps = &scales, pc = &sums, pb = &b, py = &y, pq = &rowScales)
            {
                Int8Work<T, TAct> work = Instance;
                work._a = pa; work._w = pw; work._scales = ps; work._sums = pc; work._b = pb; work._y = py; work._rowScales = pq;
                (work._batch, work._nIn, work._nOut, work._split) = (batch, nIn, nOut, split);
                KernelParallelism.Run(work);
                work._a = null; work._w = null; work._scales = null; work._sums = null; work._b = null; work._y = null; work._rowScales = null;
            }
        }

        internal override void Execute(int part) =>
            ForwardInt8Columns<T, TAct>(ref *_a, ref *_w, ref *_scales, ref *_sums, ref *_b, ref *_y, ref *_rowScales, _batch, _nIn, _nOut,
                part == 0 ? 0 : _split, part == 0 ? _split : Int8Columns(_nOut));
    }

    private static void ValidateInt8Shape(int nIn, int nOut)
    {
        if (nIn <= 0 || nIn > MaximumInt8Inputs)
            ThrowHelper.ThrowArgumentOutOfRange(nameof(nIn), nIn, $"The int8 kernels take 1 to {MaximumInt8Inputs} inputs.");
        if (nOut <= 0) ThrowHelper.ThrowArgumentOutOfRange(nameof(nOut), nOut, "The output width must be positive.");
        if ((long)Int8Inputs(nIn) * Int8Columns(nOut) > int.MaxValue)
            ThrowHelper.ThrowArgumentOutOfRange(nameof(nOut), nOut, "The tensor sizes must fit in a span.");
    }
}
