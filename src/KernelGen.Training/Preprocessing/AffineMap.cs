using System;
using System.Buffers;

namespace KernelGen.Preprocessing;

/// <summary>
/// y = W (x − μ) for a fixed [outputs × inputs] float matrix W and mean μ: the applied form of <see cref="Pca"/> and
/// <see cref="Whitening"/>. Each row is centred into a pooled scratch row first, so the output may share the input's
/// memory (same first element) when outputs ≤ inputs.
/// </summary>
internal sealed class AffineMap
{
    private readonly float[] _mean;
    private readonly float[] _matrix;

    public AffineMap(float[] mean, float[] matrix, int outputs)
    {
        _mean = mean;
        _matrix = matrix;
        Inputs = mean.Length;
        Outputs = outputs;
    }

    public int Inputs { get; }

    public int Outputs { get; }

    public void Apply(ReadOnlySpan<float> input, Span<float> output, int count)
    {
        int d = Inputs, k = Outputs;
        FeatureTransform.CheckApply(d, k, input, output, count);
        if (count == 0) return;
        // ArrayPool.Shared hands out a cached array after the first use, so this does not allocate in steady state.
        float[] rented = ArrayPool<float>.Shared.Rent(d);
        try
        {
            Span<float> centred = rented.AsSpan(0, d);
            ReadOnlySpan<float> mean = _mean;
            ReadOnlySpan<float> matrix = _matrix;
            for (int r = 0; r < count; r++)
            {
                ReadOnlySpan<float> x = input.Slice(r * d, d);
                for (int i = 0; i < d; i++) centred[i] = x[i] - mean[i];
                Span<float> y = output.Slice(r * k, k);
                for (int j = 0; j < k; j++) y[j] = LinearAlgebra.Dot(matrix.Slice(j * d, d), centred);
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(rented);
        }
    }
}
