using System.Numerics;
using System.Runtime.CompilerServices;
using KernelGen.Operators;

namespace KernelGen.Kernels;

public static partial class Dense
{
    // ---- backward: dX = dZ·Wᵀ (dot products along the rows of W) --------------------------------------------------

    internal static void BackwardInputRows<T, TV>(ref T dz, ref T w, ref T dx, int r0, int r1, int nIn, int nOut)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> where TV : struct, ISimd<TV, T> =>
        BackwardInputCore<T, TV>(ref Unsafe.Add(ref dz, (nuint)r0 * (nuint)nOut), ref w, ref Unsafe.Add(ref dx, (nuint)r0 * (nuint)nIn), r1 - r0, nIn, nOut);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void BackwardInputCore<T, TV>(ref T dz, ref T w, ref T dx, int batch, int nIn, int nOut)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> where TV : struct, ISimd<TV, T>
    {
        nuint v = (nuint)TV.Count, n = (nuint)nOut, kIn = (nuint)nIn;
        nuint vEnd = n - n % v;
        int r = 0;
        for (; r + 4 <= batch; r += 4)
        {
            ref T g0 = ref Unsafe.Add(ref dz, (nuint)r * n);
            ref T g1 = ref Unsafe.Add(ref g0, n);
            ref T g2 = ref Unsafe.Add(ref g1, n);
            ref T g3 = ref Unsafe.Add(ref g2, n);
            for (nuint i = 0; i < kIn; i++)
            {
                ref T wi = ref Unsafe.Add(ref w, i * n);
                TV a0 = TV.Zero, a1 = TV.Zero, a2 = TV.Zero, a3 = TV.Zero;
                nuint o = 0;
                for (; o < vEnd; o += v)
                {
                    TV wv = TV.Load(ref wi, o);
                    a0 = TV.MultiplyAdd(TV.Load(ref g0, o), wv, a0);
                    a1 = TV.MultiplyAdd(TV.Load(ref g1, o), wv, a1);
                    a2 = TV.MultiplyAdd(TV.Load(ref g2, o), wv, a2);
                    a3 = TV.MultiplyAdd(TV.Load(ref g3, o), wv, a3);
                }
                T s0 = TV.Sum(a0), s1 = TV.Sum(a1), s2 = TV.Sum(a2), s3 = TV.Sum(a3);
                for (; o < n; o++)
                {
                    T wo = Unsafe.Add(ref wi, o);
                    s0 += Unsafe.Add(ref g0, o) * wo; s1 += Unsafe.Add(ref g1, o) * wo;
                    s2 += Unsafe.Add(ref g2, o) * wo; s3 += Unsafe.Add(ref g3, o) * wo;
                }
                ref T d = ref Unsafe.Add(ref dx, (nuint)r * kIn + i);
                d = s0; Unsafe.Add(ref d, kIn) = s1; Unsafe.Add(ref d, 2 * kIn) = s2; Unsafe.Add(ref d, 3 * kIn) = s3;
            }
        }
        for (; r < batch; r++)
        {
            ref T g0 = ref Unsafe.Add(ref dz, (nuint)r * n);
            for (nuint i = 0; i < kIn; i++)
            {
                ref T wi = ref Unsafe.Add(ref w, i * n);
                TV a0 = TV.Zero;
                nuint o = 0;
                for (; o < vEnd; o += v) a0 = TV.MultiplyAdd(TV.Load(ref g0, o), TV.Load(ref wi, o), a0);
                T s0 = TV.Sum(a0);
                for (; o < n; o++) s0 += Unsafe.Add(ref g0, o) * Unsafe.Add(ref wi, o);
                Unsafe.Add(ref dx, (nuint)r * kIn + i) = s0;
            }
        }
    }
}
