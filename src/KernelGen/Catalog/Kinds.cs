// Compiled into both the runtime library and the generator (linked file): the one set of kind enums both sides use.
// Values are part of the generator's contract and of the fingerprint text: never rename or renumber a member.
namespace KernelGen
{
    /// <summary>The kind of one layer of a generated network, after the generator's fusion.</summary>
    public enum LayerKind
    {
        /// <summary>y = f(x·W + b) with the activation f fused.</summary>
        Dense,
        /// <summary>A standalone element-wise activation.</summary>
        Activation,
        /// <summary>Maxout: a dense part to units·pieces outputs, then the max over each unit's adjacent pieces.</summary>
        Maxout,
        /// <summary>Batch normalization (batch statistics in training, running statistics in evaluation).</summary>
        BatchNorm,
        /// <summary>Layer normalization over each sample's features.</summary>
        LayerNorm,
        /// <summary>Group normalization over groups of adjacent features.</summary>
        GroupNorm,
        /// <summary>Inverted dropout (identity in evaluation).</summary>
        Dropout,
        /// <summary>Softmax over each sample's features.</summary>
        Softmax,
        /// <summary>Flattens each sample to a vector of its elements (row-major; no data moves).</summary>
        Flatten,
        /// <summary>Log-softmax over each sample's features: log-probabilities.</summary>
        LogSoftmax,
        /// <summary>2-D convolution over [channels, height, width] with the activation f fused.</summary>
        Conv2D,
        /// <summary>2-D max pooling.</summary>
        MaxPool2D,
        /// <summary>2-D average pooling.</summary>
        AvgPool2D,
        /// <summary>The mean of each channel: [channels, height, width] → [channels].</summary>
        GlobalAveragePool,
        /// <summary>Instance normalization: each channel of each sample over its pixels.</summary>
        InstanceNorm,
        /// <summary>The element-wise sum of two or more layers' outputs of one shape (residual and multi-branch blocks).</summary>
        Add,
        /// <summary>Two or more layers' outputs joined along the channels (images) or features (vectors).</summary>
        Concat,
    }

    /// <summary>The loss a network trains on.</summary>
    public enum LossKind
    {
        /// <summary>Softmax cross-entropy on class indices.</summary>
        SoftmaxCrossEntropy,
        /// <summary>½‖y − d‖² on targets.</summary>
        L2,
        /// <summary>KL divergence from target distributions to softmax(y).</summary>
        KLDivergence,
        /// <summary>Multiclass SVM hinge on class indices.</summary>
        Hinge,
        /// <summary>Binary cross-entropy on logits with targets in [0, 1].</summary>
        BinaryCrossEntropy,
        /// <summary>Negative log-likelihood of class indices on log-probabilities.</summary>
        NegativeLogLikelihood,
        /// <summary>A user's element-wise loss of outputs and targets ([CustomLoss]).</summary>
        Custom,
    }
}

namespace KernelGen.Optimization
{
    /// <summary>The update rules.</summary>
    public enum OptimizerKind
    {
        /// <summary>SGD, optionally with (Nesterov) momentum.</summary>
        Sgd,
        /// <summary>AdaGrad.</summary>
        AdaGrad,
        /// <summary>RMSProp, optionally centered and with momentum.</summary>
        RmsProp,
        /// <summary>Adam with bias correction (coupled L2 weight decay).</summary>
        Adam,
        /// <summary>AdamW: Adam with decoupled weight decay.</summary>
        AdamW,
        /// <summary>NAdam: Adam with Nesterov momentum and PyTorch's momentum schedule.</summary>
        NAdam,
        /// <summary>AdaDelta.</summary>
        AdaDelta,
    }
}
