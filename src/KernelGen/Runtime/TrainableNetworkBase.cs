using System;
using System.Numerics;
using System.Runtime.InteropServices;
using KernelGen.Catalog;
using KernelGen.Kernels;
using KernelGen.Operators;
using KernelGen.Optimization;

namespace KernelGen.Runtime;

/// <summary>
/// The base class of generated networks with a loss: validation of labels or targets by the loss's
/// <see cref="LabelKind"/>, the evaluation-mode <see cref="Loss"/>, and <see cref="ComputeGradients(ReadOnlySpan{T}, ReadOnlySpan{TLabel}, LossTerms)"/>
/// (training forward, loss gradient, backward, penalties). The generated class supplies the loss kernel call.
/// </summary>
/// <typeparam name="T">The element type.</typeparam>
/// <typeparam name="TLabel"><see cref="int"/> for class indices, <typeparamref name="T"/> for target vectors.</typeparam>
public abstract class LossNetworkBase<T, TLabel> : NetworkBase<T>, ILossNetwork<T, TLabel>
    where T : unmanaged, IBinaryFloatingPointIeee754<T> where TLabel : unmanaged
{
    private readonly LabelKind _labels;
    private T _lastDataLoss;

    /// <summary>Allocates the buffers (see <see cref="NetworkBase{T}"/>).</summary>
    protected LossNetworkBase(NetworkModel model, int maxBatchSize) : base(model, maxBatchSize)
    {
        if (model.Loss is not { } loss) throw new ArgumentException("The model has no loss.", nameof(model));
        _labels = OpCatalog.Get(loss).Labels;
        if ((_labels == LabelKind.ClassIndex) != (typeof(TLabel) == typeof(int)) || (_labels != LabelKind.ClassIndex && typeof(TLabel) != typeof(T)))
            throw new ArgumentException($"The {loss} loss takes {_labels}, not spans of {typeof(TLabel).Name}.", nameof(model));
    }

    /// <summary>The data loss alone (without penalties) of the last <see cref="Loss"/>, ComputeGradients or TrainStep.</summary>
    public T LastDataLoss => _lastDataLoss;

    /// <summary>The mean loss over the batch (plus the weight and activity penalties), computed in evaluation mode; no
    /// caches or gradients change.</summary>
    /// <exception cref="ArgumentException">A span has the wrong length, or an input, label or target is invalid.</exception>
    /// <exception cref="InvalidOperationException">Another thread is using this network.</exception>
    public T Loss(ReadOnlySpan<T> inputs, ReadOnlySpan<TLabel> labels)
    {
        bool entered = Enter();
        try { return LossCore(inputs, labels); }
        finally { Exit(entered); }
    }

    private T LossCore(ReadOnlySpan<T> inputs, ReadOnlySpan<TLabel> labels)
    {
        int batch = ValidateBatch(inputs, labels);
        Span<T> outputs = State.Work(Model.OutputGradientRegion, batch * OutputSize);
        State.ActivityPenalty = 0;
        Infer(inputs, outputs, batch);
        T data = EvaluateLoss(outputs, labels, default, batch);
        _lastDataLoss = data;
        if (!Model.HasPenalties) return data;
        return data + T.CreateTruncating(WeightPenalty(addGradients: false) + State.ActivityPenalty);
    }

    /// <summary>Forward (training mode), loss and backward: fills <see cref="NetworkBase{T}.Gradients"/> and returns the
    /// mean loss plus the penalties. Invalidates the caches of <see cref="NetworkBase{T}.Forward"/>.</summary>
    public T ComputeGradients(ReadOnlySpan<T> inputs, ReadOnlySpan<TLabel> labels) => ComputeGradients(inputs, labels, LossTerms.All);

    /// <inheritdoc/>
    /// <exception cref="ArithmeticException">A BatchNorm running statistic would become non-finite; the statistics and the
    /// dropout step are restored.</exception>
    /// <exception cref="InvalidOperationException">Another thread is using this network.</exception>
    public T ComputeGradients(ReadOnlySpan<T> inputs, ReadOnlySpan<TLabel> labels, LossTerms terms)
    {
        bool entered = Enter();
        try { return ComputeGradientsCore(inputs, labels, terms); }
        finally { Exit(entered); }
    }

    private protected T ComputeGradientsCore(ReadOnlySpan<T> inputs, ReadOnlySpan<TLabel> labels, LossTerms terms)
    {
        if ((terms & ~LossTerms.All) != 0 || terms == 0)
            ThrowHelper.ThrowArgumentOutOfRange(nameof(terms), terms, "Choose Data, Penalties or All.");
        int batch = ValidateBatch(inputs, labels);
        RunTraining(inputs, batch);
        Span<T> gradient = State.Work(Model.OutputGradientRegion, batch * OutputSize);
        T loss = EvaluateLoss(TrainingOutputs(inputs, batch), labels, gradient, batch);
        _lastDataLoss = loss;
        bool penalties = (terms & LossTerms.Penalties) != 0 && Model.HasPenalties;
        if ((terms & LossTerms.Data) == 0)
        {
            gradient.Clear();
            loss = T.Zero;
        }
        Propagate(inputs, batch, default, penalties);
        if (penalties) loss += T.CreateTruncating(WeightPenalty(addGradients: true) + TrainingActivityPenalty(batch));
        ZeroFrozenGradients();
        return loss;
    }

    /// <summary>
    /// The training-mode loss of the chosen terms, without backward (for numerical differentiation): runs the training
    /// forward (which updates BatchNorm's running statistics and advances the dropout step, as any training pass does)
    /// and the loss, and adds the penalties when asked; leaves the gradients alone.
    /// </summary>
    internal T TrainingLoss(ReadOnlySpan<T> inputs, ReadOnlySpan<TLabel> labels, LossTerms terms)
    {
        int batch = ValidateBatch(inputs, labels);
        RunTraining(inputs, batch);
        T loss = (terms & LossTerms.Data) != 0 ? EvaluateLoss(TrainingOutputs(inputs, batch), labels, default, batch) : T.Zero;
        if ((terms & LossTerms.Penalties) != 0 && Model.HasPenalties)
            loss += T.CreateTruncating(WeightPenalty(addGradients: false) + TrainingActivityPenalty(batch));
        return loss;
    }

    /// <summary>The outputs of the last training forward pass (for the loss's kinks).</summary>
    internal ReadOnlySpan<T> LastTrainingOutputs(ReadOnlySpan<T> inputs, int batch) => TrainingOutputs(inputs, batch);

    /// <summary>The loss kernel: returns the mean data loss of <paramref name="outputs"/> and, unless
    /// <paramref name="gradient"/> is empty, writes ∂L/∂outputs into it. Generated.</summary>
    protected abstract T EvaluateLoss(ReadOnlySpan<T> outputs, ReadOnlySpan<TLabel> labels, Span<T> gradient, int batch);

    private int ValidateBatch(ReadOnlySpan<T> inputs, ReadOnlySpan<TLabel> labels)
    {
        int batch = ThrowHelper.GetBatchSize(inputs.Length, InputSize, MaxBatchSize, nameof(inputs));
        if (_labels == LabelKind.ClassIndex)
        {
            ThrowHelper.ThrowIfLengthNotEqual(labels.Length, batch, nameof(labels));
            Kernels.Loss.ValidateLabels(MemoryMarshal.Cast<TLabel, int>(labels), OutputSize, nameof(labels));
        }
        else
        {
            ReadOnlySpan<T> targets = MemoryMarshal.Cast<TLabel, T>(labels);
            ThrowHelper.ThrowIfLengthNotEqual(targets.Length, batch * OutputSize, "targets");
            Elementwise.ThrowIfNotFinite(targets, "targets");
            if (_labels == LabelKind.Distributions) LossFunctions.ValidateDistribution(targets, batch, OutputSize, "targets");
            if (_labels == LabelKind.Probabilities) LossFunctions.ValidateProbabilities(targets, "targets");
        }
        Elementwise.ThrowIfNotFinite(inputs, nameof(inputs));
        return batch;
    }
}

/// <summary>
/// The base class of generated networks with a loss and an optimizer: the <see cref="Optimizer"/> over the parameter
/// arena, <see cref="LearningRate"/>, <see cref="ApplyGradients"/> and <see cref="TrainStep"/>.
/// </summary>
public abstract class TrainableNetworkBase<T, TLabel> : LossNetworkBase<T, TLabel>, ITrainableNetwork<T, TLabel>
    where T : unmanaged, IBinaryFloatingPointIeee754<T> where TLabel : unmanaged
{
    private readonly Optimizer<T> _optimizer;

    /// <summary>Allocates the buffers and the optimizer's state arenas.</summary>
    protected TrainableNetworkBase(NetworkModel model, OptimizerSettings settings, LearningRateSchedule schedule, GradientClipping clipping, int maxBatchSize)
        : base(model, maxBatchSize)
    {
        _optimizer = new Optimizer<T>(settings, model.ArenaLength, model.Tensors, schedule, clipping);
    }

    /// <summary>The optimizer: settings, schedule, clipping, state arenas and step count.</summary>
    public Optimizer<T> Optimizer => _optimizer;

    /// <summary>
    /// Scales the learning rate of layer <paramref name="layerName"/>'s parameters by <paramref name="multiplier"/> (PyTorch's
    /// per-parameter-group <c>lr</c>: the schedule's rate times the multiplier, also in AdamW's decoupled decay); 0 leaves
    /// them unchanged, like freezing their update. Default 1.
    /// </summary>
    /// <exception cref="ArgumentException">No layer has that name.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The multiplier is negative or not finite.</exception>
    public void SetLearningRateMultiplier(string layerName, double multiplier)
    {
        LayerInfo layer = FindLayer(layerName);
        if (!(multiplier >= 0 && double.IsFinite(multiplier))) ThrowHelper.ThrowArgumentOutOfRange(nameof(multiplier), multiplier, "The multiplier must be at least 0 and finite.");
        foreach (LayerTensor t in layer.Tensors) if (!t.IsState) _optimizer.SetLearningRateMultiplier(t.Offset, multiplier);
    }

    /// <summary>The optimizer skips a frozen layer's tensors.</summary>
    private protected override void OnFrozenChanged(LayerInfo layer, bool frozen)
    {
        foreach (LayerTensor t in layer.Tensors) if (!t.IsState) _optimizer.SetFrozen(t.Offset, frozen);
    }

    /// <summary>The base learning rate η (a schedule scales it per step); must be positive and finite.</summary>
    public T LearningRate
    {
        get => T.CreateTruncating(_optimizer.LearningRate);
        set => _optimizer.LearningRate = double.CreateTruncating(value);
    }

    /// <summary>One update over the whole parameter arena from the current <see cref="NetworkBase{T}.Gradients"/> (one
    /// fused pass per tensor).</summary>
    /// <exception cref="ArithmeticException">A gradient is NaN or infinite, or the gradients' sum of squares overflows;
    /// nothing was updated.</exception>
    /// <exception cref="InvalidOperationException">Another thread is using this network.</exception>
    public void ApplyGradients()
    {
        bool entered = Enter();
        try
        {
            ThrowIfGradientsOverflow(undoPass: false);
            _optimizer.Step(Parameters, Gradients);
        }
        finally { Exit(entered); }
    }

    /// <summary>
    /// One training step: forward, loss, backward and update. Returns the mean loss before the update.
    /// </summary>
    /// <exception cref="ArithmeticException">The loss, a BatchNorm running statistic or a gradient is not finite (or the
    /// gradients' sum of squares overflows): training diverged or the inputs overflow the arithmetic. The
    /// running statistics and the dropout step are restored and nothing is updated: the network is as before the call.</exception>
    /// <exception cref="InvalidOperationException">Another thread is using this network.</exception>
    public T TrainStep(ReadOnlySpan<T> inputs, ReadOnlySpan<TLabel> labels)
    {
        bool entered = Enter();
        try
        {
            T loss = ComputeGradientsCore(inputs, labels, LossTerms.All);
            if (!T.IsFinite(loss))
            {
                UndoTrainingPass();
                ThrowHelper.ThrowNonFiniteLoss(double.CreateTruncating(loss));
            }
            ThrowIfGradientsOverflow(undoPass: true);
            _optimizer.Step(Parameters, Gradients);
            return loss;
        }
        finally { Exit(entered); }
    }

    /// <summary>The largest gradient magnitude an update accepts: its square must stay finite in the optimizer's state.</summary>
    private static readonly T GradientBound = T.CreateTruncating(typeof(T) == typeof(float) ? MathF.Sqrt(float.MaxValue) : Math.Sqrt(double.MaxValue));

    /// <summary>Throws (after undoing the training pass when asked) unless the gradients' sum of squares is finite, which
    /// proves every gradient finite with a finite square: one load and one FMA per vector over the gradient arena.</summary>
    private void ThrowIfGradientsOverflow(bool undoPass)
    {
        if (T.IsFinite(Elementwise.SumOfSquares<T>(Gradients))) return;
        if (undoPass) UndoTrainingPass();
        int bad = Elementwise.IndexOfNotBelow<T>(Gradients, GradientBound);
        if (bad < 0) ThrowHelper.ThrowGradientNormOverflow();
        ThrowHelper.ThrowGradientOverflow(ParameterName(bad), double.CreateTruncating(Gradients[bad]), double.CreateTruncating(GradientBound));
    }

    /// <inheritdoc/>
    protected override void OnInitialize() => _optimizer?.Reset();
}
