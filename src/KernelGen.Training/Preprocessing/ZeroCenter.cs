using System;
using System.IO;
using KernelGen.Data;

namespace KernelGen.Preprocessing;

/// <summary>
/// Mean subtraction: y = x − μ, with μ the training mean of each feature, or of each image channel (one value shared
/// by the height × width pixels of the channel). Fit on the training set only and apply the same μ everywhere.
/// </summary>
public sealed class ZeroCenter : IFeatureTransform
{
    private readonly FeatureStatistics.Layout _layout;
    private readonly float[] _mean;
    private readonly float[] _featureMean;

    private ZeroCenter(FeatureStatistics.Layout layout, float[] mean)
    {
        _layout = layout;
        _mean = mean;
        _featureMean = FeatureStatistics.Expand(mean, layout);
    }

    /// <summary>Creates a per-feature transform from known means (one per feature, all finite).</summary>
    public ZeroCenter(ReadOnlySpan<float> mean)
        : this(FeatureStatistics.Layout.PerFeature(mean.Length), CheckFinite(mean))
    {
    }

    /// <summary>Creates a per-channel transform for [channels × height × width] images from known channel means (one per channel).</summary>
    public ZeroCenter(ReadOnlySpan<float> channelMean, int height, int width)
        : this(FeatureStatistics.Layout.ForImage(channelMean.Length, height, width), CheckFinite(channelMean))
    {
    }

    /// <summary>Fits one mean per feature on <paramref name="count"/> rows of <paramref name="features"/> values.</summary>
    public static ZeroCenter Fit(ReadOnlySpan<float> rows, int count, int features)
    {
        var layout = FeatureStatistics.Layout.PerFeature(features);
        return new ZeroCenter(layout, FeatureStatistics.ToFloat(FeatureStatistics.Compute(rows, count, layout, needStdDev: false).Mean));
    }

    /// <summary>Fits one mean per channel on <paramref name="count"/> [channels × height × width] images.</summary>
    public static ZeroCenter FitPerChannel(ReadOnlySpan<float> rows, int count, int channels, int height, int width)
    {
        var layout = FeatureStatistics.Layout.ForImage(channels, height, width);
        return new ZeroCenter(layout, FeatureStatistics.ToFloat(FeatureStatistics.Compute(rows, count, layout, needStdDev: false).Mean));
    }

    /// <summary>Fits on a training set: per channel when <paramref name="perChannel"/> (which needs an image dataset), else per feature.</summary>
    public static ZeroCenter Fit(Dataset train, bool perChannel = false)
    {
        ArgumentNullException.ThrowIfNull(train);
        if (!perChannel) return Fit(train.Features, train.Count, train.FeatureCount);
        if (!train.IsImage) throw new ArgumentException("Per-channel statistics need an image dataset (Channels, Height and Width set).", nameof(train));
        return FitPerChannel(train.Features, train.Count, train.Channels, train.Height, train.Width);
    }

    /// <inheritdoc/>
    public int InputFeatures => _layout.Features;

    /// <inheritdoc/>
    public int OutputFeatures => _layout.Features;

    /// <summary>Whether there is one mean per image channel (rather than per feature).</summary>
    public bool PerChannel => _layout.PerChannel;

    /// <summary>Channels of the image layout (0 when per feature).</summary>
    public int Channels => _layout.Channels;

    /// <summary>The fitted means: one per feature, or one per channel when <see cref="PerChannel"/>.</summary>
    public ReadOnlySpan<float> Mean => _mean;

    /// <inheritdoc/>
    public void Apply(ReadOnlySpan<float> input, Span<float> output, int count) =>
        FeatureStatistics.Apply(input, output, count, _featureMean, ReadOnlySpan<float>.Empty);

    /// <inheritdoc/>
    public void Apply(Span<float> rows, int count) => Apply(rows, rows, count);

    /// <inheritdoc/>
    public void Save(Stream stream) => FeatureTransform.Write(stream, FeatureTransform.KindZeroCenter, writer =>
    {
        _layout.Write(writer);
        FeatureTransform.WriteFloats(writer, _mean);
    });

    internal static ZeroCenter Read(ref PayloadReader reader)
    {
        var layout = FeatureStatistics.Layout.Read(ref reader);
        return new ZeroCenter(layout, reader.ReadFloats(layout.Groups, "mean"));
    }

    private static float[] CheckFinite(ReadOnlySpan<float> values)
    {
        if (values.IsEmpty) throw new ArgumentException("Need at least one value.", nameof(values));
        for (int i = 0; i < values.Length; i++)
        {
            if (!float.IsFinite(values[i])) ThrowHelper.ThrowNotFinite("mean", i);
        }
        return values.ToArray();
    }
}
