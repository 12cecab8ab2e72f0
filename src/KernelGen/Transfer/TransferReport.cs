using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace KernelGen;

/// <summary>How <see cref="WeightTransfer"/> treats tensors that have no counterpart.</summary>
public enum TransferMode
{
    /// <summary>
    /// Every tensor of the target must be matched (same name, same shape) by a tensor of the source and every tensor of
    /// the source must be used; otherwise the transfer throws, listing every problem, and changes nothing (PyTorch's
    /// <c>load_state_dict(strict=True)</c>).
    /// </summary>
    Strict,
    /// <summary>
    /// Copies the tensors whose names and shapes match and leaves every other target tensor as it was (for example a new
    /// head); the report says what was skipped and why.
    /// </summary>
    Partial,
}

/// <summary>Why a tensor was not copied.</summary>
public enum TransferSkipReason
{
    /// <summary>A target tensor whose name the source lacks.</summary>
    NotInSource,
    /// <summary>A source tensor whose name the target lacks.</summary>
    NotInTarget,
    /// <summary>Both have the name, with different shapes.</summary>
    ShapeMismatch,
}

/// <summary>A tensor that was copied.</summary>
/// <param name="Name">Its weight-file name (<see cref="LayerTensor.FileName"/>, PyTorch's <c>state_dict</c> key), e.g. <c>Backbone1.weight</c>.</param>
/// <param name="Shape">Its shape in weight files (<see cref="LayerTensor.FileShape"/>: a dense weight is [out × in]).</param>
/// <param name="IsState">True for running statistics (<see cref="INeuralNetwork{T}.RunningStatistics"/>), false for parameters.</param>
public sealed record TransferredTensor(string Name, TensorShape Shape, bool IsState);

/// <summary>A tensor that was not copied, and why.</summary>
/// <param name="Name">Its weight-file name, e.g. <c>Head.weight</c>.</param>
/// <param name="Why">Why it was not copied.</param>
/// <param name="SourceShape">Its shape in the source (weight-file layout), or null when the source lacks it.</param>
/// <param name="TargetShape">Its shape in the target (weight-file layout), or null when the target lacks it.</param>
public sealed record SkippedTensor(string Name, TransferSkipReason Why, TensorShape? SourceShape, TensorShape? TargetShape)
{
    /// <summary>The reason in words: <c>not in source</c>, <c>not in target</c>, or
    /// <c>shape [10, 64] in source, [5, 64] in target</c>.</summary>
    public string Reason => Why switch
    {
        TransferSkipReason.NotInSource => "not in source",
        TransferSkipReason.NotInTarget => "not in target",
        _ => $"shape {SourceShape} in source, {TargetShape} in target",
    };
}

/// <summary>
/// What a <see cref="WeightTransfer"/> matched and copied, which target tensors it left as they were and which source
/// tensors it did not use, with reasons. Tensors are named and shaped as in weight files (PyTorch's <c>state_dict</c>:
/// <c>Dense1.weight</c> [out × in]), so reports from networks, checkpoints and safetensors files read alike.
/// <see cref="ToString"/> prints it as a table.
/// </summary>
public sealed class TransferReport
{
    internal TransferReport(string source, TransferMode mode, IReadOnlyList<TransferredTensor> matched,
        IReadOnlyList<SkippedTensor> skipped, IReadOnlyList<SkippedTensor> unused)
    {
        Source = source;
        Mode = mode;
        Matched = matched;
        Skipped = skipped;
        Unused = unused;
    }

    /// <summary>Where the values came from (a network type, a file path, or a stream).</summary>
    public string Source { get; }

    /// <summary>The mode of the transfer.</summary>
    public TransferMode Mode { get; }

    /// <summary>The target tensors that were matched (and, unless the transfer threw, copied), in the target's layer order.</summary>
    public IReadOnlyList<TransferredTensor> Matched { get; }

    /// <summary>The target tensors left as they were, in the target's layer order: <see cref="TransferSkipReason.NotInSource"/>
    /// or <see cref="TransferSkipReason.ShapeMismatch"/>.</summary>
    public IReadOnlyList<SkippedTensor> Skipped { get; }

    /// <summary>The source tensors not used, in the source's order: <see cref="TransferSkipReason.NotInTarget"/> or
    /// <see cref="TransferSkipReason.ShapeMismatch"/> (a shape mismatch appears here and in <see cref="Skipped"/>).</summary>
    public IReadOnlyList<SkippedTensor> Unused { get; }

    /// <summary>True when every target tensor was matched and every source tensor used (what <see cref="TransferMode.Strict"/> requires).</summary>
    public bool IsComplete => Skipped.Count == 0 && Unused.Count == 0;

    /// <summary>
    /// A table: a summary line, then one row per target tensor (copied or skipped, in layer order) and one per source
    /// tensor the target lacks, with both shapes and the result:
    /// <code>
    /// Transfer from PretrainedNet (partial): 2 copied, 3 skipped in the target, 3 unused in the source
    ///   tensor            source    target    result
    ///   Backbone1.weight  [32, 6]   [32, 6]   copied
    ///   Backbone1.bias    [32]      [32]      copied
    ///   Neck.weight       -         [32, 32]  skipped: not in source
    ///   Head.weight       [10, 32]  [5, 32]   skipped: shape [10, 32] in source, [5, 32] in target
    ///   Head.bias         [10]      [5]       skipped: shape [10] in source, [5] in target
    ///   OldHead.weight    [8, 32]   -         unused: not in target
    /// </code>
    /// A shape mismatch is one row, though it counts in both lists. Shapes are weight-file shapes.
    /// </summary>
    public override string ToString()
    {
        var rows = new List<string[]> { new[] { "tensor", "source", "target", "result" } };
        foreach (TransferredTensor tensor in Matched)
            rows.Add([tensor.Name, tensor.Shape.ToString(), tensor.Shape.ToString(), "copied"]);
        foreach (SkippedTensor tensor in Skipped)
            rows.Add([tensor.Name, Shape(tensor.SourceShape), Shape(tensor.TargetShape), "skipped: " + tensor.Reason]);
        foreach (SkippedTensor tensor in Unused)
            if (tensor.Why == TransferSkipReason.NotInTarget) // a shape mismatch is already a row of Skipped
                rows.Add([tensor.Name, Shape(tensor.SourceShape), Shape(tensor.TargetShape), "unused: " + tensor.Reason]);

        var widths = new int[3];
        foreach (string[] row in rows)
            for (int column = 0; column < widths.Length; column++) widths[column] = Math.Max(widths[column], row[column].Length);

        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture,
            $"Transfer from {Source} ({(Mode == TransferMode.Strict ? "strict" : "partial")}): {Matched.Count} copied, {Skipped.Count} skipped in the target, {Unused.Count} unused in the source");
        foreach (string[] row in rows)
        {
            text.AppendLine().Append("  ");
            for (int column = 0; column < widths.Length; column++) text.Append(row[column].PadRight(widths[column] + 2));
            text.Append(row[3]);
        }
        return text.ToString();
    }

    private static string Shape(TensorShape? shape) => shape?.ToString() ?? "-";
}
