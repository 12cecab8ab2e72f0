using System;

namespace KernelGen.Data;

/// <summary>
/// Random image augmentation applied to one [channels × height × width] row at a time, from a source row into a
/// destination row (as <see cref="MiniBatches"/> does while filling its batch buffer), with no allocation. Every
/// random choice comes from the caller's <see cref="KernelRandom"/>, so a seed fixes the result.
/// </summary>
/// <remarks>
/// Per sample, in this order, and only for the enabled parts (so enabling one does not change the draws of another
/// configuration's absent parts):
/// <list type="number">
/// <item>Horizontal flip with probability <see cref="FlipProbability"/> (one uniform draw).</item>
/// <item>Random crop with zero padding: pad <see cref="CropPadding"/> = p zero pixels on every side, then crop back to
/// height × width at a uniform offset (oy, ox) ∈ [0, 2p]²; that is a shift of the content by (p − oy, p − ox).</item>
/// <item>Random translation by (dy, dx) uniform in [−k, k]², k = <see cref="MaxTranslation"/>, zero fill.</item>
/// <item>Additive Gaussian noise of standard deviation <see cref="NoiseStdDev"/> on every value (one normal draw each).</item>
/// </list>
/// Flip, crop and translation are combined into one pass: dst[c, y, x] = src[c, y − sy, x' ] with x' = x − sx, mirrored
/// to width − 1 − x' when flipping, and 0 where the source index falls outside the image.
/// </remarks>
public sealed class Augmentation
{
    /// <summary>Creates an augmentation; every part defaults to off.</summary>
    /// <param name="flipProbability">Probability in [0, 1] of a horizontal flip.</param>
    /// <param name="cropPadding">Zero padding p ≥ 0 for the random crop (0 disables it).</param>
    /// <param name="maxTranslation">Largest shift k ≥ 0 in pixels of the random translation (0 disables it).</param>
    /// <param name="noiseStdDev">Standard deviation σ ≥ 0 of the additive Gaussian noise (0 disables it).</param>
    public Augmentation(double flipProbability = 0, int cropPadding = 0, int maxTranslation = 0, double noiseStdDev = 0)
    {
        if (!(flipProbability >= 0 && flipProbability <= 1))
            ThrowHelper.ThrowArgumentOutOfRange(nameof(flipProbability), flipProbability, "The flip probability must lie in [0, 1].");
        if (cropPadding < 0 || cropPadding > MaxShift)
            ThrowHelper.ThrowArgumentOutOfRange(nameof(cropPadding), cropPadding, $"The crop padding must lie in [0, {MaxShift}].");
        if (maxTranslation < 0 || maxTranslation > MaxShift)
            ThrowHelper.ThrowArgumentOutOfRange(nameof(maxTranslation), maxTranslation, $"The translation must lie in [0, {MaxShift}].");
        if (!(noiseStdDev >= 0 && double.IsFinite(noiseStdDev)))
            ThrowHelper.ThrowArgumentOutOfRange(nameof(noiseStdDev), noiseStdDev, "The noise standard deviation must be finite and non-negative.");
        FlipProbability = flipProbability;
        CropPadding = cropPadding;
        MaxTranslation = maxTranslation;
        NoiseStdDev = noiseStdDev;
    }

    private const int MaxShift = 1 << 12;

    /// <summary>Probability of a horizontal flip.</summary>
    public double FlipProbability { get; }

    /// <summary>Zero padding of the random crop, in pixels (0: no crop).</summary>
    public int CropPadding { get; }

    /// <summary>Largest random shift, in pixels (0: no translation).</summary>
    public int MaxTranslation { get; }

    /// <summary>Standard deviation of the additive Gaussian noise (0: no noise).</summary>
    public double NoiseStdDev { get; }

    /// <summary>
    /// Writes an augmented copy of <paramref name="source"/> into <paramref name="destination"/>, drawing every random
    /// choice from <paramref name="random"/>. The spans must not overlap.
    /// </summary>
    /// <param name="source">One image, [channels × height × width] values.</param>
    /// <param name="destination">Receives the augmented image (same length).</param>
    /// <param name="channels">Channels of the image.</param>
    /// <param name="height">Height of the image.</param>
    /// <param name="width">Width of the image.</param>
    /// <param name="random">The random source; advanced by the draws described on <see cref="Augmentation"/>.</param>
    public void Apply(ReadOnlySpan<float> source, Span<float> destination, int channels, int height, int width, ref KernelRandom random)
    {
        bool flip = FlipProbability > 0 && random.NextDouble() < FlipProbability;
        int shiftY = 0, shiftX = 0;
        if (CropPadding > 0)
        {
            int span = 2 * CropPadding + 1;
            shiftY += CropPadding - random.NextInt(span);
            shiftX += CropPadding - random.NextInt(span);
        }
        if (MaxTranslation > 0)
        {
            int span = 2 * MaxTranslation + 1;
            shiftY += random.NextInt(span) - MaxTranslation;
            shiftX += random.NextInt(span) - MaxTranslation;
        }
        Transform(source, destination, channels, height, width, flip, shiftY, shiftX);
        if (NoiseStdDev > 0)
        {
            double sigma = NoiseStdDev;
            for (int i = 0; i < destination.Length; i++) destination[i] += (float)(sigma * random.NextGaussian());
        }
    }

    /// <summary>
    /// The deterministic geometric part: dst[c, y, x] = src[c, y − <paramref name="shiftY"/>, x'] where
    /// x' = x − <paramref name="shiftX"/>, mirrored to width − 1 − x' if <paramref name="flip"/>; 0 where that source
    /// pixel lies outside the image. So the content is flipped first, then moved down by shiftY and right by shiftX.
    /// The spans must not overlap.
    /// </summary>
    /// <param name="source">One image, [channels × height × width] values.</param>
    /// <param name="destination">Receives the transformed image (same length).</param>
    /// <param name="channels">Channels of the image.</param>
    /// <param name="height">Height of the image.</param>
    /// <param name="width">Width of the image.</param>
    /// <param name="flip">Whether to mirror each row left to right.</param>
    /// <param name="shiftY">Downward shift in pixels (negative: up).</param>
    /// <param name="shiftX">Rightward shift in pixels (negative: left).</param>
    public static void Transform(ReadOnlySpan<float> source, Span<float> destination, int channels, int height, int width, bool flip, int shiftY, int shiftX)
    {
        if (channels < 1) ThrowHelper.ThrowArgumentOutOfRange(nameof(channels), channels, "Must be positive.");
        if (height < 1) ThrowHelper.ThrowArgumentOutOfRange(nameof(height), height, "Must be positive.");
        if (width < 1) ThrowHelper.ThrowArgumentOutOfRange(nameof(width), width, "Must be positive.");
        int size = checked(channels * height * width);
        ThrowHelper.ThrowIfLengthNotEqual(source.Length, size, nameof(source));
        ThrowHelper.ThrowIfLengthNotEqual(destination.Length, size, nameof(destination));
        if (source.Overlaps(destination)) throw new ArgumentException("The source and destination images must not overlap.", nameof(destination));

        if (!flip && shiftY == 0 && shiftX == 0)
        {
            source.CopyTo(destination);
            return;
        }

        // Columns x in [x0, x1) read a source column inside the image; the rest are zero.
        int x0 = Math.Clamp(shiftX, 0, width);
        int x1 = Math.Clamp(width + shiftX, 0, width);
        for (int c = 0; c < channels; c++)
        {
            int plane = c * height * width;
            for (int y = 0; y < height; y++)
            {
                Span<float> dst = destination.Slice(plane + y * width, width);
                int sy = y - shiftY;
                if ((uint)sy >= (uint)height || x0 >= x1)
                {
                    dst.Clear();
                    continue;
                }
                ReadOnlySpan<float> src = source.Slice(plane + sy * width, width);
                dst.Slice(0, x0).Clear();
                dst.Slice(x1).Clear();
                if (!flip)
                {
                    src.Slice(x0 - shiftX, x1 - x0).CopyTo(dst.Slice(x0, x1 - x0));
                }
                else
                {
                    for (int x = x0; x < x1; x++) dst[x] = src[width - 1 - (x - shiftX)];
                }
            }
        }
    }
}
