using KernelGen;

namespace KernelGen.Toolkit.Tests;

/// <summary>Checkpoint tests: BatchNorm (running statistics), dropout (seed and step) and Adam (two state slots,
/// bias correction through the step count), with a schedule so the step count also drives the learning rate.</summary>
[Network(6)]
[Dense(10, Activation.ReLU)]
[BatchNorm]
[Dropout(0.2)]
[Dense(3)]
[SoftmaxCrossEntropyLoss]
[Adam(0.01)]
[ExponentialDecay(0.99)]
public partial class CheckpointNet;

/// <summary>Same as <see cref="CheckpointNet"/> but with 11 hidden units: a different specification (fingerprint).</summary>
[Network(6)]
[Dense(11, Activation.ReLU)]
[BatchNorm]
[Dropout(0.2)]
[Dense(3)]
[SoftmaxCrossEntropyLoss]
[Adam(0.01)]
[ExponentialDecay(0.99)]
public partial class OtherCheckpointNet;

/// <summary>NAdam (momentum product) with target vectors.</summary>
[Network(4)]
[Dense(5, Activation.Tanh)]
[Dense(2)]
[L2Loss]
[NAdam(0.01)]
public partial class NAdamCheckpointNet;

/// <summary>Plain SGD: no optimizer state arenas.</summary>
[Network(4)]
[Dense(3)]
[L2Loss]
[Sgd(0.1)]
public partial class SgdCheckpointNet;

/// <summary>SGD with momentum: one state arena, but the same fingerprint as <see cref="SgdCheckpointNet"/> (the fingerprint
/// covers the optimizer kind, not its hyperparameters).</summary>
[Network(4)]
[Dense(3)]
[L2Loss]
[Sgd(0.1, Momentum = 0.9)]
public partial class MomentumCheckpointNet;

/// <summary>No loss and no optimizer: an inference-only network.</summary>
[Network(4)]
[Dense(3, Activation.Tanh)]
public partial class PlainCheckpointNet;
