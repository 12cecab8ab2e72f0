using KernelGen;

namespace KernelGen.Tests;

// Networks the generator builds for the tests. Widths are chosen so that, for both float (16 lanes in a 512-bit
// register) and double (8 lanes), the dense kernels run their 4-vector panels, their 1-vector panels and their scalar
// column tails, and batches cover the 4-row blocks and the row remainder.

/// <summary>Smooth: sigmoid and tanh, L2 loss. Widths 37 and 70 exercise every column path.</summary>
[Network(19)]
[Dense(37, Activation.Sigmoid)]
[Dense(70, Activation.Tanh)]
[Dense(5)]
[L2Loss]
[Sgd(0.05)]
public partial class SmoothNet;

/// <summary>ReLU hidden layer, softmax cross-entropy on 7 classes.</summary>
[Network(11)]
[Dense(40, Activation.ReLU)]
[Dense(7)]
[SoftmaxCrossEntropyLoss]
[Sgd(0.1)]
public partial class ReluNet;

/// <summary>Standalone activations: one on the input, one fused into a dense layer, one that stays standalone, and an identity layer that disappears.</summary>
[Network(6)]
[Tanh]
[Dense(9)]
[Sigmoid]
[Tanh(Name = "Squash")]
[Dense(4, Init = Init.XavierNormal)]
[Identity]
[L2Loss]
public partial class StandaloneNet;

/// <summary>The reference MLP of the issues: 784-256-128-10, 235,146 parameters.</summary>
[Network(784)]
[Dense(256, Activation.ReLU)]
[Dense(128, Activation.Tanh)]
[Dense(10)]
[SoftmaxCrossEntropyLoss]
[Sgd(0.1)]
public partial class MnistNet;

/// <summary>An inference-only network (no loss, no optimizer).</summary>
[Network(3)]
[Dense(2, Activation.Sigmoid, Init = Init.HeUniform)]
public partial class InferenceNet;
