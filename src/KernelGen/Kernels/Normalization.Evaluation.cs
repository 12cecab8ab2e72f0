using System;
using System.Numerics;

namespace KernelGen.Kernels;

public static partial class Normalization
{
    /// <summary>
    /// Backward of batch normalization in evaluation mode (running statistics, as when fine-tuning with BatchNorm layers
    /// kept in evaluation mode: PyTorch's <c>bn.eval()</c> during training). With s_c = γ_c/√(σ²_c + ε) and
    /// x̂ = (x − μ_c)/√(σ²_c + ε), y = γ·x̂ + β is affine per channel, so ∂L/∂x = s_c·∂L/∂y (written over
    /// <paramref name="gradient"/>), ∂L/∂γ_c = Σ ∂L/∂y·x̂ and ∂L/∂β_c = Σ ∂L/∂y over the batch and the channel's
    /// <paramref name="pixels"/> values (1 for a flat input, whose features are its channels). Sums in double.
    /// </summary>
    public static void BatchNormEvaluationBackward<T>(Span<T> gradient, ReadOnlySpan<T> x, ReadOnlySpan<T> gamma, ReadOnlySpan<T> runningMean,
        ReadOnlySpan<T> runningVar, Span<T> gammaGradient, Span<T> betaGradient, int batch, int channels, int pixels, T epsilon)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        int n = SpatialArea(batch, channels, pixels);
        ValidateEpsilon(epsilon);
        ThrowHelper.ThrowIfLengthLessThan(gradient.Length, n, nameof(gradient));
        ThrowHelper.ThrowIfLengthLessThan(x.Length, n, nameof(x));
        ThrowHelper.ThrowIfLengthNotEqual(gamma.Length, channels, nameof(gamma));
        ThrowHelper.ThrowIfLengthNotEqual(runningMean.Length, channels, nameof(runningMean));
        ThrowHelper.ThrowIfLengthNotEqual(runningVar.Length, channels, nameof(runningVar));
        ThrowHelper.ThrowIfLengthNotEqual(gammaGradient.Length, channels, nameof(gammaGradient));
        ThrowHelper.ThrowIfLengthNotEqual(betaGradient.Length, channels, nameof(betaGradient));
        for (int c = 0; c < channels; c++)
        {
            double inv = 1 / Math.Sqrt(double.CreateTruncating(runningVar[c]) + double.CreateTruncating(epsilon));
            double mean = double.CreateTruncating(runningMean[c]);
            T scale = T.CreateTruncating(double.CreateTruncating(gamma[c]) * inv);
            double dg = 0, db = 0;
            for (int b = 0; b < batch; b++)
            {
                int start = (b * channels + c) * pixels;
                for (int p = 0; p < pixels; p++)
                {
                    double g = double.CreateTruncating(gradient[start + p]);
                    dg += g * (double.CreateTruncating(x[start + p]) - mean) * inv;
                    db += g;
                    gradient[start + p] *= scale;
                }
            }
            gammaGradient[c] = T.CreateTruncating(dg);
            betaGradient[c] = T.CreateTruncating(db);
        }
    }
}
