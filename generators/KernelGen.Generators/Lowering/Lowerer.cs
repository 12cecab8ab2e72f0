using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;
using KernelGen.Catalog;
using KernelGen.Generators.Helpers;
using KernelGen.Generators.Model;
using KernelGen.Generators.Ops;
using KernelGen.Generators.Validation;

namespace KernelGen.Generators.Lowering;

/// <summary>
/// Lowers a validated <see cref="NetworkSpec"/> to a <see cref="GraphPlan"/>: a pure function, tested without Roslyn.
/// Every decision comes from the op catalog and the kinds' <see cref="OpGenerator"/>s: an activation layer fuses into
/// the layer before it when that layer fuses activations and has none; identity layers and zero dropout vanish;
/// <see cref="Init.Auto"/> resolves by the activation that follows; tensors are laid out in one arena, each on a
/// 16-element boundary (the arena itself starts on a 64-byte boundary, so every tensor is 64-byte aligned); work
/// regions are assigned by liveness.
/// </summary>
internal static class Lowerer
{
    public const int TensorAlignment = 16;

    public static GraphPlan Lower(NetworkSpec spec)
    {
        List<ResolvedLayer> layers = LayerResolver.Resolve(spec);
        TensorShape input = LayerResolver.InputShape(spec)!;
        var penalties = new Dictionary<string, double>(System.StringComparer.Ordinal);
        foreach (PenaltySpec p in spec.Penalties) penalties[p.Option] = p.Lambda;

        // 1. Nodes, with activation layers fused into the layer before them where they can be. valueOf[i] is the value
        //    holding layer i's output (a fused or vanished layer shares its input's value).
        var nodes = new List<NodePlan>();
        var options = new List<OptionValues>();
        var valueOf = new int[layers.Count];
        var layerReaders = new int[layers.Count];
        foreach (ResolvedLayer layer in layers) foreach (int read in layer.Inputs) if (read >= 0) layerReaders[read]++;
        for (int i = 0; i < layers.Count; i++)
        {
            ResolvedLayer layer = layers[i];
            OpGenerator generator = OpGenerator.For(layer.Spec.Kind);
            TensorShape nodeInput = layer.Input!, nodeOutput = layer.Output!;
            int inputValue = layer.Inputs[0] < 0 ? 0 : valueOf[layer.Inputs[0]];
            int next = nodes.Count + 1;
            valueOf[i] = next;
            // An activation fuses into the node that writes its input when that node takes activations, has none yet, and
            // nothing else reads the value (a branch reading it must see the value before the activation).
            bool fusable = inputValue == nodes.Count && inputValue > 0 && OpCatalog.Get(nodes[inputValue - 1].Kind).FusesActivation
                && !nodes[inputValue - 1].HasActivation && Readers(layers, layerReaders, valueOf, i, inputValue) == 1;
            if (layer.Spec.Kind == LayerKind.Activation && layer.Spec.Custom is { } custom)
            {
                if (fusable)
                {
                    nodes[inputValue - 1] = nodes[inputValue - 1] with { Custom = custom };
                    valueOf[i] = inputValue;
                    continue;
                }
                nodes.Add(new NodePlan(nodes.Count, LayerKind.Activation, layer.Name, inputValue, next, nodeInput, nodeOutput) { Custom = custom });
                options.Add(layer.Options);
                continue;
            }
            if (layer.Spec.Kind == LayerKind.Activation)
            {
                ActivationDescriptor activation = layer.Activation!;
                double parameter = activation.ResolveParameter(activation.Parameter is { } p ? layer.Options[p.Name] : double.NaN);
                if (activation.Activation == Activation.Identity)
                {
                    valueOf[i] = inputValue;
                    continue;
                }
                if (fusable)
                {
                    nodes[inputValue - 1] = nodes[inputValue - 1] with { Activation = activation.Activation, ActivationParameter = parameter };
                    valueOf[i] = inputValue;
                    continue;
                }
                nodes.Add(new NodePlan(nodes.Count, LayerKind.Activation, layer.Name, inputValue, next, nodeInput, nodeOutput)
                    { Activation = activation.Activation, ActivationParameter = parameter, ResolvedOptions = Resolved(layer, activation.Parameter is null ? new OptionDescriptor[0] : new[] { activation.Parameter }) });
                options.Add(layer.Options);
                continue;
            }
            if (layer.Descriptor.IdentityInEvaluation && layer.Spec.Kind == LayerKind.Dropout && !(layer.Options["DropProbability"] > 0))
            {
                valueOf[i] = inputValue;
                continue;
            }
            var node = new NodePlan(nodes.Count, layer.Spec.Kind, layer.Name, inputValue, next, nodeInput, nodeOutput)
            {
                Options = generator.Options(layer.Options),
                ResolvedOptions = layer.Descriptor.Options.Select(d => new OptionSpec(d.Name, generator.ResolvedOption(d.Name, layer.Options))).ToEquatableArray(),
                ActivityL1 = layer.Descriptor.Options.Any(o => o.Name == "ActivityL1") ? layer.Options["ActivityL1"] : 0,
            };
            if (layer.Descriptor.Merge != MergeKind.None)
                node = node with
                {
                    MergeInputs = layer.Inputs.Select(x => x < 0 ? 0 : valueOf[x]).ToEquatableArray(),
                    MergeInputShapes = layer.InputShapes.Select(x => x!).ToEquatableArray(),
                };
            if (layer.Descriptor.FusesActivation && layer.Activation is { } fused)
                node = node with { Activation = fused.Activation, ActivationParameter = fused.ResolveParameter(double.NaN) };
            nodes.Add(node);
            options.Add(layer.Options);
        }

        // 2. Tensors: the arena (parameters) and the statistics buffer (state), in node order.
        var tensors = new List<ParameterTensorPlan>();
        int offset = 0, statistics = 0, count = 0;
        bool hasPenalties = false;
        for (int i = 0; i < nodes.Count; i++)
        {
            NodePlan node = nodes[i];
            LayerDescriptor descriptor = OpCatalog.Get(node.Kind);
            var layerTensors = new List<LayerTensorPlan>();
            Init init = ResolveInit(nodes, i, options[i]);
            foreach (TensorDescriptor t in descriptor.Tensors)
            {
                if (t.When is { } present && !present(options[i])) continue;
                TensorShape shape = t.Shape(node.InputShape, node.OutputShape, options[i]);
                int length = shape.Size;
                int at;
                if (t.IsState) { at = statistics; statistics = Align(statistics + length); }
                else
                {
                    at = offset;
                    offset = Align(offset + length);
                    count += length;
                    // Rows × columns: a matrix as it is; a convolution's [O, C/g, kh, kw] as O rows of its patch length.
                    int rows = shape.Rank == 2 ? shape[0] : shape.Rank == 4 ? shape[0] : 1;
                    tensors.Add(new ParameterTensorPlan(node.Name + "." + t.Suffix, at, rows, length / rows, t.Role == TensorRole.Weight));
                }
                var tensor = new LayerTensorPlan(t.Role, node.Name + "." + t.Suffix, node.Name + "." + t.FileName, shape, t.Layout, at, t.IsState);
                switch (t.Role)
                {
                    case TensorRole.Weight:
                        double l1 = Penalty(options[i], "L1", penalties), l2 = Penalty(options[i], "L2", penalties);
                        hasPenalties |= l1 > 0 || l2 > 0;
                        tensor = tensor with { Init = init, L1 = l1, L2 = l2 };
                        break;
                    case TensorRole.Bias:
                        tensor = tensor with { InitialValue = descriptor.Options.Any(o => o.Name == "BiasInit") ? options[i]["BiasInit"] : 0 };
                        break;
                    case TensorRole.Gamma:
                    case TensorRole.RunningVariance:
                        tensor = tensor with { InitialValue = 1 };
                        break;
                }
                layerTensors.Add(tensor);
            }
            hasPenalties |= node.ActivityL1 > 0;
            nodes[i] = node with { Tensors = layerTensors.ToEquatableArray(), Options = WithInit(node.Options, init), ResolvedOptions = WithInit(node.ResolvedOptions, init) };
        }

        // 3. Work regions by liveness: training first, then evaluation (separate, so Predict never touches the caches).
        var regions = new List<int>();
        TrainingLayout training = RegionAllocator.Training(nodes, nodes.Count + 1, input.Size, regions);
        EvaluationLayout evaluation = RegionAllocator.Evaluation(nodes, nodes.Count + 1, regions);

        LossSpec? lossSpec = spec.Losses.Count > 0 ? spec.Losses[0] : null;
        LossPlan? loss = null;
        if (lossSpec is not null)
        {
            LossDescriptor descriptor = OpCatalog.Get(lossSpec.Kind);
            double parameter = descriptor.Parameter?.Default ?? 0;
            var reduction = LossReduction.BatchMean;
            foreach (OptionSpec o in lossSpec.Options)
            {
                if (descriptor.Parameter is { } p && o.Name == p.Name) parameter = o.Value;
                if (o.Name == OpCatalog.Reduction.Name) reduction = (LossReduction)(int)o.Value;
            }
            loss = new LossPlan(lossSpec.Kind, parameter, reduction) { Custom = lossSpec.Custom };
        }
        OptimizerSpec? optimizer = spec.Optimizers.Count > 0 ? spec.Optimizers[0] : null;
        TensorShape output = nodes.Count == 0 ? input : nodes[nodes.Count - 1].OutputShape;
        int minimumBatch = 1;
        foreach (NodePlan node in nodes) minimumBatch = System.Math.Max(minimumBatch, OpCatalog.Get(node.Kind).MinimumTrainingBatch);

        var plan = new GraphPlan(spec.Type, Describe(input, nodes, loss, optimizer), input, output, count, offset, statistics,
            nodes.ToEquatableArray(), tensors.ToEquatableArray(), regions.ToEquatableArray(), training, evaluation)
        {
            Loss = loss,
            Optimizer = optimizer is null ? null : new OptimizerPlan(optimizer.Kind, optimizer.LearningRate, optimizer.Options),
            TrainingOptions = spec.TrainingOptions.Select(o => new TrainingOptionPlan(o.Attribute, o.Values)).ToEquatableArray(),
            HasPenalties = hasPenalties,
            MinimumTrainingBatch = minimumBatch,
            Fingerprint = Fingerprint(input, nodes, tensors, loss?.Kind, optimizer?.Kind),
        };
        return plan with { InferenceForm = InferenceLowering.Lower(plan) };
    }

    /// <summary>How many layers read <paramref name="value"/>: those reading any layer whose output it holds (layers before
    /// <paramref name="upTo"/> have their values; a later layer can only read those), less the layers that pass it
    /// through (fused or vanished), whose readers count instead.</summary>
    private static int Readers(List<ResolvedLayer> layers, int[] layerReaders, int[] valueOf, int upTo, int value)
    {
        int readers = 0;
        for (int j = 0; j < upTo; j++)
        {
            if (valueOf[j] != value) continue;
            readers += layerReaders[j];
            // A layer that passes the value through (fused into its node, or gone) is not a reader of its own: its readers are.
            int input = layers[j].Inputs.Count == 1 ? layers[j].Inputs[0] : -2;
            if (input >= -1 && (input < 0 ? 0 : valueOf[input]) == value) readers--;
        }
        return readers;
    }

    /// <summary>Every catalog option of the layer with its value (written, else default).</summary>
    private static EquatableArray<OptionSpec> Resolved(ResolvedLayer layer, IReadOnlyList<OptionDescriptor> descriptors) =>
        descriptors.Select(d => new OptionSpec(d.Name, layer.Options[d.Name])).ToEquatableArray();

    private static OpOptions WithInit(OpOptions options, Init init) => options switch
    {
        DenseOptions d => d with { Init = init },
        MaxoutOptions m => m with { Init = init },
        ConvOptions v => v with { Init = init },
        _ => options,
    };

    private static EquatableArray<OptionSpec> WithInit(EquatableArray<OptionSpec> options, Init init) =>
        options.Select(o => o.Name == "Init" ? new OptionSpec("Init", (int)init) : o).ToEquatableArray();

    /// <summary>A weight tensor's penalty: the layer's own option when it has one and the user set it, else the network's.</summary>
    private static double Penalty(OptionValues options, string name, Dictionary<string, double> network)
    {
        double own = options[name];
        return !double.IsNaN(own) ? own : network.TryGetValue(name, out double lambda) ? lambda : 0;
    }

    /// <summary>
    /// Resolves <see cref="Init.Auto"/> for node <paramref name="i"/>: the preferred initialization of its own activation, or
    /// of the next activation after layers that are transparent to it (normalization, dropout, flatten); Xavier when none.
    /// </summary>
    private static Init ResolveInit(List<NodePlan> nodes, int i, OptionValues options)
    {
        var init = (Init)options.Int("Init");
        if (init != Init.Auto) return init;
        return FeedsHe(nodes, i) ? Init.HeNormal : Init.XavierUniform;
    }

    private static bool FeedsHe(List<NodePlan> nodes, int i)
    {
        if (nodes[i].Activation != Activation.Identity) return OpCatalog.Get(nodes[i].Activation).PreferredInit == InitFamily.He;
        for (int k = i + 1; k < nodes.Count; k++)
        {
            if (OpCatalog.Get(nodes[k].Kind).TransparentToInit) continue;
            return nodes[k].Kind == LayerKind.Activation && OpCatalog.Get(nodes[k].Activation).PreferredInit == InitFamily.He;
        }
        return false;
    }

    public static int Align(int offset) => (offset + TensorAlignment - 1) / TensorAlignment * TensorAlignment;

    /// <summary>
    /// FNV-1a (64-bit) over a canonical text of everything that decides the parameter and state layout and the meaning
    /// of each number in it: per node its kind, name, sizes, activation and parameter, and its fingerprinted options
    /// (pieces, groups and ε in fixed places, any other after them); the tensor layout; loss and optimizer kinds.
    /// Learning rates and penalties are left out, so a checkpoint survives a change of them. For a flat input the text is
    /// exactly version 0.1's, so checkpoints written then still load. A node that reads anything but the node before it
    /// adds the values it reads, so two wirings of the same layers never share a fingerprint.
    /// </summary>
    private static ulong Fingerprint(TensorShape input, List<NodePlan> nodes, List<ParameterTensorPlan> tensors, LossKind? loss, Optimization.OptimizerKind? optimizer)
    {
        var text = new StringBuilder();
        text.Append("kernelgen-plan-v1;in=").Append(input.Rank == 1 ? Str(input[0]) : input.ToCompactString());
        foreach (NodePlan node in nodes)
        {
            double pieces = 0, groups = 0, epsilon = 0;
            var extra = new StringBuilder();
            LayerDescriptor descriptor = OpCatalog.Get(node.Kind);
            foreach (OptionSpec o in node.ResolvedOptions)
            {
                OptionDescriptor? d = descriptor.Options.FirstOrDefault(x => x.Name == o.Name);
                if (d is null || !d.Fingerprinted) continue;
                switch (o.Name)
                {
                    case "Pieces": pieces = o.Value; break;
                    case "Groups": groups = o.Value; break;
                    case "Epsilon": epsilon = o.Value; break;
                    default: extra.Append(',').Append(o.Name).Append('=').Append(R(o.Value)); break;
                }
            }
            text.Append(';').Append(node.Kind.ToString()).Append(',').Append(node.Name).Append(',').Append(Str(node.In)).Append(',').Append(Str(node.Out))
                .Append(',').Append(node.Activation.ToString()).Append(',').Append(R(node.ActivationParameter)).Append(',').Append(Str((int)pieces))
                .Append(',').Append(Str((int)groups)).Append(',').Append(R(epsilon)).Append(extra);
            if (node.Custom is { } custom) text.Append(",custom=").Append(custom.Display).Append('=').Append(custom.Body.ToString());
            // The wiring of a graph (a chain's is implied, so chain fingerprints stay as they were).
            if (node.Inputs.Count != 1 || node.Input != node.Index) text.Append(",in=").Append(string.Join("+", node.Inputs.Select(Str)));
        }
        foreach (ParameterTensorPlan t in tensors)
            text.Append(";t,").Append(t.Name).Append(',').Append(Str(t.Offset)).Append(',').Append(Str(t.Rows)).Append(',').Append(Str(t.Columns));
        text.Append(";loss=").Append(loss?.ToString() ?? "none").Append(";optimizer=").Append(optimizer?.ToString() ?? "none");
        ulong hash = 14695981039346656037UL;
        foreach (char ch in text.ToString())
        {
            hash = (hash ^ (byte)ch) * 1099511628211UL;
            hash = (hash ^ (byte)(ch >> 8)) * 1099511628211UL;
        }
        return hash;
    }

    private static string Str(int value) => value.ToString(CultureInfo.InvariantCulture);

    private static string R(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    private static string Describe(TensorShape input, List<NodePlan> nodes, LossPlan? loss, OptimizerSpec? optimizer)
    {
        var text = new StringBuilder();
        text.Append("input ").Append(input.Rank == 1 ? Str(input[0]) : input.ToString());
        foreach (NodePlan node in nodes)
        {
            text.Append(" → ").Append(node.Name);
            if (node.Has(TensorRole.Weight))
            {
                text.Append(' ').Append(Str(node.Out));
                if (node.Activation != Activation.Identity) text.Append(" + ").Append(node.Activation.ToString());
                if (node.Custom is { } custom) text.Append(" + ").Append(custom.Display);
            }
        }
        if (loss is not null)
        {
            text.Append(" → ").Append(loss.Custom?.Display ?? OpCatalog.Get(loss.Kind).Title);
            if (loss.Reduction != LossReduction.BatchMean) text.Append(" (").Append(loss.Reduction.ToString()).Append(')');
        }
        if (optimizer is not null)
            text.Append("; ").Append(optimizer.Kind.ToString()).Append(", learning rate ").Append(R(optimizer.LearningRate));
        return text.ToString();
    }
}
