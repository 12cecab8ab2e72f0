using KernelGen;

namespace KernelGen.Benchmarks;

/// <summary>
/// The benchmark network: 784 inputs → 256 ReLU → 128 ReLU → 10 class logits, softmax cross-entropy, SGD
/// (235,146 parameters). The generator emits the float network here and the double one as <c>Mlp.Float64</c>.
/// </summary>
[Network(784)]
[Dense(256, Activation.ReLU)]
[Dense(128, Activation.ReLU)]
[Dense(10)]
[SoftmaxCrossEntropyLoss]
[Sgd(0.01)]
public partial class Mlp;

/// <summary>The same network with Adam (η = 10⁻³), as in the PyTorch and TorchSharp comparison.</summary>
[Network(784)]
[Dense(256, Activation.ReLU)]
[Dense(128, Activation.ReLU)]
[Dense(10)]
[SoftmaxCrossEntropyLoss]
[Adam(0.001)]
public partial class AdamMlp;
