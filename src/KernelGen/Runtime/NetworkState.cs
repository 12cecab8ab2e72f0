using System;
using System.Collections.Generic;
using System.ComponentModel;
using System.Numerics;
using System.Runtime.CompilerServices;
using KernelGen.Kernels;
using KernelGen.Operators;

namespace KernelGen.Runtime;

/// <summary>
/// The buffers of one generated network instance, handed to its generated forward and backward bodies: the parameter,
/// gradient and running-statistics arenas and one work buffer carved into the regions the generator assigned. Every
/// region and arena starts on a 64-byte boundary. Allocated once at construction; nothing here allocates afterwards.
/// </summary>
/// <remarks>Infrastructure for generated code: its slices are unchecked against the model (the generator computed
/// every offset), but each is bounds-checked by <see cref="Span{T}"/>.</remarks>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed class NetworkState<T> where T : unmanaged, IBinaryFloatingPointIeee754<T>
{
    private readonly AlignedBuffer<T> _parameters, _gradients, _statistics, _work;
    private readonly int[] _regionOffsets;

    /// <summary>Allocates the arenas and the work buffer for batches of up to <paramref name="maxBatchSize"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxBatchSize"/> is not positive, or the buffers
    /// would not fit in one array.</exception>
    public NetworkState(int arenaLength, int statisticsLength, IReadOnlyList<int> regions, int maxBatchSize, bool gradients = true)
    {
        long total = 0;
        foreach (int perSample in regions) total += RoundUp(RegionLength(perSample, maxBatchSize));
        if (maxBatchSize <= 0 || total > Array.MaxLength - 64)
            ThrowHelper.ThrowArgumentOutOfRange(nameof(maxBatchSize), maxBatchSize, "The maximum batch size must be positive and small enough for the network's buffers to fit in one array.");
        MaxBatchSize = maxBatchSize;
        _parameters = new AlignedBuffer<T>(arenaLength);
        _gradients = new AlignedBuffer<T>(gradients ? arenaLength : 0);
        _statistics = new AlignedBuffer<T>(statisticsLength);
        _regionOffsets = new int[regions.Count];
        int offset = 0;
        for (int r = 0; r < regions.Count; r++)
        {
            _regionOffsets[r] = offset;
            offset += AlignedBuffer<T>.RoundUp((int)RegionLength(regions[r], maxBatchSize));
        }
        _work = new AlignedBuffer<T>(offset);
    }

    /// <summary>A region's elements: maxBatchSize × its per-sample size, or −size for a fixed-size region (scratch that
    /// does not grow with the batch, such as a convolution's patch matrix).</summary>
    private static long RegionLength(int size, int maxBatchSize) => size >= 0 ? (long)maxBatchSize * size : -(long)size;

    private static long RoundUp(long count)
    {
        long perLine = AlignedBuffer<T>.Alignment / Unsafe.SizeOf<T>();
        return (count + perLine - 1) / perLine * perLine;
    }

    /// <summary>The largest batch the buffers hold.</summary>
    public int MaxBatchSize { get; }

    /// <summary>The whole parameter arena.</summary>
    public Span<T> AllParameters => _parameters.Span;
    /// <summary>The whole gradient arena.</summary>
    public Span<T> AllGradients => _gradients.Span;
    /// <summary>The whole running-statistics buffer.</summary>
    public Span<T> AllStatistics => _statistics.Span;

    /// <summary><paramref name="length"/> parameters from <paramref name="offset"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Span<T> Parameters(int offset, int length) => _parameters.Slice(offset, length);

    /// <summary><paramref name="length"/> gradients from <paramref name="offset"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Span<T> Gradients(int offset, int length) => _gradients.Slice(offset, length);

    /// <summary><paramref name="length"/> running statistics from <paramref name="offset"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Span<T> Statistics(int offset, int length) => _statistics.Slice(offset, length);

    /// <summary>The first <paramref name="length"/> elements of work region <paramref name="region"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Span<T> Work(int region, int length) => _work.Slice(_regionOffsets[region], length);

    /// <summary>
    /// An evaluation-mode dense layer: y = f(x·W + b) with W the [<paramref name="nIn"/> × <paramref name="nOut"/>]
    /// parameters at <paramref name="weightOffset"/> and b those at <paramref name="biasOffset"/>. Runs
    /// <see cref="Dense.Forward{T, TAct}"/> on the parameters; in an inference form, the matching kernel on the layer's
    /// packed copy: <see cref="Dense.ForwardPacked{T, TAct}"/> on column panels at full precision (layers at least one
    /// panel wide), the reduced kernels at a reduced <see cref="InferencePrecision"/>.
    /// </summary>
    public void DenseForward<TAct>(ReadOnlySpan<T> x, int weightOffset, int biasOffset, Span<T> y, int batch, int nIn, int nOut)
        where TAct : IActivationOp<T>
    {
        ReadOnlySpan<T> b = _parameters.Slice(biasOffset, nOut);
        if (Reduced is { } reduced && reduced.TryForward<T, TAct>(x, weightOffset, b, y, batch, nIn, nOut)) return;
        if (Panels is { } panels && panels.TryForward<TAct>(x, weightOffset, b, y, batch, nIn, nOut)) return;
        Dense.Forward<T, TAct>(x, _parameters.Slice(weightOffset, nIn * nOut), b, y, batch, nIn, nOut);
    }

    /// <summary>The packed reduced-precision weights an inference form runs on, or null (float).</summary>
    internal ReducedWeights? Reduced { get; set; }

    /// <summary>The column-panel copy of the dense weights an inference form runs on at full precision, or null.</summary>
    internal PanelWeights<T>? Panels { get; set; }

    /// <summary>Seed of the dropout masks.</summary>
    public ulong DropoutSeed { get; set; }

    /// <summary>Counter of training forward passes (each draws fresh dropout masks).</summary>
    public ulong DropoutStep { get; set; }

    /// <summary>The activity penalty accumulated by the last evaluation-mode forward pass.</summary>
    public double ActivityPenalty { get; set; }

    private bool[]? _frozen, _evaluation;

    /// <summary>Backward stops below this layer index unless the caller wants ∂L/∂inputs: every layer that trains is at or
    /// above it, and a layer reads only layers before it, so nothing below needs a gradient (0: all run).</summary>
    public int BackwardStop { get; internal set; }

    /// <summary>True when layer <paramref name="layer"/> is frozen: backward computes no gradient for its parameters.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool Frozen(int layer) => _frozen is { } f && f[layer];

    /// <summary>True when BatchNorm layer <paramref name="layer"/> runs in evaluation mode during training (running
    /// statistics, left unchanged).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool EvaluationMode(int layer) => _evaluation is { } e && e[layer];

    internal void SetFrozen(int layer, int layers, bool value) => (_frozen ??= new bool[layers])[layer] = value;

    internal void SetEvaluationMode(int layer, int layers, bool value) => (_evaluation ??= new bool[layers])[layer] = value;
}
