// Compiled into both the runtime library and the generator (linked file): keep it netstandard2.0-compatible (no
// Span-based or .NET Core-only APIs, no double.IsFinite) and free of runtime dependencies.
using System;
using System.Collections.Generic;
using System.Globalization;

namespace KernelGen.Catalog
{
    /// <summary>What kind of value an option holds.</summary>
    public enum OptionType
    {
        /// <summary>A 32-bit integer (sizes, counts, steps).</summary>
        Integer,
        /// <summary>A real number, written as a double in the attribute.</summary>
        Real,
        /// <summary>true or false.</summary>
        Boolean,
        /// <summary>A member of an enum (<see cref="OptionDescriptor.EnumType"/>).</summary>
        Enumeration,
    }

    /// <summary>A closed, open or half-open interval of real numbers, optionally restricted to integers.</summary>
    public sealed class ValueRange
    {
        /// <summary>A range.</summary>
        public ValueRange(double min, bool minExclusive, double max, bool maxExclusive, bool integer = false)
        {
            Min = min; MinExclusive = minExclusive; Max = max; MaxExclusive = maxExclusive; Integer = integer;
        }

        /// <summary>Lower bound.</summary>
        public double Min { get; }
        /// <summary>Whether <see cref="Min"/> itself is excluded.</summary>
        public bool MinExclusive { get; }
        /// <summary>Upper bound (+∞ for none).</summary>
        public double Max { get; }
        /// <summary>Whether <see cref="Max"/> itself is excluded.</summary>
        public bool MaxExclusive { get; }
        /// <summary>Whether only whole numbers are allowed.</summary>
        public bool Integer { get; }

        /// <summary>(0, ∞).</summary>
        public static ValueRange Positive { get; } = new ValueRange(0, true, double.PositiveInfinity, false);
        /// <summary>[0, ∞).</summary>
        public static ValueRange NonNegative { get; } = new ValueRange(0, false, double.PositiveInfinity, false);
        /// <summary>[0, 1).</summary>
        public static ValueRange UnitOpen { get; } = new ValueRange(0, false, 1, true);
        /// <summary>[0, 1].</summary>
        public static ValueRange UnitClosed { get; } = new ValueRange(0, false, 1, false);
        /// <summary>(0, 1].</summary>
        public static ValueRange UnitPositive { get; } = new ValueRange(0, true, 1, false);
        /// <summary>Any finite number.</summary>
        public static ValueRange Finite { get; } = new ValueRange(double.NegativeInfinity, false, double.PositiveInfinity, false);
        /// <summary>Whole numbers ≥ 1 (up to <see cref="int.MaxValue"/>).</summary>
        public static ValueRange Count { get; } = new ValueRange(1, false, int.MaxValue, false, integer: true);
        /// <summary>Whole numbers ≥ 2.</summary>
        public static ValueRange AtLeastTwo { get; } = new ValueRange(2, false, int.MaxValue, false, integer: true);

        /// <summary>Whether <paramref name="value"/> is finite and inside the range.</summary>
        public bool Contains(double value) =>
            !double.IsNaN(value) && !double.IsInfinity(value)
            && (MinExclusive ? value > Min : value >= Min)
            && (MaxExclusive ? value < Max : value <= Max)
            && (!Integer || Math.Floor(value) == value);

        /// <summary>The range in words, e.g. "in [0, 1)" or "greater than 0 and finite".</summary>
        public string Describe()
        {
            string kind = Integer ? "a whole number " : "";
            if (double.IsNegativeInfinity(Min) && double.IsPositiveInfinity(Max)) return kind + "finite";
            if (double.IsPositiveInfinity(Max) || (Integer && Max >= int.MaxValue))
                return kind + (MinExclusive ? "greater than " + F(Min) : "at least " + F(Min)) + (Integer ? "" : " and finite");
            return kind + "in " + (MinExclusive ? "(" : "[") + F(Min) + ", " + F(Max) + (MaxExclusive ? ")" : "]");
        }

        private static string F(double v) => v.ToString("R", CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// One option of an op as the user writes it on the attribute: a constructor parameter (named like its property) or
    /// a settable property.
    /// </summary>
    public sealed class OptionDescriptor
    {
        /// <summary>An option.</summary>
        /// <param name="name">The attribute property's name (constructor parameters are matched to it by name).</param>
        /// <param name="type">What the value is.</param>
        /// <param name="defaultValue">The value when the user leaves it out; NaN when there is none (required, or "inherit").</param>
        /// <param name="range">The valid values (null: any value of the type, e.g. a boolean).</param>
        /// <param name="doc">One line for the documentation tables.</param>
        public OptionDescriptor(string name, OptionType type, double defaultValue, ValueRange? range, string doc)
        {
            Name = name; Type = type; Default = defaultValue; Range = range; Doc = doc;
        }

        /// <summary>The attribute property's name.</summary>
        public string Name { get; }
        /// <summary>What the value is.</summary>
        public OptionType Type { get; }
        /// <summary>The value used when the option is not written (NaN: none).</summary>
        public double Default { get; }
        /// <summary>The valid values.</summary>
        public ValueRange? Range { get; }
        /// <summary>One line for the documentation tables.</summary>
        public string Doc { get; }
        /// <summary>The enum of an <see cref="OptionType.Enumeration"/> option.</summary>
        public Type? EnumType { get; set; }
        /// <summary>True when the generated code bakes the value into the kernels as a constant of the element type (float
        /// and double): the value must then also be finite, and non-zero when positive, after rounding to float.</summary>
        public bool ElementConstant { get; set; }
        /// <summary>True when the value decides the meaning of stored parameters and enters the spec fingerprint.</summary>
        public bool Fingerprinted { get; set; }
        /// <summary>True when NaN (the default) means "inherit the network-wide setting"; an explicit NaN is still invalid.</summary>
        public bool NaNInherits { get; set; }
    }

    /// <summary>
    /// Option values of one op: what the user wrote, falling back to each option's <see cref="OptionDescriptor.Default"/>.
    /// </summary>
    public sealed class OptionValues
    {
        private readonly IReadOnlyList<OptionDescriptor> _descriptors;
        private readonly IReadOnlyDictionary<string, double> _written;

        /// <summary>Values <paramref name="written"/> by the user for options described by <paramref name="descriptors"/>.</summary>
        public OptionValues(IReadOnlyList<OptionDescriptor> descriptors, IReadOnlyDictionary<string, double> written)
        {
            _descriptors = descriptors; _written = written;
        }

        /// <summary>The value of option <paramref name="name"/> (written, else default; NaN when neither).</summary>
        public double this[string name]
        {
            get
            {
                if (_written.TryGetValue(name, out double value)) return value;
                foreach (OptionDescriptor d in _descriptors) if (d.Name == name) return d.Default;
                return double.NaN;
            }
        }

        /// <summary>The value as an integer (0 when missing or not a number).</summary>
        public int Int(string name)
        {
            double v = this[name];
            return double.IsNaN(v) || v > int.MaxValue || v < int.MinValue ? 0 : (int)v;
        }

        /// <summary>Whether the user wrote option <paramref name="name"/>.</summary>
        public bool IsWritten(string name) => _written.ContainsKey(name);
    }

    /// <summary>The output shape of an op, or why it cannot apply to its input.</summary>
    public sealed class ShapeResult
    {
        private ShapeResult(TensorShape? shape, string? error) { Shape = shape; Error = error; }

        /// <summary>The output shape (null on error).</summary>
        public TensorShape? Shape { get; }
        /// <summary>Why the op does not fit its input, completing "… needs …" (null on success).</summary>
        public string? Error { get; }

        /// <summary>Success.</summary>
        public static ShapeResult Of(TensorShape shape) => new ShapeResult(shape, null);
        /// <summary>Failure, e.g. "a flat [features] input, but receives [1, 28, 28]; add [Flatten] before it".</summary>
        public static ShapeResult Fail(string error) => new ShapeResult(null, error);
    }

    /// <summary>How a layer with several inputs joins them.</summary>
    public enum MergeKind
    {
        /// <summary>Not a merge layer: one input.</summary>
        None,
        /// <summary>Element-wise sum of inputs of one shape.</summary>
        Sum,
        /// <summary>Concatenation along the channels (images) or features (vectors).</summary>
        Concatenate,
    }

    /// <summary>What a parameter or state tensor is to its layer.</summary>
    public enum TensorRole
    {
        /// <summary>A weight matrix: initialized by the layer's <see cref="Init"/>, penalized by L1/L2, decayed by weight decay.</summary>
        Weight,
        /// <summary>A bias vector (starts at the layer's BiasInit, never penalized).</summary>
        Bias,
        /// <summary>A normalization scale γ (starts at 1).</summary>
        Gamma,
        /// <summary>A normalization shift β (starts at 0).</summary>
        Beta,
        /// <summary>A running mean (state, not trained; starts at 0).</summary>
        RunningMean,
        /// <summary>A running variance (state, not trained; starts at 1).</summary>
        RunningVariance,
    }

    /// <summary>How a tensor is laid out in weight files relative to the network's arena.</summary>
    public enum FileLayout
    {
        /// <summary>The same row-major order.</summary>
        Same,
        /// <summary>A 2-D arena tensor [rows × columns] stored as [columns × rows] (PyTorch's Linear.weight is [out × in]).</summary>
        Transposed,
    }

    /// <summary>One parameter or state tensor of a layer kind.</summary>
    public sealed class TensorDescriptor
    {
        /// <summary>A tensor.</summary>
        /// <param name="role">What it is.</param>
        /// <param name="suffix">The arena name suffix and generated view suffix: <c>Weights</c> gives <c>Dense1.Weights</c> and <c>Dense1Weights</c>.</param>
        /// <param name="fileName">The PyTorch <c>state_dict</c> suffix: <c>weight</c>, <c>bias</c>, <c>running_mean</c>, <c>running_var</c>.</param>
        /// <param name="shape">Its arena shape from the layer's input shape, output shape and options.</param>
        /// <param name="layout">Its weight-file layout.</param>
        public TensorDescriptor(TensorRole role, string suffix, string fileName, Func<TensorShape, TensorShape, OptionValues, TensorShape> shape, FileLayout layout = FileLayout.Same)
        {
            Role = role; Suffix = suffix; FileName = fileName; Shape = shape; Layout = layout;
        }

        /// <summary>What it is.</summary>
        public TensorRole Role { get; }
        /// <summary>Arena and view name suffix.</summary>
        public string Suffix { get; }
        /// <summary>PyTorch <c>state_dict</c> suffix.</summary>
        public string FileName { get; }
        /// <summary>Arena shape from (input shape, output shape, options).</summary>
        public Func<TensorShape, TensorShape, OptionValues, TensorShape> Shape { get; }
        /// <summary>Weight-file layout.</summary>
        public FileLayout Layout { get; }
        /// <summary>True for running statistics (state: not trained, not in the parameter arena).</summary>
        public bool IsState => Role == TensorRole.RunningMean || Role == TensorRole.RunningVariance;
        /// <summary>Whether the layer has this tensor for its options (null: always; a convolution's bias only with <c>Bias = true</c>).</summary>
        public Func<OptionValues, bool>? When { get; set; }
    }

    /// <summary>
    /// How a gradient check of an op is run (ggml's per-test-case settings): step, tolerance, stencil, input domain and
    /// coordinate cap. The catalog's tests and <c>GradientCheck</c>'s defaults come from these.
    /// </summary>
    public sealed class GradientTolerance
    {
        /// <summary>Central-difference step ε.</summary>
        public double Epsilon { get; set; } = 1e-6;
        /// <summary>Largest acceptable relative difference ‖a − n‖ / (‖a‖ + ‖n‖) per tensor.</summary>
        public double RelativeTolerance { get; set; } = 1e-7;
        /// <summary>Floor of the denominator (0: none): where an exact gradient can vanish (BatchNorm's input gradient at
        /// tiny batches), the floor turns the check into an absolute one of Floor × RelativeTolerance.</summary>
        public double AbsoluteFloor { get; set; }
        /// <summary>Use the 4-point stencil (−f(+2ε) + 8f(+ε) − 8f(−ε) + f(−2ε)) / 12ε (error O(ε⁴)) instead of the 2-point one.</summary>
        public bool FourPointStencil { get; set; }
        /// <summary>Test inputs are drawn from [−InputRange, InputRange].</summary>
        public double InputRange { get; set; } = 2;
        /// <summary>Smallest batch a meaningful check needs (BatchNorm: 3, since at 2 every normalized value is ±1).</summary>
        public int MinimumBatch { get; set; } = 1;
        /// <summary>Coordinates checked per tensor at most (sampled, always including the first and last).</summary>
        public int MaxCoordinates { get; set; } = 40;

        /// <summary>The default record: ε = 1e-6, tolerance 1e-7, 2-point stencil, inputs in [−2, 2].</summary>
        public static GradientTolerance Default { get; } = new GradientTolerance();
    }

    /// <summary>Which value an activation's backward pass reads.</summary>
    public enum BackwardInput
    {
        /// <summary>The forward output y (f′ expressible through y): nothing extra is kept.</summary>
        Output,
        /// <summary>The pre-activation x: it is kept in a buffer for backward.</summary>
        Input,
    }

    /// <summary>Which weight initialization an activation wants in front of it when the layer says <see cref="Init.Auto"/>.</summary>
    public enum InitFamily
    {
        /// <summary>Xavier/Glorot uniform (variance-preserving for odd, roughly linear activations).</summary>
        Xavier,
        /// <summary>He normal (makes up for halving the variance, as ReLU does).</summary>
        He,
    }

    /// <summary>
    /// One element-wise activation: everything about it in one place — its attribute, options, operator struct, formulas,
    /// double reference, kinks, output range, initialization preference, ONNX mapping and gradient-check settings.
    /// The generator emits it from this record alone (fused into the layer before it, or as a layer of its own); the
    /// runtime's ONNX exporter, trainer statistics and gradient checker read the same record.
    /// </summary>
    public sealed class ActivationDescriptor
    {
        /// <summary>An activation.</summary>
        /// <param name="activation">The enum member.</param>
        /// <param name="attribute">The standalone layer attribute (e.g. <c>ReLUAttribute</c>).</param>
        /// <param name="operatorStruct">The operator struct in KernelGen.Operators, without its type arguments (e.g. <c>ReluOp</c>).</param>
        public ActivationDescriptor(Activation activation, Type attribute, string operatorStruct)
        {
            Activation = activation; AttributeType = attribute; OperatorStruct = operatorStruct;
        }

        /// <summary>The enum member.</summary>
        public Activation Activation { get; }
        /// <summary>The standalone layer attribute.</summary>
        public Type AttributeType { get; }
        /// <summary>The attribute's full name.</summary>
        public string Attribute => AttributeType.FullName!;
        /// <summary>Display name (the enum member's name).</summary>
        public string Name => Activation.ToString();
        /// <summary>The operator struct (generic over the element type, plus an <c>IScalarParameter</c> type when
        /// <see cref="ParameterIsTypeArgument"/>).</summary>
        public string OperatorStruct { get; }
        /// <summary>Picks another operator struct for some parameter values (GELU's tanh form); null: always <see cref="OperatorStruct"/>.</summary>
        public Func<double, string>? OperatorVariant { get; set; }
        /// <summary>The one option of the activation (slope, α, approximate), or null.</summary>
        public OptionDescriptor? Parameter { get; set; }
        /// <summary>True when the parameter reaches the operator as an <c>IScalarParameter</c> type argument (a constant the JIT folds).</summary>
        public bool ParameterIsTypeArgument { get; set; }
        /// <summary>What backward reads.</summary>
        public BackwardInput Backward { get; set; }
        /// <summary>y = f(x) in words, for docs (e.g. "y = max(0, x)").</summary>
        public string Formula { get; set; } = "";
        /// <summary>f′ in words, for docs.</summary>
        public string Derivative { get; set; } = "";
        /// <summary>Where the semantics come from (e.g. "PyTorch nn.ReLU").</summary>
        public string Source { get; set; } = "";
        /// <summary>f(x; p) in double: an independent reference for tests.</summary>
        public Func<double, double, double> Reference { get; set; } = (x, p) => x;
        /// <summary>f′(x; p) in double: an independent reference for tests.</summary>
        public Func<double, double, double> ReferenceDerivative { get; set; } = (x, p) => 1;
        /// <summary>
        /// The branch of the piecewise definition a value falls on, from the value backward reads (y for
        /// <see cref="BackwardInput.Output"/>, x for <see cref="BackwardInput.Input"/>); null for smooth activations. A
        /// gradient check reports a coordinate as a kink when some branch changes between θ − ε and θ + ε.
        /// </summary>
        public Func<double, double, int>? Branch { get; set; }
        /// <summary>The points where f is not differentiable (given p), for tests that keep inputs away from them.</summary>
        public Func<double, double[]> Kinks { get; set; } = p => new double[0];
        /// <summary>The range of f for activation histograms (given p); infinite ends are cut at the data.</summary>
        public Func<double, double[]> OutputRange { get; set; } = p => new[] { double.NegativeInfinity, double.PositiveInfinity };
        /// <summary>The initialization a preceding layer with <see cref="Init.Auto"/> gets.</summary>
        public InitFamily PreferredInit { get; set; }
        /// <summary>ONNX (opset 17) expression of y over x for parameter value p (see <c>OnnxExpression</c> in KernelGen.Onnx);
        /// the name <c>p</c> in it stands for the parameter.</summary>
        public Func<double, string> Onnx { get; set; } = p => "x";
        /// <summary>An ONNX expression for double models where ONNX Runtime lacks a double kernel for an operator; null (or a
        /// null result): <see cref="Onnx"/>.</summary>
        public Func<double, string?>? OnnxDouble { get; set; }
        /// <summary>The PyTorch module with the same semantics, as Python source (e.g. <c>nn.LeakyReLU(0.1)</c>), for parameter
        /// value p; <c>{p}</c> in the text is replaced by the value.</summary>
        public string PyTorch { get; set; } = "";
        /// <summary>Gradient-check settings.</summary>
        public GradientTolerance Tolerance { get; set; } = GradientTolerance.Default;

        /// <summary>The operator struct for parameter value <paramref name="parameter"/>.</summary>
        public string OperatorFor(double parameter) => OperatorVariant?.Invoke(parameter) ?? OperatorStruct;

        /// <summary>The parameter's value: <paramref name="written"/> unless NaN, else the default (0 without a parameter).</summary>
        public double ResolveParameter(double written) =>
            Parameter is null ? 0 : double.IsNaN(written) ? Parameter.Default : written;
    }

    /// <summary>
    /// One layer kind: its attribute, options, shape rule, parameter and state tensors, folding behaviour, ONNX mapping
    /// and test metadata. Element-wise activations are <see cref="ActivationDescriptor"/>s under the single
    /// <see cref="LayerKind.Activation"/> layer kind.
    /// </summary>
    public sealed class LayerDescriptor
    {
        /// <summary>A layer kind.</summary>
        public LayerDescriptor(LayerKind kind, Type? attribute)
        {
            Kind = kind; AttributeType = attribute;
        }

        /// <summary>The kind.</summary>
        public LayerKind Kind { get; }
        /// <summary>The layer attribute (null for <see cref="LayerKind.Activation"/>, whose attributes are the activations').</summary>
        public Type? AttributeType { get; }
        /// <summary>The attribute's full name.</summary>
        public string? Attribute => AttributeType?.FullName;
        /// <summary>Display name.</summary>
        public string Name => Kind.ToString();
        /// <summary>What the layer computes, for docs.</summary>
        public string Summary { get; set; } = "";
        /// <summary>Where the semantics come from.</summary>
        public string Source { get; set; } = "";
        /// <summary>Options (constructor parameters and properties).</summary>
        public IReadOnlyList<OptionDescriptor> Options { get; set; } = new OptionDescriptor[0];
        /// <summary>Output shape from input shape and options.</summary>
        public Func<TensorShape, OptionValues, ShapeResult> OutputShape { get; set; } = (input, _) => ShapeResult.Of(input);
        /// <summary>How a layer reading several earlier layers joins them (<see cref="MergeKind.None"/>: it reads one value).</summary>
        public MergeKind Merge { get; set; }
        /// <summary>A merge layer's output shape from its inputs' shapes (in the order named).</summary>
        public Func<IReadOnlyList<TensorShape>, ShapeResult>? MergeShape { get; set; }
        /// <summary>Parameter and state tensors, in arena order.</summary>
        public IReadOnlyList<TensorDescriptor> Tensors { get; set; } = new TensorDescriptor[0];
        /// <summary>True when the layer ends in an activation that can be fused into its epilogue (Dense).</summary>
        public bool FusesActivation { get; set; }
        /// <summary>True for an affine evaluation-mode layer that folds into an adjacent dense layer in the inference form (BatchNorm).</summary>
        public bool FoldsIntoDense { get; set; }
        /// <summary>True when evaluation mode is the identity (Dropout): the inference form drops it.</summary>
        public bool IdentityInEvaluation { get; set; }
        /// <summary>True when the layer is transparent to <see cref="Init.Auto"/>'s look-ahead for the next activation.</summary>
        public bool TransparentToInit { get; set; }
        /// <summary>True when the layer's output is a probability simplex (Softmax): a loss that applies softmax itself warns (KG0014).</summary>
        public bool NormalizesToProbabilities { get; set; }
        /// <summary>True when the layer's output is log-probabilities (LogSoftmax), which a loss on log-probabilities needs (KG0025 otherwise).</summary>
        public bool OutputsLogProbabilities { get; set; }
        /// <summary>The smallest training batch the layer accepts (BatchNorm: 2).</summary>
        public int MinimumTrainingBatch { get; set; } = 1;
        /// <summary>ONNX (opset 17) expression of the layer (see <c>OnnxExpression</c>); null when the exporter handles it specially.</summary>
        public string? Onnx { get; set; }
        /// <summary>The ONNX expression for an image-shaped input when it differs from <see cref="Onnx"/> (null: the same);
        /// <c>Channels</c>, <c>Height</c> and <c>Width</c> are bound.</summary>
        public string? OnnxImage { get; set; }
        /// <summary>False when ONNX Runtime's CPU provider has no double kernel for the mapping's operators (Conv,
        /// AveragePool, GlobalAveragePool are float-only there): a double model is valid ONNX but runs elsewhere only.</summary>
        public bool OnnxRuntimeDouble { get; set; } = true;
        /// <summary>The PyTorch module with the same semantics, as Python source with <c>{option}</c> placeholders.</summary>
        public string PyTorch { get; set; } = "";
        /// <summary>Gradient-check settings.</summary>
        public GradientTolerance Tolerance { get; set; } = GradientTolerance.Default;
        /// <summary>The layer attributes of a small network around this layer for the catalog-wide tests (input, then layers; the
        /// tests add a loss), e.g. <c>[Network(6)] [Dense(8)] [BatchNorm] [Dense(3)]</c>.</summary>
        public string TestNetwork { get; set; } = "";
    }

    /// <summary>What a loss compares the network's outputs with.</summary>
    public enum LabelKind
    {
        /// <summary>One class index per sample (<c>int</c>).</summary>
        ClassIndex,
        /// <summary>Finite targets shaped like the outputs.</summary>
        Targets,
        /// <summary>Target probability distributions shaped like the outputs (rows non-negative, summing to 1).</summary>
        Distributions,
        /// <summary>Target probabilities in [0, 1] shaped like the outputs.</summary>
        Probabilities,
    }

    /// <summary>One loss: attribute, option, label kind, runtime kernel, formula and test metadata.</summary>
    public sealed class LossDescriptor
    {
        /// <summary>A loss.</summary>
        public LossDescriptor(LossKind kind, Type attribute, LabelKind labels)
        {
            Kind = kind; AttributeType = attribute; Labels = labels;
        }

        /// <summary>The kind.</summary>
        public LossKind Kind { get; }
        /// <summary>The attribute.</summary>
        public Type AttributeType { get; }
        /// <summary>The attribute's full name.</summary>
        public string Attribute => AttributeType.FullName!;
        /// <summary>What the loss takes besides the outputs.</summary>
        public LabelKind Labels { get; }
        /// <summary>The one option (label smoothing, margin), or null.</summary>
        public OptionDescriptor? Parameter { get; set; }
        /// <summary>Every option of the attribute: <see cref="Parameter"/>, if any, then the <c>Reduction</c> every loss has.</summary>
        public IReadOnlyList<OptionDescriptor> Options => Parameter is { } p ? new[] { p, OpCatalog.Reduction } : new[] { OpCatalog.Reduction };
        /// <summary>Short description for the generated summary (e.g. "softmax cross-entropy").</summary>
        public string Title { get; set; } = "";
        /// <summary>The formula, for docs.</summary>
        public string Formula { get; set; } = "";
        /// <summary>Where the semantics come from.</summary>
        public string Source { get; set; } = "";
        /// <summary>The loss in PyTorch, as a Python expression of the outputs <c>y</c> and the labels or targets <c>t</c>
        /// (class indices as int64); <c>{p}</c> is the parameter's value.</summary>
        public string PyTorch { get; set; } = "";
        /// <summary>
        /// The runtime kernel call, a format string over {0} = element type, {1} = outputs, {2} = labels, {3} = gradient,
        /// {4} = output count expression, {5} = the parameter literal; it returns the mean loss and writes ∂L/∂y when the
        /// gradient span is not empty.
        /// </summary>
        public Func<double, string> Kernel { get; set; } = _ => "";
        /// <summary>The fewest outputs that make sense (2 for classification).</summary>
        public int MinimumOutputs { get; set; } = 1;
        /// <summary>True when the loss applies softmax or sigmoid itself, so it wants raw outputs (KG0014 otherwise).</summary>
        public bool WantsRawOutputs { get; set; }
        /// <summary>True when the loss reads its outputs as log-probabilities (NLL), so the last layer must be LogSoftmax (KG0025 otherwise).</summary>
        public bool WantsLogProbabilities { get; set; }
        /// <summary>
        /// True when the loss has one term per output element (L2, BCE, KL, hinge), so <see cref="LossReduction.Mean"/> divides
        /// by B·K; false when it has one term per sample (softmax cross-entropy, NLL), where Mean is the batch mean.
        /// </summary>
        public bool ElementwiseTerms { get; set; }
        /// <summary>The layers of the catalog tests' network in front of this loss (after <c>[Network(4)]</c>).</summary>
        public string TestLayers { get; set; } = "[Dense(6, Activation.Tanh)] [Dense(5)]";
        /// <summary>
        /// For a loss with kinks over the outputs (the hinge's margins): the branch of each output of one sample, from
        /// (that sample's outputs, its class index, the parameter); null for smooth losses.
        /// </summary>
        public Func<double[], int, double, int[]>? Branch { get; set; }
        /// <summary>Gradient-check settings.</summary>
        public GradientTolerance Tolerance { get; set; } = GradientTolerance.Default;
    }

    /// <summary>One optimizer: attribute and the hyperparameters it accepts besides the learning rate.</summary>
    public sealed class OptimizerDescriptor
    {
        /// <summary>An optimizer.</summary>
        public OptimizerDescriptor(Optimization.OptimizerKind kind, Type attribute, params OptionDescriptor[] options)
        {
            Kind = kind; AttributeType = attribute; Options = options;
        }

        /// <summary>The kind (the runtime's <c>OptimizerSettings.Kind</c>).</summary>
        public Optimization.OptimizerKind Kind { get; }
        /// <summary>The attribute.</summary>
        public Type AttributeType { get; }
        /// <summary>The attribute's full name.</summary>
        public string Attribute => AttributeType.FullName!;
        /// <summary>Hyperparameters besides the learning rate (each an <c>OptimizerSettings</c> property of the same name).</summary>
        public IReadOnlyList<OptionDescriptor> Options { get; }
        /// <summary>The update rule, for docs.</summary>
        public string Formula { get; set; } = "";
        /// <summary>The optimizer in PyTorch, as a Python expression: <c>{groups}</c> is the parameter groups (weight decay on
        /// weights only), <c>{lr}</c> the learning rate and <c>{Name}</c> each option's value (booleans as True/False).</summary>
        public string PyTorch { get; set; } = "";
        /// <summary>Options PyTorch's optimizer has no equivalent of (an export notes them when they are set).</summary>
        public IReadOnlyList<string> PyTorchLacks { get; set; } = new string[0];
    }

    /// <summary>What a training option does.</summary>
    public enum TrainingOptionRole
    {
        /// <summary>A learning-rate schedule (at most one).</summary>
        Schedule,
        /// <summary>Linear warm-up before the schedule (at most one).</summary>
        Warmup,
        /// <summary>Gradient clipping by global norm.</summary>
        ClipNorm,
        /// <summary>Gradient clipping by value.</summary>
        ClipValue,
    }

    /// <summary>A schedule, warm-up or clipping attribute and the runtime factory it maps to.</summary>
    public sealed class TrainingOptionDescriptor
    {
        /// <summary>A training option.</summary>
        /// <param name="attribute">The attribute.</param>
        /// <param name="role">What it does.</param>
        /// <param name="factory">The runtime expression it becomes, e.g. <c>LearningRateSchedule.StepDecay</c> (arguments follow).</param>
        /// <param name="options">The values, each with its factory argument name in <paramref name="arguments"/> (same order).</param>
        /// <param name="arguments">The factory's parameter names.</param>
        public TrainingOptionDescriptor(Type attribute, TrainingOptionRole role, string factory, OptionDescriptor[] options, string[] arguments)
        {
            AttributeType = attribute; Role = role; Factory = factory; Options = options; Arguments = arguments;
        }

        /// <summary>The attribute.</summary>
        public Type AttributeType { get; }
        /// <summary>The attribute's full name.</summary>
        public string Attribute => AttributeType.FullName!;
        /// <summary>Short name (attribute without the suffix).</summary>
        public string Name
        {
            get
            {
                string n = AttributeType.Name;
                return n.EndsWith("Attribute", StringComparison.Ordinal) ? n.Substring(0, n.Length - "Attribute".Length) : n;
            }
        }
        /// <summary>What it does.</summary>
        public TrainingOptionRole Role { get; }
        /// <summary>The runtime factory.</summary>
        public string Factory { get; }
        /// <summary>The values.</summary>
        public IReadOnlyList<OptionDescriptor> Options { get; }
        /// <summary>The factory argument of each value.</summary>
        public IReadOnlyList<string> Arguments { get; }
        /// <summary>The formula, for docs.</summary>
        public string Formula { get; set; } = "";
    }

    /// <summary>A network-wide weight penalty attribute ([L1Regularization], [L2Regularization]).</summary>
    public sealed class PenaltyDescriptor
    {
        /// <summary>A penalty.</summary>
        public PenaltyDescriptor(Type attribute, string option, string formula)
        {
            AttributeType = attribute; Option = option; Formula = formula;
        }

        /// <summary>The attribute.</summary>
        public Type AttributeType { get; }
        /// <summary>The attribute's full name.</summary>
        public string Attribute => AttributeType.FullName!;
        /// <summary>The per-layer option it sets the default of (<c>L1</c> or <c>L2</c>).</summary>
        public string Option { get; }
        /// <summary>The penalty, for docs.</summary>
        public string Formula { get; }
    }
}
