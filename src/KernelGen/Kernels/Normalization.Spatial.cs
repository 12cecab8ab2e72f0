using System;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using KernelGen.Operators;

namespace KernelGen.Kernels;

// Batch normalization of image-shaped values [batch × channels × pixels] (PyTorch BatchNorm2d): one segment per channel
// holds its batch·pixels values. The derivation is the one in Normalization's remarks with n = B·H·W; each (sample,
// channel) row is reduced in vector lanes and the rows are added in double, in ascending order.
public static partial class Normalization
{
    /// <summary>
    /// Batch normalization of [batch × channels × pixels] values in training mode (PyTorch <c>BatchNorm2d.train()</c>):
    /// per channel over n = batch·pixels values, μ, biased σ², x̂ = (x − μ)/√(σ² + ε), y = γ·x̂ + β; writes x̂ and
    /// 1/√(σ² + ε) (per channel) for backward, and updates rm ← (1 − m)·rm + m·μ, rv ← (1 − m)·rv + m·σ²·n/(n − 1).
    /// <paramref name="y"/> may alias <paramref name="x"/>.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">n &lt; 2, a size is not positive, ε is negative or NaN, or m is outside [0, 1].</exception>
    /// <exception cref="ArgumentException">A span is shorter (per-channel spans: not exactly as long) as required.</exception>
    public static void BatchNormSpatialForwardTraining<T>(ReadOnlySpan<T> x, Span<T> y, ReadOnlySpan<T> gamma, ReadOnlySpan<T> beta,
        Span<T> normalized, Span<T> invStd, Span<T> runningMean, Span<T> runningVar, int batch, int channels, int pixels, T epsilon, T momentum)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        int n = SpatialArea(batch, channels, pixels);
        if ((long)batch * pixels < 2) ThrowHelper.ThrowArgumentOutOfRange(nameof(batch), batch, "Batch normalization in training mode needs at least 2 values per channel.");
        ValidateEpsilon(epsilon);
        if (!(momentum >= T.Zero && momentum <= T.One)) ThrowHelper.ThrowArgumentOutOfRange(nameof(momentum), momentum, "The momentum must lie in [0, 1].");
        ThrowHelper.ThrowIfLengthLessThan(x.Length, n, nameof(x));
        ThrowHelper.ThrowIfLengthLessThan(y.Length, n, nameof(y));
        ThrowHelper.ThrowIfLengthLessThan(normalized.Length, n, nameof(normalized));
        ThrowHelper.ThrowIfLengthNotEqual(gamma.Length, channels, nameof(gamma));
        ThrowHelper.ThrowIfLengthNotEqual(beta.Length, channels, nameof(beta));
        ThrowHelper.ThrowIfLengthLessThan(invStd.Length, channels, nameof(invStd));
        ThrowHelper.ThrowIfLengthNotEqual(runningMean.Length, channels, nameof(runningMean));
        ThrowHelper.ThrowIfLengthNotEqual(runningVar.Length, channels, nameof(runningVar));
        if (KernelParallelism.ShouldSplit(batch) && channels >= 2 && KernelParallelism.TryEnter())
        {
            SpatialWork<T>.Run(SpatialWork<T>.Pass.Training, x, y, gamma, beta, normalized, invStd, runningMean, runningVar, batch, channels, pixels, epsilon, momentum);
            return;
        }
        TrainingChannels(x, y, gamma, beta, normalized, invStd, runningMean, runningVar, batch, channels, pixels, epsilon, momentum, 0, channels);
    }

    private static void TrainingChannels<T>(ReadOnlySpan<T> x, Span<T> y, ReadOnlySpan<T> gamma, ReadOnlySpan<T> beta, Span<T> normalized, Span<T> invStd,
        Span<T> runningMean, Span<T> runningVar, int batch, int channels, int pixels, T epsilon, T momentum, int c0, int c1)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        double count = (double)batch * pixels, m = double.CreateTruncating(momentum), eps = double.CreateTruncating(epsilon);
        for (int c = c0; c < c1; c++)
        {
            T shift = x[c * pixels];
            double sum = 0;
            for (int b = 0; b < batch; b++) sum += double.CreateTruncating(RowSum(x.Slice((b * channels + c) * pixels, pixels), shift));
            double meanShifted = sum / count;
            T meanT = T.CreateTruncating(meanShifted);
            double squares = 0;
            for (int b = 0; b < batch; b++) squares += double.CreateTruncating(RowSquares(x.Slice((b * channels + c) * pixels, pixels), shift, meanT));
            double variance = squares / count;
            double s = 1.0 / Math.Sqrt(variance + eps);
            T sT = T.CreateTruncating(s), g = gamma[c], bt = beta[c];
            invStd[c] = sT;
            for (int b = 0; b < batch; b++)
            {
                int at = (b * channels + c) * pixels;
                Normalize(x.Slice(at, pixels), y.Slice(at, pixels), normalized.Slice(at, pixels), shift, meanT, sT, g, bt);
            }
            double mean = double.CreateTruncating(shift) + meanShifted;
            runningMean[c] = T.CreateTruncating((1 - m) * double.CreateTruncating(runningMean[c]) + m * mean);
            runningVar[c] = T.CreateTruncating((1 - m) * double.CreateTruncating(runningVar[c]) + m * variance * count / (count - 1));
        }
    }

    /// <summary>
    /// Batch normalization of [batch × channels × pixels] values in evaluation mode (PyTorch <c>BatchNorm2d.eval()</c>):
    /// y = (x − rm)·(γ·s) + β per channel with s = 1/√(rv + ε). <paramref name="y"/> may alias <paramref name="x"/>.
    /// </summary>
    public static void BatchNormSpatialForwardInference<T>(ReadOnlySpan<T> x, Span<T> y, ReadOnlySpan<T> gamma, ReadOnlySpan<T> beta,
        ReadOnlySpan<T> runningMean, ReadOnlySpan<T> runningVar, int batch, int channels, int pixels, T epsilon)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        int n = SpatialArea(batch, channels, pixels);
        ValidateEpsilon(epsilon);
        ThrowHelper.ThrowIfLengthLessThan(x.Length, n, nameof(x));
        ThrowHelper.ThrowIfLengthLessThan(y.Length, n, nameof(y));
        ThrowHelper.ThrowIfLengthNotEqual(gamma.Length, channels, nameof(gamma));
        ThrowHelper.ThrowIfLengthNotEqual(beta.Length, channels, nameof(beta));
        ThrowHelper.ThrowIfLengthNotEqual(runningMean.Length, channels, nameof(runningMean));
        ThrowHelper.ThrowIfLengthNotEqual(runningVar.Length, channels, nameof(runningVar));
        if (KernelParallelism.ShouldSplit(batch) && channels >= 2 && KernelParallelism.TryEnter())
        {
            SpatialWork<T>.Run(SpatialWork<T>.Pass.Inference, x, y, gamma, beta, default, default, runningMean, runningVar, batch, channels, pixels, epsilon, T.Zero);
            return;
        }
        InferenceChannels(x, y, gamma, beta, runningMean, runningVar, batch, channels, pixels, epsilon, 0, channels);
    }

    private static void InferenceChannels<T>(ReadOnlySpan<T> x, Span<T> y, ReadOnlySpan<T> gamma, ReadOnlySpan<T> beta, ReadOnlySpan<T> runningMean,
        ReadOnlySpan<T> runningVar, int batch, int channels, int pixels, T epsilon, int c0, int c1)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        for (int c = c0; c < c1; c++)
        {
            T scale = gamma[c] * (T.One / T.Sqrt(runningVar[c] + epsilon));
            T mean = runningMean[c], shift = beta[c];
            for (int b = 0; b < batch; b++)
            {
                int at = (b * channels + c) * pixels;
                Affine(x.Slice(at, pixels), y.Slice(at, pixels), mean, scale, shift);
            }
        }
    }

    /// <summary>
    /// Backward pass of <see cref="BatchNormSpatialForwardTraining"/>: dβ = Σ dy and dγ = Σ dy·x̂ per channel (overwritten),
    /// dx = γ·s·(dy − dβ/n − x̂·dγ/n). <paramref name="dx"/> may alias <paramref name="dy"/>.
    /// </summary>
    public static void BatchNormSpatialBackward<T>(ReadOnlySpan<T> dy, ReadOnlySpan<T> normalized, ReadOnlySpan<T> invStd, ReadOnlySpan<T> gamma,
        Span<T> dx, Span<T> dGamma, Span<T> dBeta, int batch, int channels, int pixels)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        int n = SpatialArea(batch, channels, pixels);
        ThrowHelper.ThrowIfLengthLessThan(dy.Length, n, nameof(dy));
        ThrowHelper.ThrowIfLengthLessThan(normalized.Length, n, nameof(normalized));
        ThrowHelper.ThrowIfLengthLessThan(invStd.Length, channels, nameof(invStd));
        ThrowHelper.ThrowIfLengthNotEqual(gamma.Length, channels, nameof(gamma));
        ThrowHelper.ThrowIfLengthLessThan(dx.Length, n, nameof(dx));
        ThrowHelper.ThrowIfLengthNotEqual(dGamma.Length, channels, nameof(dGamma));
        ThrowHelper.ThrowIfLengthNotEqual(dBeta.Length, channels, nameof(dBeta));
        if (KernelParallelism.ShouldSplit(batch) && channels >= 2 && KernelParallelism.TryEnter())
        {
            SpatialWork<T>.Run(SpatialWork<T>.Pass.Backward, dy, dx, gamma, default, MemoryMarshal.CreateSpan(ref MemoryMarshal.GetReference(normalized), normalized.Length),
                MemoryMarshal.CreateSpan(ref MemoryMarshal.GetReference(invStd), invStd.Length), dGamma, dBeta, batch, channels, pixels, T.Zero, T.Zero);
            return;
        }
        BackwardChannels(dy, normalized, invStd, gamma, dx, dGamma, dBeta, batch, channels, pixels, 0, channels);
    }

    private static void BackwardChannels<T>(ReadOnlySpan<T> dy, ReadOnlySpan<T> normalized, ReadOnlySpan<T> invStd, ReadOnlySpan<T> gamma,
        Span<T> dx, Span<T> dGamma, Span<T> dBeta, int batch, int channels, int pixels, int c0, int c1)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        double count = (double)batch * pixels;
        for (int c = c0; c < c1; c++)
        {
            double sumDy = 0, sumDyX = 0;
            for (int b = 0; b < batch; b++)
            {
                int at = (b * channels + c) * pixels;
                (T a, T d) = RowGradientSums(dy.Slice(at, pixels), normalized.Slice(at, pixels));
                sumDy += double.CreateTruncating(a);
                sumDyX += double.CreateTruncating(d);
            }
            dBeta[c] = T.CreateTruncating(sumDy);
            dGamma[c] = T.CreateTruncating(sumDyX);
            T scale = gamma[c] * invStd[c], m1 = T.CreateTruncating(sumDy / count), m2 = T.CreateTruncating(sumDyX / count);
            for (int b = 0; b < batch; b++)
            {
                int at = (b * channels + c) * pixels;
                InputGradientRow(dy.Slice(at, pixels), normalized.Slice(at, pixels), dx.Slice(at, pixels), scale, m1, m2);
            }
        }
    }

    /// <summary>
    /// Batch normalization over channels split between two threads by channels [0, C/2) and [C/2, C): every channel's
    /// statistics, outputs and gradients are its own, so the results are bit-identical to one thread.
    /// </summary>
    private sealed unsafe class SpatialWork<T> : ParallelWork where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        public enum Pass { Training, Inference, Backward }

        private static readonly SpatialWork<T> Instance = new();
        private T* _a, _b, _gamma, _beta, _c, _d, _e, _f;
        private int _na, _nb, _nc, _nd, _ne, _nf, _batch, _channels, _pixels;
        private T _epsilon, _momentum;
        private Pass _pass;

        /// <summary>Training: a = x, b = y, c = x̂, d = 1/σ, e = running mean, f = running variance; inference: a, b, e, f;
        /// backward: a = dy, b = dx, c = x̂, d = 1/σ, e = dγ, f = dβ.</summary>
        public static void Run(Pass pass, ReadOnlySpan<T> a, Span<T> b, ReadOnlySpan<T> gamma, ReadOnlySpan<T> beta, Span<T> c, Span<T> d,
            ReadOnlySpan<T> e, ReadOnlySpan<T> f, int batch, int channels, int pixels, T epsilon, T momentum)
        {
            fixed (T* pa = a, pb = b, pg = gamma, pbe = beta, pc = c, pd = d, pe = e, pf = f)
            {
                SpatialWork<T> work = Instance;
                work._a = pa; work._b = pb; work._gamma = pg; work._beta = pbe; work._c = pc; work._d = pd; work._e = pe; work._f = pf;
                (work._na, work._nb, work._nc, work._nd, work._ne, work._nf) = (a.Length, b.Length, c.Length, d.Length, e.Length, f.Length);
                (work._pass, work._batch, work._channels, work._pixels, work._epsilon, work._momentum) = (pass, batch, channels, pixels, epsilon, momentum);
                KernelParallelism.Run(work);
                work._a = null; work._b = null; work._gamma = null; work._beta = null; work._c = null; work._d = null; work._e = null; work._f = null;
            }
        }

        internal override void Execute(int part)
        {
            int split = _channels / 2, c0 = part == 0 ? 0 : split, c1 = part == 0 ? split : _channels;
            var gamma = new ReadOnlySpan<T>(_gamma, _channels);
            switch (_pass)
            {
                case Pass.Training:
                    TrainingChannels(new ReadOnlySpan<T>(_a, _na), new Span<T>(_b, _nb), gamma, new ReadOnlySpan<T>(_beta, _channels), new Span<T>(_c, _nc),
                        new Span<T>(_d, _nd), new Span<T>(_e, _ne), new Span<T>(_f, _nf), _batch, _channels, _pixels, _epsilon, _momentum, c0, c1);
                    break;
                case Pass.Inference:
                    InferenceChannels(new ReadOnlySpan<T>(_a, _na), new Span<T>(_b, _nb), gamma, new ReadOnlySpan<T>(_beta, _channels),
                        new ReadOnlySpan<T>(_e, _ne), new ReadOnlySpan<T>(_f, _nf), _batch, _channels, _pixels, _epsilon, c0, c1);
                    break;
                default:
                    BackwardChannels(new ReadOnlySpan<T>(_a, _na), new ReadOnlySpan<T>(_c, _nc), new ReadOnlySpan<T>(_d, _nd), gamma, new Span<T>(_b, _nb),
                        new Span<T>(_e, _ne), new Span<T>(_f, _nf), _batch, _channels, _pixels, c0, c1);
                    break;
            }
        }
    }

    /// <summary>
    /// Group normalization of [batch × channels × pixels] values (PyTorch <c>GroupNorm(groups, channels)</c> on NCHW; with
    /// groups = channels, <c>InstanceNorm2d(affine=True)</c>): for each sample and group of channels/groups adjacent
    /// channels, over its (channels/groups)·pixels values, μ, biased σ², x̂ = (x − μ)/√(σ² + ε), y = γ_c·x̂ + β_c with γ, β
    /// per channel. Writes x̂ and 1/√(σ² + ε) ([batch × groups]) for backward. <paramref name="y"/> may alias <paramref name="x"/>.
    /// </summary>
    public static void GroupNormSpatialForward<T>(ReadOnlySpan<T> x, Span<T> y, ReadOnlySpan<T> gamma, ReadOnlySpan<T> beta,
        Span<T> normalized, Span<T> invStd, int batch, int channels, int pixels, int groups, T epsilon)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        int n = SpatialArea(batch, channels, pixels);
        if (groups <= 0 || channels % groups != 0) ThrowHelper.ThrowArgumentOutOfRange(nameof(groups), groups, $"The group count must be positive and divide the channel count {channels}.");
        ValidateEpsilon(epsilon);
        ThrowHelper.ThrowIfLengthLessThan(x.Length, n, nameof(x));
        ThrowHelper.ThrowIfLengthLessThan(y.Length, n, nameof(y));
        ThrowHelper.ThrowIfLengthLessThan(normalized.Length, n, nameof(normalized));
        ThrowHelper.ThrowIfLengthNotEqual(gamma.Length, channels, nameof(gamma));
        ThrowHelper.ThrowIfLengthNotEqual(beta.Length, channels, nameof(beta));
        ThrowHelper.ThrowIfLengthLessThan(invStd.Length, batch * groups, nameof(invStd));
        int per = channels / groups;
        double count = (double)per * pixels, eps = double.CreateTruncating(epsilon);
        for (int b = 0; b < batch; b++)
            for (int grp = 0; grp < groups; grp++)
            {
                int c0 = grp * per, at0 = (b * channels + c0) * pixels;
                T shift = x[at0];
                double sum = 0;
                for (int c = 0; c < per; c++) sum += double.CreateTruncating(RowSum(x.Slice(at0 + c * pixels, pixels), shift));
                double meanShifted = sum / count;
                T meanT = T.CreateTruncating(meanShifted);
                double squares = 0;
                for (int c = 0; c < per; c++) squares += double.CreateTruncating(RowSquares(x.Slice(at0 + c * pixels, pixels), shift, meanT));
                T sT = T.CreateTruncating(1.0 / Math.Sqrt(squares / count + eps));
                invStd[b * groups + grp] = sT;
                for (int c = 0; c < per; c++)
                {
                    int at = at0 + c * pixels;
                    Normalize(x.Slice(at, pixels), y.Slice(at, pixels), normalized.Slice(at, pixels), shift, meanT, sT, gamma[c0 + c], beta[c0 + c]);
                }
            }
    }

    /// <summary>
    /// Backward pass of <see cref="GroupNormSpatialForward"/>: dγ_c = Σ dy·x̂ and dβ_c = Σ dy over the batch and pixels
    /// (overwritten) and, per sample and group with g = γ_c·dy over its n values, dx = s/n·(n·g − Σ g − x̂·Σ g·x̂).
    /// <paramref name="dx"/> may alias <paramref name="dy"/>.
    /// </summary>
    public static void GroupNormSpatialBackward<T>(ReadOnlySpan<T> dy, ReadOnlySpan<T> normalized, ReadOnlySpan<T> invStd, ReadOnlySpan<T> gamma,
        Span<T> dx, Span<T> dGamma, Span<T> dBeta, int batch, int channels, int pixels, int groups)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        int n = SpatialArea(batch, channels, pixels);
        if (groups <= 0 || channels % groups != 0) ThrowHelper.ThrowArgumentOutOfRange(nameof(groups), groups, $"The group count must be positive and divide the channel count {channels}.");
        ThrowHelper.ThrowIfLengthLessThan(dy.Length, n, nameof(dy));
        ThrowHelper.ThrowIfLengthLessThan(normalized.Length, n, nameof(normalized));
        ThrowHelper.ThrowIfLengthLessThan(invStd.Length, batch * groups, nameof(invStd));
        ThrowHelper.ThrowIfLengthNotEqual(gamma.Length, channels, nameof(gamma));
        ThrowHelper.ThrowIfLengthLessThan(dx.Length, n, nameof(dx));
        ThrowHelper.ThrowIfLengthNotEqual(dGamma.Length, channels, nameof(dGamma));
        ThrowHelper.ThrowIfLengthNotEqual(dBeta.Length, channels, nameof(dBeta));
        dGamma.Clear();
        dBeta.Clear();
        int per = channels / groups;
        double count = (double)per * pixels;
        for (int b = 0; b < batch; b++)
            for (int grp = 0; grp < groups; grp++)
            {
                int c0 = grp * per, at0 = (b * channels + c0) * pixels;
                double sumG = 0, sumGx = 0;
                for (int c = 0; c < per; c++)
                {
                    int at = at0 + c * pixels;
                    (T a, T d) = RowGradientSums(dy.Slice(at, pixels), normalized.Slice(at, pixels));
                    dBeta[c0 + c] += a;
                    dGamma[c0 + c] += d;
                    sumG += double.CreateTruncating(gamma[c0 + c]) * double.CreateTruncating(a);
                    sumGx += double.CreateTruncating(gamma[c0 + c]) * double.CreateTruncating(d);
                }
                double s = double.CreateTruncating(invStd[b * groups + grp]);
                T m1 = T.CreateTruncating(s * sumG / count), m2 = T.CreateTruncating(s * sumGx / count);
                for (int c = 0; c < per; c++)
                {
                    int at = at0 + c * pixels;
                    ScaledGradientRow(dy.Slice(at, pixels), normalized.Slice(at, pixels), dx.Slice(at, pixels), T.CreateTruncating(s) * gamma[c0 + c], m1, m2);
                }
            }
    }

    private static int SpatialArea(int batch, int channels, int pixels)
    {
        if (batch <= 0) ThrowHelper.ThrowArgumentOutOfRange(nameof(batch), batch, "The batch size must be positive.");
        if (channels <= 0) ThrowHelper.ThrowArgumentOutOfRange(nameof(channels), channels, "The channel count must be positive.");
        if (pixels <= 0) ThrowHelper.ThrowArgumentOutOfRange(nameof(pixels), pixels, "The pixel count must be positive.");
        long n = (long)batch * channels * pixels;
        if (n > int.MaxValue) ThrowHelper.ThrowArgumentOutOfRange(nameof(batch), batch, "batch × channels × pixels exceeds the largest span length.");
        return (int)n;
    }

    // ---- row loops (one sample's plane of one channel) ---------------------------------------------------------------

    private static T RowSum<T>(ReadOnlySpan<T> row, T shift) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        ref T r = ref MemoryMarshal.GetReference(row);
        if (Vector512.IsHardwareAccelerated) return RowSum<T, Simd512<T>>(ref r, row.Length, shift);
        if (Vector256.IsHardwareAccelerated) return RowSum<T, Simd256<T>>(ref r, row.Length, shift);
        return RowSum<T, SimdScalar<T>>(ref r, row.Length, shift);
    }

    private static T RowSum<T, TV>(ref T r, int length, T shift) where T : unmanaged, IBinaryFloatingPointIeee754<T> where TV : struct, ISimd<TV, T>
    {
        nuint v = (nuint)TV.Count, i = 0, n = (nuint)length;
        TV k = TV.Create(shift), s = TV.Zero;
        for (; i + v <= n; i += v) s += TV.Load(ref r, i) - k;
        T total = TV.Sum(s);
        for (; i < n; i++) total += Unsafe.Add(ref r, i) - shift;
        return total;
    }

    private static T RowSquares<T>(ReadOnlySpan<T> row, T shift, T mean) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        ref T r = ref MemoryMarshal.GetReference(row);
        if (Vector512.IsHardwareAccelerated) return RowSquares<T, Simd512<T>>(ref r, row.Length, shift, mean);
        if (Vector256.IsHardwareAccelerated) return RowSquares<T, Simd256<T>>(ref r, row.Length, shift, mean);
        return RowSquares<T, SimdScalar<T>>(ref r, row.Length, shift, mean);
    }

    private static T RowSquares<T, TV>(ref T r, int length, T shift, T mean) where T : unmanaged, IBinaryFloatingPointIeee754<T> where TV : struct, ISimd<TV, T>
    {
        nuint v = (nuint)TV.Count, i = 0, n = (nuint)length;
        TV k = TV.Create(shift), m = TV.Create(mean), s = TV.Zero;
        for (; i + v <= n; i += v)
        {
            TV d = TV.Load(ref r, i) - k - m;
            s += d * d;
        }
        T total = TV.Sum(s);
        for (; i < n; i++)
        {
            T d = Unsafe.Add(ref r, i) - shift - mean;
            total += d * d;
        }
        return total;
    }

    private static void Normalize<T>(ReadOnlySpan<T> x, Span<T> y, Span<T> normalized, T shift, T mean, T invStd, T gamma, T beta)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        ref T xr = ref MemoryMarshal.GetReference(x);
        ref T yr = ref MemoryMarshal.GetReference(y);
        ref T xh = ref MemoryMarshal.GetReference(normalized);
        if (Vector512.IsHardwareAccelerated) Normalize<T, Simd512<T>>(ref xr, ref yr, ref xh, x.Length, shift, mean, invStd, gamma, beta);
        else if (Vector256.IsHardwareAccelerated) Normalize<T, Simd256<T>>(ref xr, ref yr, ref xh, x.Length, shift, mean, invStd, gamma, beta);
        else Normalize<T, SimdScalar<T>>(ref xr, ref yr, ref xh, x.Length, shift, mean, invStd, gamma, beta);
    }

    private static void Normalize<T, TV>(ref T x, ref T y, ref T xh, int length, T shift, T mean, T invStd, T gamma, T beta)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> where TV : struct, ISimd<TV, T>
    {
        nuint v = (nuint)TV.Count, i = 0, n = (nuint)length;
        TV k = TV.Create(shift), m = TV.Create(mean), s = TV.Create(invStd), g = TV.Create(gamma), b = TV.Create(beta);
        for (; i + v <= n; i += v)
        {
            TV h = (TV.Load(ref x, i) - k - m) * s;
            TV.Store(h, ref xh, i);
            TV.Store(g * h + b, ref y, i);
        }
        for (; i < n; i++)
        {
            T h = (Unsafe.Add(ref x, i) - shift - mean) * invStd;
            Unsafe.Add(ref xh, i) = h;
            Unsafe.Add(ref y, i) = gamma * h + beta;
        }
    }

    private static void Affine<T>(ReadOnlySpan<T> x, Span<T> y, T mean, T scale, T shift) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        ref T xr = ref MemoryMarshal.GetReference(x);
        ref T yr = ref MemoryMarshal.GetReference(y);
        if (Vector512.IsHardwareAccelerated) Affine<T, Simd512<T>>(ref xr, ref yr, x.Length, mean, scale, shift);
        else if (Vector256.IsHardwareAccelerated) Affine<T, Simd256<T>>(ref xr, ref yr, x.Length, mean, scale, shift);
        else Affine<T, SimdScalar<T>>(ref xr, ref yr, x.Length, mean, scale, shift);
    }

    private static void Affine<T, TV>(ref T x, ref T y, int length, T mean, T scale, T shift) where T : unmanaged, IBinaryFloatingPointIeee754<T> where TV : struct, ISimd<TV, T>
    {
        nuint v = (nuint)TV.Count, i = 0, n = (nuint)length;
        TV m = TV.Create(mean), a = TV.Create(scale), b = TV.Create(shift);
        for (; i + v <= n; i += v) TV.Store((TV.Load(ref x, i) - m) * a + b, ref y, i);
        for (; i < n; i++) Unsafe.Add(ref y, i) = (Unsafe.Add(ref x, i) - mean) * scale + shift;
    }

    private static (T SumDy, T SumDyX) RowGradientSums<T>(ReadOnlySpan<T> dy, ReadOnlySpan<T> normalized) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        ref T d = ref MemoryMarshal.GetReference(dy);
        ref T xh = ref MemoryMarshal.GetReference(normalized);
        if (Vector512.IsHardwareAccelerated) return RowGradientSums<T, Simd512<T>>(ref d, ref xh, dy.Length);
        if (Vector256.IsHardwareAccelerated) return RowGradientSums<T, Simd256<T>>(ref d, ref xh, dy.Length);
        return RowGradientSums<T, SimdScalar<T>>(ref d, ref xh, dy.Length);
    }

    private static (T, T) RowGradientSums<T, TV>(ref T dy, ref T xh, int length) where T : unmanaged, IBinaryFloatingPointIeee754<T> where TV : struct, ISimd<TV, T>
    {
        nuint v = (nuint)TV.Count, i = 0, n = (nuint)length;
        TV a = TV.Zero, b = TV.Zero;
        for (; i + v <= n; i += v)
        {
            TV g = TV.Load(ref dy, i);
            a += g;
            b += g * TV.Load(ref xh, i);
        }
        T sa = TV.Sum(a), sb = TV.Sum(b);
        for (; i < n; i++)
        {
            sa += Unsafe.Add(ref dy, i);
            sb += Unsafe.Add(ref dy, i) * Unsafe.Add(ref xh, i);
        }
        return (sa, sb);
    }

    /// <summary>dx = a·dy − m1 − x̂·m2.</summary>
    private static void ScaledGradientRow<T>(ReadOnlySpan<T> dy, ReadOnlySpan<T> normalized, Span<T> dx, T scale, T m1, T m2) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        for (int i = 0; i < dy.Length; i++) dx[i] = scale * dy[i] - m1 - normalized[i] * m2;
    }

    private static void InputGradientRow<T>(ReadOnlySpan<T> dy, ReadOnlySpan<T> normalized, Span<T> dx, T scale, T m1, T m2) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        ref T d = ref MemoryMarshal.GetReference(dy);
        ref T xh = ref MemoryMarshal.GetReference(normalized);
        ref T o = ref MemoryMarshal.GetReference(dx);
        if (Vector512.IsHardwareAccelerated) InputGradientRow<T, Simd512<T>>(ref d, ref xh, ref o, dy.Length, scale, m1, m2);
        else if (Vector256.IsHardwareAccelerated) InputGradientRow<T, Simd256<T>>(ref d, ref xh, ref o, dy.Length, scale, m1, m2);
        else InputGradientRow<T, SimdScalar<T>>(ref d, ref xh, ref o, dy.Length, scale, m1, m2);
    }

    private static void InputGradientRow<T, TV>(ref T dy, ref T xh, ref T dx, int length, T scale, T m1, T m2) where T : unmanaged, IBinaryFloatingPointIeee754<T> where TV : struct, ISimd<TV, T>
    {
        nuint v = (nuint)TV.Count, i = 0, n = (nuint)length;
        TV a = TV.Create(scale), b = TV.Create(m1), c = TV.Create(m2);
        for (; i + v <= n; i += v) TV.Store(a * (TV.Load(ref dy, i) - b - TV.Load(ref xh, i) * c), ref dx, i);
        for (; i < n; i++) Unsafe.Add(ref dx, i) = scale * (Unsafe.Add(ref dy, i) - m1 - Unsafe.Add(ref xh, i) * m2);
    }
}
