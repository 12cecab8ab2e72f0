using System;
using System.Collections.Generic;
using System.Numerics;

namespace KernelGen.Kernels;

/// <summary>
/// Structural re-parameterization for inference (as RepVGG does for convolutions): a batch normalization in evaluation
/// mode is the per-feature affine map x ↦ s·x + t with s = γ/√(var + ε) and t = β − μ·s, so it folds exactly into an
/// adjacent dense layer y = x·W + b:
/// <list type="number">
/// <item>after it (BN on the layer's outputs, no activation between): W′[i,j] = W[i,j]·s_j, b′_j = b_j·s_j + t_j;</item>
/// <item>before it (BN on the layer's inputs): W′[i,j] = s_i·W[i,j], b′_j = b_j + Σ_i t_i·W[i,j].</item>
/// </list>
/// Both may apply to one layer (before first, then after). Folding is done in double and rounded once to T.
/// </summary>
public static class Folding
{
    /// <summary>
    /// Writes the folded weights and bias of a dense layer [<paramref name="inputs"/> × <paramref name="outputs"/>] into
    /// <paramref name="foldedWeights"/> and <paramref name="foldedBias"/>. Pass empty statistics spans to skip a side.
    /// The destinations must not overlap the sources. Allocates nothing.
    /// </summary>
    public static void FoldDense<T>(ReadOnlySpan<T> weights, ReadOnlySpan<T> bias, Span<T> foldedWeights, Span<T> foldedBias, int inputs, int outputs,
        ReadOnlySpan<T> gammaBefore, ReadOnlySpan<T> betaBefore, ReadOnlySpan<T> meanBefore, ReadOnlySpan<T> varianceBefore, double epsilonBefore,
        ReadOnlySpan<T> gammaAfter, ReadOnlySpan<T> betaAfter, ReadOnlySpan<T> meanAfter, ReadOnlySpan<T> varianceAfter, double epsilonAfter)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        if (inputs <= 0) ThrowHelper.ThrowArgumentOutOfRange(nameof(inputs), inputs, "Must be positive.");
        if (outputs <= 0) ThrowHelper.ThrowArgumentOutOfRange(nameof(outputs), outputs, "Must be positive.");
        int n = checked(inputs * outputs);
        ThrowHelper.ThrowIfLengthNotEqual(weights.Length, n, nameof(weights));
        ThrowHelper.ThrowIfLengthNotEqual(foldedWeights.Length, n, nameof(foldedWeights));
        ThrowHelper.ThrowIfLengthNotEqual(bias.Length, outputs, nameof(bias));
        ThrowHelper.ThrowIfLengthNotEqual(foldedBias.Length, outputs, nameof(foldedBias));
        bool before = !gammaBefore.IsEmpty, after = !gammaAfter.IsEmpty;
        if (before) ValidateStatistics(gammaBefore, betaBefore, meanBefore, varianceBefore, inputs, nameof(gammaBefore));
        if (after) ValidateStatistics(gammaAfter, betaAfter, meanAfter, varianceAfter, outputs, nameof(gammaAfter));

        // b″_j = b_j + Σ_i t_i·W[i,j] (before), then scaled: b′_j = b″_j·s_j + t_j (after).
        for (int j = 0; j < outputs; j++)
        {
            double b = double.CreateTruncating(bias[j]);
            if (before)
                for (int i = 0; i < inputs; i++)
                    b += Affine(gammaBefore, betaBefore, meanBefore, varianceBefore, epsilonBefore, i).Shift * double.CreateTruncating(weights[i * outputs + j]);
            if (after)
            {
                (double s, double t) = Affine(gammaAfter, betaAfter, meanAfter, varianceAfter, epsilonAfter, j);
                b = b * s + t;
            }
            foldedBias[j] = T.CreateTruncating(b);
        }
        for (int i = 0; i < inputs; i++)
        {
            double si = before ? Affine(gammaBefore, betaBefore, meanBefore, varianceBefore, epsilonBefore, i).Scale : 1.0;
            for (int j = 0; j < outputs; j++)
            {
                double sj = after ? Affine(gammaAfter, betaAfter, meanAfter, varianceAfter, epsilonAfter, j).Scale : 1.0;
                foldedWeights[i * outputs + j] = T.CreateTruncating(si * double.CreateTruncating(weights[i * outputs + j]) * sj);
            }
        }
    }

    /// <summary>
    /// Writes the folded weights and bias of a convolution with weights [<paramref name="outChannels"/> × <paramref name="patch"/>]
    /// (PyTorch's [O, C/groups, kh, kw] flattened, <paramref name="kernelArea"/> = kh·kw) and evaluation-mode batch
    /// normalizations around it (empty statistics: none on that side):
    /// <list type="number">
    /// <item>before it, on its input channels (only exact without padding, whose zeros are not normalized values):
    /// W′[o, c, i, j] = W[o, c, i, j]·s_c and b′_o = b_o + Σ_(c, i, j) W[o, c, i, j]·t_c, c the input channel the weight reads
    /// (in o's group);</item>
    /// <item>after it, on its outputs: W′[o, ·] = W[o, ·]·s_o and b′_o = b′_o·s_o + t_o, exact whatever the padding.</item>
    /// </list>
    /// In double, rounded once. An empty <paramref name="bias"/> is a convolution without one (zeros). The destinations
    /// must not overlap the sources.
    /// </summary>
    public static void FoldConvolution<T>(ReadOnlySpan<T> weights, ReadOnlySpan<T> bias, Span<T> foldedWeights, Span<T> foldedBias, int outChannels, int patch,
        int kernelArea, int groups,
        ReadOnlySpan<T> gammaBefore, ReadOnlySpan<T> betaBefore, ReadOnlySpan<T> meanBefore, ReadOnlySpan<T> varianceBefore, double epsilonBefore,
        ReadOnlySpan<T> gammaAfter, ReadOnlySpan<T> betaAfter, ReadOnlySpan<T> meanAfter, ReadOnlySpan<T> varianceAfter, double epsilonAfter)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        if (outChannels <= 0) ThrowHelper.ThrowArgumentOutOfRange(nameof(outChannels), outChannels, "Must be positive.");
        if (patch <= 0) ThrowHelper.ThrowArgumentOutOfRange(nameof(patch), patch, "Must be positive.");
        if (kernelArea <= 0 || patch % kernelArea != 0) ThrowHelper.ThrowArgumentOutOfRange(nameof(kernelArea), kernelArea, "Must be positive and divide the patch.");
        if (groups <= 0 || outChannels % groups != 0) ThrowHelper.ThrowArgumentOutOfRange(nameof(groups), groups, "Must be positive and divide the output channels.");
        int n = checked(outChannels * patch), groupChannels = patch / kernelArea;
        ThrowHelper.ThrowIfLengthNotEqual(weights.Length, n, nameof(weights));
        ThrowHelper.ThrowIfLengthNotEqual(foldedWeights.Length, n, nameof(foldedWeights));
        if (!bias.IsEmpty) ThrowHelper.ThrowIfLengthNotEqual(bias.Length, outChannels, nameof(bias));
        ThrowHelper.ThrowIfLengthNotEqual(foldedBias.Length, outChannels, nameof(foldedBias));
        bool before = !gammaBefore.IsEmpty, after = !gammaAfter.IsEmpty;
        if (before) ValidateStatistics(gammaBefore, betaBefore, meanBefore, varianceBefore, groupChannels * groups, nameof(gammaBefore));
        if (after) ValidateStatistics(gammaAfter, betaAfter, meanAfter, varianceAfter, outChannels, nameof(gammaAfter));
        int perGroup = outChannels / groups;
        for (int o = 0; o < outChannels; o++)
        {
            double b = bias.IsEmpty ? 0 : double.CreateTruncating(bias[o]);
            (double so, double to) = after ? Affine(gammaAfter, betaAfter, meanAfter, varianceAfter, epsilonAfter, o) : (1.0, 0.0);
            int firstChannel = o / perGroup * groupChannels;
            for (int k = 0; k < patch; k++)
            {
                double w = double.CreateTruncating(weights[o * patch + k]);
                if (before)
                {
                    (double sc, double tc) = Affine(gammaBefore, betaBefore, meanBefore, varianceBefore, epsilonBefore, firstChannel + k / kernelArea);
                    b += w * tc;
                    w *= sc;
                }
                foldedWeights[o * patch + k] = T.CreateTruncating(w * so);
            }
            foldedBias[o] = T.CreateTruncating(b * so + to);
        }
    }

    private static (double Scale, double Shift) Affine<T>(ReadOnlySpan<T> gamma, ReadOnlySpan<T> beta, ReadOnlySpan<T> mean, ReadOnlySpan<T> variance, double epsilon, int k)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        double s = double.CreateTruncating(gamma[k]) / Math.Sqrt(double.CreateTruncating(variance[k]) + epsilon);
        return (s, double.CreateTruncating(beta[k]) - double.CreateTruncating(mean[k]) * s);
    }

    private static void ValidateStatistics<T>(ReadOnlySpan<T> gamma, ReadOnlySpan<T> beta, ReadOnlySpan<T> mean, ReadOnlySpan<T> variance, int features, string name)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        ThrowHelper.ThrowIfLengthNotEqual(gamma.Length, features, name);
        ThrowHelper.ThrowIfLengthNotEqual(beta.Length, features, name);
        ThrowHelper.ThrowIfLengthNotEqual(mean.Length, features, name);
        ThrowHelper.ThrowIfLengthNotEqual(variance.Length, features, name);
    }

    /// <summary>
    /// RepVGG's structural re-parameterization (Ding et al., 2021), in double and rounded once: the sum of
    /// <paramref name="branches"/> over one input of <paramref name="channels"/> channels becomes one convolution of
    /// <paramref name="kernel"/> × <paramref name="kernel"/> (odd) with weights [<paramref name="outputs"/>, channels, kernel, kernel]
    /// and a bias. With s, t an evaluation-mode BatchNorm's γ/√(σ² + ε) and β − μ·s (1 and 0 without one):
    /// W′[o, c, K/2 + i − k/2, K/2 + j − k/2] += W[o, c, i, j]·s_o and b′_o += b_o·s_o + t_o for a k×k convolution branch
    /// ("same" padding k/2, stride and groups as the block's), W′[o, o, K/2, K/2] += s_o and b′_o += t_o for a BatchNorm of
    /// the input (or 1 and 0 for the input itself). <paramref name="parameters"/> and <paramref name="statistics"/> are the
    /// training network's arenas the branches' offsets index.
    /// </summary>
    public static void FoldBranches<T>(ReadOnlySpan<T> parameters, ReadOnlySpan<T> statistics, IReadOnlyList<Runtime.FoldBranch> branches, int outputs, int channels,
        int kernel, Span<T> weights, Span<T> bias) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(branches);
        if (kernel <= 0 || kernel % 2 == 0) ThrowHelper.ThrowArgumentOutOfRange(nameof(kernel), kernel, "Must be positive and odd.");
        if (outputs <= 0 || channels <= 0) ThrowHelper.ThrowArgumentOutOfRange(nameof(outputs), outputs, "Channel counts must be positive.");
        int area = kernel * kernel, patch = checked(channels * area), centre = kernel / 2;
        ThrowHelper.ThrowIfLengthNotEqual(weights.Length, checked(outputs * patch), nameof(weights));
        ThrowHelper.ThrowIfLengthNotEqual(bias.Length, outputs, nameof(bias));
        for (int r = 0; r < branches.Count; r++) // indexed: a foreach over the interface would allocate an enumerator
        {
            Runtime.FoldBranch branch = branches[r];
            if (branch.WeightOffset < 0 && channels != outputs)
                throw new ArgumentException($"An identity branch needs as many input channels ({channels}) as outputs ({outputs}).", nameof(branches));
            if (branch.WeightOffset >= 0 && (branch.Kernel <= 0 || branch.Kernel % 2 == 0 || branch.Kernel > kernel))
                throw new ArgumentException($"A branch's kernel {branch.Kernel} must be odd and at most {kernel}.", nameof(branches));
        }
        Span<double> row = patch <= 4096 ? stackalloc double[patch] : new double[patch];
        for (int o = 0; o < outputs; o++)
        {
            row.Clear();
            double b = 0;
            for (int r = 0; r < branches.Count; r++)
            {
                Runtime.FoldBranch branch = branches[r];
                (double s, double t) = branch.Norm is { } bn
                    ? Affine(parameters.Slice(bn.GammaOffset), parameters.Slice(bn.BetaOffset), statistics.Slice(bn.RunningMeanOffset), statistics.Slice(bn.RunningVarianceOffset), bn.Option("Epsilon"), o)
                    : (1.0, 0.0);
                if (branch.WeightOffset < 0)
                {
                    row[o * area + centre * kernel + centre] += s; // the input's channel o, centre tap
                    b += t;
                    continue;
                }
                int k = branch.Kernel, shift = centre - k / 2;
                ReadOnlySpan<T> w = parameters.Slice(branch.WeightOffset + o * channels * k * k, channels * k * k);
                for (int c = 0; c < channels; c++)
                    for (int i = 0; i < k; i++)
                        for (int j = 0; j < k; j++)
                            row[c * area + (i + shift) * kernel + j + shift] += double.CreateTruncating(w[(c * k + i) * k + j]) * s;
                b += (branch.BiasOffset < 0 ? 0 : double.CreateTruncating(parameters[branch.BiasOffset + o])) * s + t;
            }
            for (int q = 0; q < patch; q++) weights[o * patch + q] = T.CreateTruncating(row[q]);
            bias[o] = T.CreateTruncating(b);
        }
    }
}
