using System;
using System.Collections.Generic;
using System.Linq;

namespace KernelGen.Tests;

/// <summary>
/// An independent, deliberately naive reference implementation in double: triple loops over the tensors named by
/// <see cref="ParameterTensor"/>, used to check the generated forward pass and to locate ReLU kinks.
/// </summary>
internal static class Reference
{
    public enum Act { Identity, ReLU, Sigmoid, Tanh }

    public static double Apply(Act act, double z) => act switch
    {
        Act.ReLU => Math.Max(0, z),
        Act.Sigmoid => 1 / (1 + Math.Exp(-z)),
        Act.Tanh => Math.Tanh(z),
        _ => z,
    };

    /// <summary>y = act(x·W + b) for a [batch × nIn] x and W [nIn × nOut]; also returns the pre-activations.</summary>
    public static (double[] Y, double[] Z) Dense(ReadOnlySpan<double> x, ReadOnlySpan<double> w, ReadOnlySpan<double> b, int batch, int nIn, int nOut, Act act)
    {
        var z = new double[batch * nOut];
        var y = new double[batch * nOut];
        for (int r = 0; r < batch; r++)
            for (int j = 0; j < nOut; j++)
            {
                double s = b[j];
                for (int k = 0; k < nIn; k++) s += x[r * nIn + k] * w[k * nOut + j];
                z[r * nOut + j] = s;
                y[r * nOut + j] = Apply(act, s);
            }
        return (y, z);
    }

    public static double[] Map(ReadOnlySpan<double> x, Act act)
    {
        var y = new double[x.Length];
        for (int i = 0; i < x.Length; i++) y[i] = Apply(act, x[i]);
        return y;
    }

    /// <summary>The offset of the parameter tensor called <paramref name="name"/>.</summary>
    public static int Offset<T>(INeuralNetwork<T> net, string name) where T : unmanaged, System.Numerics.IBinaryFloatingPointIeee754<T>
    {
        foreach (ParameterTensor t in net.ParameterTensors) if (t.Name == name) return t.Offset;
        throw new ArgumentException(name);
    }

    /// <summary>The relative error ‖a − n‖ / (‖a‖ + ‖n‖), 0 when both vanish: the gradient-check engine's measure, for
    /// comparisons of two computations of the same values.</summary>
    public static double RelativeError(IReadOnlyList<double> a, IReadOnlyList<double> n) =>
        GradientCheck.RelativeDifference(a.ToArray(), n.ToArray());
}
