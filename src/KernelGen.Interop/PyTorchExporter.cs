using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.IO;
using System.Numerics;
using System.Text;
using System.Text.RegularExpressions;
using KernelGen.Catalog;
using KernelGen.IO;
using KernelGen.Optimization;
using KernelGen.Runtime;

namespace KernelGen.Interop;

/// <summary>
/// Exports a network to PyTorch, for training at scale on PyTorch's stack and coming back: a Python module defining an
/// <c>nn.Module</c> with the same layers and parameter names as KernelGen's weight files (<c>Dense1.weight</c> as
/// [out × in], <c>BatchNorm1.running_mean</c>, …), the loss with KernelGen's exact reduction, an optimizer factory with
/// PyTorch's equivalent settings (weight decay on weights only, as here), and dependency-free safetensors
/// <c>load_weights</c>/<c>save_weights</c>; plus the weights as safetensors. Weights trained in PyTorch and saved with
/// <c>save_weights</c> load back with <see cref="SafeTensors.Load{T}(INeuralNetwork{T}, string)"/>.
/// </summary>
/// <remarks>
/// Every op of the catalog carries its PyTorch module; the generated module matches the network's evaluation mode
/// (<c>model.eval()</c>) to rounding and its training mode in distribution (dropout draws its own masks). Settings PyTorch
/// has no equivalent of (SGD's velocity form under a schedule, RMSProp's ε inside the square root) and the learning-rate
/// schedule and clipping are written as comments naming the PyTorch class to use.
/// </remarks>
public static class PyTorchExporter
{
    /// <summary>Writes <c>{basePath}.py</c> (the module) and <c>{basePath}.safetensors</c> (the weights), atomically.</summary>
    /// <param name="network">The network.</param>
    /// <param name="basePath">The path without extension, e.g. <c>export/fashion</c>; its directory must exist.</param>
    /// <param name="className">The Python class name (default: the network type's name).</param>
    public static void Export<T>(INeuralNetwork<T> network, string basePath, string? className = null)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentException.ThrowIfNullOrEmpty(basePath);
        string source = ModuleSource(network, className);
        AtomicFile.WriteAllText(basePath + ".py", source, createDirectory: false);
        SafeTensors.Save(network, basePath + ".safetensors");
    }

    /// <summary>The Python source of the module for <paramref name="network"/>.</summary>
    /// <exception cref="NotSupportedException">A layer kind has no PyTorch equivalent in the catalog.</exception>
    public static string ModuleSource<T>(INeuralNetwork<T> network, string? className = null)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(network);
        className ??= PythonName(network.GetType().Name);
        if (!Regex.IsMatch(className, "^[A-Za-z_][A-Za-z0-9_]*$"))
            throw new ArgumentException($"'{className}' is not a Python identifier.", nameof(className));
        bool isDouble = typeof(T) == typeof(double);
        var init = new StringBuilder();
        var forward = new StringBuilder();
        bool maxout = false, paddedConvolution = false;
        var weightNames = new List<string>();
        var customModules = new StringBuilder();
        // A chain reads x in place; a graph (From, [Add], [Concat]) names each layer's output x{index} instead.
        bool chain = network.Layers.All(l => l.ReadsPrevious);
        foreach (LayerInfo layer in network.Layers)
        {
            if (!chain)
            {
                string Value(int v) => v < 0 ? "x" : "x" + Integer(v);
                forward.Append(CultureInfo.InvariantCulture, $"        h = {Value(layer.Inputs[0])}\n");
                if (layer.Kind is LayerKind.Add or LayerKind.Concat)
                {
                    string inputs = string.Join(", ", layer.Inputs.Select(Value));
                    forward.Append(layer.Kind == LayerKind.Add
                        ? "        h = " + string.Join(" + ", layer.Inputs.Select(Value)) + "  # " + layer.Name + "\n"
                        : "        h = torch.cat([" + inputs + "], dim=1)  # " + layer.Name + "\n");
                    forward.Append(CultureInfo.InvariantCulture, $"        x{Integer(layer.Index)} = h\n");
                    continue;
                }
            }
            if (layer.CustomActivation is { } custom && layer.CustomActivationPyTorch is null)
                throw new NotSupportedException($"Layer {layer.Name}: the user's activation {custom} has no PyTorch form.");
            string name = layer.Name;
            foreach (LayerTensor tensor in layer.Tensors)
                if (tensor.Role == TensorRole.Weight) weightNames.Add(tensor.FileName);
            if (layer.Kind == LayerKind.Activation)
            {
                Module(init, forward, name, ActivationModule(layer, customModules), layer.CustomActivation ?? $"{layer.Activation}", chain);
                if (!chain) forward.Append(CultureInfo.InvariantCulture, $"        x{Integer(layer.Index)} = h\n");
                continue;
            }
            LayerDescriptor descriptor = OpCatalog.Get(layer.Kind);
            if (descriptor.PyTorch.Length == 0) throw new NotSupportedException($"Layer {name}: {layer.Kind} has no PyTorch equivalent.");
            maxout |= layer.Kind == LayerKind.Maxout;
            string module = Fill(descriptor.PyTorch, layer);
            if (layer.Kind == LayerKind.Conv2D && !SymmetricPadding(layer))
            {
                module = AsymmetricConvolution(module, layer);
                paddedConvolution = true;
            }
            Module(init, forward, name, module, descriptor.Name, chain);
            if ((layer.Activation != Activation.Identity && OpCatalog.IsKnown(layer.Activation)) || layer.CustomActivationPyTorch is not null)
                Module(init, forward, name + "_activation", ActivationModule(layer, customModules), $"{layer.CustomActivation ?? layer.Activation.ToString()}, fused into {name} in KernelGen", chain);
            if (!chain) forward.Append(CultureInfo.InvariantCulture, $"        x{Integer(layer.Index)} = h\n");
        }

        var py = new StringBuilder();
        string fingerprint = "0x" + network.Fingerprint.ToString("X16", CultureInfo.InvariantCulture);
        py.Append(CultureInfo.InvariantCulture, $"""
            # Generated by KernelGen from {network.GetType().FullName} (specification fingerprint {fingerprint}).
            # The parameter and buffer names are those of KernelGen's weight files, so weights move both ways:
            #   model = {className}(); load_weights(model, "weights.safetensors")   # KernelGen -> PyTorch
            #   ... train ...; save_weights(model, "trained.safetensors")           # PyTorch -> KernelGen (SafeTensors.Load)
            # Inputs are [batch, {string.Join(", ", network.InputShape.Dimensions)}] {(isDouble ? "float64" : "float32")} tensors; outputs [batch, {network.OutputSize}].
            import json
            import struct

            import numpy as np
            import torch
            from torch import nn
            import torch.nn.functional as F

            DTYPE = torch.{(isDouble ? "float64" : "float32")}


            """);
        if (paddedConvolution)
            py.Append("""
                class PaddedConv2d(nn.Conv2d):
                    # nn.Conv2d after F.pad: zero padding that differs between sides. pads = (left, right, top, bottom).
                    def __init__(self, pads, *args, **kwargs):
                        kwargs.pop("padding", None)
                        super().__init__(*args, padding=0, **kwargs)
                        self.pads = pads

                    def forward(self, x):
                        return super().forward(F.pad(x, self.pads))


                """);
        if (maxout)
            py.Append("""
                class Maxout(nn.Module):
                    # y_u = max over k pieces of (x @ weight.T + bias)[u * k + i]; weight is [units * k, inputs].
                    def __init__(self, inputs, units, pieces):
                        super().__init__()
                        self.units, self.pieces = units, pieces
                        self.weight = nn.Parameter(torch.empty(units * pieces, inputs))
                        self.bias = nn.Parameter(torch.zeros(units * pieces))
                        nn.init.kaiming_uniform_(self.weight, a=5 ** 0.5)

                    def forward(self, x):
                        return F.linear(x, self.weight, self.bias).view(-1, self.units, self.pieces).max(dim=-1).values


                """);
        py.Append(customModules);
        py.Append(CultureInfo.InvariantCulture, $"class {className}(nn.Module):\n    def __init__(self):\n        super().__init__()\n");
        py.Append(init);
        py.Append("\n    def forward(self, x):\n");
        py.Append(forward);
        py.Append(chain || network.Layers.Count == 0 ? "        return x\n\n\n" : $"        return x{Integer(network.Layers.Count - 1)}\n\n\n");

        AppendLoss(py, network);
        AppendPenalties(py, network);
        AppendOptimizer(py, network, weightNames);
        py.Append(WeightFunctions);
        return py.ToString();
    }

    private static void Module(StringBuilder init, StringBuilder forward, string name, string module, string comment, bool chain = true)
    {
        init.Append(CultureInfo.InvariantCulture, $"        self.{name} = {module}  # {comment}\n");
        if (chain) forward.Append(CultureInfo.InvariantCulture, $"        x = self.{name}(x)\n");
        else forward.Append(CultureInfo.InvariantCulture, $"        h = self.{name}(h)\n");
    }

    private static string ActivationModule(LayerInfo layer, StringBuilder customModules)
    {
        if (layer.CustomActivationPyTorch is { } body)
        {
            // A user's activation: the generator wrote its body in PyTorch operators; one module class per layer.
            string type = "Custom_" + layer.Name;
            customModules.Append(CultureInfo.InvariantCulture, $"class {type}(nn.Module):\n    # KernelGen's {layer.CustomActivation}: {layer.CustomActivationFormula}\n    def forward(self, x):\n");
            foreach (string line in body.Split('\n')) customModules.Append("        ").Append(line).Append('\n');
            customModules.Append("\n\n");
            return type + "()";
        }
        ActivationDescriptor a = OpCatalog.Get(layer.Activation);
        double p = layer.ActivationParameter;
        string text = Regex.Replace(a.PyTorch, @"\{p\?([^:}]*):([^}]*)\}", m => p != 0 ? m.Groups[1].Value : m.Groups[2].Value);
        return text.Replace("{p}", Number(p), StringComparison.Ordinal);
    }

    /// <summary>A layer template with <c>{in}</c>, <c>{C}</c> (features) and option names filled in.</summary>
    private static string Fill(string template, LayerInfo layer) =>
        Regex.Replace(template, @"\{(\w+)\}", m => m.Groups[1].Value switch
        {
            "in" => Integer(layer.InputFeatures),
            "C" => Integer(layer.OutputFeatures),
            "InChannels" => Integer(layer.InputShape[0]),
            "Channels" => Integer(layer.OutputShape.Rank == 3 ? layer.OutputShape[0] : layer.OutputFeatures),
            "Nd" => layer.OutputShape.Rank == 3 ? "2d" : "1d",
            "SampleShape" => layer.OutputShape.Rank == 1 ? Integer(layer.OutputFeatures) : "(" + string.Join(", ", layer.OutputShape.Dimensions.Select(Integer)) + ")",
            "DropoutModule" => layer.Option("Channelwise") != 0 ? "nn.Dropout2d" : "nn.Dropout",
            "BiasPy" => layer.Option("Bias") != 0 ? "True" : "False",
            "CountIncludePadPy" => layer.Option("CountIncludePad") != 0 ? "True" : "False",
            "Padding2d" => SymmetricPadding(layer) ? $"({Integer((int)layer.Option("PadTop"))}, {Integer((int)layer.Option("PadLeft"))})" : "0",
            "Units" => Integer(layer.OutputFeatures),
            string option => double.IsNaN(layer.Option(option)) ? throw new NotSupportedException($"Layer {layer.Name}: option {option} is unknown.")
                : IsInteger(layer, option) ? Integer((int)layer.Option(option)) : Number(layer.Option(option)),
        });

    private static bool SymmetricPadding(LayerInfo layer) =>
        layer.Option("PadTop") == layer.Option("PadBottom") && layer.Option("PadLeft") == layer.Option("PadRight");

    /// <summary>A convolution whose sides pad differently: nn.Conv2d pads both sides alike, so the module is a
    /// <c>PaddedConv2d</c> (an nn.Conv2d after F.pad; same parameter names).</summary>
    private static string AsymmetricConvolution(string module, LayerInfo layer) =>
        module.Replace("nn.Conv2d(", $"PaddedConv2d(({Integer((int)layer.Option("PadLeft"))}, {Integer((int)layer.Option("PadRight"))}, {Integer((int)layer.Option("PadTop"))}, {Integer((int)layer.Option("PadBottom"))}), ", StringComparison.Ordinal);

    private static bool IsInteger(LayerInfo layer, string option)
    {
        foreach (OptionDescriptor o in OpCatalog.Get(layer.Kind).Options)
            if (o.Name == option) return o.Type == OptionType.Integer;
        return false;
    }

    private static void AppendLoss<T>(StringBuilder py, INeuralNetwork<T> network) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        if (network is not NetworkBase<T> { Model.Loss: { } kind } withLoss) return;
        LossDescriptor loss = OpCatalog.Get(kind);
        string expression = loss.PyTorch.Replace("{p}", Number(withLoss.Model.LossParameter), StringComparison.Ordinal);
        if (withLoss.Model.CustomLossPyTorch is { } body)
        {
            // A user's loss: its element-wise ℓ(x, t) as the generator wrote it, summed and averaged over the batch.
            var element = new StringBuilder("def loss_element(x, t):\n");
            foreach (string line in body.Split('\n')) element.Append("    ").Append(line).Append('\n');
            py.Append(CultureInfo.InvariantCulture, $"# KernelGen's {withLoss.Model.CustomLoss}: {withLoss.Model.CustomLossFormula}\n").Append(element).Append("\n\n");
            expression = "loss_element(y, t).sum() / y.shape[0]";
        }
        string labels = loss.Labels == LabelKind.ClassIndex ? "int64 class indices [batch]" : $"targets [batch, {network.OutputSize}]";
        LossReduction reduction = withLoss.Model.LossReduction;
        string reduced = OpCatalog.ReductionFactor(loss, reduction, "y.shape[1]") switch
        {
            "batch" => $"({expression}) * y.shape[0]",
            { } divisor => $"({expression}) * ({divisor})",
            null => expression,
        };
        string note = reduction == LossReduction.BatchMean ? "" : $", reduction {reduction}";
        py.Append(CultureInfo.InvariantCulture, $"""
            def loss_fn(y, t):
                # KernelGen's {loss.Title} loss ({loss.Formula}{note}); y: outputs, t: {labels}.
                return {reduced}


            """);
    }

    private static void AppendPenalties<T>(StringBuilder py, INeuralNetwork<T> network) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        var terms = new List<string>();
        var activity = new List<string>();
        foreach (LayerInfo layer in network.Layers)
        {
            foreach (LayerTensor tensor in layer.Tensors)
            {
                if (tensor.Role != TensorRole.Weight) continue;
                if (tensor.L2 > 0) terms.Add($"0.5 * {Number(tensor.L2)} * model.{layer.Name}.weight.pow(2).sum()");
                if (tensor.L1 > 0) terms.Add($"{Number(tensor.L1)} * model.{layer.Name}.weight.abs().sum()");
            }
            if (layer.ActivityL1 > 0) activity.Add($"{layer.Name} (λ = {Number(layer.ActivityL1)})");
        }
        if (terms.Count == 0 && activity.Count == 0) return;
        py.Append("def penalties(model):\n    # KernelGen's weight penalties, part of its loss and gradients: add them to loss_fn when training in PyTorch.\n");
        if (activity.Count > 0)
            py.Append(CultureInfo.InvariantCulture, $"    # Not included: the L1 activity penalties λ/B·Σ|a| on the outputs of {string.Join(", ", activity)}.\n");
        py.Append(CultureInfo.InvariantCulture, $"    return {(terms.Count == 0 ? "0.0" : string.Join(" + ", terms))}\n\n\n");
    }

    private static void AppendOptimizer<T>(StringBuilder py, INeuralNetwork<T> network, List<string> weightNames) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        Optimizer<T>? optimizer = network switch
        {
            TrainableNetworkBase<T, int> classes => classes.Optimizer,
            TrainableNetworkBase<T, T> targets => targets.Optimizer,
            _ => null,
        };
        if (optimizer is null) return;
        OptimizerSettings s = optimizer.Settings;
        OptimizerDescriptor descriptor = OpCatalog.Get(s.Kind);
        string expression = Regex.Replace(descriptor.PyTorch, @"\{(\w+)\}", m => m.Groups[1].Value switch
        {
            "groups" => "groups",
            "lr" => Number(s.LearningRate),
            string option => Setting(s, option),
        });
        var notes = new StringBuilder();
        foreach (string lacking in descriptor.PyTorchLacks)
            if (Setting(s, lacking) == "True")
                notes.Append(CultureInfo.InvariantCulture, $"    # KernelGen's {lacking} option has no PyTorch equivalent; this is PyTorch's standard form.\n");
        LearningRateSchedule schedule = optimizer.Schedule;
        if (schedule.Kind != ScheduleKind.Constant || schedule.WarmupSteps > 0)
            notes.Append(CultureInfo.InvariantCulture, $"    # Learning-rate schedule in KernelGen: {schedule.Kind} (period {Number(schedule.Period)}, factor {Number(schedule.Factor)}, minimum {Number(schedule.MinimumRate)}, warm-up {schedule.WarmupSteps} steps from {Number(schedule.WarmupStartFactor)}); use the matching torch.optim.lr_scheduler, stepped once per update.\n");
        GradientClipping clipping = optimizer.Clipping;
        if (double.IsFinite(clipping.MaxNorm))
            notes.Append(CultureInfo.InvariantCulture, $"    # Clip before each step: torch.nn.utils.clip_grad_norm_(model.parameters(), {Number(clipping.MaxNorm)})\n");
        if (double.IsFinite(clipping.MaxValue))
            notes.Append(CultureInfo.InvariantCulture, $"    # Clip before each step: torch.nn.utils.clip_grad_value_(model.parameters(), {Number(clipping.MaxValue)})\n");
        string weights = string.Join(", ", weightNames.ConvertAll(n => "\"" + n + "\""));
        py.Append(CultureInfo.InvariantCulture, $$"""
            WEIGHTS = {{{weights}}}


            def make_optimizer(model):
                # KernelGen's {{s.Kind}}; weight decay applies to weight matrices only (not biases, γ or β), as in KernelGen.
            {{notes}}    decay = [p for n, p in model.named_parameters() if n in WEIGHTS]
                rest = [p for n, p in model.named_parameters() if n not in WEIGHTS]
                groups = [{"params": decay, "weight_decay": {{Number(s.WeightDecay)}}}, {"params": rest, "weight_decay": 0.0}]
                return {{expression}}


            """);
    }

    private static string Setting(OptimizerSettings s, string name) => name switch
    {
        nameof(OptimizerSettings.Momentum) => Number(s.Momentum),
        nameof(OptimizerSettings.Dampening) => Number(s.Dampening),
        nameof(OptimizerSettings.Nesterov) => Boolean(s.Nesterov),
        nameof(OptimizerSettings.VelocityForm) => Boolean(s.VelocityForm),
        nameof(OptimizerSettings.Beta1) => Number(s.Beta1),
        nameof(OptimizerSettings.Beta2) => Number(s.Beta2),
        nameof(OptimizerSettings.Epsilon) => Number(s.Epsilon),
        nameof(OptimizerSettings.WeightDecay) => Number(s.WeightDecay),
        nameof(OptimizerSettings.Alpha) => Number(s.Alpha),
        nameof(OptimizerSettings.Centered) => Boolean(s.Centered),
        nameof(OptimizerSettings.EpsilonInsideSqrt) => Boolean(s.EpsilonInsideSqrt),
        nameof(OptimizerSettings.Rho) => Number(s.Rho),
        nameof(OptimizerSettings.MomentumDecay) => Number(s.MomentumDecay),
        nameof(OptimizerSettings.LearningRateDecay) => Number(s.LearningRateDecay),
        nameof(OptimizerSettings.InitialAccumulator) => Number(s.InitialAccumulator),
        _ => throw new NotSupportedException($"The optimizer option {name} has no setting."),
    };

    private static string Number(double value) =>
        value == Math.Floor(value) && Math.Abs(value) < 1e15 ? value.ToString("0.0", CultureInfo.InvariantCulture) : value.ToString("R", CultureInfo.InvariantCulture);

    private static string Integer(int value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Boolean(bool value) => value ? "True" : "False";

    private static string PythonName(string typeName) => Regex.Replace(typeName, "[^A-Za-z0-9_]", "_");

    /// <summary>Safetensors reading and writing with numpy alone (the format: an 8-byte little-endian header length, a
    /// JSON header of dtype, shape and byte offsets per tensor, then the raw little-endian data).</summary>
    private const string WeightFunctions = """
        _DTYPES = {"F32": (np.float32, torch.float32), "F64": (np.float64, torch.float64)}


        def load_weights(model, path):
            # Loads a safetensors file written by KernelGen (or by save_weights) into the model, strictly by name and shape.
            with open(path, "rb") as f:
                (length,) = struct.unpack("<Q", f.read(8))
                header = json.loads(f.read(length))
                data = f.read()
            state = {}
            for name, entry in header.items():
                if name == "__metadata__":
                    continue
                begin, end = entry["data_offsets"]
                array = np.frombuffer(data[begin:end], dtype=_DTYPES[entry["dtype"]][0]).reshape(entry["shape"])
                state[name] = torch.from_numpy(array.copy()).to(DTYPE)
            missing, unexpected = model.load_state_dict(state, strict=False)
            missing = [m for m in missing if not m.endswith("num_batches_tracked")]
            if missing or unexpected:
                raise ValueError(f"weights do not fit the model: missing {missing}, unexpected {unexpected}")


        def save_weights(model, path):
            # Writes the model's parameters and BatchNorm statistics as safetensors with KernelGen's names.
            kind = "F64" if DTYPE == torch.float64 else "F32"
            header, chunks, offset = {}, [], 0
            for name, tensor in model.state_dict().items():
                if name.endswith("num_batches_tracked"):
                    continue
                raw = tensor.detach().cpu().to(DTYPE).contiguous().numpy().astype("<" + ("f8" if kind == "F64" else "f4")).tobytes()
                header[name] = {"dtype": kind, "shape": list(tensor.shape), "data_offsets": [offset, offset + len(raw)]}
                chunks.append(raw)
                offset += len(raw)
            text = json.dumps(header, separators=(",", ":")).encode("utf-8")
            text += b" " * (-len(text) % 8)
            with open(path, "wb") as f:
                f.write(struct.pack("<Q", len(text)))
                f.write(text)
                for chunk in chunks:
                    f.write(chunk)

        """;
}
