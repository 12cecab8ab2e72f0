using System;
using System.Buffers;
using System.Collections.Generic;
using System.IO;

namespace KernelGen.Preprocessing;

/// <summary>
/// Several transforms applied in order (for example <see cref="ZeroCenter"/> then <see cref="Pca"/>); each stage's
/// output width must equal the next stage's input width. Rows pass through the stages a block at a time, in two
/// pooled scratch buffers, so applying allocates nothing in steady state.
/// </summary>
public sealed class TransformPipeline : IFeatureTransform
{
    /// <summary>Values per scratch block (rows per block = this / the widest stage, at least 1).</summary>
    private const int BlockValues = 1 << 14;

    private readonly IFeatureTransform[] _stages;
    private readonly int _maxWidth;

    /// <summary>Chains <paramref name="stages"/> (at least one; adjacent widths must match).</summary>
    public TransformPipeline(params IFeatureTransform[] stages)
    {
        ArgumentNullException.ThrowIfNull(stages);
        if (stages.Length == 0) throw new ArgumentException("A pipeline needs at least one transform.", nameof(stages));
        _maxWidth = 0;
        for (int i = 0; i < stages.Length; i++)
        {
            if (stages[i] is null) throw new ArgumentNullException(nameof(stages), $"stages[{i}] is null.");
            if (i > 0 && stages[i].InputFeatures != stages[i - 1].OutputFeatures)
            {
                throw new ArgumentException(
                    $"stages[{i}] expects {stages[i].InputFeatures} features but stages[{i - 1}] produces {stages[i - 1].OutputFeatures}.", nameof(stages));
            }
            _maxWidth = Math.Max(_maxWidth, Math.Max(stages[i].InputFeatures, stages[i].OutputFeatures));
        }
        _stages = (IFeatureTransform[])stages.Clone();
    }

    /// <summary>The stages, in order.</summary>
    public IReadOnlyList<IFeatureTransform> Stages => _stages;

    /// <inheritdoc/>
    public int InputFeatures => _stages[0].InputFeatures;

    /// <inheritdoc/>
    public int OutputFeatures => _stages[^1].OutputFeatures;

    /// <inheritdoc/>
    public void Apply(ReadOnlySpan<float> input, Span<float> output, int count)
    {
        int d = InputFeatures, k = OutputFeatures;
        FeatureTransform.CheckApply(d, k, input, output, count);
        if (count == 0) return;
        if (_stages.Length == 1)
        {
            _stages[0].Apply(input, output, count);
            return;
        }

        int blockRows = Math.Max(1, BlockValues / _maxWidth);
        int size = blockRows * _maxWidth;
        float[] a = ArrayPool<float>.Shared.Rent(size), b = ArrayPool<float>.Shared.Rent(size);
        try
        {
            // Blocks advance front to back and output rows are no wider than input rows when the memory is shared,
            // so a block's output never overwrites input that is still to be read.
            for (int start = 0; start < count; start += blockRows)
            {
                int rows = Math.Min(blockRows, count - start);
                ReadOnlySpan<float> current = input.Slice(start * d, rows * d);
                float[] target = a;
                for (int s = 0; s < _stages.Length; s++)
                {
                    IFeatureTransform stage = _stages[s];
                    if (s == _stages.Length - 1)
                    {
                        stage.Apply(current, output.Slice(start * k, rows * k), rows);
                    }
                    else
                    {
                        Span<float> next = target.AsSpan(0, rows * stage.OutputFeatures);
                        stage.Apply(current, next, rows);
                        current = next;
                        target = target == a ? b : a;
                    }
                }
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(b);
            ArrayPool<float>.Shared.Return(a);
        }
    }

    /// <inheritdoc/>
    public void Apply(Span<float> rows, int count) => Apply(rows, rows, count);

    /// <inheritdoc/>
    /// <remarks>Each stage is saved as a nested record; <see cref="FeatureTransform.Load(Stream)"/> reads back only built-in transforms.</remarks>
    public void Save(Stream stream) => FeatureTransform.Write(stream, FeatureTransform.KindPipeline, writer =>
    {
        writer.Write(_stages.Length);
        writer.Flush();
        foreach (IFeatureTransform stage in _stages) stage.Save(writer.BaseStream);
    });

    internal static TransformPipeline Read(byte[] payload, int depth)
    {
        using var stream = new MemoryStream(payload, writable: false);
        var reader = new PayloadReader(payload.AsSpan(0, Math.Min(4, payload.Length)));
        int count = reader.ReadSize("stages", 1, 1 << 16);
        stream.Position = 4;
        var stages = new IFeatureTransform[count];
        for (int i = 0; i < count; i++) stages[i] = FeatureTransform.LoadNested(stream, depth + 1);
        if (stream.Position != stream.Length)
            throw new InvalidDataException($"Feature transform pipeline payload has {stream.Length - stream.Position} unexpected trailing bytes; the data is corrupt.");
        try
        {
            return new TransformPipeline(stages);
        }
        catch (ArgumentException ex)
        {
            throw new InvalidDataException($"Feature transform pipeline is inconsistent: {ex.Message}", ex);
        }
    }
}
