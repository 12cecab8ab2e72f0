using System;
using System.Collections.Generic;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Threading;
using KernelGen.Catalog;
using KernelGen.Kernels;
using KernelGen.Operators;

namespace KernelGen.Runtime;

/// <summary>
/// The base class of every generated network: everything that is the same for all networks — buffers, argument
/// validation, initialization, the training-mode caches behind <see cref="Forward"/>/<see cref="Backward"/>,
/// <see cref="LayerOutput"/>, penalties — driven by the generated <see cref="NetworkModel"/>. The generated class adds
/// what depends on the specification: the model, per-layer views, and the forward and backward call sequences
/// (<see cref="Infer"/>, <see cref="Train"/>, <see cref="Propagate"/>).
/// </summary>
/// <remarks>
/// <para><b>Threads.</b> A network serves one thread at a time: its work buffers hold every call's intermediates, so two
/// overlapping calls would overwrite each other's values. Overlapping use is detected, not silently wrong: a public call
/// (Predict, Forward, Backward, Loss, ComputeGradients, TrainStep, ApplyGradients, Initialize) that starts while another
/// thread is inside one throws <see cref="InvalidOperationException"/> before touching anything. For parallel
/// inference give each thread its own network or its own inference form (<c>CreateInference</c>; refresh it with
/// <c>Update</c>); <see cref="Kernels.KernelParallelism"/> spreads one call over two cores.</para>
/// <para><b>Overflow.</b> Inputs must be finite. Finite inputs so large that the arithmetic overflows (±1e19 squared by
/// a normalization, 3e38 through a dense layer) never leave non-finite state behind: a training pass whose BatchNorm
/// running statistics, loss or gradients would be non-finite throws <see cref="ArithmeticException"/> after restoring
/// the statistics and the dropout step, before any parameter or optimizer state changes; <see cref="Predict"/> throws
/// <see cref="ArithmeticException"/> when an output is not finite.</para>
/// </remarks>
public abstract class NetworkBase<T> : INeuralNetwork<T> where T : unmanaged, IBinaryFloatingPointIeee754<T>
{
    private readonly NetworkModel _model;
    private readonly NetworkState<T> _state;
    private readonly int _inputSize, _outputSize;
    // Rows cached by the last Forward (0: no Backward possible).
    private int _cachedBatch;
    // Rows of the last training forward pass (what LayerOutput shows; 0: none yet).
    private int _observedBatch;
    // The managed id of the thread inside a public call, 0 when none is.
    private int _busyThread;
    // What the last training pass changed besides the caches, so it can be undone: the running statistics and the dropout step.
    private readonly T[] _statisticsBefore;
    private ulong _dropoutStepBefore;

    /// <summary>Allocates every buffer of <paramref name="model"/> for batches of up to <paramref name="maxBatchSize"/>.
    /// The generated constructor then calls <see cref="Initialize"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxBatchSize"/> is not positive, or so large that the
    /// buffers would not fit in an array.</exception>
    protected NetworkBase(NetworkModel model, int maxBatchSize)
    {
        ArgumentNullException.ThrowIfNull(model);
        _model = model;
        _inputSize = model.InputShape.Size;
        _outputSize = model.OutputShape.Size;
        _state = new NetworkState<T>(model.ArenaLength, model.StatisticsLength, model.Regions, maxBatchSize);
        _statisticsBefore = new T[model.StatisticsLength];
    }

    /// <summary>The network's static description (layers, layout, regions).</summary>
    public NetworkModel Model => _model;

    /// <summary>The buffers the generated forward and backward bodies work on.</summary>
    protected NetworkState<T> State => _state;

    /// <inheritdoc/>
    public int InputSize => _inputSize;
    /// <inheritdoc/>
    public TensorShape InputShape => _model.InputShape;
    /// <inheritdoc/>
    public int OutputSize => _outputSize;
    /// <summary>The shape of one output sample.</summary>
    public TensorShape OutputShape => _model.OutputShape;
    /// <inheritdoc/>
    public int MaxBatchSize => _state.MaxBatchSize;
    /// <summary>All parameters: an arena laid out as <see cref="ParameterTensors"/> says (padding stays zero).</summary>
    public Span<T> Parameters => _state.AllParameters;
    /// <summary>The gradients of the last backward pass, laid out like <see cref="Parameters"/>.</summary>
    public Span<T> Gradients => _state.AllGradients;
    /// <inheritdoc/>
    public IReadOnlyList<ParameterTensor> ParameterTensors => _model.Tensors;
    /// <inheritdoc/>
    public IReadOnlyList<LayerInfo> Layers => _model.Layers;

    /// <summary>
    /// Freezes or unfreezes layer <paramref name="layerName"/> (transfer learning: PyTorch's <c>requires_grad = False</c>
    /// on its parameters). A frozen layer's parameter gradients are not computed and read 0, the optimizer leaves its
    /// parameters alone, and backward stops below the lowest layer that still trains (unless ∂L/∂inputs is asked for).
    /// Frozen layers still run forward in training mode (BatchNorm updates its running statistics; see
    /// <see cref="SetEvaluationMode"/>).
    /// </summary>
    /// <exception cref="ArgumentException">No layer has that name.</exception>
    public void SetFrozen(string layerName, bool frozen = true)
    {
        LayerInfo layer = FindLayer(layerName);
        _state.SetFrozen(layer.Index, _model.Layers.Count, frozen);
        _state.BackwardStop = LowestTrainable();
        OnFrozenChanged(layer, frozen);
    }

    /// <summary>Called after a layer is frozen or unfrozen (a trainable network tells its optimizer).</summary>
    private protected virtual void OnFrozenChanged(LayerInfo layer, bool frozen) { }

    /// <summary>True when layer <paramref name="layerName"/> is frozen (<see cref="SetFrozen"/>).</summary>
    public bool IsFrozen(string layerName) => _state.Frozen(FindLayer(layerName).Index);

    /// <summary>
    /// Keeps BatchNorm layer <paramref name="layerName"/> in evaluation mode while the network trains (PyTorch's
    /// <c>bn.eval()</c> during fine-tuning): training passes normalize with the running statistics and leave them unchanged,
    /// and backward goes through that fixed affine map (∂L/∂x = γ/√(σ² + ε)·∂L/∂y). γ and β still train unless the layer
    /// is frozen.
    /// </summary>
    /// <exception cref="ArgumentException">No layer has that name, or it is not a BatchNorm layer.</exception>
    public void SetEvaluationMode(string layerName, bool evaluation = true)
    {
        LayerInfo layer = FindLayer(layerName);
        if (layer.Kind != LayerKind.BatchNorm) throw new ArgumentException($"Layer {layerName} is {layer.Kind}; only BatchNorm layers have a training and an evaluation mode.", nameof(layerName));
        _state.SetEvaluationMode(layer.Index, _model.Layers.Count, evaluation);
    }

    /// <summary>The layer called <paramref name="layerName"/>.</summary>
    private protected LayerInfo FindLayer(string layerName)
    {
        ArgumentNullException.ThrowIfNull(layerName);
        foreach (LayerInfo layer in _model.Layers) if (layer.Name == layerName) return layer;
        throw new ArgumentException($"The network has no layer named '{layerName}' (layers: {string.Join(", ", System.Linq.Enumerable.Select(_model.Layers, l => l.Name))}).", nameof(layerName));
    }

    /// <summary>The index of the lowest layer with parameters that is not frozen (the layer count when none).</summary>
    private int LowestTrainable()
    {
        foreach (LayerInfo layer in _model.Layers)
            if (!_state.Frozen(layer.Index))
                foreach (LayerTensor t in layer.Tensors) if (!t.IsState) return layer.Index;
        return _model.Layers.Count;
    }

    /// <summary>Sets the gradients of frozen layers' parameters to 0 (after backward and the penalties).</summary>
    private protected void ZeroFrozenGradients()
    {
        if (!AnyFrozen()) return;
        Span<T> gradients = _state.AllGradients;
        IReadOnlyList<LayerInfo> layers = _model.Layers;
        for (int i = 0; i < layers.Count; i++) // indexed: a foreach over the interfaces would allocate enumerators every step
        {
            if (!_state.Frozen(i)) continue;
            IReadOnlyList<LayerTensor> tensors = layers[i].Tensors;
            for (int k = 0; k < tensors.Count; k++)
                if (!tensors[k].IsState) gradients.Slice(tensors[k].Offset, tensors[k].Length).Clear();
        }
    }

    /// <summary>True when the parameter tensor at <paramref name="offset"/> belongs to a frozen layer.</summary>
    internal bool FrozenTensor(int offset)
    {
        foreach (LayerInfo layer in _model.Layers)
            foreach (LayerTensor t in layer.Tensors)
                if (!t.IsState && t.Offset == offset) return _state.Frozen(layer.Index);
        return false;
    }

    private bool AnyFrozen()
    {
        for (int i = 0; i < _model.Layers.Count; i++) if (_state.Frozen(i)) return true;
        return false;
    }
    /// <summary>Every BatchNorm layer's running statistics (state, not parameters: never trained, saved with checkpoints);
    /// empty without BatchNorm.</summary>
    public Span<T> RunningStatistics => _state.AllStatistics;
    /// <inheritdoc/>
    public ulong Fingerprint => _model.Fingerprint;
    /// <summary>Seed of the dropout masks (set from the seed by <see cref="Initialize"/>).</summary>
    public ulong DropoutSeed { get => _state.DropoutSeed; set => _state.DropoutSeed = value; }
    /// <summary>Counter of training forward passes; each pass draws fresh masks from (DropoutSeed, DropoutStep). Set it back to replay a mask.</summary>
    public ulong DropoutStep { get => _state.DropoutStep; set => _state.DropoutStep = value; }

    /// <summary>Inference: writes the outputs for <paramref name="inputs"/>; leaves the training caches untouched.</summary>
    /// <param name="inputs">[batch × InputSize] finite values, 1 ≤ batch ≤ <see cref="MaxBatchSize"/>.</param>
    /// <param name="outputs">[batch × OutputSize] values.</param>
    /// <exception cref="ArgumentException">A span has the wrong length, or an input is NaN or infinite.</exception>
    /// <exception cref="ArithmeticException">An output is not finite although the inputs are: they are so large that the
    /// network's arithmetic overflowed. The outputs hold what was computed; the network is unchanged.</exception>
    /// <exception cref="InvalidOperationException">Another thread is using this network.</exception>
    public void Predict(ReadOnlySpan<T> inputs, Span<T> outputs)
    {
        bool entered = Enter();
        try
        {
            int batch = ThrowHelper.GetBatchSize(inputs.Length, _inputSize, _state.MaxBatchSize, nameof(inputs));
            ThrowHelper.ThrowIfLengthNotEqual(outputs.Length, batch * _outputSize, nameof(outputs));
            Elementwise.ThrowIfNotFinite(inputs, nameof(inputs));
            Infer(inputs, outputs, batch);
            ThrowIfOverflowed(outputs, _outputSize, "Predict");
        }
        finally { Exit(entered); }
    }

    /// <summary>
    /// Forward pass in training mode: copies <paramref name="inputs"/> and caches every layer's output for <see cref="Backward"/>.
    /// Returns the outputs, [batch × OutputSize], valid until the next call that runs forward.
    /// </summary>
    /// <exception cref="ArithmeticException">An output or a BatchNorm running statistic would not be finite (the inputs overflow
    /// the arithmetic); the statistics and the dropout step are restored.</exception>
    /// <exception cref="InvalidOperationException">Another thread is using this network.</exception>
    public ReadOnlySpan<T> Forward(ReadOnlySpan<T> inputs)
    {
        bool entered = Enter();
        try
        {
            int batch = ThrowHelper.GetBatchSize(inputs.Length, _inputSize, _state.MaxBatchSize, nameof(inputs));
            Elementwise.ThrowIfNotFinite(inputs, nameof(inputs));
            Span<T> input = _state.Work(_model.InputRegion, batch * _inputSize);
            inputs.CopyTo(input);
            RunTraining(input, batch);
            ReadOnlySpan<T> outputs = TrainingOutputs(input, batch);
            if (Elementwise.IndexOfNonFinite(outputs) >= 0)
            {
                UndoTrainingPass();
                ThrowIfOverflowed(outputs, _outputSize, "Forward");
            }
            _cachedBatch = batch;
            return outputs;
        }
        finally { Exit(entered); }
    }

    /// <summary>
    /// Back-propagates <paramref name="outputGradient"/> (∂L/∂outputs of the last <see cref="Forward"/>, same batch): overwrites
    /// <see cref="Gradients"/> and, unless <paramref name="inputGradient"/> is empty, writes ∂L/∂inputs into it. Penalties
    /// are not added (they belong to the loss: see ComputeGradients).
    /// </summary>
    /// <exception cref="InvalidOperationException">No <see cref="Forward"/> preceded this call.</exception>
    public void Backward(ReadOnlySpan<T> outputGradient, Span<T> inputGradient)
    {
        bool entered = Enter();
        try { BackwardCore(outputGradient, inputGradient); }
        finally { Exit(entered); }
    }

    private void BackwardCore(ReadOnlySpan<T> outputGradient, Span<T> inputGradient)
    {
        int batch = _cachedBatch;
        if (batch == 0) throw new InvalidOperationException("Backward needs the caches of a preceding Forward call.");
        ThrowHelper.ThrowIfLengthNotEqual(outputGradient.Length, batch * _outputSize, nameof(outputGradient));
        if (!inputGradient.IsEmpty) ThrowHelper.ThrowIfLengthNotEqual(inputGradient.Length, batch * _inputSize, nameof(inputGradient));
        Elementwise.ThrowIfNotFinite(outputGradient, nameof(outputGradient));
        outputGradient.CopyTo(_state.Work(_model.OutputGradientRegion, batch * _outputSize));
        Propagate(_state.Work(_model.InputRegion, batch * _inputSize), batch, inputGradient, penalties: false);
        ZeroFrozenGradients();
    }

    /// <summary>The training-mode output of layer <paramref name="layer"/> from the last training forward pass, [batch ×
    /// that layer's outputs]; valid until the next call that runs forward.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="layer"/> is not in [0, Layers.Count).</exception>
    /// <exception cref="InvalidOperationException">No training forward pass has run since construction or Initialize.</exception>
    public ReadOnlySpan<T> LayerOutput(int layer)
    {
        if ((uint)layer >= (uint)_model.Layers.Count)
            ThrowHelper.ThrowArgumentOutOfRange(nameof(layer), layer, $"Not a layer index of this network ({_model.Layers.Count} layers).");
        int batch = _observedBatch;
        if (batch == 0) throw new InvalidOperationException("LayerOutput needs a preceding training forward pass (Forward, ComputeGradients or TrainStep).");
        return _state.Work(_model.LayerOutputRegions[layer], batch * _model.Layers[layer].OutputFeatures);
    }

    /// <summary>Re-initializes every parameter from <paramref name="seed"/> (weights per layer as the specification says,
    /// biases at their BiasInit, γ at 1, β at 0, running means 0 and variances 1) and clears the gradients, caches and
    /// (for trainable networks) the optimizer's state. The same seed gives bit-identical parameters.</summary>
    public void Initialize(ulong seed)
    {
        bool entered = Enter();
        try { InitializeCore(seed); }
        finally { Exit(entered); }
    }

    private void InitializeCore(ulong seed)
    {
        _state.AllParameters.Clear();
        _state.AllGradients.Clear();
        _cachedBatch = 0;
        _observedBatch = 0;
        OnInitialize();
        foreach (LayerInfo layer in _model.Layers)
            foreach (LayerTensor tensor in layer.Tensors)
            {
                if (tensor.Role == TensorRole.Weight) continue;
                Span<T> values = tensor.IsState ? _state.Statistics(tensor.Offset, tensor.Length) : _state.Parameters(tensor.Offset, tensor.Length);
                values.Fill(T.CreateTruncating(tensor.InitialValue));
            }
        _state.DropoutSeed = seed;
        _state.DropoutStep = 0;
        // One random stream per weight tensor, numbered from 1 in layer order, so adding a layer elsewhere leaves the
        // others' initial weights alone only when it comes after them.
        ulong stream = 0;
        foreach (LayerInfo layer in _model.Layers)
            if (layer.Tensor(TensorRole.Weight) is { } w)
            {
                var random = new KernelRandom(seed, ++stream);
                Initializers.Fill(_state.Parameters(w.Offset, w.Length), w.Init, w.Shape, ref random);
            }
    }

    /// <summary>Called by <see cref="Initialize"/> after the arenas are cleared (trainable networks reset their optimizer).</summary>
    protected virtual void OnInitialize() { }

    /// <summary>Evaluation-mode forward: reads <paramref name="inputs"/> ([batch × InputSize], validated) and writes
    /// <paramref name="outputs"/>; must not touch the training caches. Generated.</summary>
    protected abstract void Infer(ReadOnlySpan<T> inputs, Span<T> outputs, int batch);

    /// <summary>Training-mode forward: reads <paramref name="inputs"/> and writes every layer's output region and
    /// backward's saved values. Generated.</summary>
    protected abstract void Train(ReadOnlySpan<T> inputs, int batch);

    /// <summary>
    /// Backward: ∂L/∂outputs is in the model's output-gradient region; overwrites the gradients and, unless
    /// <paramref name="inputGradient"/> is empty, writes ∂L/∂inputs. With <paramref name="penalties"/>, adds the activity
    /// penalties' gradients on the way. Generated.
    /// </summary>
    protected abstract void Propagate(ReadOnlySpan<T> inputs, int batch, Span<T> inputGradient, bool penalties);

    /// <summary>Runs <see cref="Train"/> and records the batch for <see cref="LayerOutput"/>; invalidates Forward's caches
    /// unless the caller sets them again.</summary>
    private protected void RunTraining(ReadOnlySpan<T> inputs, int batch)
    {
        if (batch < _model.MinimumTrainingBatch)
            ThrowHelper.ThrowArgumentOutOfRange(nameof(inputs), batch, $"Training needs batches of at least {_model.MinimumTrainingBatch} rows (BatchNorm's batch statistics).");
        _cachedBatch = 0;
        _observedBatch = batch;
        if (_statisticsBefore.Length > 0) _state.AllStatistics.CopyTo(_statisticsBefore);
        _dropoutStepBefore = _state.DropoutStep;
        Train(inputs, batch);
        if (_statisticsBefore.Length > 0 && Elementwise.IndexOfNonFinite<T>(_state.AllStatistics) is var bad and >= 0)
        {
            UndoTrainingPass();
            ThrowHelper.ThrowNonFiniteStatistics(StatisticName(bad));
        }
    }

    /// <summary>Undoes what the last training pass changed besides the caches (BatchNorm's running statistics and the
    /// dropout step), for a pass whose results are not finite.</summary>
    private protected void UndoTrainingPass()
    {
        _statisticsBefore.CopyTo(_state.AllStatistics);
        _state.DropoutStep = _dropoutStepBefore;
        _cachedBatch = 0;
        _observedBatch = 0;
    }

    /// <summary>Marks the calling thread as inside a public call; false when it already was (a nested call). Throws when
    /// another thread is inside one.</summary>
    /// <exception cref="InvalidOperationException">Another thread is inside a public call of this network.</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private protected bool Enter()
    {
        int me = Environment.CurrentManagedThreadId;
        int owner = Interlocked.CompareExchange(ref _busyThread, me, 0);
        if (owner == 0) return true;
        if (owner != me) ThrowHelper.ThrowConcurrentUse(GetType().Name, owner, me);
        return false;
    }

    /// <summary>Ends the public call <see cref="Enter"/> began (when it began one).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private protected void Exit(bool entered)
    {
        if (entered) Volatile.Write(ref _busyThread, 0);
    }

    /// <summary>Throws <see cref="ArithmeticException"/> naming the first non-finite value of <paramref name="outputs"/>.</summary>
    private static void ThrowIfOverflowed(ReadOnlySpan<T> outputs, int width, string call)
    {
        int bad = Elementwise.IndexOfNonFinite(outputs);
        if (bad >= 0) ThrowHelper.ThrowOverflowed(call, bad / width, bad % width, double.CreateTruncating(outputs[bad]), typeof(T).Name);
    }

    /// <summary>The BatchNorm layer and statistic an index of the statistics buffer belongs to.</summary>
    private string StatisticName(int index)
    {
        foreach (LayerInfo layer in _model.Layers)
            foreach (LayerTensor tensor in layer.Tensors)
                if (tensor.IsState && index >= tensor.Offset && index < tensor.Offset + tensor.Length)
                    return $"{layer.Name}.{tensor.Name}[{index - tensor.Offset}]";
        return $"[{index}]";
    }

    /// <summary>The parameter tensor and index an index of the arena belongs to.</summary>
    private protected string ParameterName(int index)
    {
        foreach (ParameterTensor tensor in _model.Tensors)
            if (index >= tensor.Offset && index < tensor.Offset + tensor.Length)
                return $"{tensor.Name}[{index - tensor.Offset}]";
        return $"[{index}]";
    }

    /// <summary>The outputs of the last training forward pass.</summary>
    private protected ReadOnlySpan<T> TrainingOutputs(ReadOnlySpan<T> inputs, int batch) =>
        _model.Layers.Count == 0 ? inputs : _state.Work(_model.LayerOutputRegions[_model.Layers.Count - 1], batch * _outputSize);

    /// <summary>Σ over weight tensors of ½λ2‖W‖² + λ1‖W‖₁; with <paramref name="addGradients"/>, also adds λ2·W + λ1·sign(W)
    /// to their gradients.</summary>
    private protected double WeightPenalty(bool addGradients)
    {
        double penalty = 0;
        IReadOnlyList<LayerInfo> layers = _model.Layers;
        for (int i = 0; i < layers.Count; i++) // indexed: a foreach over the interface would allocate an enumerator
        {
            if (layers[i].Tensor(TensorRole.Weight) is not { } w || (w.L1 <= 0 && w.L2 <= 0)) continue;
            Span<T> weights = _state.Parameters(w.Offset, w.Length), gradient = _state.Gradients(w.Offset, w.Length);
            if (w.L2 > 0)
            {
                penalty += 0.5 * w.L2 * Regularization.SumOfSquares<T>(weights);
                if (addGradients) Regularization.AddL2Gradient<T>(gradient, weights, T.CreateTruncating(w.L2));
            }
            if (w.L1 > 0)
            {
                penalty += w.L1 * Regularization.SumOfAbs<T>(weights);
                if (addGradients) Regularization.AddL1Gradient<T>(gradient, weights, T.CreateTruncating(w.L1));
            }
        }
        return penalty;
    }

    /// <summary>Σ over layers of λ/B·Σ|a| on the outputs of the last training forward pass.</summary>
    private protected double TrainingActivityPenalty(int batch)
    {
        double activity = 0;
        for (int i = 0; i < _model.Layers.Count; i++)
        {
            LayerInfo layer = _model.Layers[i];
            if (layer.ActivityL1 > 0)
                activity += layer.ActivityL1 / batch * Regularization.SumOfAbs<T>(_state.Work(_model.LayerOutputRegions[i], batch * layer.OutputFeatures));
        }
        return activity;
    }

    /// <summary>
    /// Appends the branch of every piecewise-defined value of the last training forward pass to
    /// <paramref name="signature"/>: each kinked activation's branch (from what its backward reads, per the catalog's
    /// <see cref="ActivationDescriptor.Branch"/>), each maxout unit's winning piece, and the sign of every output under an
    /// activity L1 penalty. Two passes whose signatures differ crossed a non-differentiable point between them.
    /// </summary>
    internal void AppendKinkSignature(ReadOnlySpan<T> inputs, List<int> signature)
    {
        IReadOnlyList<LayerInfo> layers = _model.Layers;
        for (int i = 0; i < layers.Count; i++)
        {
            LayerInfo layer = layers[i];
            ReadOnlySpan<T> output = LayerOutput(i);
            if (layer.Activation != Activation.Identity && OpCatalog.IsKnown(layer.Activation) && OpCatalog.Get(layer.Activation) is { Branch: { } branch } activation)
            {
                ReadOnlySpan<T> values = activation.Backward == BackwardInput.Output ? output
                    : layer.HasWeights ? SavedValues(i, layer.OutputFeatures)
                    : i == 0 ? inputs.Slice(0, output.Length) : LayerOutput(i - 1);
                foreach (T v in values) signature.Add(branch(double.CreateTruncating(v), layer.ActivationParameter));
            }
            if (layer.CustomActivationBranch is { } customBranch)
            {
                // A user's activation keeps its pre-activation (dense layers) or reads its input (standalone).
                ReadOnlySpan<T> values = layer.HasWeights ? SavedValues(i, layer.OutputFeatures) : i == 0 ? inputs.Slice(0, output.Length) : LayerOutput(i - 1);
                foreach (T v in values) signature.Add(customBranch(double.CreateTruncating(v)));
            }
            if (layer.Kind == LayerKind.Maxout)
            {
                int pieces = (int)layer.Option("Pieces");
                ReadOnlySpan<T> z = SavedValues(i, layer.OutputFeatures * pieces);
                for (int u = 0; u + pieces <= z.Length; u += pieces)
                {
                    int best = 0;
                    for (int k = 1; k < pieces; k++) if (z[u + k] > z[u + best]) best = k;
                    signature.Add(best);
                }
            }
            if (layer.ActivityL1 > 0)
                foreach (T v in output) signature.Add(T.Sign(v));
        }
    }

    /// <summary>What layer <paramref name="layer"/>'s backward pass keeps besides its output (maxout's pieces, a kept
    /// pre-activation) from the last training forward pass, or an empty span.</summary>
    internal ReadOnlySpan<T> SavedValues(int layer, int perSample)
    {
        int region = layer < _model.LayerSavedRegions.Count ? _model.LayerSavedRegions[layer] : -1;
        return region < 0 || _observedBatch == 0 ? default : _state.Work(region, _observedBatch * perSample);
    }
}
