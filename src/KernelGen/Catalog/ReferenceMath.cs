// Compiled into both the runtime library and the generator (linked file): netstandard2.0-compatible.
using System;

namespace KernelGen.Catalog
{
    /// <summary>
    /// Plain scalar double functions the catalog's reference implementations need and <see cref="Math"/> lacks. They
    /// are written for clarity and accuracy (a few units in the last place), not speed, and share no code with the
    /// vector math the kernels use, so they can judge it.
    /// </summary>
    public static class ReferenceMath
    {
        /// <summary>Computes ln(1 + x) without cancellation for small |x| (x ≥ −1).</summary>
        public static double Log1p(double x)
        {
            // 1. u = 1 + x rounds; (u − 1) is exactly representable, and ln(u)·x/(u − 1) corrects the rounding of u
            //    (Goldberg, "What every computer scientist should know about floating-point arithmetic", Theorem 4).
            double u = 1 + x;
            if (u == 1) return x;
            if (double.IsInfinity(u)) return u;
            return Math.Log(u) * x / (u - 1);
        }

        /// <summary>Computes e^x − 1 without cancellation for small |x|.</summary>
        public static double Expm1(double x)
        {
            // 1. For |x| < 1e-5 the Taylor series x + x²/2 + x³/6 is exact to double precision.
            // 2. Otherwise u = e^x rounds; (u − 1)·x/ln(u) corrects it (Kahan's trick), and for large |x| there is no cancellation.
            if (Math.Abs(x) < 1e-5) return x + x * x / 2 + x * x * x / 6;
            double u = Math.Exp(x);
            if (u == 1) return x;
            if (double.IsInfinity(u)) return u;
            double um1 = u - 1;
            if (um1 == -1) return -1;
            return um1 * x / Math.Log(u);
        }

        /// <summary>The logistic sigmoid 1/(1 + e^(−x)), without overflow.</summary>
        public static double Sigmoid(double x) => x >= 0 ? 1 / (1 + Math.Exp(-x)) : Math.Exp(x) / (1 + Math.Exp(x));

        /// <summary>log(1 + e^x), without overflow: max(x, 0) + log1p(e^(−|x|)).</summary>
        public static double Softplus(double x) => Math.Max(x, 0) + Log1p(Math.Exp(-Math.Abs(x)));

        /// <summary>The error function, to a few units in the last place.</summary>
        public static double Erf(double x)
        {
            if (double.IsNaN(x) || x == 0) return x;
            double a = Math.Abs(x), r;
            if (a >= 6.5) return x > 0 ? 1 : -1;
            double g = Math.Exp(-a * a);
            if (a < 3)
            {
                // erf(a) = (2/√π)·e^(−a²)·Σ 2ⁿ·a^(2n+1)/(1·3·…·(2n+1)): all terms positive, no cancellation.
                double term = a, sum = a;
                for (int n = 1; n < 300 && term > 1e-20 * sum; n++)
                {
                    term *= 2 * a * a / (2 * n + 1);
                    sum += term;
                }
                r = 2 / Math.Sqrt(Math.PI) * g * sum;
            }
            else
            {
                // erfc(a)·e^(a²) = (1/√π)/(a + (1/2)/(a + 1/(a + (3/2)/(a + …)))), evaluated bottom-up.
                double fraction = a;
                for (int k = 400; k >= 1; k--) fraction = a + k / 2.0 / fraction;
                r = 1 - g / Math.Sqrt(Math.PI) / fraction;
            }
            return x > 0 ? r : -r;
        }
    }
}
