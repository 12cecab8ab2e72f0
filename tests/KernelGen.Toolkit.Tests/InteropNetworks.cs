using KernelGen;

// Networks for the ONNX export and weight import/export tests. Between them they cover every layer kind, every
// activation both fused into a dense layer and standalone, and BatchNorm both foldable (after an identity dense
// layer) and not (first layer, after a fused activation, after maxout).

namespace KernelGen.Toolkit.Tests;

/// <summary>An MNIST-sized classifier (raw logits out; the loss's softmax is not part of the graph).</summary>
[Network(784)]
[Dense(256, Activation.ReLU)]
[Dense(128, Activation.ReLU)]
[Dense(10)]
[SoftmaxCrossEntropyLoss]
[Adam(0.001)]
public partial class OnnxMlp;

/// <summary>Every layer kind once: foldable BatchNorm, fused GELU, LayerNorm, maxout, GroupNorm, dropout, fused LeakyReLU, softmax.</summary>
[Network(6)]
[Dense(10)]
[BatchNorm]
[Tanh]
[Dense(8, Activation.GELU)]
[LayerNorm]
[Maxout(4, 3)]
[GroupNorm(2)]
[Dropout(0.3)]
[Dense(5, Activation.LeakyReLU)]
[Softmax]
public partial class OnnxCatalogNet;

/// <summary>Every activation fused into a dense layer (LeakyReLU and ELU with non-default parameters).</summary>
[Network(5)]
[Dense(7, Activation.Sigmoid)]
[Dense(7, Activation.ELU)]
[Dense(7, Activation.Softplus)]
[Dense(7, Activation.SiLU)]
[Dense(6, Activation.Tanh)]
[Dense(6, Activation.ReLU)]
[Dense(6)]
[LeakyReLU(0.2)]
[Dense(6)]
[Elu(0.5)]
[Dense(6)]
[Gelu(Approximate = true)]
[Dense(6, Activation.GELU)]
[Dense(4, Activation.Identity)]
public partial class OnnxFusedActivationNet;

/// <summary>Every activation as a standalone layer (after normalization layers, so nothing fuses them), and BatchNorm
/// in the places where it cannot be folded: first, after a fused activation, after maxout.</summary>
[Network(6)]
[BatchNorm(Epsilon = 1e-3)]
[ReLU]
[Dense(12, Activation.Tanh)]
[BatchNorm]
[Sigmoid]
[LayerNorm(Epsilon = 1e-4)]
[Tanh]
[GroupNorm(3)]
[LeakyReLU(0.1)]
[LayerNorm]
[Elu(0.5)]
[GroupNorm(4)]
[Softplus]
[LayerNorm]
[SiLU]
[GroupNorm(2)]
[Gelu]
[LayerNorm]
[Gelu(Approximate = true)]
[Maxout(4, 2)]
[BatchNorm]
[Identity]
[Dense(3)]
[BatchNorm]
public partial class OnnxStandaloneActivationNet;

/// <summary>Two foldable BatchNorms in a row of dense layers, the last one ending the network.</summary>
[Network(4)]
[Dense(8)]
[BatchNorm(Epsilon = 1e-2)]
[ReLU]
[Dense(3)]
[BatchNorm]
[L2Loss]
[Sgd(0.01)]
public partial class OnnxFoldNet;

/// <summary>A network of dropout alone: the exported graph is a single Identity.</summary>
[Network(3)]
[Dropout(0.5)]
public partial class OnnxDropoutOnlyNet;

/// <summary>A small net for the weight files: dense, BatchNorm (with running statistics), LayerNorm, maxout, GroupNorm.</summary>
[Network(3)]
[Dense(4, Activation.ReLU)]
[BatchNorm]
[LayerNorm]
[Maxout(2, 3)]
[GroupNorm(2)]
[Dense(2)]
public partial class WeightNet;

/// <summary>Like <see cref="WeightNet"/> with one dense layer wider: the same names, other shapes.</summary>
[Network(3)]
[Dense(5, Activation.ReLU)]
[BatchNorm]
[LayerNorm]
[Maxout(2, 3)]
[GroupNorm(2)]
[Dense(2)]
public partial class WeightNetWide;

/// <summary>A 2 → 3 dense layer only: small enough for hand-written expected file bytes.</summary>
[Network(2)]
[Dense(3)]
public partial class TinyDense;
