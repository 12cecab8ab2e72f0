// Compiled into both the runtime library and the generator (linked file): keep it netstandard2.0-compatible.
using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace KernelGen
{
    /// <summary>
    /// The shape of one sample of a value, outermost dimension first, without the batch dimension: <c>[features]</c> for
    /// vectors, <c>[channels, height, width]</c> for images (PyTorch's NCHW without the N), <c>[time, features]</c> for
    /// sequences. Values are stored row-major, so a batch of them is <c>[batch × Size]</c> contiguous elements.
    /// Immutable and compared by value.
    /// </summary>
    public sealed class TensorShape : IEquatable<TensorShape>
    {
        private readonly int[] _dimensions;

        /// <summary>A shape with the given dimensions (copied).</summary>
        /// <exception cref="ArgumentNullException"><paramref name="dimensions"/> is null.</exception>
        public TensorShape(params int[] dimensions)
        {
            if (dimensions is null) throw new ArgumentNullException(nameof(dimensions));
            _dimensions = (int[])dimensions.Clone();
        }

        /// <summary>A vector of <paramref name="features"/> elements.</summary>
        public static TensorShape Vector(int features) => new TensorShape(features);

        /// <summary>An image of <paramref name="channels"/> planes of <paramref name="height"/> × <paramref name="width"/>.</summary>
        public static TensorShape Image(int channels, int height, int width) => new TensorShape(channels, height, width);

        /// <summary>Number of dimensions.</summary>
        public int Rank => _dimensions.Length;

        /// <summary>The size of dimension <paramref name="axis"/>.</summary>
        public int this[int axis] => _dimensions[axis];

        /// <summary>The dimensions, outermost first.</summary>
        public IReadOnlyList<int> Dimensions => _dimensions;

        /// <summary>Elements per sample (the product of the dimensions; 1 for rank 0), as a 64-bit number.</summary>
        public long LongSize
        {
            get
            {
                long size = 1;
                foreach (int d in _dimensions) size *= d;
                return size;
            }
        }

        /// <summary>Elements per sample (the product of the dimensions).</summary>
        /// <exception cref="OverflowException">The product does not fit in an <see cref="int"/>.</exception>
        public int Size => checked((int)LongSize);

        /// <summary>True when every dimension is positive.</summary>
        public bool IsValid
        {
            get
            {
                foreach (int d in _dimensions) if (d <= 0) return false;
                return _dimensions.Length > 0;
            }
        }

        /// <summary>The shape as <c>[1, 28, 28]</c>.</summary>
        public override string ToString()
        {
            var text = new StringBuilder("[");
            for (int i = 0; i < _dimensions.Length; i++)
            {
                if (i > 0) text.Append(", ");
                text.Append(_dimensions[i].ToString(CultureInfo.InvariantCulture));
            }
            return text.Append(']').ToString();
        }

        /// <summary>The shape as <c>1x28x28</c> (compact, for fingerprints and names).</summary>
        public string ToCompactString()
        {
            var text = new StringBuilder();
            for (int i = 0; i < _dimensions.Length; i++)
            {
                if (i > 0) text.Append('x');
                text.Append(_dimensions[i].ToString(CultureInfo.InvariantCulture));
            }
            return text.ToString();
        }

        /// <inheritdoc/>
        public bool Equals(TensorShape? other)
        {
            if (other is null || other._dimensions.Length != _dimensions.Length) return false;
            for (int i = 0; i < _dimensions.Length; i++) if (other._dimensions[i] != _dimensions[i]) return false;
            return true;
        }

        /// <inheritdoc/>
        public override bool Equals(object? obj) => Equals(obj as TensorShape);

        /// <inheritdoc/>
        public override int GetHashCode()
        {
            int hash = 17;
            foreach (int d in _dimensions) hash = unchecked(hash * 31 + d);
            return hash;
        }

        /// <summary>Value equality.</summary>
        public static bool operator ==(TensorShape? left, TensorShape? right) => left is null ? right is null : left.Equals(right);

        /// <summary>Value inequality.</summary>
        public static bool operator !=(TensorShape? left, TensorShape? right) => !(left == right);
    }
}
