using KernelGen;

namespace KernelGen.Tests;

// Networks exercising every layer, activation, loss and regularizer of the catalogue.

/// <summary>Every fused activation of the enum.</summary>
[Network(7)]
[Dense(12, Activation.LeakyReLU)]
[Dense(11, Activation.ELU)]
[Dense(10, Activation.Softplus)]
[Dense(9, Activation.SiLU)]
[Dense(8, Activation.GELU)]
[Dense(5)]
[L2Loss]
public partial class ActivationNet;

/// <summary>Standalone, parameterized activations and the softmax layer.</summary>
[Network(6)]
[Dense(9)]
[LeakyReLU(0.1)]
[Dense(8)]
[Elu(0.5)]
[Dense(8)]
[Gelu(Approximate = true)]
[SiLU]
[Dense(7)]
[Softplus]
[Dense(4)]
[Softmax]
[L2Loss]
public partial class ParameterizedActivationNet;

/// <summary>Dense → BatchNorm → activation, LayerNorm and GroupNorm.</summary>
[Network(6)]
[Dense(10)]
[BatchNorm]
[Tanh]
[Dense(8)]
[LayerNorm]
[Sigmoid]
[Dense(8)]
[GroupNorm(4, Epsilon = 1e-3)]
[Dense(3)]
[L2Loss]
[Sgd(0.05)]
public partial class NormNet;

/// <summary>Dropout on the inputs and on a hidden layer.</summary>
[Network(5)]
[Dropout(0.2)]
[Dense(16, Activation.Tanh)]
[Dropout(0.5)]
[Dense(4)]
[L2Loss]
[Adam(0.01)]
public partial class DropoutNet;

/// <summary>Maxout with three pieces and label-smoothed cross-entropy.</summary>
[Network(6)]
[Maxout(5, 3)]
[Dense(4)]
[SoftmaxCrossEntropyLoss(LabelSmoothing = 0.1)]
public partial class MaxoutNet;

/// <summary>KL divergence to target distributions.</summary>
[Network(4)] [Dense(6, Activation.Tanh)] [Dense(5)] [KLDivergenceLoss] public partial class KlNet;

/// <summary>Multiclass SVM hinge loss.</summary>
[Network(4)] [Dense(6, Activation.Tanh)] [Dense(5)] [HingeLoss(Margin = 0.5)] public partial class HingeNet;

/// <summary>Binary cross-entropy on logits, three independent outputs.</summary>
[Network(4)] [Dense(6, Activation.Tanh)] [Dense(3)] [BinaryCrossEntropyLoss] [Sgd(0.5)] public partial class BceNet;

/// <summary>Weight penalties (network-wide L2, a per-layer L1 override) and an activity L1 penalty.</summary>
[Network(5)]
[Dense(8, Activation.Tanh, L1 = 0.002, ActivityL1 = 0.01)]
[Dense(3)]
[L2Loss]
[L2Regularization(0.03)]
public partial class RegularizedNet;

/// <summary>Unusual orders: normalization first (input gradient through BatchNorm), a fused SiLU that keeps its
/// pre-activation, two normalizations in a row, and a softmax layer before an L2 loss.</summary>
[Network(6)]
[BatchNorm]
[Dense(5, Activation.SiLU)]
[LayerNorm]
[GroupNorm(5)]
[Dense(4)]
[Softmax]
[L2Loss]
public partial class OrderNet;

/// <summary>The extra initializations: orthogonal (tall and wide), small Gaussian, LSUV's orthogonal start, a bias constant.</summary>
[Network(12)]
[Dense(30, Activation.ReLU, Init = Init.Orthogonal, BiasInit = 0.01)]
[Dense(8, Activation.Tanh, Init = Init.Orthogonal)]
[Dense(5, Init = Init.SmallNormal)]
[Dense(4, Init = Init.Lsuv)]
[L2Loss]
public partial class InitNet;

/// <summary>Every BatchNorm folding case of the inference form: into the next dense layer (after a ReLU), into the
/// preceding dense layer (then a standalone LeakyReLU fuses), and one that stays (after maxout, before LayerNorm).</summary>
[Network(6)]
[Dense(12, Activation.ReLU)]
[BatchNorm]
[Dense(10)]
[BatchNorm]
[LeakyReLU(0.1)]
[Maxout(4, 2)]
[BatchNorm]
[LayerNorm]
[Dropout(0.3)]
[Dense(3)]
[L2Loss]
[Adam(0.01)]
public partial class FoldNet;
