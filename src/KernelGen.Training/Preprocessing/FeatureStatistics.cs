using System;
using System.IO;
using System.Numerics;
using System.Runtime.InteropServices;

namespace KernelGen.Preprocessing;

/// <summary>
/// Shared machinery of <see cref="ZeroCenter"/> and <see cref="Standardize"/>: per-feature or per-channel statistics
/// (two-pass, in double) and the elementwise map y = (x − m)·s over feature-expanded arrays.
/// </summary>
internal static class FeatureStatistics
{
    /// <summary>The layout of the statistics: one group per feature, or one per image channel.</summary>
    internal readonly record struct Layout(int Features, int Channels, int Height, int Width)
    {
        public bool PerChannel => Channels > 0;
        public int Groups => PerChannel ? Channels : Features;
        public int GroupSize => PerChannel ? Height * Width : 1;

        public static Layout PerFeature(int features)
        {
            if (features < 1) ThrowHelper.ThrowArgumentOutOfRange(nameof(features), features, "Need at least one feature.");
            return new Layout(features, 0, 0, 0);
        }

        public static Layout ForImage(int channels, int height, int width)
        {
            if (channels < 1) ThrowHelper.ThrowArgumentOutOfRange(nameof(channels), channels, "Need at least one channel.");
            if (height < 1) ThrowHelper.ThrowArgumentOutOfRange(nameof(height), height, "The height must be positive.");
            if (width < 1) ThrowHelper.ThrowArgumentOutOfRange(nameof(width), width, "The width must be positive.");
            long features = (long)channels * height * width;
            if (features > Array.MaxLength) ThrowHelper.ThrowArgumentOutOfRange(nameof(channels), channels, "The image is too large.");
            return new Layout((int)features, channels, height, width);
        }

        public void Write(BinaryWriter writer)
        {
            writer.Write(Features);
            writer.Write(Channels);
            writer.Write(Height);
            writer.Write(Width);
        }

        public static Layout Read(ref PayloadReader reader)
        {
            int features = reader.ReadSize("features", 1, Array.MaxLength);
            int channels = reader.ReadSize("channels", 0, features);
            if (channels == 0)
            {
                reader.ReadSize("height", 0, 0);
                reader.ReadSize("width", 0, 0);
                return new Layout(features, 0, 0, 0);
            }
            int height = reader.ReadSize("height", 1, features);
            int width = reader.ReadSize("width", 1, features);
            if ((long)channels * height * width != features)
                throw new InvalidDataException($"Feature transform shape {channels} × {height} × {width} does not match its {features} features; the data is corrupt.");
            return new Layout(features, channels, height, width);
        }
    }

    /// <summary>Checks fit arguments: at least one row and enough values.</summary>
    public static void CheckFit(ReadOnlySpan<float> rows, int count, int features)
    {
        if (count < 1) ThrowHelper.ThrowArgumentOutOfRange(nameof(count), count, "Fitting needs at least one row.");
        long need = (long)count * features;
        if (rows.Length < need)
            throw new ArgumentException($"'{nameof(rows)}' has length {rows.Length}, but {count} rows of {features} need {need}.", nameof(rows));
    }

    /// <summary>Per-group means and population standard deviations (two passes in double).</summary>
    public static (double[] Mean, double[] StdDev) Compute(ReadOnlySpan<float> rows, int count, Layout layout, bool needStdDev)
    {
        CheckFit(rows, count, layout.Features);
        int d = layout.Features, groups = layout.Groups, groupSize = layout.GroupSize;
        var sum = new double[groups];
        for (int r = 0; r < count; r++)
        {
            ReadOnlySpan<float> row = rows.Slice(r * d, d);
            for (int g = 0; g < groups; g++)
            {
                double s = 0;
                foreach (float x in row.Slice(g * groupSize, groupSize)) s += x;
                sum[g] += s;
            }
        }
        double n = (double)count * groupSize;
        var mean = new double[groups];
        for (int g = 0; g < groups; g++)
        {
            mean[g] = sum[g] / n;
            if (!double.IsFinite(mean[g]))
                throw new ArgumentException($"The rows contain NaN or infinite values (the mean of {(layout.PerChannel ? "channel" : "feature")} {g} is {mean[g]}); fit on finite data.", nameof(rows));
        }
        if (!needStdDev) return (mean, Array.Empty<double>());

        var squares = new double[groups];
        for (int r = 0; r < count; r++)
        {
            ReadOnlySpan<float> row = rows.Slice(r * d, d);
            for (int g = 0; g < groups; g++)
            {
                double m = mean[g], s = 0;
                foreach (float x in row.Slice(g * groupSize, groupSize))
                {
                    double dx = x - m;
                    s += dx * dx;
                }
                squares[g] += s;
            }
        }
        var std = new double[groups];
        for (int g = 0; g < groups; g++) std[g] = Math.Sqrt(squares[g] / n);
        return (mean, std);
    }

    /// <summary>Repeats each group's value over its features: a per-feature array of length <c>layout.Features</c>.</summary>
    public static float[] Expand(ReadOnlySpan<float> perGroup, Layout layout)
    {
        var expanded = new float[layout.Features];
        int groupSize = layout.GroupSize;
        for (int g = 0; g < perGroup.Length; g++) expanded.AsSpan(g * groupSize, groupSize).Fill(perGroup[g]);
        return expanded;
    }

    /// <summary>Rounds double statistics to float (a mean or spread of float data stays within float range).</summary>
    public static float[] ToFloat(double[] values)
    {
        var result = new float[values.Length];
        for (int i = 0; i < values.Length; i++) result[i] = (float)values[i];
        return result;
    }

    /// <summary>y = (x − shift) for each of <paramref name="count"/> rows; <paramref name="scale"/> empty means 1.</summary>
    public static void Apply(ReadOnlySpan<float> input, Span<float> output, int count, ReadOnlySpan<float> shift, ReadOnlySpan<float> scale)
    {
        int d = shift.Length;
        FeatureTransform.CheckApply(d, d, input, output, count);
        for (int r = 0; r < count; r++)
        {
            ReadOnlySpan<float> x = input.Slice(r * d, d);
            Span<float> y = output.Slice(r * d, d);
            int i = 0;
            if (Vector.IsHardwareAccelerated && d >= Vector<float>.Count)
            {
                ReadOnlySpan<Vector<float>> vx = MemoryMarshal.Cast<float, Vector<float>>(x);
                Span<Vector<float>> vy = MemoryMarshal.Cast<float, Vector<float>>(y);
                ReadOnlySpan<Vector<float>> vm = MemoryMarshal.Cast<float, Vector<float>>(shift);
                if (scale.IsEmpty)
                {
                    for (int v = 0; v < vx.Length; v++) vy[v] = vx[v] - vm[v];
                }
                else
                {
                    ReadOnlySpan<Vector<float>> vs = MemoryMarshal.Cast<float, Vector<float>>(scale);
                    for (int v = 0; v < vx.Length; v++) vy[v] = (vx[v] - vm[v]) * vs[v];
                }
                i = vx.Length * Vector<float>.Count;
            }
            if (scale.IsEmpty)
            {
                for (; i < d; i++) y[i] = x[i] - shift[i];
            }
            else
            {
                for (; i < d; i++) y[i] = (x[i] - shift[i]) * scale[i];
            }
        }
    }
}
