using KernelGen;

namespace KernelGen.Tests;

// Graph networks (From, [Add], [Concat]) for GraphNetworkTests; the toolkit tests link this file to export the same
// networks to ONNX and PyTorch.

/// <summary>(a) A flat residual MLP: h + body(h), then tanh.</summary>
[Network(6)]
[Dense(16, Activation.Tanh, Name = "h")]
[Dense(16, Activation.Tanh)]
[Dense(16, Name = "body")]
[Add("h", "body")]
[Tanh]
[Dense(3)]
[SoftmaxCrossEntropyLoss]
[Adam(0.01)]
public partial class GraphResidualMlp;

/// <summary>(b) A convolutional residual block with a 1×1 projection shortcut (2 → 4 channels), BatchNorm on both paths.</summary>
[Network(2, 6, 6)]
[Conv2D(4, 3, Padding = 1, Bias = false)]
[BatchNorm]
[ReLU]
[Conv2D(4, 3, Padding = 1, Bias = false)]
[BatchNorm(Name = "main")]
[Conv2D(4, 1, Bias = false, From = "input", Name = "projection")]
[BatchNorm(Name = "shortcut")]
[Add("main", "shortcut")]
[ReLU]
[GlobalAveragePool]
[Dense(3)]
[SoftmaxCrossEntropyLoss]
[Adam(0.01)]
public partial class GraphConvResidual;

/// <summary>(c) Inception-style: a 1×1 and a 3×3 branch, both reading the input, joined along the channels.</summary>
[Network(3, 5, 5)]
[Conv2D(4, 1, Activation.ReLU, Name = "pointwise")]
[Conv2D(3, 3, Activation.Tanh, Padding = 1, From = "input", Name = "spatial")]
[Concat("pointwise", "spatial")]
[Conv2D(2, 1)]
[Flatten]
[Dense(3)]
[SoftmaxCrossEntropyLoss]
[Adam(0.01)]
public partial class GraphInception;

/// <summary>(d) Values read three times: the network input (by a, b and the sum s), and t (by u, and twice by the last sum).</summary>
[Network(5)]
[Dense(5, Activation.Tanh, Name = "a")]
[Dense(5, From = "input", Name = "b")]
[Add("input", "a", "b", Name = "s")]
[Tanh(Name = "t")]
[Dense(5, Name = "u")]
[Add("t", "u", "t")]
[Dense(3)]
[SoftmaxCrossEntropyLoss]
[Sgd(0.05)]
public partial class GraphTripleRead;

/// <summary>(e) A RepVGG training-time block: 3×3 conv + BN, 1×1 conv + BN (no biases) and an identity BN, all reading x,
/// summed, then ReLU.</summary>
[Network(3, 5, 5)]
[Conv2D(4, 3, Activation.Tanh, Padding = 1, Name = "x")]
[Conv2D(4, 3, Padding = 1, Bias = false)]
[BatchNorm(Name = "dense")]
[Conv2D(4, 1, Bias = false, From = "x")]
[BatchNorm(Name = "pointwise")]
[BatchNorm(From = "x", Name = "identity")]
[Add("dense", "pointwise", "identity")]
[ReLU]
[GlobalAveragePool]
[Dense(3)]
[SoftmaxCrossEntropyLoss]
[Adam(0.01)]
public partial class GraphRepVgg;

/// <summary>A value joined with itself and with the input: [a, a, input] along the features.</summary>
[Network(4)]
[Dense(3, Activation.Tanh, Name = "a")]
[Concat("a", "a", "input")]
[Dense(2)]
[L2Loss]
[Sgd(0.1)]
public partial class GraphSelfConcat;
