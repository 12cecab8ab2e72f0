using System;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace KernelGen.Operators;

/// <summary>
/// One SIMD register of <typeparamref name="T"/> (or one scalar), as a value type the JIT specializes: kernels are
/// written once against this interface and instantiated for <see cref="Simd512{T}"/>, <see cref="Simd256{T}"/> and
/// <see cref="SimdScalar{T}"/>. Every member is a thin wrapper the JIT inlines away.
/// </summary>
/// <typeparam name="TSelf">The implementing register type.</typeparam>
/// <typeparam name="T">The element type (<see cref="float"/> or <see cref="double"/>).</typeparam>
public interface ISimd<TSelf, T>
    where TSelf : struct, ISimd<TSelf, T>
    where T : unmanaged, IBinaryFloatingPointIeee754<T>
{
    /// <summary>Lanes per register.</summary>
    static abstract int Count { get; }
    /// <summary>All lanes zero.</summary>
    static abstract TSelf Zero { get; }
    /// <summary>All lanes <paramref name="value"/>.</summary>
    static abstract TSelf Create(T value);
    /// <summary>Loads <see cref="Count"/> elements starting at <paramref name="source"/> + <paramref name="offset"/>.</summary>
    static abstract TSelf Load(ref T source, nuint offset);
    /// <summary>Stores all lanes to <paramref name="destination"/> + <paramref name="offset"/>.</summary>
    static abstract void Store(TSelf value, ref T destination, nuint offset);
    /// <summary>Lane-wise a + b.</summary>
    static abstract TSelf operator +(TSelf a, TSelf b);
    /// <summary>Lane-wise a − b.</summary>
    static abstract TSelf operator -(TSelf a, TSelf b);
    /// <summary>Lane-wise a · b.</summary>
    static abstract TSelf operator *(TSelf a, TSelf b);
    /// <summary>Lane-wise a / b.</summary>
    static abstract TSelf operator /(TSelf a, TSelf b);
    /// <summary>Lane-wise −a.</summary>
    static abstract TSelf operator -(TSelf a);
    /// <summary>Lane-wise a·b + c, fused where the hardware has FMA.</summary>
    static abstract TSelf MultiplyAdd(TSelf a, TSelf b, TSelf c);
    /// <summary>Lane-wise max(a, b) for ordered inputs.</summary>
    static abstract TSelf Max(TSelf a, TSelf b);
    /// <summary>Lane-wise min(a, b) for ordered inputs.</summary>
    static abstract TSelf Min(TSelf a, TSelf b);
    /// <summary>Lane-wise √a (correctly rounded).</summary>
    static abstract TSelf Sqrt(TSelf a);
    /// <summary>Lane-wise |a|.</summary>
    static abstract TSelf Abs(TSelf a);
    /// <summary>Lane-wise a &gt; b ? ifTrue : ifFalse.</summary>
    static abstract TSelf SelectGreaterThan(TSelf a, TSelf b, TSelf ifTrue, TSelf ifFalse);
    /// <summary>Lane-wise a == b ? ifTrue : ifFalse.</summary>
    static abstract TSelf SelectEquals(TSelf a, TSelf b, TSelf ifTrue, TSelf ifFalse);
    /// <summary>Lane-wise copy of the sign of <paramref name="sign"/> onto <paramref name="magnitude"/>.</summary>
    static abstract TSelf CopySign(TSelf magnitude, TSelf sign);
    /// <summary>Lane-wise e^x (library vector exponential; ±∞ and NaN behave as <see cref="Math.Exp(double)"/>).</summary>
    static abstract TSelf Exp(TSelf x);
    /// <summary>Lane-wise natural logarithm.</summary>
    static abstract TSelf Log(TSelf x);
    /// <summary>True when every lane is finite.</summary>
    static abstract bool AllFinite(TSelf x);
    /// <summary>Sum of all lanes, in a fixed order.</summary>
    static abstract T Sum(TSelf x);
    /// <summary>Maximum of all lanes.</summary>
    static abstract T MaxAcross(TSelf x);
}

/// <summary>Helpers shared by the register types.</summary>
internal static class SimdHelpers
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> MultiplyAdd<T>(Vector512<T> a, Vector512<T> b, Vector512<T> c)
    {
        if (typeof(T) == typeof(float)) return Vector512.MultiplyAddEstimate(a.AsSingle(), b.AsSingle(), c.AsSingle()).As<float, T>();
        if (typeof(T) == typeof(double)) return Vector512.MultiplyAddEstimate(a.AsDouble(), b.AsDouble(), c.AsDouble()).As<double, T>();
        return a * b + c;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> MultiplyAdd<T>(Vector256<T> a, Vector256<T> b, Vector256<T> c)
    {
        if (typeof(T) == typeof(float)) return Vector256.MultiplyAddEstimate(a.AsSingle(), b.AsSingle(), c.AsSingle()).As<float, T>();
        if (typeof(T) == typeof(double)) return Vector256.MultiplyAddEstimate(a.AsDouble(), b.AsDouble(), c.AsDouble()).As<double, T>();
        return a * b + c;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> Exp<T>(Vector512<T> x)
    {
        if (typeof(T) == typeof(float)) return Vector512.Exp(x.AsSingle()).As<float, T>();
        if (typeof(T) == typeof(double)) return Vector512.Exp(x.AsDouble()).As<double, T>();
        throw new NotSupportedException();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> Exp<T>(Vector256<T> x)
    {
        if (typeof(T) == typeof(float)) return Vector256.Exp(x.AsSingle()).As<float, T>();
        if (typeof(T) == typeof(double)) return Vector256.Exp(x.AsDouble()).As<double, T>();
        throw new NotSupportedException();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> Log<T>(Vector512<T> x)
    {
        if (typeof(T) == typeof(float)) return Vector512.Log(x.AsSingle()).As<float, T>();
        if (typeof(T) == typeof(double)) return Vector512.Log(x.AsDouble()).As<double, T>();
        throw new NotSupportedException();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> Log<T>(Vector256<T> x)
    {
        if (typeof(T) == typeof(float)) return Vector256.Log(x.AsSingle()).As<float, T>();
        if (typeof(T) == typeof(double)) return Vector256.Log(x.AsDouble()).As<double, T>();
        throw new NotSupportedException();
    }
}

/// <summary>A 512-bit register (16 floats or 8 doubles).</summary>
public readonly struct Simd512<T> : ISimd<Simd512<T>, T> where T : unmanaged, IBinaryFloatingPointIeee754<T>
{
    /// <summary>The wrapped register.</summary>
    public readonly Vector512<T> V;
    /// <summary>Wraps <paramref name="v"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public Simd512(Vector512<T> v) => V = v;
    /// <inheritdoc/>
    public static int Count => Vector512<T>.Count;
    /// <inheritdoc/>
    public static Simd512<T> Zero { [MethodImpl(MethodImplOptions.AggressiveInlining)] get => new(Vector512<T>.Zero); }
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd512<T> Create(T value) => new(Vector512.Create(value));
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd512<T> Load(ref T source, nuint offset) => new(Vector512.LoadUnsafe(ref source, offset));
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(Simd512<T> value, ref T destination, nuint offset) => value.V.StoreUnsafe(ref destination, offset);
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd512<T> operator +(Simd512<T> a, Simd512<T> b) => new(a.V + b.V);
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd512<T> operator -(Simd512<T> a, Simd512<T> b) => new(a.V - b.V);
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd512<T> operator *(Simd512<T> a, Simd512<T> b) => new(a.V * b.V);
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd512<T> operator /(Simd512<T> a, Simd512<T> b) => new(a.V / b.V);
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd512<T> operator -(Simd512<T> a) => new(-a.V);
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd512<T> MultiplyAdd(Simd512<T> a, Simd512<T> b, Simd512<T> c) => new(SimdHelpers.MultiplyAdd(a.V, b.V, c.V));
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd512<T> Max(Simd512<T> a, Simd512<T> b) => new(Vector512.MaxNative(a.V, b.V));
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd512<T> Min(Simd512<T> a, Simd512<T> b) => new(Vector512.MinNative(a.V, b.V));
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd512<T> Sqrt(Simd512<T> a) => new(Vector512.Sqrt(a.V));
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd512<T> Abs(Simd512<T> a) => new(Vector512.Abs(a.V));
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd512<T> SelectGreaterThan(Simd512<T> a, Simd512<T> b, Simd512<T> ifTrue, Simd512<T> ifFalse) =>
        new(Vector512.ConditionalSelect(Vector512.GreaterThan(a.V, b.V), ifTrue.V, ifFalse.V));
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd512<T> SelectEquals(Simd512<T> a, Simd512<T> b, Simd512<T> ifTrue, Simd512<T> ifFalse) =>
        new(Vector512.ConditionalSelect(Vector512.Equals(a.V, b.V), ifTrue.V, ifFalse.V));
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd512<T> CopySign(Simd512<T> magnitude, Simd512<T> sign) => new(Vector512.CopySign(magnitude.V, sign.V));
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd512<T> Exp(Simd512<T> x) => new(SimdHelpers.Exp(x.V));
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd512<T> Log(Simd512<T> x) => new(SimdHelpers.Log(x.V));
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static bool AllFinite(Simd512<T> x) => Vector512.EqualsAll(x.V - x.V, Vector512<T>.Zero);
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static T Sum(Simd512<T> x) => Simd256<T>.Sum(new(x.V.GetLower() + x.V.GetUpper()));
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static T MaxAcross(Simd512<T> x) => Simd256<T>.MaxAcross(new(Vector256.Max(x.V.GetLower(), x.V.GetUpper())));
}

/// <summary>A 256-bit register (8 floats or 4 doubles).</summary>
public readonly struct Simd256<T> : ISimd<Simd256<T>, T> where T : unmanaged, IBinaryFloatingPointIeee754<T>
{
    /// <summary>The wrapped register.</summary>
    public readonly Vector256<T> V;
    /// <summary>Wraps <paramref name="v"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public Simd256(Vector256<T> v) => V = v;
    /// <inheritdoc/>
    public static int Count => Vector256<T>.Count;
    /// <inheritdoc/>
    public static Simd256<T> Zero { [MethodImpl(MethodImplOptions.AggressiveInlining)] get => new(Vector256<T>.Zero); }
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd256<T> Create(T value) => new(Vector256.Create(value));
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd256<T> Load(ref T source, nuint offset) => new(Vector256.LoadUnsafe(ref source, offset));
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(Simd256<T> value, ref T destination, nuint offset) => value.V.StoreUnsafe(ref destination, offset);
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd256<T> operator +(Simd256<T> a, Simd256<T> b) => new(a.V + b.V);
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd256<T> operator -(Simd256<T> a, Simd256<T> b) => new(a.V - b.V);
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd256<T> operator *(Simd256<T> a, Simd256<T> b) => new(a.V * b.V);
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd256<T> operator /(Simd256<T> a, Simd256<T> b) => new(a.V / b.V);
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd256<T> operator -(Simd256<T> a) => new(-a.V);
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd256<T> MultiplyAdd(Simd256<T> a, Simd256<T> b, Simd256<T> c) => new(SimdHelpers.MultiplyAdd(a.V, b.V, c.V));
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd256<T> Max(Simd256<T> a, Simd256<T> b) => new(Vector256.MaxNative(a.V, b.V));
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd256<T> Min(Simd256<T> a, Simd256<T> b) => new(Vector256.MinNative(a.V, b.V));
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd256<T> Sqrt(Simd256<T> a) => new(Vector256.Sqrt(a.V));
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd256<T> Abs(Simd256<T> a) => new(Vector256.Abs(a.V));
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd256<T> SelectGreaterThan(Simd256<T> a, Simd256<T> b, Simd256<T> ifTrue, Simd256<T> ifFalse) =>
        new(Vector256.ConditionalSelect(Vector256.GreaterThan(a.V, b.V), ifTrue.V, ifFalse.V));
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd256<T> SelectEquals(Simd256<T> a, Simd256<T> b, Simd256<T> ifTrue, Simd256<T> ifFalse) =>
        new(Vector256.ConditionalSelect(Vector256.Equals(a.V, b.V), ifTrue.V, ifFalse.V));
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd256<T> CopySign(Simd256<T> magnitude, Simd256<T> sign) => new(Vector256.CopySign(magnitude.V, sign.V));
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd256<T> Exp(Simd256<T> x) => new(SimdHelpers.Exp(x.V));
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd256<T> Log(Simd256<T> x) => new(SimdHelpers.Log(x.V));
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static bool AllFinite(Simd256<T> x) => Vector256.EqualsAll(x.V - x.V, Vector256<T>.Zero);
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Sum(Simd256<T> x)
    {
        // Fixed pairwise order: (lanes of lower + upper halves), then a left-to-right sum of the 128-bit result.
        Vector128<T> h = x.V.GetLower() + x.V.GetUpper();
        T s = T.Zero;
        for (int i = 0; i < Vector128<T>.Count; i++) s += h.GetElement(i);
        return s;
    }
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T MaxAcross(Simd256<T> x)
    {
        Vector128<T> h = Vector128.Max(x.V.GetLower(), x.V.GetUpper());
        T m = h.GetElement(0);
        for (int i = 1; i < Vector128<T>.Count; i++) m = T.Max(m, h.GetElement(i));
        return m;
    }
}

/// <summary>One scalar "lane": the portable fallback when no vector width is hardware-accelerated, and the tail.</summary>
public readonly struct SimdScalar<T> : ISimd<SimdScalar<T>, T> where T : unmanaged, IBinaryFloatingPointIeee754<T>
{
    /// <summary>The wrapped value.</summary>
    public readonly T V;
    /// <summary>Wraps <paramref name="v"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public SimdScalar(T v) => V = v;
    /// <inheritdoc/>
    public static int Count => 1;
    /// <inheritdoc/>
    public static SimdScalar<T> Zero { [MethodImpl(MethodImplOptions.AggressiveInlining)] get => new(T.Zero); }
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static SimdScalar<T> Create(T value) => new(value);
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static SimdScalar<T> Load(ref T source, nuint offset) => new(Unsafe.Add(ref source, offset));
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(SimdScalar<T> value, ref T destination, nuint offset) => Unsafe.Add(ref destination, offset) = value.V;
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static SimdScalar<T> operator +(SimdScalar<T> a, SimdScalar<T> b) => new(a.V + b.V);
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static SimdScalar<T> operator -(SimdScalar<T> a, SimdScalar<T> b) => new(a.V - b.V);
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static SimdScalar<T> operator *(SimdScalar<T> a, SimdScalar<T> b) => new(a.V * b.V);
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static SimdScalar<T> operator /(SimdScalar<T> a, SimdScalar<T> b) => new(a.V / b.V);
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static SimdScalar<T> operator -(SimdScalar<T> a) => new(-a.V);
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static SimdScalar<T> MultiplyAdd(SimdScalar<T> a, SimdScalar<T> b, SimdScalar<T> c) => new(a.V * b.V + c.V);
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static SimdScalar<T> Max(SimdScalar<T> a, SimdScalar<T> b) => new(a.V > b.V ? a.V : b.V);
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static SimdScalar<T> Min(SimdScalar<T> a, SimdScalar<T> b) => new(a.V < b.V ? a.V : b.V);
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static SimdScalar<T> Sqrt(SimdScalar<T> a) => new(T.Sqrt(a.V));
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static SimdScalar<T> Abs(SimdScalar<T> a) => new(T.Abs(a.V));
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static SimdScalar<T> SelectGreaterThan(SimdScalar<T> a, SimdScalar<T> b, SimdScalar<T> ifTrue, SimdScalar<T> ifFalse) => a.V > b.V ? ifTrue : ifFalse;
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static SimdScalar<T> SelectEquals(SimdScalar<T> a, SimdScalar<T> b, SimdScalar<T> ifTrue, SimdScalar<T> ifFalse) => a.V == b.V ? ifTrue : ifFalse;
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static SimdScalar<T> CopySign(SimdScalar<T> magnitude, SimdScalar<T> sign) => new(T.CopySign(magnitude.V, sign.V));
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static SimdScalar<T> Exp(SimdScalar<T> x) => new(T.Exp(x.V));
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static SimdScalar<T> Log(SimdScalar<T> x) => new(T.Log(x.V));
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static bool AllFinite(SimdScalar<T> x) => T.IsFinite(x.V);
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static T Sum(SimdScalar<T> x) => x.V;
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static T MaxAcross(SimdScalar<T> x) => x.V;
}
