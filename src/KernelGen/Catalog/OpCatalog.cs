// Compiled into both the runtime library and the generator (linked file): netstandard2.0-compatible.
using System;
using System.Collections.Generic;
using KernelGen.Optimization;

namespace KernelGen.Catalog
{
    /// <summary>
    /// The op catalog: one entry per activation, layer kind, loss, optimizer, schedule and penalty, describing everything
    /// about it once (attribute and options, shape rule, tensors, formulas, ONNX mapping, PyTorch equivalent, test
    /// metadata). The source generator parses, validates, lowers and emits from it; the runtime's ONNX exporter, weight
    /// files, trainer statistics and <c>GradientCheck</c> read it; the documentation tables and the catalog-wide
    /// tests enumerate it. The entries live beside their attributes (Activations.cs, Layers.cs, Losses.cs, Optimizers.cs).
    /// </summary>
    public static partial class OpCatalog
    {
        /// <summary>The entry of <paramref name="activation"/>.</summary>
        /// <exception cref="ArgumentOutOfRangeException">Not a known activation.</exception>
        public static ActivationDescriptor Get(Activation activation) =>
            Index.Activations.TryGetValue(activation, out ActivationDescriptor? d) ? d : throw new ArgumentOutOfRangeException(nameof(activation), activation, "Not a known activation.");

        /// <summary>The entry of layer kind <paramref name="kind"/>.</summary>
        /// <exception cref="ArgumentOutOfRangeException">Not a known layer kind.</exception>
        public static LayerDescriptor Get(LayerKind kind) =>
            Index.Layers.TryGetValue(kind, out LayerDescriptor? d) ? d : throw new ArgumentOutOfRangeException(nameof(kind), kind, "Not a known layer kind.");

        /// <summary>The entry of loss <paramref name="kind"/>.</summary>
        /// <exception cref="ArgumentOutOfRangeException">Not a known loss.</exception>
        public static LossDescriptor Get(LossKind kind) =>
            Index.Losses.TryGetValue(kind, out LossDescriptor? d) ? d : throw new ArgumentOutOfRangeException(nameof(kind), kind, "Not a known loss.");

        /// <summary>The entry of optimizer <paramref name="kind"/>.</summary>
        /// <exception cref="ArgumentOutOfRangeException">Not a known optimizer.</exception>
        public static OptimizerDescriptor Get(OptimizerKind kind) =>
            Index.Optimizers.TryGetValue(kind, out OptimizerDescriptor? d) ? d : throw new ArgumentOutOfRangeException(nameof(kind), kind, "Not a known optimizer.");

        /// <summary>Whether layer kind <paramref name="kind"/> has an entry.</summary>
        public static bool IsKnown(LayerKind kind) => Index.Layers.ContainsKey(kind);

        /// <summary>Whether <paramref name="activation"/> has an entry.</summary>
        public static bool IsKnown(Activation activation) => Index.Activations.ContainsKey(activation);

        /// <summary>Finds the catalog entry whose attribute has the full name <paramref name="attributeName"/>: an
        /// <see cref="ActivationDescriptor"/>, <see cref="LayerDescriptor"/>, <see cref="LossDescriptor"/>,
        /// <see cref="OptimizerDescriptor"/>, <see cref="TrainingOptionDescriptor"/> or <see cref="PenaltyDescriptor"/>.</summary>
        public static bool TryFindAttribute(string attributeName, out object? entry) => Index.ByAttribute.TryGetValue(attributeName, out entry);

        // Built on first use, after every partial file's static initializers have run.
        private static class Index
        {
            public static readonly Dictionary<Activation, ActivationDescriptor> Activations = Build(OpCatalog.Activations, d => d.Activation);
            public static readonly Dictionary<LayerKind, LayerDescriptor> Layers = Build(OpCatalog.Layers, d => d.Kind);
            public static readonly Dictionary<LossKind, LossDescriptor> Losses = Build(OpCatalog.Losses, d => d.Kind);
            public static readonly Dictionary<OptimizerKind, OptimizerDescriptor> Optimizers = Build(OpCatalog.Optimizers, d => d.Kind);
            public static readonly Dictionary<string, object> ByAttribute = BuildAttributes();

            private static Dictionary<TKey, TValue> Build<TKey, TValue>(IReadOnlyList<TValue> entries, Func<TValue, TKey> key) where TKey : notnull
            {
                var map = new Dictionary<TKey, TValue>();
                foreach (TValue entry in entries) map.Add(key(entry), entry);
                return map;
            }

            private static Dictionary<string, object> BuildAttributes()
            {
                var map = new Dictionary<string, object>(StringComparer.Ordinal);
                foreach (ActivationDescriptor d in OpCatalog.Activations) map.Add(d.Attribute, d);
                foreach (LayerDescriptor d in OpCatalog.Layers) if (d.Attribute is { } name) map.Add(name, d);
                foreach (LossDescriptor d in OpCatalog.Losses) map.Add(d.Attribute, d);
                foreach (OptimizerDescriptor d in OpCatalog.Optimizers) map.Add(d.Attribute, d);
                foreach (TrainingOptionDescriptor d in OpCatalog.TrainingOptions) map.Add(d.Attribute, d);
                foreach (PenaltyDescriptor d in OpCatalog.Penalties) map.Add(d.Attribute, d);
                return map;
            }
        }
    }
}
