using System;
using KernelGen.Data;
using KernelGen.Preprocessing;
using KernelGen.Runtime;
using KernelGen.Training;

namespace KernelGen.Benchmarks;

/// <summary>
/// The accuracy cost of the inference form's reduced precisions (<see cref="InferencePrecision"/>) on the Fashion-MNIST
/// test set: trains the reference 784-256-128-10 ReLU MLP (<see cref="AdamMlp"/>: Adam, η = 10⁻³) on the 60,000
/// training images (standardized per channel, statistics from the training set only), then classifies the 10,000 test
/// images with one inference form in float, bfloat16 and int8 and prints each accuracy, the change in points against
/// float, and how many predictions changed. Run with <c>-- --accuracy [epochs] [seeds]</c> (defaults 10 and 3): one
/// network per seed, since the cost of a reduced precision is a difference of a few images and varies by network.
/// </summary>
public static class PrecisionAccuracy
{
    /// <summary>Runs the measurement and writes a Markdown table to the console.</summary>
    public static int Run(int epochs, int seeds)
    {
        // The Debian package dataset-fashion-mnist's IDX files (KERNELGEN_FASHION_MNIST overrides the directory).
        string directory = Environment.GetEnvironmentVariable("KERNELGEN_FASHION_MNIST") is { Length: > 0 } custom ? custom : "/usr/share/datasets/fashion-mnist";
        string File(string name) => System.IO.Path.Combine(directory, name);
        if (!System.IO.File.Exists(File("train-images-idx3-ubyte.gz")))
        {
            Console.Error.WriteLine($"Fashion-MNIST not found in {directory}: install the Debian package dataset-fashion-mnist.");
            return 1;
        }
        Dataset train = Idx.ReadDataset(File("train-images-idx3-ubyte.gz"), File("train-labels-idx1-ubyte.gz"), 10);
        Dataset test = Idx.ReadDataset(File("t10k-images-idx3-ubyte.gz"), File("t10k-labels-idx1-ubyte.gz"), 10);
        Standardize standardize = Standardize.Fit(train, perChannel: true);
        standardize.Apply(train.Features, train.Count);
        standardize.Apply(test.Features, test.Count);
        Console.WriteLine($"Fashion-MNIST: {train.Count} training, {test.Count} test images; AdamMlp 784-256-128-10 ReLU, Adam 1e-3, batch 64, {epochs} epochs");
        Console.WriteLine();
        Console.WriteLine("| seed | float | bfloat16 | Δ points | changed | int8 | Δ points | changed |");
        Console.WriteLine("|---:|---:|---:|---:|---:|---:|---:|---:|");
        const int chunk = 500;
        var outputs = new float[chunk * 10];
        for (int seed = 1; seed <= seeds; seed++)
        {
            var net = new AdamMlp(maxBatchSize: chunk, seed: (ulong)seed);
            var trainer = new Trainer(net, new TrainerOptions { Epochs = epochs, BatchSize = 64, Seed = (ulong)(100 + seed), CollectLayerStatistics = false });
            trainer.Fit(train);
            var inference = net.CreateInference(chunk);
            int[] floatClasses = Classify(inference, InferencePrecision.Float32, test, outputs, chunk);
            int[] bf16 = Classify(inference, InferencePrecision.BFloat16, test, outputs, chunk);
            int[] int8 = Classify(inference, InferencePrecision.Int8, test, outputs, chunk);
            double a = Accuracy(floatClasses, test.Labels), b = Accuracy(bf16, test.Labels), c = Accuracy(int8, test.Labels);
            Console.WriteLine($"| {seed} | {a:F4} | {b:F4} | {100 * (b - a):+0.00;-0.00;0.00} | {Changed(floatClasses, bf16)} | {c:F4} | {100 * (c - a):+0.00;-0.00;0.00} | {Changed(floatClasses, int8)} |");
        }
        return 0;
    }

    private static int[] Classify(AdamMlp.Inference inference, InferencePrecision precision, Dataset test, float[] outputs, int chunk)
    {
        inference.Precision = precision;
        var classes = new int[test.Count];
        for (int start = 0; start < test.Count; start += chunk)
        {
            int n = Math.Min(chunk, test.Count - start);
            inference.Predict(test.Features.AsSpan(start * 784, n * 784), outputs.AsSpan(0, n * 10));
            for (int i = 0; i < n; i++)
            {
                int best = 0;
                for (int j = 1; j < 10; j++)
                    if (outputs[i * 10 + j] > outputs[i * 10 + best]) best = j;
                classes[start + i] = best;
            }
        }
        return classes;
    }

    private static double Accuracy(int[] classes, int[] labels)
    {
        int right = 0;
        for (int i = 0; i < classes.Length; i++) if (classes[i] == labels[i]) right++;
        return (double)right / classes.Length;
    }

    private static int Changed(int[] a, int[] b)
    {
        int n = 0;
        for (int i = 0; i < a.Length; i++) if (a[i] != b[i]) n++;
        return n;
    }
}
