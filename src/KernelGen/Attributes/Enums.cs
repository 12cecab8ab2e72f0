// Compiled into both the runtime library and the generator (linked file). Values are part of the generator's
// contract: never renumber a member.
namespace KernelGen
{
    /// <summary>Element-wise activation applied by a layer.</summary>
    public enum Activation
    {
        /// <summary>f(x) = x.</summary>
        Identity = 0,
        /// <summary>f(x) = max(0, x); f′(x) = 1 for x &gt; 0, else 0 (PyTorch's convention at 0).</summary>
        ReLU = 1,
        /// <summary>f(x) = 1 / (1 + e^(−x)); f′ = f·(1 − f).</summary>
        Sigmoid = 2,
        /// <summary>f(x) = tanh(x); f′ = 1 − f².</summary>
        Tanh = 3,
        /// <summary>f(x) = x for x &gt; 0, else 0.01·x (PyTorch's default slope; use [LeakyReLU(slope)] for another).</summary>
        LeakyReLU = 4,
        /// <summary>f(x) = x for x &gt; 0, else e^x − 1 (α = 1; use [Elu(alpha)] for another).</summary>
        ELU = 5,
        /// <summary>f(x) = log(1 + e^x).</summary>
        Softplus = 6,
        /// <summary>f(x) = x·σ(x) (SiLU, Swish).</summary>
        SiLU = 7,
        /// <summary>f(x) = x·Φ(x), the exact GELU (use [Gelu(Approximate = true)] for the tanh form).</summary>
        GELU = 8,
    }

    /// <summary>Weight initialization of a layer. Biases start at zero unless the layer sets <c>BiasInit</c>.</summary>
    public enum Init
    {
        /// <summary>He normal before a ReLU, Xavier/Glorot uniform otherwise.</summary>
        Auto = 0,
        /// <summary>Xavier/Glorot uniform: U(−a, a) with a = √(6 / (fan_in + fan_out)).</summary>
        XavierUniform = 1,
        /// <summary>Xavier/Glorot normal: N(0, σ²) with σ = √(2 / (fan_in + fan_out)).</summary>
        XavierNormal = 2,
        /// <summary>He/MSRA uniform: U(−a, a) with a = √(6 / fan_in).</summary>
        HeUniform = 3,
        /// <summary>He/MSRA normal: N(0, σ²) with σ = √(2 / fan_in).</summary>
        HeNormal = 4,
        /// <summary>Small random numbers, 0.01·N(0, 1) (the notes' first attempt; fine for shallow networks only).</summary>
        SmallNormal = 5,
        /// <summary>A (semi-)orthogonal matrix from the QR decomposition of a Gaussian one, R's diagonal made positive
        /// (Saxe et al.; PyTorch's orthogonal_ with gain 1).</summary>
        Orthogonal = 6,
        /// <summary>Layer-sequential unit variance (Mishkin and Matas): orthogonal at construction, then
        /// <c>KernelGen.Training.Lsuv.Initialize</c> rescales each such layer on a data batch until its outputs have unit variance.</summary>
        Lsuv = 7,
    }
}
