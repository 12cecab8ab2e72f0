using System;
using KernelGen.Optimization;

namespace KernelGen.Training;

/// <summary>
/// A copy of everything a training step changes, taken without allocation so that the trainer can undo an epoch
/// whose loss exploded: the parameter arena, the BatchNorm running statistics, the optimizer's state arenas (momentum
/// buffers, moment estimates, accumulators), its step count (which drives bias correction and the schedule) and NAdam
/// momentum product, and the dropout seed and step (which pick the masks). These are the pieces a checkpoint saves
/// (see <see cref="Checkpoints.Checkpoint"/>), less configuration that steps never change (settings, base learning
/// rate, schedule, clipping). Restoring the parameters alone is not enough: a momentum buffer blown up by the
/// exploding steps keeps pushing the restored parameters away at any learning rate.
/// </summary>
internal sealed class TrainingState
{
    private readonly INeuralNetwork<float> _network;
    private readonly Optimizer<float> _optimizer;
    private readonly float[] _parameters;
    private readonly float[] _statistics;
    private readonly float[][] _slots;
    private long _stepCount;
    private double _momentumProduct;
    private ulong _dropoutSeed;
    private ulong _dropoutStep;

    /// <summary>Allocates room for <paramref name="network"/>'s state and copies it.</summary>
    public TrainingState(INeuralNetwork<float> network, Optimizer<float> optimizer)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(optimizer);
        _network = network;
        _optimizer = optimizer;
        _parameters = new float[network.Parameters.Length];
        _statistics = new float[network.RunningStatistics.Length];
        _slots = new float[optimizer.StateSlots][];
        for (int slot = 0; slot < _slots.Length; slot++) _slots[slot] = new float[optimizer.State(slot).Length];
        Capture(0);
    }

    /// <summary>The epoch after which the copy was taken (0: before training).</summary>
    public int Epoch { get; private set; }

    /// <summary>Overwrites this copy with the network's current state, taken after <paramref name="epoch"/>. Allocates nothing.</summary>
    public void Capture(int epoch)
    {
        INeuralNetwork<float> network = _network;
        Epoch = epoch;
        network.Parameters.CopyTo(_parameters);
        network.RunningStatistics.CopyTo(_statistics);
        Optimizer<float> optimizer = _optimizer;
        for (int slot = 0; slot < _slots.Length; slot++) optimizer.State(slot).CopyTo(_slots[slot]);
        _stepCount = optimizer.StepCount;
        _momentumProduct = optimizer.MomentumProduct;
        _dropoutSeed = network.DropoutSeed;
        _dropoutStep = network.DropoutStep;
    }

    /// <summary>Writes this copy back into the network it was taken from. Allocates nothing.</summary>
    public void Restore()
    {
        INeuralNetwork<float> network = _network;
        _parameters.CopyTo(network.Parameters);
        _statistics.CopyTo(network.RunningStatistics);
        Optimizer<float> optimizer = _optimizer;
        for (int slot = 0; slot < _slots.Length; slot++) _slots[slot].CopyTo(optimizer.State(slot));
        optimizer.StepCount = _stepCount;
        optimizer.MomentumProduct = _momentumProduct;
        network.DropoutSeed = _dropoutSeed;
        network.DropoutStep = _dropoutStep;
        network.Gradients.Clear(); // the exploded step's gradients; the next step recomputes them
    }
}
