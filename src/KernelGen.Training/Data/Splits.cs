using System;
using System.Collections.Generic;

namespace KernelGen.Data;

/// <summary>
/// Sample indices for holding data out: shuffled and stratified train/validation splits, k-fold cross-validation and
/// bootstrap samples. Each returns indices into a dataset (materialize them with <see cref="Dataset.Take"/>, or use them
/// for anything kept in parallel arrays). Every shuffle is a seeded Fisher–Yates shuffle (<see cref="KernelRandom"/>),
/// so the same arguments always give the same indices, on every machine.
/// </summary>
public static class Splits
{
    // Stream ids, so that equal seeds give unrelated shuffles in different kinds of split (and in mini-batches).
    private const ulong ShuffledStream = 0x5B117, StratifiedStream = 0x57A7, KFoldStream = 0xF01D, BootstrapStream = 0xB007;

    /// <summary>
    /// A shuffled split of <paramref name="count"/> samples: the first round(<paramref name="validationFraction"/>·count)
    /// (half away from zero) shuffled indices form the validation part, the rest the training part, both in shuffled
    /// order. <see cref="Dataset.Split"/> uses these indices.
    /// </summary>
    /// <param name="count">The number of samples.</param>
    /// <param name="validationFraction">The share held out, in [0, 1].</param>
    /// <param name="seed">The shuffle seed.</param>
    public static (int[] Train, int[] Validation) Shuffled(int count, double validationFraction, ulong seed)
    {
        CheckCount(count);
        CheckFraction(validationFraction);
        int[] order = Identity(count);
        var random = new KernelRandom(seed, ShuffledStream);
        Dataset.Shuffle(order, ref random);
        int validation = (int)Math.Round(validationFraction * count, MidpointRounding.AwayFromZero);
        return (order.AsSpan(validation).ToArray(), order.AsSpan(0, validation).ToArray());
    }

    /// <summary>
    /// A stratified split: the validation part takes round(<paramref name="validationFraction"/>·N) samples in all, and
    /// each class k of n_k samples contributes ⌊fraction·n_k⌋ or ⌈fraction·n_k⌉ of them (the classes with the largest
    /// fractional parts round up, lower class index first on ties: the largest-remainder rule), drawn at random from
    /// the class. So both parts keep the class proportions as closely as whole samples allow. Both parts come back
    /// shuffled (classes interleaved).
    /// </summary>
    /// <param name="labels">One class index per sample, in [0, <paramref name="classCount"/>).</param>
    /// <param name="classCount">The number of classes.</param>
    /// <param name="validationFraction">The share held out, in [0, 1].</param>
    /// <param name="seed">The shuffle seed.</param>
    public static (int[] Train, int[] Validation) Stratified(ReadOnlySpan<int> labels, int classCount, double validationFraction, ulong seed)
    {
        CheckFraction(validationFraction);
        int[][] members = ByClass(labels, classCount);
        var random = new KernelRandom(seed, StratifiedStream);
        foreach (int[] m in members) Dataset.Shuffle(m, ref random);

        int total = (int)Math.Round(validationFraction * labels.Length, MidpointRounding.AwayFromZero);
        var take = new int[classCount];
        var remainder = new double[classCount];
        int assigned = 0;
        for (int k = 0; k < classCount; k++)
        {
            double exact = validationFraction * members[k].Length;
            take[k] = (int)Math.Floor(exact);
            remainder[k] = exact - take[k];
            assigned += take[k];
        }
        // Largest remainder first (ties: lower class index), never more than a class has.
        while (assigned < total)
        {
            int best = -1;
            for (int k = 0; k < classCount; k++)
            {
                if (take[k] >= members[k].Length) continue;
                if (best < 0 || remainder[k] > remainder[best]) best = k;
            }
            if (best < 0) break;
            take[best]++;
            remainder[best] = -1;
            assigned++;
        }

        var train = new List<int>(labels.Length - assigned);
        var validation = new List<int>(assigned);
        for (int k = 0; k < classCount; k++)
        {
            validation.AddRange(members[k].AsSpan(0, take[k]));
            train.AddRange(members[k].AsSpan(take[k]));
        }
        int[] t = train.ToArray(), v = validation.ToArray();
        Dataset.Shuffle(t, ref random);
        Dataset.Shuffle(v, ref random);
        return (t, v);
    }

    /// <summary>
    /// K-fold cross-validation over <paramref name="count"/> samples (scikit-learn's <c>KFold(shuffle=True)</c>): the
    /// indices are shuffled and cut into <paramref name="folds"/> consecutive folds, the first count mod k of them one
    /// sample larger; fold i validates on its own samples (in shuffled order) and trains on all others (in ascending
    /// order). Every sample is validated on exactly once.
    /// </summary>
    /// <param name="count">The number of samples (at least <paramref name="folds"/>).</param>
    /// <param name="folds">k, at least 2.</param>
    /// <param name="seed">The shuffle seed.</param>
    public static IReadOnlyList<(int[] Train, int[] Validation)> KFold(int count, int folds, ulong seed)
    {
        CheckCount(count);
        CheckFolds(folds, count);
        int[] order = Identity(count);
        var random = new KernelRandom(seed, KFoldStream);
        Dataset.Shuffle(order, ref random);
        var assignment = new int[count];
        int start = 0;
        for (int f = 0; f < folds; f++)
        {
            int size = count / folds + (f < count % folds ? 1 : 0);
            for (int i = start; i < start + size; i++) assignment[order[i]] = f;
            start += size;
        }
        return FromAssignment(assignment, order, folds);
    }

    /// <summary>
    /// Stratified k-fold cross-validation (scikit-learn's <c>StratifiedKFold(shuffle=True)</c> in spirit): each class's
    /// samples are shuffled and dealt to the folds in turn, continuing where the previous class stopped, so every fold
    /// holds ⌊n_k/k⌋ or ⌈n_k/k⌉ samples of each class k and the fold sizes differ by at most one. Validation indices come
    /// in shuffled order, training indices in ascending order.
    /// </summary>
    /// <param name="labels">One class index per sample, in [0, <paramref name="classCount"/>).</param>
    /// <param name="classCount">The number of classes.</param>
    /// <param name="folds">k, at least 2 and at most the number of samples.</param>
    /// <param name="seed">The shuffle seed.</param>
    public static IReadOnlyList<(int[] Train, int[] Validation)> StratifiedKFold(ReadOnlySpan<int> labels, int classCount, int folds, ulong seed)
    {
        int[][] members = ByClass(labels, classCount);
        CheckFolds(folds, labels.Length);
        var random = new KernelRandom(seed, KFoldStream ^ StratifiedStream);
        var assignment = new int[labels.Length];
        var order = new List<int>(labels.Length);
        int next = 0;
        foreach (int[] m in members)
        {
            Dataset.Shuffle(m, ref random);
            foreach (int i in m)
            {
                assignment[i] = next;
                next = (next + 1) % folds;
                order.Add(i);
            }
        }
        int[] shuffled = order.ToArray();
        Dataset.Shuffle(shuffled, ref random);
        return FromAssignment(assignment, shuffled, folds);
    }

    /// <summary>
    /// A bootstrap sample (bagging, "bootstrap aggregating": draw N samples with replacement, once per ensemble
    /// member): <paramref name="sampleSize"/> indices (0: <paramref name="count"/>) drawn uniformly with replacement
    /// from [0, count). <paramref name="member"/> selects an independent draw for the same seed, so members 0…M−1 of an
    /// ensemble each get their own sample.
    /// </summary>
    public static int[] Bootstrap(int count, ulong seed, int member = 0, int sampleSize = 0)
    {
        CheckCount(count);
        if (count == 0) throw new ArgumentException("Cannot draw a bootstrap sample from no samples.", nameof(count));
        if (member < 0) ThrowHelper.ThrowArgumentOutOfRange(nameof(member), member, "Must be non-negative.");
        if (sampleSize < 0) ThrowHelper.ThrowArgumentOutOfRange(nameof(sampleSize), sampleSize, "Must be 0 (the sample count) or positive.");
        var random = new KernelRandom(seed, BootstrapStream + ((ulong)(uint)member << 20));
        var sample = new int[sampleSize == 0 ? count : sampleSize];
        for (int i = 0; i < sample.Length; i++) sample[i] = random.NextInt(count);
        return sample;
    }

    /// <summary>The indices in [0, <paramref name="count"/>) that do not occur in <paramref name="sample"/>, ascending (the
    /// out-of-bag samples of a bootstrap sample).</summary>
    public static int[] OutOfBag(ReadOnlySpan<int> sample, int count)
    {
        CheckCount(count);
        var drawn = new bool[count];
        for (int i = 0; i < sample.Length; i++)
        {
            if ((uint)sample[i] >= (uint)count)
                throw new ArgumentOutOfRangeException(nameof(sample), sample[i], $"sample[{i}] = {sample[i]} is not an index in [0, {count}).");
            drawn[sample[i]] = true;
        }
        var result = new List<int>();
        for (int i = 0; i < count; i++) if (!drawn[i]) result.Add(i);
        return result.ToArray();
    }

    private static IReadOnlyList<(int[] Train, int[] Validation)> FromAssignment(int[] assignment, int[] order, int folds)
    {
        var sizes = new int[folds];
        foreach (int f in assignment) sizes[f]++;
        var result = new (int[] Train, int[] Validation)[folds];
        for (int f = 0; f < folds; f++)
        {
            var validation = new int[sizes[f]];
            var train = new int[assignment.Length - sizes[f]];
            int v = 0, t = 0;
            foreach (int i in order) if (assignment[i] == f) validation[v++] = i;
            for (int i = 0; i < assignment.Length; i++) if (assignment[i] != f) train[t++] = i;
            result[f] = (train, validation);
        }
        return result;
    }

    private static int[][] ByClass(ReadOnlySpan<int> labels, int classCount)
    {
        if (classCount < 1) ThrowHelper.ThrowArgumentOutOfRange(nameof(classCount), classCount, "Need at least one class.");
        var counts = new int[classCount];
        for (int i = 0; i < labels.Length; i++)
        {
            if ((uint)labels[i] >= (uint)classCount)
                throw new ArgumentOutOfRangeException(nameof(labels), labels[i], $"labels[{i}] = {labels[i]} is not a class index in [0, {classCount}).");
            counts[labels[i]]++;
        }
        var members = new int[classCount][];
        for (int k = 0; k < classCount; k++) members[k] = new int[counts[k]];
        Array.Clear(counts);
        for (int i = 0; i < labels.Length; i++) members[labels[i]][counts[labels[i]]++] = i;
        return members;
    }

    private static int[] Identity(int count)
    {
        var order = new int[count];
        for (int i = 0; i < order.Length; i++) order[i] = i;
        return order;
    }

    private static void CheckCount(int count)
    {
        if (count < 0) ThrowHelper.ThrowArgumentOutOfRange(nameof(count), count, "Must be non-negative.");
    }

    private static void CheckFraction(double fraction)
    {
        if (!(fraction >= 0.0 && fraction <= 1.0))
            ThrowHelper.ThrowArgumentOutOfRange("validationFraction", fraction, "The validation fraction must lie in [0, 1].");
    }

    private static void CheckFolds(int folds, int count)
    {
        if (folds < 2) ThrowHelper.ThrowArgumentOutOfRange(nameof(folds), folds, "K-fold needs at least 2 folds.");
        if (folds > count) ThrowHelper.ThrowArgumentOutOfRange(nameof(folds), folds, $"{folds} folds need at least {folds} samples; there are {count}.");
    }
}
