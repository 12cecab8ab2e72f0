using System;
using System.IO;
using KernelGen.Data;

namespace KernelGen.Preprocessing;

/// <summary>
/// PCA whitening: y = Λₖ^(−1/2) Vₖᵀ (x − μ), the principal coordinates divided by √(λ + ε), so the training data gets
/// (nearly) identity covariance. With <see cref="Zca"/> the result is rotated back, z = Vₖ y (ZCA whitening, which keeps
/// the output in the input space: D features, as close to the input as whitening allows).
/// </summary>
/// <remarks>
/// ε (default 1e-5) keeps directions of tiny variance from being blown up into noise; it is added to each eigenvalue.
/// The whole map is folded into one float matrix (k × D, or D × D for ZCA) computed in double when fitted or loaded.
/// </remarks>
public sealed class Whitening : IFeatureTransform
{
    /// <summary>The default ε added to each eigenvalue.</summary>
    public const double DefaultEpsilon = 1e-5;

    private readonly float[] _mean;
    private readonly double[] _eigenvalues;
    private readonly double[] _components;
    private readonly AffineMap _map;

    private Whitening(float[] mean, double[] eigenvalues, double[] components, double epsilon, bool zca)
    {
        int d = mean.Length, k = eigenvalues.Length;
        _mean = mean;
        _eigenvalues = eigenvalues;
        _components = components;
        Epsilon = epsilon;
        Zca = zca;
        var scale = new double[k];
        for (int j = 0; j < k; j++) scale[j] = 1.0 / Math.Sqrt(eigenvalues[j] + epsilon);

        float[] matrix;
        if (!zca)
        {
            matrix = new float[k * d];
            for (int j = 0; j < k; j++)
            {
                for (int i = 0; i < d; i++) matrix[j * d + i] = (float)(components[j * d + i] * scale[j]);
            }
        }
        else
        {
            // W = Vₖ diag(s) Vₖᵀ: W[a, b] = Σⱼ V[j, a]·sⱼ·V[j, b] (symmetric; row a of W is its column a).
            matrix = new float[d * d];
            var row = new double[d];
            for (int a = 0; a < d; a++)
            {
                Array.Clear(row);
                for (int j = 0; j < k; j++)
                {
                    double va = components[j * d + a] * scale[j];
                    if (va == 0) continue;
                    ReadOnlySpan<double> vj = components.AsSpan(j * d, d);
                    for (int b = 0; b < d; b++) row[b] += va * vj[b];
                }
                for (int b = 0; b < d; b++) matrix[a * d + b] = (float)row[b];
            }
        }
        _map = new AffineMap(mean, matrix, zca ? d : k);
    }

    /// <summary>Fits on <paramref name="count"/> rows of <paramref name="features"/> values.</summary>
    /// <param name="rows">Row-major [count × features] training data (finite).</param>
    /// <param name="count">The number of rows (at least 1).</param>
    /// <param name="features">Features per row (the dimension D).</param>
    /// <param name="components">Principal components k to keep, in [1, D]; 0 (the default) keeps all.</param>
    /// <param name="epsilon">ε &gt; 0 added to each eigenvalue (default 1e-5).</param>
    /// <param name="zca">Rotate back to the input space (ZCA) instead of returning principal coordinates.</param>
    public static Whitening Fit(ReadOnlySpan<float> rows, int count, int features, int components = 0, double epsilon = DefaultEpsilon, bool zca = false)
    {
        CheckEpsilon(epsilon);
        (float[] mean, double[] eigenvalues, double[] vectors) = Pca.FitCore(rows, count, features);
        int k = Pca.CheckComponents(components, features);
        return new Whitening(mean, eigenvalues.AsSpan(0, k).ToArray(), vectors.AsSpan(0, k * features).ToArray(), epsilon, zca);
    }

    /// <summary>Fits on a training set (see <see cref="Fit(ReadOnlySpan{float}, int, int, int, double, bool)"/>).</summary>
    public static Whitening Fit(Dataset train, int components = 0, double epsilon = DefaultEpsilon, bool zca = false)
    {
        ArgumentNullException.ThrowIfNull(train);
        return Fit(train.Features, train.Count, train.FeatureCount, components, epsilon, zca);
    }

    /// <summary>Whitening built from an already fitted <see cref="Pca"/>, using its kept components.</summary>
    public static Whitening FromPca(Pca pca, double epsilon = DefaultEpsilon, bool zca = false)
    {
        ArgumentNullException.ThrowIfNull(pca);
        CheckEpsilon(epsilon);
        return new Whitening(pca.Mean.ToArray(), pca.Eigenvalues.Slice(0, pca.ComponentCount).ToArray(), pca.Components.ToArray(), epsilon, zca);
    }

    private static void CheckEpsilon(double epsilon)
    {
        if (!(epsilon > 0 && double.IsFinite(epsilon))) ThrowHelper.ThrowArgumentOutOfRange(nameof(epsilon), epsilon, "ε must be positive and finite.");
    }

    /// <inheritdoc/>
    public int InputFeatures => _mean.Length;

    /// <inheritdoc/>
    public int OutputFeatures => Zca ? _mean.Length : _eigenvalues.Length;

    /// <summary>The number k of principal components used.</summary>
    public int ComponentCount => _eigenvalues.Length;

    /// <summary>ε added to each eigenvalue.</summary>
    public double Epsilon { get; }

    /// <summary>Whether the whitened coordinates are rotated back to the input space (ZCA).</summary>
    public bool Zca { get; }

    /// <summary>The training mean μ (one per feature).</summary>
    public ReadOnlySpan<float> Mean => _mean;

    /// <summary>The eigenvalues of the k components used, descending.</summary>
    public ReadOnlySpan<double> Eigenvalues => _eigenvalues;

    /// <summary>The k principal axes, [k × D] row-major.</summary>
    public ReadOnlySpan<double> Components => _components;

    /// <inheritdoc/>
    public void Apply(ReadOnlySpan<float> input, Span<float> output, int count) => _map.Apply(input, output, count);

    /// <inheritdoc/>
    public void Apply(Span<float> rows, int count) => _map.Apply(rows, rows, count);

    /// <inheritdoc/>
    public void Save(Stream stream) => FeatureTransform.Write(stream, FeatureTransform.KindWhitening, writer =>
    {
        writer.Write(InputFeatures);
        writer.Write(ComponentCount);
        writer.Write(Zca ? 1 : 0);
        writer.Write(Epsilon);
        FeatureTransform.WriteFloats(writer, _mean);
        FeatureTransform.WriteDoubles(writer, _eigenvalues);
        FeatureTransform.WriteDoubles(writer, _components);
    });

    internal static Whitening Read(ref PayloadReader reader)
    {
        int d = reader.ReadSize("features", 1, 1 << 20);
        int k = reader.ReadSize("components", 1, d);
        bool zca = reader.ReadSize("zca", 0, 1) == 1;
        double epsilon = reader.ReadDouble();
        if (!(epsilon > 0 && double.IsFinite(epsilon)))
            throw new InvalidDataException($"Feature transform field 'epsilon' is {epsilon}; it must be positive. The data is corrupt.");
        float[] mean = reader.ReadFloats(d, "mean");
        double[] eigenvalues = reader.ReadDoubles(k, "eigenvalues");
        for (int i = 0; i < k; i++)
        {
            if (eigenvalues[i] < 0 || (i > 0 && eigenvalues[i] > eigenvalues[i - 1]))
                throw new InvalidDataException($"Feature transform field 'eigenvalues' is not non-negative and descending at {i}; the data is corrupt.");
        }
        double[] components = reader.ReadDoubles((long)k * d, "components");
        return new Whitening(mean, eigenvalues, components, epsilon, zca);
    }
}
