using System;
using System.Collections.Generic;
using System.Numerics;
using System.Runtime.InteropServices;

namespace KernelGen.Data;

/// <summary>
/// A labelled dataset held in memory: features as one row-major [<see cref="Count"/> × <see cref="FeatureCount"/>]
/// array, plus either one integer class label per sample (classification, for networks trained on class indices) or
/// <see cref="TargetCount"/> float targets per sample as one row-major [<see cref="Count"/> × <see cref="TargetCount"/>]
/// array (regression, binary and multi-label targets in [0, 1], target distributions; see <see cref="ForTargets"/>).
/// Images may record their [channels × height × width] shape, which per-channel preprocessing and
/// <see cref="Augmentation"/> need. Feature, class and target names are optional metadata (a CSV header fills them).
/// </summary>
/// <remarks>
/// The constructor validates everything once (lengths, labels, finite features and targets) and then takes ownership
/// of the arrays without copying them: callers must not modify them afterwards. Derived datasets (<see cref="Subset"/>,
/// <see cref="Take"/>, the splits) copy the selected rows and keep the names.
/// </remarks>
public sealed class Dataset
{
    private readonly IReadOnlyList<string>? _featureNames, _classNames, _targetNames;

    /// <summary>
    /// Creates a classification dataset of <c>labels.Length</c> samples with <paramref name="featureCount"/> features each.
    /// </summary>
    /// <param name="features">Row-major [count × featureCount] values; all must be finite.</param>
    /// <param name="labels">One class index per sample; all must lie in [0, <paramref name="classCount"/>).</param>
    /// <param name="featureCount">Features per sample (at least 1).</param>
    /// <param name="classCount">The number of classes; 0 (the default) means one more than the largest label.</param>
    public Dataset(float[] features, int[] labels, int featureCount, int classCount = 0)
        : this(features, labels, null, featureCount, 0, 0, 0, 0, classCount)
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
        : this(features, labels, null, CheckedShape(channels, height, width), 0, channels, height, width, classCount)
    {
    }

    private Dataset(float[] features, int[]? labels, float[]? targets, int featureCount, int targetCount, int channels, int height, int width, int classCount)
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
            if (targetCount < 1) ThrowHelper.ThrowArgumentOutOfRange(nameof(targetCount), targetCount, "A dataset with targets needs at least one target per sample.");
            if (targets!.Length % targetCount != 0)
            {
                throw new ArgumentException(
                    $"'{nameof(targets)}' has length {targets.Length}, which is not a whole number of rows of {targetCount} targets.", nameof(targets));
            }
            count = targets.Length / targetCount;
            int bad = FirstNonFinite(targets);
            if (bad >= 0)
            {
                throw new ArgumentException(
                    $"targets[{bad}] (sample {bad / targetCount}, target {bad % targetCount}) is NaN or infinite; targets must be finite.", nameof(targets));
            }
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
        TargetCount = labels is null ? targetCount : 0;
        Count = count;
        FeatureCount = featureCount;
        Channels = channels;
        Height = height;
        Width = width;
    }

    /// <summary>
    /// Creates a regression dataset with one finite float target per sample (<see cref="TargetCount"/> 1),
    /// <see cref="Labels"/> empty and <see cref="ClassCount"/> 0.
    /// </summary>
    /// <param name="features">Row-major [count × featureCount] values; all must be finite.</param>
    /// <param name="targets">One target per sample; all must be finite.</param>
    /// <param name="featureCount">Features per sample (at least 1).</param>
    public static Dataset ForRegression(float[] features, float[] targets, int featureCount) => ForTargets(features, targets, featureCount, 1);

    /// <summary>
    /// Creates a dataset of target vectors: <paramref name="targetCount"/> finite floats per sample, laid out like a
    /// network's outputs. Use it for regression (one target per output), binary and multi-label classification
    /// (targets in [0, 1] for binary cross-entropy) and target distributions (rows summing to 1 for KL divergence).
    /// <see cref="Labels"/> is empty and <see cref="ClassCount"/> 0.
    /// </summary>
    /// <param name="features">Row-major [count × featureCount] values; all must be finite.</param>
    /// <param name="targets">Row-major [count × targetCount] values; all must be finite.</param>
    /// <param name="featureCount">Features per sample (at least 1).</param>
    /// <param name="targetCount">Targets per sample (at least 1).</param>
    public static Dataset ForTargets(float[] features, float[] targets, int featureCount, int targetCount)
    {
        ArgumentNullException.ThrowIfNull(targets);
        return new Dataset(features, null, targets, featureCount, targetCount, 0, 0, 0, 0);
    }

    /// <summary>Row-major [<see cref="Count"/> × <see cref="FeatureCount"/>] feature values, all finite.</summary>
    public float[] Features { get; }

    /// <summary>One class index per sample in [0, <see cref="ClassCount"/>); empty for a dataset of targets.</summary>
    public int[] Labels { get; }

    /// <summary>Row-major [<see cref="Count"/> × <see cref="TargetCount"/>] targets, or <see langword="null"/> for a
    /// dataset of class labels.</summary>
    public float[]? Targets { get; }

    /// <summary>Targets per sample (0 for a dataset of class labels).</summary>
    public int TargetCount { get; }

    /// <summary>Whether the samples carry float target vectors (<see cref="Targets"/>) rather than class labels.</summary>
    public bool HasTargets => Targets is not null;

    /// <summary>The same as <see cref="HasTargets"/>: true for any dataset of float targets (regression, binary or
    /// multi-label targets, distributions).</summary>
    public bool IsRegression => Targets is not null;

    /// <summary>The number of samples.</summary>
    public int Count { get; }

    /// <summary>The number of features per sample (the row width).</summary>
    public int FeatureCount { get; }

    /// <summary>The number of classes (0 for a dataset of targets). Subsets keep their parent's count even if a class is absent.</summary>
    public int ClassCount { get; }

    /// <summary>Channels per image, or 0 when the samples are not images.</summary>
    public int Channels { get; }

    /// <summary>Image height in pixels, or 0 when the samples are not images.</summary>
    public int Height { get; }

    /// <summary>Image width in pixels, or 0 when the samples are not images.</summary>
    public int Width { get; }

    /// <summary>Whether the rows are images of shape [<see cref="Channels"/> × <see cref="Height"/> × <see cref="Width"/>].</summary>
    public bool IsImage => Channels > 0;

    /// <summary>The feature names (e.g. from a CSV header), one per feature, or <see langword="null"/>.</summary>
    /// <exception cref="ArgumentException">The list does not hold one name per feature.</exception>
    public IReadOnlyList<string>? FeatureNames
    {
        get => _featureNames;
        init => _featureNames = CheckNames(value, FeatureCount, "feature");
    }

    /// <summary>The class names, one per class (<see cref="ClassCount"/>), or <see langword="null"/>. Reports and
    /// <see cref="KernelGen.Training.Evaluation"/> print them.</summary>
    /// <exception cref="ArgumentException">The dataset has targets, or the list does not hold one name per class.</exception>
    public IReadOnlyList<string>? ClassNames
    {
        get => _classNames;
        init
        {
            if (value is not null && HasTargets) throw new ArgumentException("A dataset of targets has no classes; name its targets with TargetNames.", nameof(ClassNames));
            _classNames = CheckNames(value, ClassCount, "class");
        }
    }

    /// <summary>The target names (e.g. the label columns of a CSV header, or the labels of a multi-label task), one per
    /// target, or <see langword="null"/>.</summary>
    /// <exception cref="ArgumentException">The dataset has class labels, or the list does not hold one name per target.</exception>
    public IReadOnlyList<string>? TargetNames
    {
        get => _targetNames;
        init
        {
            if (value is not null && !HasTargets) throw new ArgumentException("A dataset of class labels has no targets; name its classes with ClassNames.", nameof(TargetNames));
            _targetNames = CheckNames(value, TargetCount, "target");
        }
    }

    /// <summary>The features of sample <paramref name="index"/>.</summary>
    public ReadOnlySpan<float> Row(int index)
    {
        if ((uint)index >= (uint)Count) ThrowHelper.ThrowArgumentOutOfRange(nameof(index), index, $"Must be in [0, {Count}).");
        return new ReadOnlySpan<float>(Features, index * FeatureCount, FeatureCount);
    }

    /// <summary>The targets of sample <paramref name="index"/> (a dataset of targets only).</summary>
    public ReadOnlySpan<float> TargetRow(int index)
    {
        if (Targets is null) throw new InvalidOperationException("The dataset has class labels, not targets.");
        if ((uint)index >= (uint)Count) ThrowHelper.ThrowArgumentOutOfRange(nameof(index), index, $"Must be in [0, {Count}).");
        return new ReadOnlySpan<float>(Targets, index * TargetCount, TargetCount);
    }

    /// <summary>A copy of the <paramref name="count"/> consecutive samples starting at <paramref name="start"/>.</summary>
    public Dataset Subset(int start, int count)
    {
        if ((uint)start > (uint)Count) ThrowHelper.ThrowArgumentOutOfRange(nameof(start), start, $"Must be in [0, {Count}].");
        if (count < 0 || count > Count - start)
            ThrowHelper.ThrowArgumentOutOfRange(nameof(count), count, $"Must be in [0, {Count - start}] for start {start} of a dataset of {Count}.");
        float[] features = Features.AsSpan(start * FeatureCount, count * FeatureCount).ToArray();
        if (Targets is not null) return WithRows(features, null, Targets.AsSpan(start * TargetCount, count * TargetCount).ToArray());
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
        int d = FeatureCount, t = TargetCount;
        var features = new float[indices.Length * d];
        int[]? labels = Targets is null ? new int[indices.Length] : null;
        float[]? targets = Targets is null ? null : new float[indices.Length * t];
        for (int i = 0; i < indices.Length; i++)
        {
            int src = indices[i];
            Features.AsSpan(src * d, d).CopyTo(features.AsSpan(i * d, d));
            if (labels is not null) labels[i] = Labels[src];
            else Targets!.AsSpan(src * t, t).CopyTo(targets.AsSpan(i * t, t));
        }
        return WithRows(features, labels, targets);
    }

    /// <summary>
    /// Shuffles the sample indices with a seeded Fisher–Yates shuffle (<see cref="KernelRandom"/>) and splits them:
    /// the first round(<paramref name="validationFraction"/>·<see cref="Count"/>) shuffled samples form the validation
    /// set, the rest the training set, both in shuffled order. The same seed always gives the same split
    /// (<see cref="Splits.Shuffled"/> returns the indices).
    /// </summary>
    /// <param name="validationFraction">The share of samples held out, in [0, 1].</param>
    /// <param name="seed">The shuffle seed.</param>
    public (Dataset Train, Dataset Validation) Split(double validationFraction, ulong seed)
    {
        (int[] train, int[] validation) = Splits.Shuffled(Count, validationFraction, seed);
        return (Take(train), Take(validation));
    }

    /// <summary>
    /// A stratified split (class labels only): each class contributes its share of the validation set, so both parts
    /// keep the class proportions (scikit-learn's <c>train_test_split(stratify=y)</c>). See <see cref="Splits.Stratified"/>.
    /// </summary>
    /// <param name="validationFraction">The share of samples held out, in [0, 1].</param>
    /// <param name="seed">The shuffle seed.</param>
    /// <exception cref="InvalidOperationException">The dataset has targets, not class labels.</exception>
    public (Dataset Train, Dataset Validation) SplitStratified(double validationFraction, ulong seed)
    {
        ThrowIfTargets("A stratified split");
        (int[] train, int[] validation) = Splits.Stratified(Labels, ClassCount, validationFraction, seed);
        return (Take(train), Take(validation));
    }

    /// <summary>
    /// The <paramref name="folds"/> train/validation pairs of k-fold cross-validation: every sample is in exactly one
    /// validation fold. Stratified (class labels only) keeps each class's share in every fold. See
    /// <see cref="Splits.KFold"/> and <see cref="Splits.StratifiedKFold"/> for the indices.
    /// </summary>
    public IReadOnlyList<(Dataset Train, Dataset Validation)> KFold(int folds, ulong seed, bool stratified = false)
    {
        if (stratified) ThrowIfTargets("Stratified k-fold");
        var indices = stratified ? Splits.StratifiedKFold(Labels, ClassCount, folds, seed) : Splits.KFold(Count, folds, seed);
        var result = new (Dataset, Dataset)[indices.Count];
        for (int i = 0; i < result.Length; i++) result[i] = (Take(indices[i].Train), Take(indices[i].Validation));
        return result;
    }

    /// <summary>
    /// A bootstrap sample (bagging: "draw N samples with replacement"): <see cref="Count"/> samples drawn uniformly
    /// with replacement, and the out-of-bag samples that were never drawn (about 36.8% of them for large N), which
    /// make a validation set for the member trained on the sample. <paramref name="member"/> picks an independent draw
    /// for each member of an ensemble. See <see cref="Splits.Bootstrap"/>.
    /// </summary>
    public (Dataset Sample, Dataset OutOfBag) Bootstrap(ulong seed, int member = 0)
    {
        int[] sample = Splits.Bootstrap(Count, seed, member);
        return (Take(sample), Take(Splits.OutOfBag(sample, Count)));
    }

    /// <summary>
    /// One-hot targets for the class labels: a dataset of targets ([count × <see cref="ClassCount"/>], 1 at the label,
    /// 0 elsewhere) with the same features (copied) and the class names as target names. For networks trained on
    /// distributions (KL divergence) or binary cross-entropy over classes.
    /// </summary>
    /// <exception cref="InvalidOperationException">The dataset already has targets.</exception>
    public Dataset ToOneHot()
    {
        ThrowIfTargets("One-hot encoding");
        var targets = new float[Count * ClassCount];
        for (int i = 0; i < Count; i++) targets[i * ClassCount + Labels[i]] = 1;
        return new Dataset((float[])Features.Clone(), null, targets, FeatureCount, ClassCount, Channels, Height, Width, 0)
        {
            FeatureNames = FeatureNames,
            TargetNames = ClassNames,
        };
    }

    /// <summary>
    /// This dataset with names attached (the arrays are shared, not copied: both datasets are immutable). A null
    /// argument keeps the current names. For datasets made by <see cref="ForTargets"/>, which cannot take an object
    /// initializer.
    /// </summary>
    /// <exception cref="ArgumentException">A list has the wrong length, or names classes of a dataset of targets (or the reverse).</exception>
    public Dataset WithNames(IReadOnlyList<string>? featureNames = null, IReadOnlyList<string>? classNames = null, IReadOnlyList<string>? targetNames = null) =>
        new(Features, Targets is null ? Labels : null, Targets, FeatureCount, TargetCount, Channels, Height, Width, Targets is null ? ClassCount : 0)
        {
            FeatureNames = featureNames ?? FeatureNames,
            ClassNames = classNames ?? ClassNames,
            TargetNames = targetNames ?? TargetNames,
        };

    /// <summary>The number of samples of each class: element k counts label k (length <see cref="ClassCount"/>).</summary>
    public int[] ClassHistogram()
    {
        var histogram = new int[ClassCount];
        foreach (int label in Labels) histogram[label]++;
        return histogram;
    }

    /// <summary>This dataset's features (shared, not copied: both are immutable) with other targets of the same shape:
    /// for target scaling.</summary>
    internal Dataset WithTargets(float[] targets)
    {
        if (Targets is null || targets.Length != Targets.Length) throw new ArgumentException("The targets must have this dataset's shape.", nameof(targets));
        return new Dataset(Features, null, targets, FeatureCount, TargetCount, Channels, Height, Width, 0)
        {
            FeatureNames = FeatureNames,
            TargetNames = TargetNames,
        };
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

    private void ThrowIfTargets(string what)
    {
        if (Targets is not null) throw new InvalidOperationException($"{what} needs class labels; this dataset has {TargetCount} float target(s) per sample.");
    }

    private Dataset WithRows(float[] features, int[]? labels, float[]? targets) =>
        new(features, labels, targets, FeatureCount, TargetCount, Channels, Height, Width, labels is null ? 0 : ClassCount)
        {
            FeatureNames = FeatureNames,
            ClassNames = labels is null ? null : ClassNames,
            TargetNames = labels is null ? TargetNames : null,
        };

    private static IReadOnlyList<string>? CheckNames(IReadOnlyList<string>? names, int expected, string what)
    {
        if (names is null) return null;
        if (names.Count != expected)
            throw new ArgumentException($"{names.Count} {what} names were given; the dataset has {expected} {what}{(expected == 1 ? "" : "s")}.");
        var copy = new string[names.Count];
        for (int i = 0; i < copy.Length; i++) copy[i] = names[i] ?? throw new ArgumentException($"The {what} name at {i} is null.");
        return copy;
    }

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
