using System.Collections.Generic;
using KernelGen.Catalog;
using KernelGen.Generators.Emit;
using KernelGen.Generators.Helpers;
using KernelGen.Generators.Lowering;

namespace KernelGen.Generators.Ops;

/// <summary>Dense options: the resolved weight initialization and the bias's start value.</summary>
internal sealed record DenseOptions(Init Init, double BiasInit) : OpOptions;

/// <summary>
/// Dense: y = f(x·W + b) through <c>Kernels.Dense</c>, the activation fused into the GEMM's epilogue (and its derivative
/// into the backward pass, applied to ∂L/∂y in place). An activation whose derivative needs its input keeps the
/// pre-activation in a saved buffer.
/// </summary>
internal sealed class DenseGenerator : OpGenerator
{
    public override LayerKind Kind => LayerKind.Dense;

    public override OpOptions Options(OptionValues values) => new DenseOptions((Init)values.Int("Init"), values["BiasInit"]);

    public override IEnumerable<BufferNeed> Saved(NodePlan node) => FusedActivation.Saved(node);

    public override OutputMode Gradient(NodePlan node) => OutputMode.Distinct;

    public override void Forward(SourceWriter w, EmitContext c, NodePlan node, ForwardBindings b)
    {
        LayerTensorPlan weights = node.Tensor(TensorRole.Weight), bias = node.Tensor(TensorRole.Bias);
        string sizes = $"batch, {EmitContext.Int(node.In)}, {EmitContext.Int(node.Out)}";
        // Training calls the float kernel on the arena; evaluation goes through the state, which runs an inference form's
        // reduced-precision copy of the weights when it has one (InferencePrecision).
        FusedActivation.Forward(w, node, b, $"dense {node.In} → {node.Out}", (op, output) => b.Training
            ? $"{EmitContext.Kernels}.Dense.Forward<T, {op}>({b.Input}, {EmitContext.Param(weights)}, {EmitContext.Param(bias)}, {output}, {sizes}, splitColumns: false);"
            : $"s.DenseForward<{op}>({b.Input}, {EmitContext.Int(weights.Offset)}, {EmitContext.Int(bias.Offset)}, {output}, {sizes});");
    }

    public override void Backward(SourceWriter w, EmitContext c, NodePlan node, BackwardBindings b)
    {
        LayerTensorPlan weights = node.Tensor(TensorRole.Weight), bias = node.Tensor(TensorRole.Bias);
        string sizes = $"batch, {EmitContext.Int(node.In)}, {EmitContext.Int(node.Out)}";
        FusedActivation.Backward(w, node, b, $"dense {node.In} → {node.Out}");
        w.Line(EmitContext.UnlessFrozen(node, $"{EmitContext.Kernels}.Dense.BackwardParameters<T>({b.Input}, {b.OutputGradient}, {EmitContext.Grad(weights)}, {EmitContext.Grad(bias)}, {sizes});"));
        if (b.InputGradient is null) return;
        w.Line(FusedActivation.InputGradient(b, $"{EmitContext.Kernels}.Dense.BackwardInput<T>({b.OutputGradient}, {EmitContext.Param(weights)}, {b.InputGradient}, {sizes});"));
    }
}
