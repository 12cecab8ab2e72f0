using System;
using System.IO;

namespace KernelGen.Preprocessing;

/// <summary>
/// A preprocessing transform fitted on training data and then applied, unchanged, to training, validation and test
/// data alike (fitting on anything but the training set leaks information, as CS231n stresses: compute preprocessing statistics on the training data only).
/// Rows are row-major [count × <see cref="InputFeatures"/>] in, [count × <see cref="OutputFeatures"/>] out.
/// </summary>
public interface IFeatureTransform
{
    /// <summary>The number of features of an input row.</summary>
    int InputFeatures { get; }

    /// <summary>The number of features of an output row.</summary>
    int OutputFeatures { get; }

    /// <summary>
    /// Transforms <paramref name="count"/> rows of <paramref name="input"/> into <paramref name="output"/> without
    /// allocating. The spans may be the same memory (same first element) but must not overlap otherwise.
    /// </summary>
    /// <param name="input">At least count × <see cref="InputFeatures"/> values.</param>
    /// <param name="output">At least count × <see cref="OutputFeatures"/> values.</param>
    /// <param name="count">The number of rows.</param>
    void Apply(ReadOnlySpan<float> input, Span<float> output, int count);

    /// <summary>
    /// Transforms <paramref name="count"/> rows in place: on return the first count × <see cref="OutputFeatures"/>
    /// values of <paramref name="rows"/> hold the result. Needs <see cref="OutputFeatures"/> ≤ <see cref="InputFeatures"/>.
    /// </summary>
    void Apply(Span<float> rows, int count);

    /// <summary>
    /// Writes the fitted transform to <paramref name="stream"/> (left open) in the little-endian format that
    /// <see cref="FeatureTransform.Load(Stream)"/> reads.
    /// </summary>
    void Save(Stream stream);
}
