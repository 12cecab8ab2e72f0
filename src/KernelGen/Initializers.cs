using System;
using System.Numerics;

namespace KernelGen;

/// <summary>Weight initializers. Each fills a [fanIn × fanOut] weight tensor from a seeded <see cref="KernelRandom"/>.</summary>
public static class Initializers
{
    /// <summary>Fills <paramref name="weights"/> as <paramref name="init"/> prescribes (<see cref="Init.Auto"/> is resolved by
    /// the generator and treated here as Xavier uniform).</summary>
    public static void Fill<T>(Span<T> weights, Init init, int fanIn, int fanOut, ref KernelRandom random)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        if (fanIn <= 0) ThrowHelper.ThrowArgumentOutOfRange(nameof(fanIn), fanIn, "Must be positive.");
        if (fanOut <= 0) ThrowHelper.ThrowArgumentOutOfRange(nameof(fanOut), fanOut, "Must be positive.");
        switch (init)
        {
            case Init.XavierNormal: Normal(weights, Math.Sqrt(2.0 / (fanIn + fanOut)), ref random); break;
            case Init.HeUniform: Uniform(weights, Math.Sqrt(6.0 / fanIn), ref random); break;
            case Init.HeNormal: Normal(weights, Math.Sqrt(2.0 / fanIn), ref random); break;
            case Init.Auto:
            case Init.XavierUniform: Uniform(weights, Math.Sqrt(6.0 / (fanIn + fanOut)), ref random); break;
            default: ThrowHelper.ThrowArgumentOutOfRange(nameof(init), init, "Unknown initialization."); break;
        }
    }

    /// <summary>Fills with U(−<paramref name="bound"/>, <paramref name="bound"/>).</summary>
    public static void Uniform<T>(Span<T> values, double bound, ref KernelRandom random) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        for (int i = 0; i < values.Length; i++) values[i] = T.CreateTruncating((2.0 * random.NextDouble() - 1.0) * bound);
    }

    /// <summary>Fills with N(0, <paramref name="stddev"/>²).</summary>
    public static void Normal<T>(Span<T> values, double stddev, ref KernelRandom random) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        for (int i = 0; i < values.Length; i++) values[i] = T.CreateTruncating(random.NextGaussian() * stddev);
    }
}
