using KernelGen;

namespace KernelGen.Demo;

/// <summary>The spiral network: 2 inputs → 100 ReLU units → 3 class logits, softmax cross-entropy, SGD (CS231n's toy example).</summary>
[Network(2)]
[Dense(100, Activation.ReLU)]
[Dense(3)]
[SoftmaxCrossEntropyLoss]
[Sgd(1.0)]
public partial class SpiralNet;

/// <summary>
/// The Fashion-MNIST MLP of the benchmarks, declared on the images' shape (one 28 × 28 grey plane, flattened to 784
/// features): 784 → 256 ReLU → 128 ReLU → 10, softmax cross-entropy, Adam (η = 10⁻³), the learning rate annealed by a
/// cosine over 20 epochs of 860 batches of 64 (55,000 training images).
/// </summary>
[Network(1, 28, 28)]
[Flatten]
[Dense(256, Activation.ReLU)]
[Dense(128, Activation.ReLU)]
[Dense(10)]
[SoftmaxCrossEntropyLoss]
[Adam(0.001)]
[CosineAnnealing(17200)]
public partial class FashionMlp;

/// <summary>
/// The Fashion-MNIST convnet: a 3×3 convolution to 16 channels, then two to 32 ("same" padding), each followed by batch
/// normalization over the channel (statistics over N·H·W) and ReLU, with 2×2 max pooling after the first and the third;
/// then 1568 → 128 ReLU → 10 with dropout before the classifier; softmax cross-entropy, Adam (η = 10⁻³) annealed by a
/// cosine over 12 epochs of 860 batches.
/// </summary>
[Network(1, 28, 28)]
[Conv2D(16, 3, PaddingMode = PaddingMode.Same)]
[BatchNorm]
[ReLU]
[MaxPool2D(2)]
[Conv2D(32, 3, PaddingMode = PaddingMode.Same)]
[BatchNorm]
[ReLU]
[Conv2D(32, 3, PaddingMode = PaddingMode.Same)]
[BatchNorm]
[ReLU]
[MaxPool2D(2)]
[Flatten]
[Dense(128, Activation.ReLU)]
[Dropout(0.3)]
[Dense(10)]
[SoftmaxCrossEntropyLoss]
[Adam(0.001)]
[CosineAnnealing(10320)]
public partial class FashionConvnet;

/// <summary>
/// The transfer-learning example's pretraining network: a convolutional backbone (conv 3×3 ×16 → BN → ReLU → pool, conv
/// 3×3 ×32 → BN → ReLU → pool, 1568 → 128 ReLU) and a 5-class head, trained on Fashion-MNIST classes 0–4.
/// </summary>
[Network(1, 28, 28)]
[Conv2D(16, 3, PaddingMode = PaddingMode.Same, Name = "Conv1")] [BatchNorm(Name = "Norm1")] [ReLU] [MaxPool2D(2)]
[Conv2D(32, 3, PaddingMode = PaddingMode.Same, Name = "Conv2")] [BatchNorm(Name = "Norm2")] [ReLU] [MaxPool2D(2)]
[Flatten]
[Dense(128, Activation.ReLU, Name = "Features")]
[Dense(5, Name = "Head")]
[SoftmaxCrossEntropyLoss]
[Adam(0.001)]
public partial class PretrainNet;

/// <summary>The same backbone (same layer names) with a new 5-class head for classes 5–9: only the backbone's tensors match a
/// <see cref="PretrainNet"/> checkpoint by name.</summary>
[Network(1, 28, 28)]
[Conv2D(16, 3, PaddingMode = PaddingMode.Same, Name = "Conv1")] [BatchNorm(Name = "Norm1")] [ReLU] [MaxPool2D(2)]
[Conv2D(32, 3, PaddingMode = PaddingMode.Same, Name = "Conv2")] [BatchNorm(Name = "Norm2")] [ReLU] [MaxPool2D(2)]
[Flatten]
[Dense(128, Activation.ReLU, Name = "Features")]
[Dense(5, Name = "NewHead")]
[SoftmaxCrossEntropyLoss]
[Adam(0.001)]
public partial class FineTuneNet;

/// <summary>
/// A small RepVGG-style network for Fashion-MNIST (only with <c>--repvgg N</c>; the benchmarks declare the same network as
/// <c>BenchRepVgg</c>): stem conv 3×3 ×16 + BatchNorm + ReLU, then four blocks (16 channels stride 1, 32 stride 2, 32
/// stride 1, 64 stride 2), each summing a 3×3 convolution + BatchNorm, a 1×1 convolution + BatchNorm and, where stride is
/// 1 and the channels match, a BatchNorm of the block's input, then ReLU; global average pooling, 10 logits, softmax
/// cross-entropy, Adam (η = 10⁻³). Its inference form re-parameterizes each block into one 3×3 convolution with a bias.
/// </summary>
[Network(1, 28, 28)]
[Conv2D(16, 3, Padding = 1, Name = "Stem")] [BatchNorm] [ReLU(Name = "x1")]
[Conv2D(16, 3, Padding = 1, Bias = false, Name = "B1k3")] [BatchNorm(Name = "B1n3")]
[Conv2D(16, 1, Bias = false, From = "x1", Name = "B1k1")] [BatchNorm(Name = "B1n1")]
[BatchNorm(From = "x1", Name = "B1id")]
[Add("B1n3", "B1n1", "B1id", Name = "Block1")] [ReLU(Name = "x2")]
[Conv2D(32, 3, Padding = 1, Stride = 2, Bias = false, Name = "B2k3")] [BatchNorm(Name = "B2n3")]
[Conv2D(32, 1, Stride = 2, Bias = false, From = "x2", Name = "B2k1")] [BatchNorm(Name = "B2n1")]
[Add("B2n3", "B2n1", Name = "Block2")] [ReLU(Name = "x3")]
[Conv2D(32, 3, Padding = 1, Bias = false, Name = "B3k3")] [BatchNorm(Name = "B3n3")]
[Conv2D(32, 1, Bias = false, From = "x3", Name = "B3k1")] [BatchNorm(Name = "B3n1")]
[BatchNorm(From = "x3", Name = "B3id")]
[Add("B3n3", "B3n1", "B3id", Name = "Block3")] [ReLU(Name = "x4")]
[Conv2D(64, 3, Padding = 1, Stride = 2, Bias = false, Name = "B4k3")] [BatchNorm(Name = "B4n3")]
[Conv2D(64, 1, Stride = 2, Bias = false, From = "x4", Name = "B4k1")] [BatchNorm(Name = "B4n1")]
[Add("B4n3", "B4n1", Name = "Block4")] [ReLU]
[GlobalAveragePool]
[Dense(10)]
[SoftmaxCrossEntropyLoss]
[Adam(0.001)]
public partial class FashionRepVgg;
