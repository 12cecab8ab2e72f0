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
/// without per-element checks, at the widest hardware-accelerated vector width (512, 256 bits, or scalar) that is no
/// wider than the output row.
/// </summary>
/// <remarks>
/// <para>
/// Summation order is fixed for a given width, so results are bit-identical from run to run on one machine;
/// different widths may differ by float reordering. Within one width:
/// </para>
/// <list type="bullet">
/// <item><see cref="Forward{T, TAct}"/>: y[r, j] = f(b[j] + x[r,0]·W[0,j] + x[r,1]·W[1,j] + …), one fused
/// multiply-add chain per element, k ascending. A row's result depends only on that row of x: not on the batch size,
/// its position in the batch, or the number of threads (batch-1 calls take a matrix-vector path that keeps the same
/// order).</item>
/// <item><see cref="BackwardParameters{T}"/>: dW[i, j] = 0 + x[0,i]·dZ[0,j] + x[1,i]·dZ[1,j] + …, rows ascending;
/// db[j] = dZ[0,j] + dZ[1,j] + …, rows ascending.</item>
/// <item><see cref="BackwardInput{T}"/>: dX[r, i] is accumulated lane-wise over the vectors of j (ascending; the
/// last partial vector masked), then the lanes are reduced in a fixed tree. As for the forward pass, a row's result
/// depends only on that row of dZ.</item>
/// </list>
/// <para>
/// With <see cref="KernelParallelism.DegreeOfParallelism"/> = 2 and a batch of at least
/// <see cref="KernelParallelism.MinimumBatch"/> rows, the forward pass and dX are split by batch rows and dW/db by
/// output columns (or, for narrow layers, by input rows) between the calling thread and one persistent worker; a
/// forward pass of fewer rows over at least <see cref="KernelParallelism.MinimumSplitWeightBytes"/> of weights (batch-1
/// inference) is split by output columns, the worker always taking the second half, so each core streams half of W
/// from its own cache. Every output element is summed in the same order as with one thread, so the results are
/// bit-identical.
/// </para>
/// <para>Outputs must not overlap inputs.</para>
/// </remarks>
public static partial class Dense
{
    /// <summary>Computes y = f(x·W + b) for <paramref name="batch"/> rows.</summary>
    /// <param name="x">The inputs, [batch × nIn].</param>
    /// <param name="w">The weights, [nIn × nOut].</param>
    /// <param name="b">The bias, [nOut].</param>
    /// <param name="y">The outputs, [batch × nOut].</param>
    /// <param name="batch">Rows.</param>
    /// <param name="nIn">Input features.</param>
    /// <param name="nOut">Output features.</param>
    /// <param name="splitColumns">Whether a small batch over large weights may be split by output columns between the two
    /// threads (see the remarks). Generated training passes false: a training step calls its layers back to back, so the
    /// worker would spin between them instead of parking, which cost more than it saved at batch 1 and 32 on a loaded
    /// machine (benchmarks/LATENCY.md); evaluation (Predict, the inference form) passes true.</param>
    public static void Forward<T, TAct>(ReadOnlySpan<T> x, ReadOnlySpan<T> w, ReadOnlySpan<T> b, Span<T> y, int batch, int nIn, int nOut, bool splitColumns = true)
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
        switch (Width<T>(nOut))
        {
            case 512: ForwardAt<T, TAct, Simd512<T>>(ref xr, ref wr, ref br, ref yr, batch, nIn, nOut, splitColumns); break;
            case 256: ForwardAt<T, TAct, Simd256<T>>(ref xr, ref wr, ref br, ref yr, batch, nIn, nOut, splitColumns); break;
            default: ForwardAt<T, TAct, SimdScalar<T>>(ref xr, ref wr, ref br, ref yr, batch, nIn, nOut, splitColumns); break;
        }
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
        switch (Width<T>(nOut))
        {
            case 512: BackwardParametersAt<T, Simd512<T>>(ref xr, ref dzr, ref dwr, ref dbr, batch, nIn, nOut); break;
            case 256: BackwardParametersAt<T, Simd256<T>>(ref xr, ref dzr, ref dwr, ref dbr, batch, nIn, nOut); break;
            default: BackwardParametersAt<T, SimdScalar<T>>(ref xr, ref dzr, ref dwr, ref dbr, batch, nIn, nOut); break;
        }
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
        switch (Width<T>(nOut))
        {
            case 512: BackwardInputAt<T, Simd512<T>>(ref dzr, ref wr, ref dxr, batch, nIn, nOut); break;
            case 256: BackwardInputAt<T, Simd256<T>>(ref dzr, ref wr, ref dxr, batch, nIn, nOut); break;
            default: BackwardInputAt<T, SimdScalar<T>>(ref dzr, ref wr, ref dxr, batch, nIn, nOut); break;
        }
    }

    private static void Validate(int batch, int nIn, int nOut)
    {
        if (batch <= 0) ThrowHelper.ThrowArgumentOutOfRange(nameof(batch), batch, "The batch size must be positive.");
        if (nIn <= 0) ThrowHelper.ThrowArgumentOutOfRange(nameof(nIn), nIn, "The input width must be positive.");
        if (nOut <= 0) ThrowHelper.ThrowArgumentOutOfRange(nameof(nOut), nOut, "The output width must be positive.");
        if ((long)batch * nIn > int.MaxValue || (long)batch * nOut > int.MaxValue || (long)nIn * nOut > int.MaxValue)
            ThrowHelper.ThrowArgumentOutOfRange(nameof(batch), batch, "The tensor sizes must fit in a span.");
    }

    /// <summary>
    /// The register width the kernels use for an output row of <paramref name="nOut"/> elements: the widest
    /// hardware-accelerated vector that fits in the row (512, 256), else 1 (scalar).
    /// </summary>
    internal static int Width<T>(int nOut) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        if (Vector512.IsHardwareAccelerated && Vector512<T>.IsSupported && nOut >= Vector512<T>.Count) return 512;
        if (Vector256.IsHardwareAccelerated && Vector256<T>.IsSupported && nOut >= Vector256<T>.Count) return 256;
        return 1;
    }

    /// <summary>True for 512-bit registers (32 architectural registers: wider tiles); JIT-time constant.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool IsWide<T, TV>() where T : unmanaged, IBinaryFloatingPointIeee754<T> where TV : struct, ISimd<TV, T> =>
        TV.Count * Unsafe.SizeOf<T>() == 64;

    // ---- one or two threads ---------------------------------------------------------------------------------------

    private static void ForwardAt<T, TAct, TV>(ref T x, ref T w, ref T b, ref T y, int batch, int nIn, int nOut, bool splitColumns)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> where TAct : IActivationOp<T> where TV : struct, ISimd<TV, T>
    {
        if (KernelParallelism.ShouldSplit(batch))
        {
            int split = RowSplit(batch, GemmRows);
            if (split > 0 && KernelParallelism.TryEnter())
            {
                ForwardWork<T, TAct, TV>.Run(ref x, ref w, ref b, ref y, batch, nIn, nOut, split, byColumns: false);
                return;
            }
        }
        else if (splitColumns && KernelParallelism.ShouldSplitColumns((long)nIn * nOut * Unsafe.SizeOf<T>()))
        {
            // Small batches (batch-1 inference): each thread streams half of W, always the same half.
            int split = ColumnSplit<T, TV>(nOut);
            if (split > 0 && KernelParallelism.TryEnter())
            {
                ForwardWork<T, TAct, TV>.Run(ref x, ref w, ref b, ref y, batch, nIn, nOut, split, byColumns: true);
                return;
            }
        }
        ForwardRows<T, TAct, TV>(ref x, ref w, ref b, ref y, 0, batch, nIn, nOut);
    }

    private static void BackwardParametersAt<T, TV>(ref T x, ref T dz, ref T dw, ref T db, int batch, int nIn, int nOut)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> where TV : struct, ISimd<TV, T>
    {
        if (KernelParallelism.ShouldSplit(batch))
        {
            // Prefer output columns at a tile-panel boundary (each thread reads half of dZ); layers too narrow for that
            // split the input rows instead.
            int panel = GemmVectors<T, TV>() * TV.Count;
            int columns = nOut / 2 / panel * panel;
            if (columns == 0 || nOut - columns < TV.Count) columns = 0;
            int rows = RowSplit(nIn, GemmRows);
            if ((columns > 0 || rows > 0) && KernelParallelism.TryEnter())
            {
                BackwardParametersWork<T, TV>.Run(ref x, ref dz, ref dw, ref db, batch, nIn, nOut, columns, rows);
                return;
            }
        }
        BackwardParametersCore<T, TV>(ref x, ref dz, ref dw, ref db, batch, nIn, nOut);
    }

    private static void BackwardInputAt<T, TV>(ref T dz, ref T w, ref T dx, int batch, int nIn, int nOut)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> where TV : struct, ISimd<TV, T>
    {
        int split = RowSplit(batch, DotRows<T, TV>());
        if (split > 0 && KernelParallelism.ShouldSplit(batch) && KernelParallelism.TryEnter())
            BackwardInputWork<T, TV>.Run(ref dz, ref w, ref dx, batch, nIn, nOut, split);
        else
            BackwardInputRows<T, TV>(ref dz, ref w, ref dx, 0, batch, nIn, nOut);
    }

    /// <summary>
    /// The first column of the second half of a row of <paramref name="nOut"/> outputs: half the row rounded down to whole
    /// vectors of the width the row runs at, or 0 when either half would be narrower than one vector.
    /// </summary>
    private static int ColumnSplit<T, TV>(int nOut) where T : unmanaged, IBinaryFloatingPointIeee754<T> where TV : struct, ISimd<TV, T>
    {
        int v = nOut >= TV.Count ? TV.Count : nOut >= Simd256<T>.Count ? Simd256<T>.Count : 1;
        int split = nOut / 2 / v * v;
        return split >= v && nOut - split >= v ? split : 0;
    }

    /// <summary>Half of <paramref name="count"/> rounded down to whole blocks, or 0 when one part would be empty.</summary>
    private static int RowSplit(int count, int block)
    {
        int split = count / 2 / block * block;
        return split > 0 && split < count ? split : 0;
    }

    /// <summary>
    /// Runs part 0 on the calling thread and part 1 on the worker; each part covers its own outputs: batch rows [0, split)
    /// and [split, batch), or output columns [0, split) and [split, nOut) of every row.
    /// </summary>
    private sealed unsafe class ForwardWork<T, TAct, TV> : ParallelWork
        where T : unmanaged, IBinaryFloatingPointIeee754<T> where TAct : IActivationOp<T> where TV : struct, ISimd<TV, T>
    {
        private static readonly ForwardWork<T, TAct, TV> Instance = new();
        private T* _x, _w, _b, _y;
        private int _batch, _nIn, _nOut, _split;
        private bool _byColumns;

        public static void Run(ref T x, ref T w, ref T b, ref T y, int batch, int nIn, int nOut, int split, bool byColumns)
        {
            fixed (T* px = &x, pw = &w, pb = &b, py = &y)
            {
                ForwardWork<T, TAct, TV> work = Instance;
                work._x = px; work._w = pw; work._b = pb; work._y = py;
                (work._batch, work._nIn, work._nOut, work._split, work._byColumns) = (batch, nIn, nOut, split, byColumns);
                KernelParallelism.Run(work);
                work._x = null; work._w = null; work._b = null; work._y = null;
            }
        }

        internal override void Execute(int part)
        {
            if (_byColumns)
                ForwardColumns<T, TAct, TV>(ref *_x, ref *_w, ref *_b, ref *_y, _batch, _nIn, _nOut, part == 0 ? 0 : _split, part == 0 ? _split : _nOut);
            else
                ForwardRows<T, TAct, TV>(ref *_x, ref *_w, ref *_b, ref *_y, part == 0 ? 0 : _split, part == 0 ? _split : _batch, _nIn, _nOut);
        }
    }

    private sealed unsafe class BackwardParametersWork<T, TV> : ParallelWork
        where T : unmanaged, IBinaryFloatingPointIeee754<T> where TV : struct, ISimd<TV, T>
    {
        private static readonly BackwardParametersWork<T, TV> Instance = new();
        private T* _x, _dz, _dw, _db;
        private int _batch, _nIn, _nOut, _columns, _rows;

        public static void Run(ref T x, ref T dz, ref T dw, ref T db, int batch, int nIn, int nOut, int columns, int rows)
        {
            fixed (T* px = &x, pdz = &dz, pdw = &dw, pdb = &db)
            {
                BackwardParametersWork<T, TV> work = Instance;
                work._x = px; work._dz = pdz; work._dw = pdw; work._db = pdb;
                (work._batch, work._nIn, work._nOut, work._columns, work._rows) = (batch, nIn, nOut, columns, rows);
                KernelParallelism.Run(work);
                work._x = null; work._dz = null; work._dw = null; work._db = null;
            }
        }

        internal override void Execute(int part)
        {
            if (_columns > 0)
            {
                int j0 = part == 0 ? 0 : _columns, j1 = part == 0 ? _columns : _nOut;
                WeightGradient<T, TV>(ref *_x, ref *_dz, ref *_dw, 0, _nIn, j0, j1, _batch, _nIn, _nOut);
                BiasGradient<T, TV>(ref *_dz, ref *_db, j0, j1, _batch, _nOut);
            }
            else
            {
                // Input rows [0, rows) here, [rows, nIn) and db on the worker.
                WeightGradient<T, TV>(ref *_x, ref *_dz, ref *_dw, part == 0 ? 0 : _rows, part == 0 ? _rows : _nIn, 0, _nOut, _batch, _nIn, _nOut);
                if (part == 1) BiasGradient<T, TV>(ref *_dz, ref *_db, 0, _nOut, _batch, _nOut);
            }
        }
    }

    private sealed unsafe class BackwardInputWork<T, TV> : ParallelWork
        where T : unmanaged, IBinaryFloatingPointIeee754<T> where TV : struct, ISimd<TV, T>
    {
        private static readonly BackwardInputWork<T, TV> Instance = new();
        private T* _dz, _w, _dx;
        private int _batch, _nIn, _nOut, _split;

        public static void Run(ref T dz, ref T w, ref T dx, int batch, int nIn, int nOut, int split)
        {
            fixed (T* pdz = &dz, pw = &w, pdx = &dx)
            {
                BackwardInputWork<T, TV> work = Instance;
                work._dz = pdz; work._w = pw; work._dx = pdx;
                (work._batch, work._nIn, work._nOut, work._split) = (batch, nIn, nOut, split);
                KernelParallelism.Run(work);
                work._dz = null; work._w = null; work._dx = null;
            }
        }

        internal override void Execute(int part) =>
            BackwardInputRows<T, TV>(ref *_dz, ref *_w, ref *_dx, part == 0 ? 0 : _split, part == 0 ? _split : _batch, _nIn, _nOut);
    }
}
