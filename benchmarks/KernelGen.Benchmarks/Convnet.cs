using KernelGen;

namespace KernelGen.Benchmarks;

/// <summary>
/// The benchmark convnet, the main job's Fashion-MNIST convnet (<c>FashionConvnet</c> in KernelGen.Demo) without its
/// learning-rate schedule: [1, 28, 28] → conv 3×3 ×16 ("same") → BatchNorm → ReLU → max-pool 2 → conv 3×3 ×32 ("same")
/// → BatchNorm → ReLU → conv 3×3 ×32 ("same") → BatchNorm → ReLU → max-pool 2 → flatten (1568) → 128 ReLU → dropout 0.3
/// → 10 logits; softmax cross-entropy, Adam (η = 10⁻³). 216,330 parameters (160 + 4,640 + 9,248 conv, 32 + 64 + 64
/// BatchNorm, 200,832 + 1,290 dense), plus the BatchNorm running statistics.
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
public partial class BenchConvnet;
