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
            case Init.SmallNormal: Normal(weights, 0.01, ref random); break;
            case Init.Orthogonal:
            case Init.Lsuv: Orthogonal(weights, fanIn, fanOut, ref random); break;
            case Init.Auto:
            case Init.XavierUniform: Uniform(weights, Math.Sqrt(6.0 / (fanIn + fanOut)), ref random); break;
            default: ThrowHelper.ThrowArgumentOutOfRange(nameof(init), init, "Unknown initialization."); break;
        }
    }

    /// <summary>
    /// Fills a weight tensor of <paramref name="shape"/>: a dense layer's [fanIn × fanOut], or a convolution's
    /// [O, C/groups, kh, kw] with PyTorch's fans (fan_in = C/groups·kh·kw, fan_out = O·kh·kw; orthogonal treats it as O rows
    /// of its patch, as <c>torch.nn.init.orthogonal_</c> does).
    /// </summary>
    public static void Fill<T>(Span<T> weights, Init init, TensorShape shape, ref KernelRandom random)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(shape);
        if (shape.Rank != 4)
        {
            Fill(weights, init, shape[0], shape.Size / shape[0], ref random);
            return;
        }
        int receptive = shape[2] * shape[3], patch = shape[1] * receptive;
        if (init is Init.Orthogonal or Init.Lsuv) Orthogonal(weights, shape[0], patch, ref random);
        else Fill(weights, init, patch, shape[0] * receptive, ref random);
    }

    /// <summary>
    /// Fills the [<paramref name="rows"/> × <paramref name="columns"/>] row-major matrix with a random (semi-)orthogonal one:
    /// orthonormal columns when rows ≥ columns (WᵀW = I), orthonormal rows otherwise (WWᵀ = I). Computed as the Q of a
    /// Gaussian matrix's QR decomposition by modified Gram–Schmidt (dot products accumulated in double), which makes R's
    /// diagonal positive, so Q is uniformly (Haar) distributed. No allocation: works in place.
    /// </summary>
    public static void Orthogonal<T>(Span<T> weights, int rows, int columns, ref KernelRandom random) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        if ((long)rows * columns != weights.Length) throw new ArgumentException($"Expected {rows} × {columns} = {(long)rows * columns} elements, got {weights.Length}.", nameof(weights));
        Normal(weights, 1.0, ref random);
        // Vectors to orthonormalize: columns (stride = columns) when tall, rows (stride 1, length columns) when wide.
        bool tall = rows >= columns;
        int vectors = tall ? columns : rows, length = tall ? rows : columns;
        int stride = tall ? columns : 1, step = tall ? 1 : columns;
        for (int v = 0; v < vectors; v++)
        {
            for (int u = 0; u < v; u++)
            {
                double dot = 0;
                for (int k = 0; k < length; k++) dot += double.CreateTruncating(weights[u * step + k * stride]) * double.CreateTruncating(weights[v * step + k * stride]);
                for (int k = 0; k < length; k++)
                    weights[v * step + k * stride] = T.CreateTruncating(double.CreateTruncating(weights[v * step + k * stride]) - dot * double.CreateTruncating(weights[u * step + k * stride]));
            }
            double norm = 0;
            for (int k = 0; k < length; k++) { double x = double.CreateTruncating(weights[v * step + k * stride]); norm += x * x; }
            double scale = 1.0 / Math.Sqrt(norm);
            for (int k = 0; k < length; k++) weights[v * step + k * stride] = T.CreateTruncating(double.CreateTruncating(weights[v * step + k * stride]) * scale);
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
