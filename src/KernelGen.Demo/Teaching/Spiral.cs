using System;

using KernelGen.Data;

namespace KernelGen.Demo;

/// <summary>
/// CS231n's spiral dataset: <c>classes</c> interleaved arms in the plane, <c>pointsPerClass</c>
/// points each, with radius r = i/(n−1) and angle θ = 4k + 4r + 0.2·N(0,1) for arm k. Needs no files; deterministic for a seed.
/// </summary>
public static class Spiral
{
    /// <summary>Generates the dataset: features [N × 2] (x = r·sin θ, y = r·cos θ) and labels [N], N = classes × pointsPerClass.</summary>
    public static (float[] Features, int[] Labels) Generate(int pointsPerClass = 100, int classes = 3, ulong seed = 0)
    {
        if (pointsPerClass < 2) ThrowHelper.ThrowArgumentOutOfRange(nameof(pointsPerClass), pointsPerClass, "Need at least 2 points per class.");
        if (classes < 1) ThrowHelper.ThrowArgumentOutOfRange(nameof(classes), classes, "Need at least one class.");
        var random = new KernelRandom(seed, 0x5917A1);
        int n = pointsPerClass * classes;
        var features = new float[n * 2];
        var labels = new int[n];
        for (int k = 0; k < classes; k++)
        {
            for (int i = 0; i < pointsPerClass; i++)
            {
                int row = k * pointsPerClass + i;
                double r = (double)i / (pointsPerClass - 1);
                double theta = 4.0 * k + 4.0 * r + 0.2 * random.NextGaussian();
                features[2 * row] = (float)(r * Math.Sin(theta));
                features[2 * row + 1] = (float)(r * Math.Cos(theta));
                labels[row] = k;
            }
        }
        return (features, labels);
    }
}
