using KernelGen;
using KernelGen.Demo;

namespace KernelGen.Toolkit.Tests;

/// <summary>The demo's spiral classifier with Adam.</summary>
[Network(2)]
[Dense(64, Activation.ReLU)]
[Dense(3)]
[SoftmaxCrossEntropyLoss]
[Adam(0.01)]
public partial class SpiralClassifier;

/// <summary>A wide network that over-fits a handful of points (early stopping).</summary>
[Network(2)]
[Dense(200, Activation.Tanh)]
[Dense(200, Activation.Tanh)]
[Dense(3)]
[SoftmaxCrossEntropyLoss]
[Adam(0.02)]
public partial class OverfittingNet;

/// <summary>Plain SGD (its learning rate is raised at run time to make it explode).</summary>
[Network(2)]
[Dense(32, Activation.ReLU)]
[Dense(3)]
[SoftmaxCrossEntropyLoss]
[Sgd(0.1, Momentum = 0.9)]
public partial class SgdSpiral;

/// <summary>LSUV on every layer, with BatchNorm and dropout to check the state LSUV must leave alone.</summary>
[Network(20)]
[Dense(64, Activation.Tanh, Init = Init.Lsuv)]
[Dropout(0.2)]
[Dense(48, Activation.ReLU, Init = Init.Lsuv)]
[BatchNorm]
[Dense(10, Init = Init.Lsuv)]
[SoftmaxCrossEntropyLoss]
public partial class LsuvNet;

/// <summary>A small Fashion-MNIST classifier for the CI accuracy bar.</summary>
[Network(784)]
[Dense(128, Activation.ReLU)]
[Dense(10)]
[SoftmaxCrossEntropyLoss]
[Adam(0.001)]
public partial class SmallFashionNet;

/// <summary>SGDR: the learning rate restarts every 100 steps (10 epochs of 10 batches), for snapshot ensembles.</summary>
[Network(2)]
[Dense(64, Activation.ReLU)]
[Dense(3)]
[SoftmaxCrossEntropyLoss]
[Sgd(0.5, Momentum = 0.9)]
[WarmRestarts(100)]
public partial class CyclicSpiral;

/// <summary>The same classifier as <see cref="SmallFashionNet"/>, declared on the images' own shape: one 28 × 28 grey
/// plane per sample, flattened before the first dense layer.</summary>
[Network(1, 28, 28)]
[Flatten]
[Dense(128, Activation.ReLU)]
[Dense(10)]
[SoftmaxCrossEntropyLoss]
[Adam(0.001)]
public partial class ImageFashionNet;

/// <summary>BatchNorm between two dense layers: a batch of one row cannot be normalized in training mode.</summary>
[Network(2)]
[Dense(16, Activation.ReLU)]
[BatchNorm]
[Dense(3)]
[SoftmaxCrossEntropyLoss]
[Adam(0.01)]
public partial class BatchNormSpiral;

/// <summary>Binary classification: one logit, binary cross-entropy on it (the README's binary example).</summary>
[Network(2)]
[Dense(32, Activation.Tanh)]
[Dense(1)]
[BinaryCrossEntropyLoss]
[Adam(0.02)]
public partial class BinaryNet;

/// <summary>Multi-label classification: three independent logits (the README's multi-label example).</summary>
[Network(2)]
[Dense(32, Activation.Tanh)]
[Dense(3)]
[BinaryCrossEntropyLoss]
[Adam(0.02)]
public partial class MultiLabelNet;

/// <summary>Regression with the L2 loss (the README's regression example).</summary>
[Network(2)]
[Dense(32, Activation.Tanh)]
[Dense(1)]
[L2Loss]
[Adam(0.01)]
public partial class RegressionNet;

/// <summary>Target distributions with KL divergence.</summary>
[Network(2)]
[Dense(32, Activation.Tanh)]
[Dense(3)]
[KLDivergenceLoss]
[Adam(0.02)]
public partial class DistributionNet;

// The README's "Every task from a CSV file" networks, declared exactly as there (ReadmeTaskExampleTests runs its lines).

[Network(4)]
[Dense(64, Activation.ReLU)]
[Dense(3)]
[SoftmaxCrossEntropyLoss]
[Adam(0.01)]
public partial class TabularClassifier;

[Network(4)]
[Dense(64, Activation.Tanh)]
[Dense(1)]
[BinaryCrossEntropyLoss]
[Adam(0.01)]
public partial class YesNoNet;

[Network(4)]
[Dense(64, Activation.Tanh)]
[Dense(3)]
[BinaryCrossEntropyLoss]
[Adam(0.01)]
public partial class TaggerNet;

[Network(4)]
[Dense(64, Activation.Tanh)]
[Dense(1)]
[L2Loss]
[Adam(0.01)]
public partial class PriceNet;
