using System;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using KernelGen.Operators;

namespace KernelGen.Kernels;

/// <summary>Optimizer update kernels: one fused pass over the parameter and gradient arenas.</summary>
public static class Optimizers
{
    /// <summary>Plain SGD: computes θ[i] ← θ[i] − η·g[i]. Every element is updated exactly once.</summary>
    public static void SgdStep<T>(Span<T> parameters, ReadOnlySpan<T> gradients, T learningRate)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        ThrowHelper.ThrowIfLengthNotEqual(gradients.Length, parameters.Length, nameof(gradients));
        ref T p = ref MemoryMarshal.GetReference(parameters);
        ref T g = ref MemoryMarshal.GetReference(gradients);
        nuint n = (nuint)parameters.Length;
        if (Vector512.IsHardwareAccelerated) SgdCore<T, Simd512<T>>(ref p, ref g, n, -learningRate);
        else if (Vector256.IsHardwareAccelerated) SgdCore<T, Simd256<T>>(ref p, ref g, n, -learningRate);
        else SgdCore<T, SimdScalar<T>>(ref p, ref g, n, -learningRate);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void SgdCore<T, TV>(ref T p, ref T g, nuint n, T negLr)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> where TV : struct, ISimd<TV, T>
    {
        nuint w = (nuint)TV.Count, i = 0;
        TV lr = TV.Create(negLr);
        for (; i + 2 * w <= n; i += 2 * w)
        {
            TV.Store(TV.MultiplyAdd(lr, TV.Load(ref g, i), TV.Load(ref p, i)), ref p, i);
            TV.Store(TV.MultiplyAdd(lr, TV.Load(ref g, i + w), TV.Load(ref p, i + w)), ref p, i + w);
        }
        for (; i + w <= n; i += w) TV.Store(TV.MultiplyAdd(lr, TV.Load(ref g, i), TV.Load(ref p, i)), ref p, i);
        for (; i < n; i++) Unsafe.Add(ref p, i) = negLr * Unsafe.Add(ref g, i) + Unsafe.Add(ref p, i);
    }
}
