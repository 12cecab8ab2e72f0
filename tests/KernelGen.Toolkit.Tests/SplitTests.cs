using System;
using System.Collections.Generic;
using System.Linq;
using KernelGen.Data;
using Xunit;

namespace KernelGen.Toolkit.Tests;

/// <summary>Datasets of target vectors, names, and the index splits (stratified, k-fold, bootstrap). Expected counts are
/// worked out by hand in the comments.</summary>
public sealed class SplitTests
{
    private static int[] Labels(params int[] perClass) => [.. perClass.SelectMany((n, k) => Enumerable.Repeat(k, n))];

    [Fact]
    public void A_stratified_split_gives_each_class_its_share_by_largest_remainder()
    {
        // Classes of 10, 7 and 3 samples, 30% held out: exact shares 3, 2.1 and 0.9; floors 3, 2, 0 (5 of round(6) = 6);
        // the largest remainder (0.9, class 2) takes the sixth: 3, 2, 1.
        int[] labels = Labels(10, 7, 3);
        (int[] train, int[] validation) = Splits.Stratified(labels, 3, 0.3, seed: 4);
        Assert.Equal([3, 2, 1], Enumerable.Range(0, 3).Select(k => validation.Count(i => labels[i] == k)));
        Assert.Equal([7, 5, 2], Enumerable.Range(0, 3).Select(k => train.Count(i => labels[i] == k)));
        Assert.Equal(Enumerable.Range(0, 20), train.Concat(validation).Order());
        // Deterministic for a seed, different for another, and shuffled (classes interleaved).
        Assert.Equal(validation, Splits.Stratified(labels, 3, 0.3, seed: 4).Validation);
        Assert.NotEqual(validation, Splits.Stratified(labels, 3, 0.3, seed: 5).Validation);
        Assert.NotEqual(train.Order(), train);

        var data = new Dataset([.. Enumerable.Range(0, 20).Select(i => (float)i)], labels, 1) { ClassNames = ["a", "b", "c"] };
        (Dataset t, Dataset v) = data.SplitStratified(0.3, seed: 4);
        Assert.Equal(validation.Select(i => (float)i), v.Features);
        Assert.Equal(["a", "b", "c"], v.ClassNames);
        Assert.Throws<InvalidOperationException>(() => Dataset.ForRegression([1, 2], [1, 2], 1).SplitStratified(0.5, 1));
    }

    [Fact]
    public void K_fold_validates_every_sample_exactly_once()
    {
        // 10 samples in 3 folds: 10 mod 3 = 1 fold of 4, then 3 and 3.
        var folds = Splits.KFold(10, 3, seed: 2);
        Assert.Equal([4, 3, 3], folds.Select(f => f.Validation.Length));
        Assert.Equal(Enumerable.Range(0, 10), folds.SelectMany(f => f.Validation).Order());
        foreach (var (train, validation) in folds)
        {
            Assert.Equal(Enumerable.Range(0, 10).Except(validation), train); // the rest, ascending
        }
        Assert.Equal(folds[1].Validation, Splits.KFold(10, 3, seed: 2)[1].Validation);
        Assert.Throws<ArgumentOutOfRangeException>(() => Splits.KFold(10, 1, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => Splits.KFold(2, 3, 0));
    }

    [Fact]
    public void Stratified_k_fold_spreads_each_class_evenly()
    {
        // Class sizes 7, 5, 2 over 3 folds: per fold ⌊7/3⌋..⌈7/3⌉ = 2..3, 1..2, 0..1, and fold sizes 14/3 → 4..5.
        int[] labels = Labels(7, 5, 2);
        var folds = Splits.StratifiedKFold(labels, 3, 3, seed: 1);
        Assert.Equal(Enumerable.Range(0, 14), folds.SelectMany(f => f.Validation).Order());
        foreach (var (train, validation) in folds)
        {
            Assert.InRange(validation.Count(i => labels[i] == 0), 2, 3);
            Assert.InRange(validation.Count(i => labels[i] == 1), 1, 2);
            Assert.InRange(validation.Count(i => labels[i] == 2), 0, 1);
            Assert.InRange(validation.Length, 4, 5);
            Assert.Equal(Enumerable.Range(0, 14).Except(validation), train);
        }
        var data = new Dataset(new float[14], labels, 1);
        var datasets = data.KFold(3, seed: 1, stratified: true);
        Assert.Equal(folds.Select(f => f.Validation.Length), datasets.Select(d => d.Validation.Count));
    }

    [Fact]
    public void Bootstrap_samples_draw_with_replacement_and_the_rest_is_out_of_bag()
    {
        int[] sample = Splits.Bootstrap(10_000, seed: 3);
        Assert.Equal(10_000, sample.Length);
        Assert.All(sample, i => Assert.InRange(i, 0, 9_999));
        int[] outOfBag = Splits.OutOfBag(sample, 10_000);
        Assert.Equal(Enumerable.Range(0, 10_000).Except(sample).Order(), outOfBag);
        // P(never drawn) = (1 − 1/N)^N → e⁻¹ ≈ 0.368; with N = 10,000 the share's standard deviation is about 0.005.
        Assert.InRange(outOfBag.Length / 10_000.0, 0.35, 0.385);
        Assert.Equal(sample, Splits.Bootstrap(10_000, seed: 3));
        Assert.NotEqual(sample, Splits.Bootstrap(10_000, seed: 3, member: 1));
        Assert.Equal(50, Splits.Bootstrap(10, seed: 3, sampleSize: 50).Length);

        Dataset data = Dataset.ForTargets([.. Enumerable.Range(0, 20).Select(i => (float)i)], [.. Enumerable.Range(0, 40).Select(i => (float)i)], 1, 2);
        (Dataset bag, Dataset oob) = data.Bootstrap(seed: 7, member: 2);
        int[] drawn = Splits.Bootstrap(20, 7, 2);
        Assert.Equal(drawn.Select(i => (float)i), bag.Features);
        Assert.Equal(drawn.SelectMany(i => new[] { 2f * i, 2f * i + 1 }), bag.Targets);
        Assert.Equal(Splits.OutOfBag(drawn, 20).Select(i => (float)i), oob.Features);
    }

    [Fact]
    public void Datasets_of_target_vectors_keep_rows_together()
    {
        // Sample i has feature i and targets (10i, 10i + 1, 10i + 2).
        float[] x = [.. Enumerable.Range(0, 7).Select(i => (float)i)];
        float[] y = [.. Enumerable.Range(0, 7).SelectMany(i => new[] { 10f * i, 10f * i + 1, 10f * i + 2 })];
        Dataset data = Dataset.ForTargets(x, y, 1, 3).WithNames(["x"], targetNames: ["a", "b", "c"]);
        Assert.Equal((7, 3, true, 0), (data.Count, data.TargetCount, data.HasTargets, data.ClassCount));
        Assert.Equal([50f, 51f, 52f], data.TargetRow(5).ToArray());
        Assert.Equal([30f, 31f, 32f, 0f, 1f, 2f], data.Take([3, 0]).Targets!);
        Assert.Equal([10f, 11f, 12f, 20f, 21f, 22f], data.Subset(1, 2).Targets!);
        (Dataset train, Dataset validation) = data.Split(0.3, seed: 1);
        foreach (Dataset part in new[] { train, validation })
        {
            Assert.Equal(["a", "b", "c"], part.TargetNames);
            for (int r = 0; r < part.Count; r++)
                Assert.Equal([10 * part.Features[r], 10 * part.Features[r] + 1, 10 * part.Features[r] + 2], part.TargetRow(r).ToArray());
        }

        var batches = new MiniBatches(data, 3, seed: 5);
        batches.StartEpoch();
        int rows = 0;
        while (batches.Next(out MiniBatch batch))
        {
            Assert.Equal(3 * batch.Count, batch.Targets.Length);
            for (int r = 0; r < batch.Count; r++)
                Assert.Equal(10 * batch.Features[r] + 2, batch.Targets[3 * r + 2]);
            rows += batch.Count;
        }
        Assert.Equal(7, rows);

        Assert.Throws<ArgumentException>(() => Dataset.ForTargets(new float[3], new float[7], 1, 3));
        var nan = Assert.Throws<ArgumentException>(() => Dataset.ForTargets(new float[2], [0, 1, 2, float.NaN], 1, 2));
        Assert.Contains("targets[3] (sample 1, target 1)", nan.Message);
        Assert.Throws<ArgumentException>(() => data.WithNames(["x", "y"]));
        Assert.Throws<ArgumentException>(() => data.WithNames(classNames: ["a"]));
    }

    [Fact]
    public void One_hot_targets_put_a_one_at_each_label()
    {
        var data = new Dataset([1, 2, 3], [2, 0, 1], 1, 3) { ClassNames = ["r", "g", "b"] };
        Dataset oneHot = data.ToOneHot();
        Assert.Equal([0f, 0, 1, 1, 0, 0, 0, 1, 0], oneHot.Targets!);
        Assert.Equal(["r", "g", "b"], oneHot.TargetNames);
        Assert.Equal(data.Features, oneHot.Features);
        Assert.Throws<InvalidOperationException>(() => oneHot.ToOneHot());
    }
}
