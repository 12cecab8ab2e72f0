using System;
using System.IO;
using KernelGen.Data;

namespace KernelGen.Preprocessing;

/// <summary>
/// Principal component analysis: y = Vₖᵀ (x − μ), the coordinates of the centred row along the k principal axes of the
/// training data (the eigenvectors of its covariance with the k largest eigenvalues).
/// </summary>
/// <remarks>
/// Fitting computes the population covariance C = (1/N) Σ (x − μ)(x − μ)ᵀ in double and its full eigendecomposition
/// (Householder tridiagonalization and implicit QL, see <see cref="LinearAlgebra.SymmetricEigen"/>); for 784 features
/// that takes well under a second after the covariance. Components are sorted by eigenvalue, descending, and signed so
/// that the entry of largest magnitude of each is positive, which makes the result deterministic. Eigenvalues are
/// clamped at 0 (a covariance has none below; tiny negative ones are rounding).
/// </remarks>
public sealed class Pca : IFeatureTransform
{
    private readonly float[] _mean;
    private readonly double[] _eigenvalues;
    private readonly double[] _components;
    private readonly double[] _explained;
    private readonly AffineMap _map;

    private Pca(float[] mean, double[] eigenvalues, double[] components, int componentCount)
    {
        int d = mean.Length;
        _mean = mean;
        _eigenvalues = eigenvalues;
        _components = components;
        ComponentCount = componentCount;
        _explained = new double[d];
        double total = 0;
        foreach (double v in eigenvalues) total += v;
        if (total > 0)
        {
            for (int i = 0; i < d; i++) _explained[i] = eigenvalues[i] / total;
        }
        var matrix = new float[components.Length];
        for (int i = 0; i < matrix.Length; i++) matrix[i] = (float)components[i];
        _map = new AffineMap(mean, matrix, componentCount);
    }

    /// <summary>Fits on <paramref name="count"/> rows of <paramref name="features"/> values, keeping <paramref name="components"/> components.</summary>
    /// <param name="rows">Row-major [count × features] training data (finite).</param>
    /// <param name="count">The number of rows (at least 1).</param>
    /// <param name="features">Features per row (the dimension D).</param>
    /// <param name="components">Components k to keep, in [1, D]; 0 (the default) keeps all D.</param>
    public static Pca Fit(ReadOnlySpan<float> rows, int count, int features, int components = 0)
    {
        (float[] mean, double[] eigenvalues, double[] vectors) = FitCore(rows, count, features);
        int k = CheckComponents(components, features);
        return new Pca(mean, eigenvalues, vectors.AsSpan(0, k * features).ToArray(), k);
    }

    /// <summary>Fits on a training set, keeping <paramref name="components"/> components (0: all).</summary>
    public static Pca Fit(Dataset train, int components = 0)
    {
        ArgumentNullException.ThrowIfNull(train);
        return Fit(train.Features, train.Count, train.FeatureCount, components);
    }

    /// <summary>
    /// The smallest k whose components explain at least <paramref name="fraction"/> of the variance (1 if the data is
    /// constant): the first k with Σᵢ₍ᵢ₌₀…ₖ₋₁₎ λᵢ ≥ fraction · Σ λ, given eigenvalues in descending order.
    /// </summary>
    public static int ComponentsForVariance(ReadOnlySpan<double> eigenvalues, double fraction)
    {
        if (!(fraction > 0 && fraction <= 1)) ThrowHelper.ThrowArgumentOutOfRange(nameof(fraction), fraction, "The variance fraction must lie in (0, 1].");
        if (eigenvalues.IsEmpty) throw new ArgumentException("No eigenvalues.", nameof(eigenvalues));
        double total = 0;
        foreach (double v in eigenvalues) total += v;
        if (!(total > 0)) return 1;
        double sum = 0;
        for (int k = 0; k < eigenvalues.Length; k++)
        {
            sum += eigenvalues[k];
            if (sum >= fraction * total) return k + 1;
        }
        return eigenvalues.Length;
    }

    /// <summary>A transform with only the first <paramref name="components"/> of this one's components (same fit).</summary>
    public Pca WithComponents(int components)
    {
        if (components < 1 || components > ComponentCount)
            ThrowHelper.ThrowArgumentOutOfRange(nameof(components), components, $"Must lie in [1, {ComponentCount}] (the components kept by this fit).");
        return new Pca(_mean, _eigenvalues, _components.AsSpan(0, components * InputFeatures).ToArray(), components);
    }

    internal static (float[] Mean, double[] Eigenvalues, double[] Vectors) FitCore(ReadOnlySpan<float> rows, int count, int features)
    {
        if (features < 1) ThrowHelper.ThrowArgumentOutOfRange(nameof(features), features, "Need at least one feature.");
        if ((long)features * features > Array.MaxLength)
            ThrowHelper.ThrowArgumentOutOfRange(nameof(features), features, "Too many features for a dense covariance matrix.");
        FeatureStatistics.CheckFit(rows, count, features);
        double[] mean = LinearAlgebra.Mean(rows, count, features);
        for (int i = 0; i < features; i++)
        {
            if (!double.IsFinite(mean[i]))
                throw new ArgumentException($"The rows contain NaN or infinite values (the mean of feature {i} is {mean[i]}); fit on finite data.", nameof(rows));
        }
        double[] cov = LinearAlgebra.Covariance(rows, count, features, mean);
        var eigenvalues = new double[features];
        LinearAlgebra.SymmetricEigen(cov, features, eigenvalues);
        for (int i = 0; i < features; i++) eigenvalues[i] = Math.Max(eigenvalues[i], 0.0);
        return (FeatureStatistics.ToFloat(mean), eigenvalues, cov);
    }

    internal static int CheckComponents(int components, int features)
    {
        if (components < 0 || components > features)
            ThrowHelper.ThrowArgumentOutOfRange(nameof(components), components, $"The number of components must lie in [1, {features}], or 0 for all.");
        return components == 0 ? features : components;
    }

    /// <inheritdoc/>
    public int InputFeatures => _mean.Length;

    /// <inheritdoc/>
    public int OutputFeatures => ComponentCount;

    /// <summary>The number k of components kept (the output width).</summary>
    public int ComponentCount { get; }

    /// <summary>The training mean μ subtracted before projecting (one per feature).</summary>
    public ReadOnlySpan<float> Mean => _mean;

    /// <summary>All D eigenvalues of the training covariance (the variance along each principal axis), descending.</summary>
    public ReadOnlySpan<double> Eigenvalues => _eigenvalues;

    /// <summary>The kept principal axes, [k × D] row-major: row i is the unit eigenvector of eigenvalue i.</summary>
    public ReadOnlySpan<double> Components => _components;

    /// <summary>λᵢ / Σ λ for all D components, descending (all 0 for constant data).</summary>
    public ReadOnlySpan<double> ExplainedVarianceRatio => _explained;

    /// <summary>The share of the total variance retained by the kept components.</summary>
    public double RetainedVarianceRatio
    {
        get
        {
            double sum = 0;
            for (int i = 0; i < ComponentCount; i++) sum += _explained[i];
            return sum;
        }
    }

    /// <inheritdoc/>
    public void Apply(ReadOnlySpan<float> input, Span<float> output, int count) => _map.Apply(input, output, count);

    /// <inheritdoc/>
    public void Apply(Span<float> rows, int count) => _map.Apply(rows, rows, count);

    /// <inheritdoc/>
    public void Save(Stream stream) => FeatureTransform.Write(stream, FeatureTransform.KindPca, writer =>
    {
        writer.Write(InputFeatures);
        writer.Write(ComponentCount);
        FeatureTransform.WriteFloats(writer, _mean);
        FeatureTransform.WriteDoubles(writer, _eigenvalues);
        FeatureTransform.WriteDoubles(writer, _components);
    });

    internal static Pca Read(ref PayloadReader reader)
    {
        int d = reader.ReadSize("features", 1, 1 << 20);
        int k = reader.ReadSize("components", 1, d);
        float[] mean = reader.ReadFloats(d, "mean");
        double[] eigenvalues = reader.ReadDoubles(d, "eigenvalues");
        for (int i = 0; i < d; i++)
        {
            if (eigenvalues[i] < 0 || (i > 0 && eigenvalues[i] > eigenvalues[i - 1]))
                throw new InvalidDataException($"Feature transform field 'eigenvalues' is not non-negative and descending at {i}; the data is corrupt.");
        }
        double[] components = reader.ReadDoubles((long)k * d, "components");
        return new Pca(mean, eigenvalues, components, k);
    }
}
