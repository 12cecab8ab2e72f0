using System;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace KernelGen.Preprocessing;

/// <summary>
/// The dense linear algebra behind <see cref="Pca"/> and <see cref="Whitening"/>: feature means and covariance in
/// double, and the eigendecomposition of a symmetric matrix. All reductions run in a fixed order, so results are
/// bit-identical from run to run on one machine.
/// </summary>
internal static class LinearAlgebra
{
    /// <summary>Rows per block when accumulating the covariance (the block is transposed so dot products run over contiguous memory).</summary>
    private const int CovarianceBlock = 128;

    /// <summary>Per-feature means of [count × d] rows, accumulated in double.</summary>
    public static double[] Mean(ReadOnlySpan<float> rows, int count, int d)
    {
        var sum = new double[d];
        for (int r = 0; r < count; r++)
        {
            ReadOnlySpan<float> row = rows.Slice(r * d, d);
            for (int i = 0; i < d; i++) sum[i] += row[i];
        }
        for (int i = 0; i < d; i++) sum[i] /= count;
        return sum;
    }

    /// <summary>
    /// Computes the population covariance C = (1/N) Σₙ (xₙ − μ)(xₙ − μ)ᵀ of [count × d] rows, as a d×d row-major
    /// double matrix. Works on blocks of <see cref="CovarianceBlock"/> centred rows stored transposed (feature-major),
    /// so each entry of the block's contribution is a contiguous dot product; the upper triangle is computed in 2×4
    /// tiles (two features against four, eight accumulators, six loads per eight multiply-adds) and then mirrored.
    /// </summary>
    public static double[] Covariance(ReadOnlySpan<float> rows, int count, int d, ReadOnlySpan<double> mean)
    {
        const int B = CovarianceBlock;
        var cov = new double[(long)d * d];
        var block = new double[(long)d * B];
        for (int start = 0; start < count; start += B)
        {
            int b = Math.Min(B, count - start);
            if (b < B) Array.Clear(block); // the zero padding then contributes nothing, so every dot runs over all B
            for (int r = 0; r < b; r++)
            {
                ReadOnlySpan<float> row = rows.Slice((start + r) * d, d);
                for (int i = 0; i < d; i++) block[i * B + r] = row[i] - mean[i];
            }
            int i0 = 0;
            for (; i0 + 1 < d; i0 += 2)
            {
                int j = i0;
                for (; j + 3 < d; j += 4) Tile2x4(block, i0, j, cov, d);
                for (; j < d; j++)
                {
                    ReadOnlySpan<double> xj = block.AsSpan(j * B, B);
                    cov[i0 * d + j] += Dot(block.AsSpan(i0 * B, B), xj);
                    cov[(i0 + 1) * d + j] += Dot(block.AsSpan((i0 + 1) * B, B), xj);
                }
            }
            if (i0 < d) cov[i0 * d + i0] += Dot(block.AsSpan(i0 * B, B), block.AsSpan(i0 * B, B));
        }
        for (int i = 0; i < d; i++)
        {
            for (int j = i; j < d; j++)
            {
                double c = cov[i * d + j] / count;
                cov[i * d + j] = c;
                cov[j * d + i] = c;
            }
        }
        return cov;
    }

    /// <summary>
    /// Adds the dot products of block rows i, i+1 with rows j…j+3 (each <see cref="CovarianceBlock"/> long) to
    /// cov[i, j…j+3] and cov[i+1, j…j+3]. Entries below the diagonal that this touches are ignored by the caller.
    /// </summary>
    private static void Tile2x4(double[] block, int i, int j, double[] cov, int d)
    {
        const int B = CovarianceBlock;
        ReadOnlySpan<Vector<double>> x0 = MemoryMarshal.Cast<double, Vector<double>>(block.AsSpan(i * B, B));
        ReadOnlySpan<Vector<double>> x1 = MemoryMarshal.Cast<double, Vector<double>>(block.AsSpan((i + 1) * B, B));
        ReadOnlySpan<Vector<double>> y0 = MemoryMarshal.Cast<double, Vector<double>>(block.AsSpan(j * B, B));
        ReadOnlySpan<Vector<double>> y1 = MemoryMarshal.Cast<double, Vector<double>>(block.AsSpan((j + 1) * B, B));
        ReadOnlySpan<Vector<double>> y2 = MemoryMarshal.Cast<double, Vector<double>>(block.AsSpan((j + 2) * B, B));
        ReadOnlySpan<Vector<double>> y3 = MemoryMarshal.Cast<double, Vector<double>>(block.AsSpan((j + 3) * B, B));
        Vector<double> s00 = default, s01 = default, s02 = default, s03 = default;
        Vector<double> s10 = default, s11 = default, s12 = default, s13 = default;
        for (int v = 0; v < x0.Length; v++)
        {
            Vector<double> a = x0[v], c = x1[v], y = y0[v];
            s00 += a * y;
            s10 += c * y;
            y = y1[v];
            s01 += a * y;
            s11 += c * y;
            y = y2[v];
            s02 += a * y;
            s12 += c * y;
            y = y3[v];
            s03 += a * y;
            s13 += c * y;
        }
        // B is a multiple of every vector width, so there is no scalar tail.
        Span<double> top = cov.AsSpan(i * d + j, 4), bottom = cov.AsSpan((i + 1) * d + j, 4);
        top[0] += Vector.Sum(s00);
        top[1] += Vector.Sum(s01);
        top[2] += Vector.Sum(s02);
        top[3] += Vector.Sum(s03);
        bottom[0] += Vector.Sum(s10);
        bottom[1] += Vector.Sum(s11);
        bottom[2] += Vector.Sum(s12);
        bottom[3] += Vector.Sum(s13);
    }

    /// <summary>Σ aᵢbᵢ in double, vectorized with a fixed summation order.</summary>
    public static double Dot(ReadOnlySpan<double> a, ReadOnlySpan<double> b)
    {
        int n = a.Length, i = 0;
        double sum = 0;
        if (Vector.IsHardwareAccelerated && n >= Vector<double>.Count)
        {
            ReadOnlySpan<Vector<double>> va = MemoryMarshal.Cast<double, Vector<double>>(a);
            ReadOnlySpan<Vector<double>> vb = MemoryMarshal.Cast<double, Vector<double>>(b.Slice(0, n));
            Vector<double> acc0 = Vector<double>.Zero, acc1 = Vector<double>.Zero;
            int v = 0;
            for (; v + 1 < va.Length; v += 2)
            {
                acc0 += va[v] * vb[v];
                acc1 += va[v + 1] * vb[v + 1];
            }
            if (v < va.Length) acc0 += va[v] * vb[v];
            sum = Vector.Sum(acc0 + acc1);
            i = va.Length * Vector<double>.Count;
        }
        for (; i < n; i++) sum += a[i] * b[i];
        return sum;
    }

    /// <summary>Σ aᵢbᵢ in float, vectorized with a fixed summation order (four accumulators).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        int n = a.Length, i = 0;
        float sum = 0;
        if (Vector.IsHardwareAccelerated && n >= Vector<float>.Count)
        {
            ReadOnlySpan<Vector<float>> va = MemoryMarshal.Cast<float, Vector<float>>(a);
            ReadOnlySpan<Vector<float>> vb = MemoryMarshal.Cast<float, Vector<float>>(b.Slice(0, n));
            Vector<float> acc0 = Vector<float>.Zero, acc1 = Vector<float>.Zero, acc2 = Vector<float>.Zero, acc3 = Vector<float>.Zero;
            int v = 0;
            for (; v + 3 < va.Length; v += 4)
            {
                acc0 += va[v] * vb[v];
                acc1 += va[v + 1] * vb[v + 1];
                acc2 += va[v + 2] * vb[v + 2];
                acc3 += va[v + 3] * vb[v + 3];
            }
            for (; v < va.Length; v++) acc0 += va[v] * vb[v];
            sum = Vector.Sum((acc0 + acc1) + (acc2 + acc3));
            i = va.Length * Vector<float>.Count;
        }
        for (; i < n; i++) sum += a[i] * b[i];
        return sum;
    }

    /// <summary>
    /// Eigendecomposition of the symmetric n×n matrix <paramref name="a"/> (row-major; overwritten). On return
    /// <paramref name="eigenvalues"/> holds the eigenvalues in descending order and row k of <paramref name="a"/> the unit
    /// eigenvector of eigenvalue k, signed so that its entry of largest magnitude (the first such) is positive.
    /// </summary>
    /// <remarks>
    /// The classic two-step method of the EISPACK routines tred2 and tql2 (Martin, Reinsch and Wilkinson, Handbook for
    /// Automatic Computation vol. II, 1971; in the form of the public-domain JAMA library), written here over a
    /// transposed matrix so that every inner loop walks contiguous memory:
    /// 1. Householder reduction to a symmetric tridiagonal matrix, accumulating the orthogonal transformations;
    /// 2. the implicit QL algorithm with Wilkinson shifts on the tridiagonal matrix, applying each plane rotation to the
    ///    accumulated transformation (two contiguous rows here). About 9n³ flops in all: well under a second for n = 784.
    /// </remarks>
    /// <exception cref="ArithmeticException">QL failed to converge (only for non-finite input).</exception>
    public static void SymmetricEigen(double[] a, int n, double[] eigenvalues)
    {
        var e = new double[n];
        if (n == 1)
        {
            eigenvalues[0] = a[0];
            a[0] = 1;
            return;
        }
        Tred2(a, n, eigenvalues, e);
        Tql2(a, n, eigenvalues, e);
        SortDescending(a, n, eigenvalues);
        for (int k = 0; k < n; k++)
        {
            Span<double> v = a.AsSpan(k * n, n);
            int best = 0;
            for (int i = 1; i < n; i++)
            {
                if (Math.Abs(v[i]) > Math.Abs(v[best])) best = i;
            }
            if (v[best] < 0)
            {
                for (int i = 0; i < n; i++) v[i] = -v[i];
            }
        }
    }

    // z is the transpose of JAMA's V: z[j * n + k] == V[k][j]. The input is symmetric, so it starts equal to V.
    private static void Tred2(double[] z, int n, double[] d, double[] e)
    {
        for (int j = 0; j < n; j++) d[j] = z[j * n + n - 1];

        // Householder reduction to tridiagonal form.
        for (int i = n - 1; i > 0; i--)
        {
            double scale = 0.0, h = 0.0;
            for (int k = 0; k < i; k++) scale += Math.Abs(d[k]);
            if (scale == 0.0)
            {
                e[i] = d[i - 1];
                for (int j = 0; j < i; j++)
                {
                    d[j] = z[j * n + i - 1];
                    z[j * n + i] = 0.0;
                    z[i * n + j] = 0.0;
                }
            }
            else
            {
                // Generate the Householder vector.
                for (int k = 0; k < i; k++)
                {
                    d[k] /= scale;
                    h += d[k] * d[k];
                }
                double f = d[i - 1];
                double g = Math.Sqrt(h);
                if (f > 0) g = -g;
                e[i] = scale * g;
                h -= f * g;
                d[i - 1] = f - g;
                Array.Clear(e, 0, i);

                // Apply the similarity transformation to the remaining columns.
                for (int j = 0; j < i; j++)
                {
                    f = d[j];
                    z[i * n + j] = f;
                    ReadOnlySpan<double> col = z.AsSpan(j * n + j + 1, i - j - 1);
                    g = e[j] + z[j * n + j] * f + Dot(col, d.AsSpan(j + 1, i - j - 1));
                    Axpy(f, col, e.AsSpan(j + 1, i - j - 1));
                    e[j] = g;
                }
                f = 0.0;
                for (int j = 0; j < i; j++)
                {
                    e[j] /= h;
                    f += e[j] * d[j];
                }
                double hh = f / (h + h);
                for (int j = 0; j < i; j++) e[j] -= hh * d[j];
                for (int j = 0; j < i; j++)
                {
                    f = d[j];
                    g = e[j];
                    Span<double> col = z.AsSpan(j * n + j, i - j);
                    ReadOnlySpan<double> ek = e.AsSpan(j, i - j), dk = d.AsSpan(j, i - j);
                    for (int k = 0; k < col.Length; k++) col[k] -= f * ek[k] + g * dk[k];
                    d[j] = z[j * n + i - 1];
                    z[j * n + i] = 0.0;
                }
            }
            d[i] = h;
        }

        // Accumulate the transformations.
        for (int i = 0; i < n - 1; i++)
        {
            z[i * n + n - 1] = z[i * n + i];
            z[i * n + i] = 1.0;
            double h = d[i + 1];
            Span<double> next = z.AsSpan((i + 1) * n, i + 1);
            if (h != 0.0)
            {
                for (int k = 0; k <= i; k++) d[k] = next[k] / h;
                for (int j = 0; j <= i; j++)
                {
                    Span<double> col = z.AsSpan(j * n, i + 1);
                    double g = Dot(next, col);
                    Axpy(-g, d.AsSpan(0, i + 1), col);
                }
            }
            next.Clear();
        }
        for (int j = 0; j < n; j++)
        {
            d[j] = z[j * n + n - 1];
            z[j * n + n - 1] = 0.0;
        }
        z[(n - 1) * n + n - 1] = 1.0;
        e[0] = 0.0;
    }

    private static void Tql2(double[] z, int n, double[] d, double[] e)
    {
        const int MaxIterations = 64;
        for (int i = 1; i < n; i++) e[i - 1] = e[i];
        e[n - 1] = 0.0;

        double f = 0.0, tst1 = 0.0;
        const double Eps = 2.220446049250313e-16; // 2^-52
        for (int l = 0; l < n; l++)
        {
            // Find a small subdiagonal element.
            tst1 = Math.Max(tst1, Math.Abs(d[l]) + Math.Abs(e[l]));
            int m = l;
            while (m < n - 1 && Math.Abs(e[m]) > Eps * tst1) m++;

            // If m == l, d[l] is already an eigenvalue; otherwise iterate.
            if (m > l)
            {
                int iteration = 0;
                do
                {
                    if (++iteration > MaxIterations)
                        throw new ArithmeticException($"The symmetric QL eigenvalue iteration did not converge for eigenvalue {l} after {MaxIterations} steps.");

                    // Compute the implicit (Wilkinson) shift.
                    double g = d[l];
                    double p = (d[l + 1] - g) / (2.0 * e[l]);
                    double r = double.Hypot(p, 1.0);
                    if (p < 0) r = -r;
                    d[l] = e[l] / (p + r);
                    d[l + 1] = e[l] * (p + r);
                    double dl1 = d[l + 1];
                    double h = g - d[l];
                    for (int i = l + 2; i < n; i++) d[i] -= h;
                    f += h;

                    // Implicit QL transformation.
                    p = d[m];
                    double c = 1.0, c2 = c, c3 = c;
                    double el1 = e[l + 1];
                    double s = 0.0, s2 = 0.0;
                    for (int i = m - 1; i >= l; i--)
                    {
                        c3 = c2;
                        c2 = c;
                        s2 = s;
                        g = c * e[i];
                        h = c * p;
                        r = double.Hypot(p, e[i]);
                        e[i + 1] = s * r;
                        s = e[i] / r;
                        c = p / r;
                        p = c * d[i] - s * g;
                        d[i + 1] = h + s * (c * g + s * d[i]);
                        Rotate(z.AsSpan(i * n, n), z.AsSpan((i + 1) * n, n), c, s);
                    }
                    p = -s * s2 * c3 * el1 * e[l] / dl1;
                    e[l] = s * p;
                    d[l] = c * p;
                }
                while (Math.Abs(e[l]) > Eps * tst1);
            }
            d[l] += f;
            e[l] = 0.0;
        }
    }

    /// <summary>Applies a plane rotation to two rows: (a, b) ← (c·a − s·b, s·a + c·b).</summary>
    private static void Rotate(Span<double> a, Span<double> b, double c, double s)
    {
        int n = a.Length, i = 0;
        if (Vector.IsHardwareAccelerated && n >= Vector<double>.Count)
        {
            Span<Vector<double>> va = MemoryMarshal.Cast<double, Vector<double>>(a);
            Span<Vector<double>> vb = MemoryMarshal.Cast<double, Vector<double>>(b.Slice(0, n));
            var vc = new Vector<double>(c);
            var vs = new Vector<double>(s);
            for (int v = 0; v < va.Length; v++)
            {
                Vector<double> x = va[v], y = vb[v];
                va[v] = vc * x - vs * y;
                vb[v] = vs * x + vc * y;
            }
            i = va.Length * Vector<double>.Count;
        }
        for (; i < n; i++)
        {
            double x = a[i], y = b[i];
            a[i] = c * x - s * y;
            b[i] = s * x + c * y;
        }
    }

    /// <summary>y ← y + α·x.</summary>
    private static void Axpy(double alpha, ReadOnlySpan<double> x, Span<double> y)
    {
        int n = x.Length, i = 0;
        if (Vector.IsHardwareAccelerated && n >= Vector<double>.Count)
        {
            ReadOnlySpan<Vector<double>> vx = MemoryMarshal.Cast<double, Vector<double>>(x);
            Span<Vector<double>> vy = MemoryMarshal.Cast<double, Vector<double>>(y.Slice(0, n));
            var va = new Vector<double>(alpha);
            for (int v = 0; v < vx.Length; v++) vy[v] += va * vx[v];
            i = vx.Length * Vector<double>.Count;
        }
        for (; i < n; i++) y[i] += alpha * x[i];
    }

    /// <summary>Sorts eigenvalues descending (stable selection on ties) and permutes the eigenvector rows alike.</summary>
    private static void SortDescending(double[] z, int n, double[] d)
    {
        var row = new double[n];
        for (int i = 0; i < n - 1; i++)
        {
            int k = i;
            for (int j = i + 1; j < n; j++)
            {
                if (d[j] > d[k]) k = j;
            }
            if (k != i)
            {
                (d[i], d[k]) = (d[k], d[i]);
                z.AsSpan(i * n, n).CopyTo(row);
                z.AsSpan(k * n, n).CopyTo(z.AsSpan(i * n, n));
                row.CopyTo(z.AsSpan(k * n, n));
            }
        }
    }
}
