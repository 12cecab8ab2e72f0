using System;
using System.Numerics;
using System.Runtime.InteropServices;

namespace KernelGen.Data;

/// <summary>
/// A labelled dataset held in memory: features as one row-major [<see cref="Count"/> × <see cref="FeatureCount"/>]
/// array, plus either one integer class label per sample (classification) or one float target per sample
/// (regression, see <see cref="ForRegression"/>). Images may record their [channels × height × width] shape, which
/// per-channel preprocessing and <see cref="Augmentation"/> need.
/// </summary>
/// <remarks>
/// The constructor validates everything once (lengths, labels, finite features) and then takes ownership of the
/// arrays without copying them: callers must not modify them afterwards. Derived datasets (<see cref="Subset"/>,
/// <see cref="Take"/>, <see cref="Split"/>) copy the selected rows.
/// </remarks>
public sealed class Dataset
{
    /// <summary>
    /// Creates a classification dataset of <c>labels.Length</c> samples with <paramref name="featureCount"/> features each.
    /// </summary>
    /// <param name="features">Row-major [count × featureCount] values; all must be finite.</param>
    /// <param name="labels">One class index per sample; all must lie in [0, <paramref name="classCount"/>).</param>
    /// <param name="featureCount">Features per sample (at least 1).</param>
    /// <param name="classCount">The number of classes; 0 (the default) means one more than the largest label.</param>
    public Dataset(float[] features, int[] labels, int featureCount, int classCount = 0)
        : this(features, labels, null, featureCount, 0, 0, 0, classCount)
    {
    }

    /// <summary>
    /// Creates a classification dataset of images stored as [channels × height × width] rows (channel-major, the layout
    /// <see cref="Augmentation"/> and per-channel preprocessing assume).
    /// </summary>
    /// <param name="features">Row-major [count × channels·height·width] values; all must be finite.</param>
    /// <param name="labels">One class index per sample; all must lie in [0, <paramref name="classCount"/>).</param>
    /// <param name="channels">Channels per image (at least 1).</param>
    /// <param name="height">Image height in pixels (at least 1).</param>
    /// <param name="width">Image width in pixels (at least 1).</param>
    /// <param name="classCount">The number of classes; 0 (the default) means one more than the largest label.</param>
    public Dataset(float[] features, int[] labels, int channels, int height, int width, int classCount = 0)
        : this(features, labels, null, CheckedShape(channels, height, width), channels, height, width, classCount)
    {
    }

    private Dataset(float[] features, int[]? labels, float[]? targets, int featureCount, int channels, int height, int width, int classCount)
    {
        ArgumentNullException.ThrowIfNull(features);
        if (featureCount < 1) ThrowHelper.ThrowArgumentOutOfRange(nameof(featureCount), featureCount, "A dataset needs at least one feature per sample.");
        int count;
        if (labels is not null)
        {
            count = labels.Length;
            if (classCount < 0) ThrowHelper.ThrowArgumentOutOfRange(nameof(classCount), classCount, "The class count must not be negative.");
            int maxLabel = -1;
            for (int i = 0; i < labels.Length; i++)
            {
                int label = labels[i];
                if (label < 0 || (classCount > 0 && label >= classCount))
                {
                    throw new ArgumentOutOfRangeException(nameof(labels), label, classCount > 0
                        ? $"labels[{i}] = {label} is not a class index in [0, {classCount})."
                        : $"labels[{i}] = {label} is negative; class labels must be non-negative.");
                }
                if (label > maxLabel) maxLabel = label;
            }
            // The class count is the largest label + 1: the largest int would overflow it to int.MinValue.
            if (classCount == 0 && maxLabel == int.MaxValue)
            {
                throw new ArgumentOutOfRangeException(nameof(labels), maxLabel,
                    $"labels[{Array.IndexOf(labels, int.MaxValue)}] = {int.MaxValue} leaves no class count (it would be {int.MaxValue} + 1); labels must be below {int.MaxValue}.");
            }
            ClassCount = classCount > 0 ? classCount : maxLabel + 1;
        }
        else
        {
            count = targets!.Length;
            int bad = FirstNonFinite(targets);
            if (bad >= 0) ThrowHelper.ThrowNotFinite(nameof(targets), bad);
        }

        if ((long)count * featureCount != features.Length)
        {
            throw new ArgumentException(
                $"'{nameof(features)}' has length {features.Length}, but {count} samples × {featureCount} features need {(long)count * featureCount}.",
                nameof(features));
        }
        int nonFinite = FirstNonFinite(features);
        if (nonFinite >= 0)
        {
            throw new ArgumentException(
                $"features[{nonFinite}] (sample {nonFinite / featureCount}, feature {nonFinite % featureCount}) is NaN or infinite; features must be finite.",
                nameof(features));
        }

        Features = features;
        Labels = labels ?? Array.Empty<int>();
        Targets = targets;
        Count = count;
        FeatureCount = featureCount;
        Channels = channels;
        Height = height;
        Width = width;
    }

    /// <summary>
    /// Creates a regression dataset: one finite float target per sample, <see cref="Labels"/> empty and
    /// <see cref="ClassCount"/> 0.
    /// </summary>
    /// <param name="features">Row-major [count × featureCount] values; all must be finite.</param>
    /// <param name="targets">One target per sample; all must be finite.</param>
    /// <param name="featureCount">Features per sample (at least 1).</param>
    public static Dataset ForRegression(float[] features, float[] targets, int featureCount)
    {
        ArgumentNullException.ThrowIfNull(targets);
        return new Dataset(features, null, targets, featureCount, 0, 0, 0, 0);
    }

    /// <summary>Row-major [<see cref="Count"/> × <see cref="FeatureCount"/>] feature values, all finite.</summary>
    public float[] Features { get; }

    /// <summary>One class index per sample in [0, <see cref="ClassCount"/>); empty for a regression dataset.</summary>
    public int[] Labels { get; }

    /// <summary>One regression target per sample, or <see langword="null"/> for a classification dataset.</summary>
    public float[]? Targets { get; }

    /// <summary>Whether this is a regression dataset (<see cref="Targets"/> set, <see cref="Labels"/> empty).</summary>
    public bool IsRegression => Targets is not null;

    /// <summary>The number of samples.</summary>
    public int Count { get; }

    /// <summary>The number of features per sample (the row width).</summary>
    public int FeatureCount { get; }

    /// <summary>The number of classes (0 for regression). Subsets keep their parent's count even if a class is absent.</summary>
    public int ClassCount { get; }

    /// <summary>Channels per image, or 0 when the samples are not images.</summary>
    public int Channels { get; }

    /// <summary>Image height in pixels, or 0 when the samples are not images.</summary>
    public int Height { get; }

    /// <summary>Image width in pixels, or 0 when the samples are not images.</summary>
    public int Width { get; }

    /// <summary>Whether the rows are images of shape [<see cref="Channels"/> × <see cref="Height"/> × <see cref="Width"/>].</summary>
    public bool IsImage => Channels > 0;

    /// <summary>The features of sample <paramref name="index"/>.</summary>
    public ReadOnlySpan<float> Row(int index)
    {
        if ((uint)index >= (uint)Count) ThrowHelper.ThrowArgumentOutOfRange(nameof(index), index, $"Must be in [0, {Count}).");
        return new ReadOnlySpan<float>(Features, index * FeatureCount, FeatureCount);
    }

    /// <summary>A copy of the <paramref name="count"/> consecutive samples starting at <paramref name="start"/>.</summary>
    public Dataset Subset(int start, int count)
    {
        if ((uint)start > (uint)Count) ThrowHelper.ThrowArgumentOutOfRange(nameof(start), start, $"Must be in [0, {Count}].");
        if (count < 0 || count > Count - start)
            ThrowHelper.ThrowArgumentOutOfRange(nameof(count), count, $"Must be in [0, {Count - start}] for start {start} of a dataset of {Count}.");
        float[] features = Features.AsSpan(start * FeatureCount, count * FeatureCount).ToArray();
        if (Targets is not null) return WithRows(features, null, Targets.AsSpan(start, count).ToArray());
        return WithRows(features, Labels.AsSpan(start, count).ToArray(), null);
    }

    /// <summary>A copy of the samples at <paramref name="indices"/>, in that order (repeats allowed).</summary>
    public Dataset Take(ReadOnlySpan<int> indices)
    {
        for (int i = 0; i < indices.Length; i++)
        {
            if ((uint)indices[i] >= (uint)Count)
                throw new ArgumentOutOfRangeException(nameof(indices), indices[i], $"indices[{i}] = {indices[i]} is not a sample index in [0, {Count}).");
        }
        int d = FeatureCount;
        var features = new float[indices.Length * d];
        int[]? labels = Targets is null ? new int[indices.Length] : null;
        float[]? targets = Targets is null ? null : new float[indices.Length];
        for (int i = 0; i < indices.Length; i++)
        {
            int src = indices[i];
            Features.AsSpan(src * d, d).CopyTo(features.AsSpan(i * d, d));
            if (labels is not null) labels[i] = Labels[src];
            else targets![i] = Targets![src];
        }
        return WithRows(features, labels, targets);
    }

    /// <summary>
    /// Shuffles the sample indices with a seeded Fisher–Yates shuffle (<see cref="KernelRandom"/>) and splits them:
    /// the first round(<paramref name="validationFraction"/>·<see cref="Count"/>) shuffled samples form the validation
    /// set, the rest the training set, both in shuffled order. The same seed always gives the same split.
    /// </summary>
    /// <param name="validationFraction">The share of samples held out, in [0, 1].</param>
    /// <param name="seed">The shuffle seed.</param>
    public (Dataset Train, Dataset Validation) Split(double validationFraction, ulong seed)
    {
        if (!(validationFraction >= 0.0 && validationFraction <= 1.0))
            ThrowHelper.ThrowArgumentOutOfRange(nameof(validationFraction), validationFraction, "The validation fraction must lie in [0, 1].");
        var order = new int[Count];
        for (int i = 0; i < order.Length; i++) order[i] = i;
        var random = new KernelRandom(seed, SplitStream);
        Shuffle(order, ref random);
        int validation = (int)Math.Round(validationFraction * Count, MidpointRounding.AwayFromZero);
        return (Take(order.AsSpan(validation)), Take(order.AsSpan(0, validation)));
    }

    /// <summary>The number of samples of each class: element k counts label k (length <see cref="ClassCount"/>).</summary>
    public int[] ClassHistogram()
    {
        var histogram = new int[ClassCount];
        foreach (int label in Labels) histogram[label]++;
        return histogram;
    }

    /// <summary>In-place Fisher–Yates shuffle (Durstenfeld's variant): for i from n−1 down to 1, swap i with a uniform j ≤ i.</summary>
    internal static void Shuffle(Span<int> values, ref KernelRandom random)
    {
        for (int i = values.Length - 1; i > 0; i--)
        {
            int j = random.NextInt(i + 1);
            (values[i], values[j]) = (values[j], values[i]);
        }
    }

    /// <summary>Stream id of the <see cref="Split"/> shuffle, so it differs from a mini-batch shuffle with the same seed.</summary>
    private const ulong SplitStream = 0x5B117;

    private Dataset WithRows(float[] features, int[]? labels, float[]? targets) =>
        new(features, labels, targets, FeatureCount, Channels, Height, Width, labels is null ? 0 : ClassCount);

    private static int CheckedShape(int channels, int height, int width)
    {
        if (channels < 1) ThrowHelper.ThrowArgumentOutOfRange(nameof(channels), channels, "An image needs at least one channel.");
        if (height < 1) ThrowHelper.ThrowArgumentOutOfRange(nameof(height), height, "The image height must be positive.");
        if (width < 1) ThrowHelper.ThrowArgumentOutOfRange(nameof(width), width, "The image width must be positive.");
        long size = (long)channels * height * width;
        if (size > Array.MaxLength)
            throw new ArgumentException($"An image of {channels} × {height} × {width} has {size} values, more than an array can hold.");
        return (int)size;
    }

    /// <summary>The index of the first NaN or ±∞ in <paramref name="values"/>, or −1 (x − x is 0 exactly when x is finite).</summary>
    internal static int FirstNonFinite(ReadOnlySpan<float> values)
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated && values.Length >= Vector<float>.Count)
        {
            ReadOnlySpan<Vector<float>> vectors = MemoryMarshal.Cast<float, Vector<float>>(values);
            for (int v = 0; v < vectors.Length; v++)
            {
                Vector<float> x = vectors[v];
                if (!Vector.EqualsAll(x - x, Vector<float>.Zero)) break;
                i += Vector<float>.Count;
            }
        }
        for (; i < values.Length; i++)
        {
            if (!float.IsFinite(values[i])) return i;
        }
        return -1;
    }
}
