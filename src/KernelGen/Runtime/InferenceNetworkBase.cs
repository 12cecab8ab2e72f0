using System;
using System.Threading;
using System.Collections.Generic;
using System.Numerics;
using KernelGen.Kernels;
using KernelGen.Operators;

namespace KernelGen.Runtime;

/// <summary>
/// The base class of every generated inference form (<c>Net.Inference</c>): its own folded parameter arena, a copy of
/// the running statistics of BatchNorm layers that could not fold, work regions, validation, and
/// <see cref="UpdateFrom"/>, which rebuilds the folded parameters from a training network by the model's
/// <see cref="FoldStep"/>s (BatchNorm folded in double and rounded once). The generated class supplies the fused
/// evaluation chain.
/// </summary>
/// <remarks>Not thread-safe: one instance serves one thread at a time.</remarks>
public abstract class InferenceNetworkBase<T> : IInferenceNetwork<T> where T : unmanaged, IBinaryFloatingPointIeee754<T>
{
    private readonly InferenceModel _model;
    private readonly NetworkState<T> _state;
    private readonly int _inputSize, _outputSize;

    /// <summary>Allocates the buffers for batches of up to <paramref name="maxBatchSize"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxBatchSize"/> is not positive or too large.</exception>
    protected InferenceNetworkBase(InferenceModel model, int maxBatchSize)
    {
        ArgumentNullException.ThrowIfNull(model);
        _model = model;
        _inputSize = model.InputShape.Size;
        _outputSize = model.OutputShape.Size;
        _state = new NetworkState<T>(model.ArenaLength, model.StatisticsLength, model.Regions, maxBatchSize, gradients: false);
    }

    /// <summary>The buffers the generated evaluation chain works on.</summary>
    protected NetworkState<T> State => _state;

    /// <summary>The inference form's static description.</summary>
    public InferenceModel Model => _model;

    /// <inheritdoc/>
    public int InputSize => _inputSize;
    /// <inheritdoc/>
    public TensorShape InputShape => _model.InputShape;
    /// <inheritdoc/>
    public int OutputSize => _outputSize;
    /// <inheritdoc/>
    public int MaxBatchSize => _state.MaxBatchSize;
    /// <summary>The folded parameters (read them to inspect the re-parameterization; an update overwrites them). Predict
    /// reads the weights of dense layers at least <see cref="Dense.PanelColumns{T}"/> wide (every dense layer at a
    /// reduced <see cref="Precision"/>) from a packed copy made from these at the last <c>Update</c> or change of
    /// precision (column panels at full precision, see <see cref="Dense.PackPanels{T}"/>; the reduced formats otherwise),
    /// so a write to those weights takes effect at the next one; everything else is read from here directly.</summary>
    public Span<T> Parameters => _state.AllParameters;

    /// <summary>
    /// The precision of the dense layers' weights (default <see cref="InferencePrecision.Float32"/>). Setting
    /// <see cref="InferencePrecision.BFloat16"/> or <see cref="InferencePrecision.Int8"/> packs a copy of the current
    /// folded weights (allocated the first time each precision is chosen); later updates re-pack it without allocating.
    /// The measured accuracy cost is in <see cref="InferencePrecision"/>'s remarks.
    /// </summary>
    /// <exception cref="NotSupportedException">A reduced precision on a double inference form, or int8 on a dense layer with
    /// more than <see cref="QuantizedDense.MaximumInt8Inputs"/> inputs.</exception>
    /// <exception cref="ArgumentOutOfRangeException">Not an <see cref="InferencePrecision"/> value.</exception>
    /// <exception cref="InvalidOperationException">Another thread is using this inference form.</exception>
    public InferencePrecision Precision
    {
        get => _state.Reduced?.Precision ?? InferencePrecision.Float32;
        set
        {
            if (value is not (InferencePrecision.Float32 or InferencePrecision.BFloat16 or InferencePrecision.Int8))
                ThrowHelper.ThrowArgumentOutOfRange(nameof(value), value, "Not an inference precision.");
            if (value != InferencePrecision.Float32 && typeof(T) != typeof(float))
                throw new NotSupportedException("Reduced precisions are for float inference forms.");
            int me = Environment.CurrentManagedThreadId, owner = Interlocked.CompareExchange(ref _busyThread, me, 0);
            if (owner != 0) ThrowHelper.ThrowConcurrentUse(GetType().Name, owner, me);
            try
            {
                if (value == InferencePrecision.Float32)
                {
                    if (_state.Reduced is null) return;
                    _state.Reduced = null;
                    _state.Panels?.Pack(_state.AllParameters);
                    return;
                }
                ReducedWeights reduced = value == InferencePrecision.BFloat16
                    ? _bfloat16 ??= new ReducedWeights(value, _denseLayers!, _state.MaxBatchSize)
                    : _int8 ??= new ReducedWeights(value, _denseLayers!, _state.MaxBatchSize);
                reduced.Pack(System.Runtime.InteropServices.MemoryMarshal.Cast<T, float>(_state.AllParameters));
                _state.Reduced = reduced;
            }
            finally { Volatile.Write(ref _busyThread, 0); }
        }
    }

    /// <summary>How many dense layers run on a column-panel copy at full precision (for tests).</summary>
    internal int PanelLayers => _state.Panels?.Count ?? 0;

    // The dense layers of the folded arena (found at the first update) and the packed copies made so far.
    private List<(int WeightOffset, int Inputs, int Outputs)>? _denseLayers;
    private ReducedWeights? _bfloat16, _int8;

    /// <summary>Writes the outputs for <paramref name="inputs"/>.</summary>
    /// <param name="inputs">[batch × InputSize] finite values, 1 ≤ batch ≤ <see cref="MaxBatchSize"/>.</param>
    /// <param name="outputs">[batch × OutputSize].</param>
    /// <exception cref="ArgumentException">A span has the wrong length, or an input is NaN or infinite.</exception>
    /// <exception cref="ArithmeticException">An output is not finite although the inputs are (the inputs overflow the
    /// arithmetic).</exception>
    /// <exception cref="InvalidOperationException">Another thread is using this inference form (each thread needs its own).</exception>
    public void Predict(ReadOnlySpan<T> inputs, Span<T> outputs)
    {
        int me = Environment.CurrentManagedThreadId, owner = Interlocked.CompareExchange(ref _busyThread, me, 0);
        if (owner != 0) ThrowHelper.ThrowConcurrentUse(GetType().Name, owner, me);
        try
        {
            int batch = ThrowHelper.GetBatchSize(inputs.Length, _inputSize, _state.MaxBatchSize, nameof(inputs));
            ThrowHelper.ThrowIfLengthNotEqual(outputs.Length, batch * _outputSize, nameof(outputs));
            Elementwise.ThrowIfNotFinite(inputs, nameof(inputs));
            Infer(inputs, outputs, batch);
            int bad = Elementwise.IndexOfNonFinite<T>(outputs);
            if (bad >= 0) ThrowHelper.ThrowOverflowed("Predict", bad / _outputSize, bad % _outputSize, double.CreateTruncating(outputs[bad]), typeof(T).Name);
        }
        finally { Volatile.Write(ref _busyThread, 0); }
    }

    // The managed id of the thread inside Predict or Update, 0 when none is.
    private int _busyThread;

    /// <summary>The fused evaluation chain. Generated.</summary>
    protected abstract void Infer(ReadOnlySpan<T> inputs, Span<T> outputs, int batch);

    /// <summary>Re-folds from <paramref name="network"/>'s current parameters and running statistics. Allocates nothing.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="network"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="network"/> is not the network this form was generated for.</exception>
    protected void UpdateFrom(NetworkBase<T> network)
    {
        ArgumentNullException.ThrowIfNull(network);
        int me = Environment.CurrentManagedThreadId, owner = Interlocked.CompareExchange(ref _busyThread, me, 0);
        if (owner != 0) ThrowHelper.ThrowConcurrentUse(GetType().Name, owner, me);
        try { Fold(network); }
        finally { Volatile.Write(ref _busyThread, 0); }
    }

    private void Fold(NetworkBase<T> network)
    {
        if (network.Fingerprint != _model.SourceFingerprint)
            throw new ArgumentException("The network is not the one this inference form was generated for (fingerprints differ).", nameof(network));
        ReadOnlySpan<T> parameters = network.Parameters, statistics = network.RunningStatistics;
        IReadOnlyList<FoldStep> folds = _model.Folds;
        for (int f = 0; f < folds.Count; f++) // indexed: a foreach over the interface would allocate an enumerator
        {
            FoldStep step = folds[f];
            if (!step.IsFold)
            {
                parameters.Slice(step.Source, step.Length).CopyTo(_state.Parameters(step.Target, step.Length));
                continue;
            }
            int n = step.Inputs * step.Outputs;
            if (step.Branches is { } branches)
            {
                Folding.FoldBranches<T>(parameters, statistics, branches, step.Outputs, step.Inputs / step.KernelArea, (int)Math.Round(Math.Sqrt(step.KernelArea)),
                    _state.Parameters(step.Target, n), _state.Parameters(step.TargetBias, step.Outputs));
                continue;
            }
            if (step.Convolution)
            {
                Folding.FoldConvolution<T>(parameters.Slice(step.Source, n), step.SourceBias < 0 ? default : parameters.Slice(step.SourceBias, step.Outputs),
                    _state.Parameters(step.Target, n), _state.Parameters(step.TargetBias, step.Outputs), step.Outputs, step.Inputs, step.KernelArea, step.Groups,
                    Gamma(parameters, step.Before), Beta(parameters, step.Before), Mean(statistics, step.Before), Variance(statistics, step.Before), Epsilon(step.Before),
                    Gamma(parameters, step.After), Beta(parameters, step.After), Mean(statistics, step.After), Variance(statistics, step.After), Epsilon(step.After));
                continue;
            }
            Folding.FoldDense<T>(parameters.Slice(step.Source, n), parameters.Slice(step.SourceBias, step.Outputs),
                _state.Parameters(step.Target, n), _state.Parameters(step.TargetBias, step.Outputs), step.Inputs, step.Outputs,
                Gamma(parameters, step.Before), Beta(parameters, step.Before), Mean(statistics, step.Before), Variance(statistics, step.Before), Epsilon(step.Before),
                Gamma(parameters, step.After), Beta(parameters, step.After), Mean(statistics, step.After), Variance(statistics, step.After), Epsilon(step.After));
        }
        if (_model.StatisticsLength > 0) statistics.CopyTo(_state.AllStatistics);
        if (_denseLayers is null)
        {
            _denseLayers = ReducedWeights.DenseLayers(network.Model, folds);
            _state.Panels = PanelWeights<T>.Create(_denseLayers);
        }
        if (_state.Reduced is { } reduced) reduced.Pack(System.Runtime.InteropServices.MemoryMarshal.Cast<T, float>(_state.AllParameters));
        else _state.Panels?.Pack(_state.AllParameters);
    }

    private static ReadOnlySpan<T> Gamma(ReadOnlySpan<T> p, LayerInfo? bn) => bn is null ? default : p.Slice(bn.GammaOffset, Channels(bn));
    private static ReadOnlySpan<T> Beta(ReadOnlySpan<T> p, LayerInfo? bn) => bn is null ? default : p.Slice(bn.BetaOffset, Channels(bn));
    private static ReadOnlySpan<T> Mean(ReadOnlySpan<T> s, LayerInfo? bn) => bn is null ? default : s.Slice(bn.RunningMeanOffset, Channels(bn));
    private static ReadOnlySpan<T> Variance(ReadOnlySpan<T> s, LayerInfo? bn) => bn is null ? default : s.Slice(bn.RunningVarianceOffset, Channels(bn));
    /// <summary>A BatchNorm's statistics per feature (flat) or per channel (image).</summary>
    private static int Channels(LayerInfo bn) => bn.OutputShape.Rank == 3 ? bn.OutputShape[0] : bn.OutputFeatures;
    private static double Epsilon(LayerInfo? bn) => bn is null ? 0 : bn.Option("Epsilon");
}
