using KernelGen;

namespace KernelGen.Demo;

/// <summary>The demo network: 2 inputs → 100 ReLU units → 3 class logits, softmax cross-entropy, SGD.</summary>
[Network(2)]
[Dense(100, Activation.ReLU)]
[Dense(3)]
[SoftmaxCrossEntropyLoss]
[Sgd(1.0)]
public partial class SpiralNet;
