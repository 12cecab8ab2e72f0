using System;
using System.Collections.Generic;
using System.IO;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Text;
using KernelGen.Catalog;
using KernelGen.Checkpoints;
using KernelGen.IO;

namespace KernelGen;

/// <summary>
/// Transfer learning: copies pretrained parameters and BatchNorm running statistics into a network of another
/// specification — typically the same backbone with a different head — matching tensors by name and shape.
/// </summary>
/// <remarks>
/// <para>
/// <b>Matching.</b> A tensor is known by its weight-file name (<see cref="LayerTensor.FileName"/>, PyTorch's
/// <c>state_dict</c> key: the layer name and the tensor's role, e.g. <c>Backbone1.weight</c>, <c>Backbone1.bias</c>,
/// <c>BatchNorm1.running_mean</c>) and its shape in weight files (<see cref="LayerTensor.FileShape"/>: a dense weight is
/// [out × in]). Name the layers the two networks share (<c>[Dense(64, Name = "Backbone1")]</c>) and give the new head
/// its own name, or keep the default names (<c>Dense1</c>, <c>Dense2</c>, …) where the layer sequence is the same.
/// A source tensor is copied into the target tensor of the same name when their shapes are equal; the layer kinds are
/// not compared (as in PyTorch, names and shapes decide). Running statistics transfer like parameters.
/// </para>
/// <para>
/// <b>Modes.</b> <see cref="TransferMode.Strict"/> requires every target tensor to be matched and every source tensor
/// to be used; <see cref="TransferMode.Partial"/> copies what matches and leaves the rest. The returned
/// <see cref="TransferReport"/> lists what was copied, which target tensors were skipped and which source tensors were
/// unused, each with its reason (a shape mismatch names both shapes). A partial transfer that matches nothing succeeds
/// and copies nothing (as PyTorch's <c>strict=False</c> does): check <see cref="TransferReport.Matched"/>, or print the
/// report, when the layer names might differ.
/// </para>
/// <para>
/// <b>Safety.</b> Everything is checked before the first value is written: names and shapes (in strict mode, every
/// problem is listed in one exception), then every value to be copied is read into scratch memory and must be finite
/// in the target's element type (NaN, ±∞, or a double beyond the float range going into a float network is rejected,
/// naming the tensor and element). On any exception the target is exactly as it was. Only the copied tensors' values
/// are inspected. Element types may differ (float ↔ double: float → double is exact, double → float rounds to
/// nearest); the same type copies bit for bit.
/// </para>
/// <para>
/// <b>What is not touched.</b> The target's other tensors, its gradients, its optimizer state and step count, and its
/// dropout seed. A freshly constructed target has a clean optimizer; if the target has already trained, call
/// <c>Optimizer.Reset()</c> after the transfer so that old moments do not act on the new weights.
/// </para>
/// <para>
/// <b>Sources.</b> Another network instance (<see cref="Copy"/>), a KernelGen checkpoint (<see cref="FromCheckpoint{TSource, T}(INeuralNetwork{TSource}, string, INeuralNetwork{T}, TransferMode)"/>),
/// or a safetensors file (<c>SafeTensors.LoadMatching</c> in KernelGen.Interop, which PyTorch can write too).
/// </para>
/// <para>Not thread-safe: neither network may be in use on another thread during a transfer. Not a hot path: it allocates.</para>
/// </remarks>
public static class WeightTransfer
{
    /// <summary>
    /// Copies every tensor of <paramref name="source"/> whose weight-file name and shape match a tensor of
    /// <paramref name="target"/> into it (parameters and running statistics), converting the element type if needed.
    /// </summary>
    /// <param name="source">The pretrained network (any generated type, any element type); only read.</param>
    /// <param name="target">The network to load; changed only when the transfer succeeds.</param>
    /// <param name="mode">Whether every tensor must match (<see cref="TransferMode.Strict"/>) or only the matching ones are copied.</param>
    /// <returns>What was copied, skipped and unused.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="source"/> or <paramref name="target"/> is null.</exception>
    /// <exception cref="ArgumentException">Strict mode and some tensor is unmatched (the message lists every one), or the
    /// source holds a non-finite value in a tensor to be copied, or a value does not fit the target's element type;
    /// nothing was changed.</exception>
    public static TransferReport Copy<TSource, T>(INeuralNetwork<TSource> source, INeuralNetwork<T> target, TransferMode mode)
        where TSource : unmanaged, IBinaryFloatingPointIeee754<TSource>
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(target);
        return CopyFromNetwork(source, SourceName(source), target, mode, sourceIsData: false, load: null);
    }

    /// <summary>
    /// Copies the matching tensors of a KernelGen checkpoint file into <paramref name="target"/>. A checkpoint stores the
    /// arenas of one specification, identified by its fingerprint, without tensor names; the names and shapes come from
    /// <paramref name="checkpointNetwork"/>, an instance of the network type that wrote the checkpoint, which decodes it.
    /// </summary>
    /// <remarks>
    /// <para>
    /// Why a decoding instance rather than names in the file: a checkpoint's layout is a function of its network's
    /// specification, which is C# code the program already compiles (the pretraining declaration), and the checkpoint's
    /// fingerprint proves the match. Decoding through that type reuses every check of <see cref="Checkpoint.Load{T}(INeuralNetwork{T}, Optimization.Optimizer{T}, string)"/>
    /// (signature, fingerprint, sizes, CRC-32C, finiteness) and keeps the checkpoint format — and every checkpoint
    /// written so far — unchanged. A name table in the file would duplicate what the type already states and would be
    /// absent from older files. To transfer without the pretraining type, export the pretrained network once with
    /// <c>SafeTensors.Save</c> (KernelGen.Interop), which stores names and shapes, and use <c>SafeTensors.LoadMatching</c>.
    /// </para>
    /// <para>
    /// Order of work: names and shapes are matched first (the two types alone decide them), so a strict-mode mismatch
    /// throws before anything is read or changed; then the checkpoint's network state (parameters, running statistics,
    /// dropout state; not its optimizer state) is loaded into <paramref name="checkpointNetwork"/>, whose previous
    /// values are overwritten (pass a fresh instance; its optimizer is left alone); then the matching tensors are copied
    /// into <paramref name="target"/>.
    /// </para>
    /// </remarks>
    /// <param name="checkpointNetwork">An instance of the network type that wrote the checkpoint (any batch size); it receives the checkpoint's state.</param>
    /// <param name="path">The checkpoint file.</param>
    /// <param name="target">The network to load; changed only when the transfer succeeds.</param>
    /// <param name="mode">Whether every tensor must match (<see cref="TransferMode.Strict"/>) or only the matching ones are copied.</param>
    /// <returns>What was copied, skipped and unused.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="path"/> is empty, or <paramref name="checkpointNetwork"/> is <paramref name="target"/>.</exception>
    /// <exception cref="InvalidDataException">Strict mode and some tensor is unmatched (the message lists every one), or
    /// the checkpoint is corrupt, not of <paramref name="checkpointNetwork"/>'s specification or element type, or holds
    /// non-finite values, or a value does not fit the target's element type; <paramref name="target"/> was not changed.</exception>
    public static TransferReport FromCheckpoint<TSource, T>(INeuralNetwork<TSource> checkpointNetwork, string path, INeuralNetwork<T> target, TransferMode mode)
        where TSource : unmanaged, IBinaryFloatingPointIeee754<TSource>
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(checkpointNetwork);
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(target);
        ThrowIfSame(checkpointNetwork, target);
        return CopyFromNetwork(checkpointNetwork, path, target, mode, sourceIsData: true,
            load: () => Checkpoint.Load(checkpointNetwork, optimizer: null, path));
    }

    /// <summary>
    /// Copies the matching tensors of the KernelGen checkpoint at <paramref name="checkpoint"/>'s position into
    /// <paramref name="target"/>; see <see cref="FromCheckpoint{TSource, T}(INeuralNetwork{TSource}, string, INeuralNetwork{T}, TransferMode)"/>.
    /// </summary>
    /// <param name="checkpointNetwork">An instance of the network type that wrote the checkpoint; it receives the checkpoint's state.</param>
    /// <param name="checkpoint">A readable stream positioned at the checkpoint (left just past it when the checkpoint is read).</param>
    /// <param name="target">The network to load; changed only when the transfer succeeds.</param>
    /// <param name="mode">Whether every tensor must match (<see cref="TransferMode.Strict"/>) or only the matching ones are copied.</param>
    /// <returns>What was copied, skipped and unused.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="checkpoint"/> is not readable, or <paramref name="checkpointNetwork"/> is <paramref name="target"/>.</exception>
    /// <exception cref="InvalidDataException">As for the file overload; <paramref name="target"/> was not changed.</exception>
    public static TransferReport FromCheckpoint<TSource, T>(INeuralNetwork<TSource> checkpointNetwork, Stream checkpoint, INeuralNetwork<T> target, TransferMode mode)
        where TSource : unmanaged, IBinaryFloatingPointIeee754<TSource>
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(checkpointNetwork);
        ArgumentNullException.ThrowIfNull(checkpoint);
        ArgumentNullException.ThrowIfNull(target);
        if (!checkpoint.CanRead) throw new ArgumentException("The stream is not readable.", nameof(checkpoint));
        ThrowIfSame(checkpointNetwork, target);
        return CopyFromNetwork(checkpointNetwork, "a checkpoint stream", target, mode, sourceIsData: true,
            load: () => Checkpoint.Load(checkpointNetwork, optimizer: null, checkpoint));
    }

    /// <summary>The decoding instance receives the whole checkpoint, so it cannot be the target (use <c>Checkpoint.Load</c> for that).</summary>
    private static void ThrowIfSame(object checkpointNetwork, object target)
    {
        if (ReferenceEquals(checkpointNetwork, target))
            throw new ArgumentException("The checkpoint network decodes the whole checkpoint, so it cannot be the target; to load a checkpoint into its own network type, use Checkpoint.Load.", nameof(checkpointNetwork));
    }

    private static TransferReport CopyFromNetwork<TSource, T>(INeuralNetwork<TSource> source, string sourceName, INeuralNetwork<T> target,
        TransferMode mode, bool sourceIsData, Action? load)
        where TSource : unmanaged, IBinaryFloatingPointIeee754<TSource>
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        ValidateMode(mode);
        List<NetworkTensor> sourceTensors = TensorsOf(source, nameof(source));
        var described = new List<SourceTensor>(sourceTensors.Count);
        foreach (NetworkTensor tensor in sourceTensors) described.Add(new SourceTensor(tensor.Name, tensor.Shape));
        TransferPlan plan = Match(target, sourceName, described, mode, sourceIsData);
        load?.Invoke();
        string what = sourceIsData ? sourceName + ":" : "The source network's";
        return Apply(plan, target, (int index, Span<T> destination) =>
        {
            NetworkTensor tensor = sourceTensors[index];
            var values = new TSource[tensor.Length];
            Gather(tensor.IsState ? source.RunningStatistics : source.Parameters, tensor, values);
            Convert<TSource, T>(values, destination, $"{what} {tensor.Name}", sourceIsData);
        });
    }

    /// <summary>The network's type name, with its declaring type for the nested forms (<c>PretrainedNet.Float64</c>).</summary>
    private static string SourceName(object source)
    {
        Type type = source.GetType();
        return type.DeclaringType is { } outer ? $"{outer.Name}.{type.Name}" : type.Name;
    }

    // ---- the engine, shared with the safetensors source in KernelGen.Interop ----

    /// <summary>A source tensor as a source describes it: weight-file name and shape.</summary>
    internal readonly record struct SourceTensor(string Name, TensorShape Shape);

    /// <summary>Reads source tensor <paramref name="index"/> in weight-file order into <paramref name="destination"/>,
    /// converted to the target's element type; throws (naming the tensor and element) on a value that is not finite there.</summary>
    internal delegate void SourceReader<T>(int index, Span<T> destination);

    /// <summary>A network tensor: weight-file name and shape, and where it lives.</summary>
    internal sealed record NetworkTensor(string Name, TensorShape Shape, bool IsState, int Offset, bool Transposed)
    {
        public int Length => Shape.Size;
    }

    /// <summary>The outcome of matching: the report and, for each matched target tensor, the source tensor it takes.</summary>
    internal sealed record TransferPlan(TransferReport Report, List<NetworkTensor> Targets, List<int> Sources);

    /// <summary>The tensors of <paramref name="network"/> in layer order, checked: unique names, inside their arenas.</summary>
    internal static List<NetworkTensor> TensorsOf<T>(INeuralNetwork<T> network, string parameterName) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        var tensors = new List<NetworkTensor>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        int parameters = network.Parameters.Length, statistics = network.RunningStatistics.Length;
        foreach (LayerInfo layer in network.Layers)
            foreach (LayerTensor tensor in layer.Tensors)
            {
                if (!names.Add(tensor.FileName))
                    throw new ArgumentException($"Two tensors of the network are named {tensor.FileName} (duplicate layer names).", parameterName);
                int arena = tensor.IsState ? statistics : parameters;
                if (tensor.Offset < 0 || (long)tensor.Offset + tensor.Length > arena)
                    throw new ArgumentException($"Tensor {tensor.FileName} ({tensor.Length} values at offset {tensor.Offset}) lies outside the network's arena of {arena}.", parameterName);
                bool transposed = tensor.FileLayout == FileLayout.Transposed && tensor.Shape.Rank == 2;
                tensors.Add(new NetworkTensor(tensor.FileName, tensor.FileShape, tensor.IsState, tensor.Offset, transposed));
            }
        return tensors;
    }

    internal static void ValidateMode(TransferMode mode)
    {
        if (mode is not (TransferMode.Strict or TransferMode.Partial))
            ThrowHelper.ThrowArgumentOutOfRange(nameof(mode), mode, "The mode is Strict or Partial.");
    }

    /// <summary>
    /// Matches <paramref name="source"/>'s tensors with <paramref name="target"/>'s by name and shape. In strict mode,
    /// throws listing every unmatched tensor (<see cref="InvalidDataException"/> when the source is data,
    /// <see cref="ArgumentException"/> when it is a network). Changes nothing.
    /// </summary>
    internal static TransferPlan Match<T>(INeuralNetwork<T> target, string sourceName, IReadOnlyList<SourceTensor> source,
        TransferMode mode, bool sourceIsData) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        List<NetworkTensor> targets = TensorsOf(target, nameof(target));
        var bySourceName = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < source.Count; i++)
        {
            if (!bySourceName.TryAdd(source[i].Name, i))
            {
                string message = $"The source {sourceName} has two tensors named {source[i].Name}.";
                throw sourceIsData ? new InvalidDataException(message) : new ArgumentException(message, "source");
            }
        }
        var targetNames = new Dictionary<string, NetworkTensor>(StringComparer.Ordinal);
        foreach (NetworkTensor tensor in targets) targetNames.Add(tensor.Name, tensor);

        var matched = new List<TransferredTensor>();
        var matchedTargets = new List<NetworkTensor>();
        var matchedSources = new List<int>();
        var skipped = new List<SkippedTensor>();
        foreach (NetworkTensor tensor in targets)
        {
            if (!bySourceName.TryGetValue(tensor.Name, out int index))
                skipped.Add(new SkippedTensor(tensor.Name, TransferSkipReason.NotInSource, null, tensor.Shape));
            else if (!source[index].Shape.Equals(tensor.Shape))
                skipped.Add(new SkippedTensor(tensor.Name, TransferSkipReason.ShapeMismatch, source[index].Shape, tensor.Shape));
            else
            {
                matched.Add(new TransferredTensor(tensor.Name, tensor.Shape, tensor.IsState));
                matchedTargets.Add(tensor);
                matchedSources.Add(index);
            }
        }
        var unused = new List<SkippedTensor>();
        foreach (SourceTensor tensor in source)
        {
            if (!targetNames.TryGetValue(tensor.Name, out NetworkTensor? counterpart))
                unused.Add(new SkippedTensor(tensor.Name, TransferSkipReason.NotInTarget, tensor.Shape, null));
            else if (!counterpart.Shape.Equals(tensor.Shape))
                unused.Add(new SkippedTensor(tensor.Name, TransferSkipReason.ShapeMismatch, tensor.Shape, counterpart.Shape));
        }

        var report = new TransferReport(sourceName, mode, matched, skipped, unused);
        if (mode == TransferMode.Strict && !report.IsComplete)
        {
            var message = new StringBuilder($"Strict weight transfer from {sourceName} failed; nothing was changed. Use TransferMode.Partial to copy only the matching tensors.");
            foreach (SkippedTensor tensor in skipped) message.Append($"\n  {tensor.Name}: {tensor.Reason}");
            foreach (SkippedTensor tensor in unused)
                if (tensor.Why == TransferSkipReason.NotInTarget) message.Append($"\n  {tensor.Name}: {tensor.Reason}");
            throw sourceIsData ? new InvalidDataException(message.ToString()) : new ArgumentException(message.ToString(), "source");
        }
        return new TransferPlan(report, matchedTargets, matchedSources);
    }

    /// <summary>Reads every matched source tensor into scratch memory (where <paramref name="read"/> checks its values),
    /// then writes them all into <paramref name="target"/>: an exception leaves the target unchanged.</summary>
    internal static TransferReport Apply<T>(TransferPlan plan, INeuralNetwork<T> target, SourceReader<T> read)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        var staged = new T[plan.Targets.Count][];
        for (int i = 0; i < staged.Length; i++)
        {
            staged[i] = new T[plan.Targets[i].Length];
            read(plan.Sources[i], staged[i]);
        }
        for (int i = 0; i < staged.Length; i++)
        {
            NetworkTensor tensor = plan.Targets[i];
            Scatter(tensor.IsState ? target.RunningStatistics : target.Parameters, tensor, staged[i]);
        }
        return plan.Report;
    }

    /// <summary>Copies <paramref name="tensor"/> out of its arena in weight-file order (transposing dense weights).</summary>
    private static void Gather<T>(ReadOnlySpan<T> arena, NetworkTensor tensor, Span<T> destination)
    {
        ReadOnlySpan<T> source = arena.Slice(tensor.Offset, tensor.Length);
        if (!tensor.Transposed)
        {
            source.CopyTo(destination);
            return;
        }
        int rows = tensor.Shape[0], columns = tensor.Shape[1]; // file [rows × columns]; arena [columns × rows]
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < columns; c++)
                destination[r * columns + c] = source[c * rows + r];
    }

    /// <summary>Writes weight-file-order values into <paramref name="tensor"/>'s place in its arena (the inverse of <see cref="Gather"/>).</summary>
    private static void Scatter<T>(Span<T> arena, NetworkTensor tensor, ReadOnlySpan<T> values)
    {
        Span<T> destination = arena.Slice(tensor.Offset, tensor.Length);
        if (!tensor.Transposed)
        {
            values.CopyTo(destination);
            return;
        }
        int rows = tensor.Shape[0], columns = tensor.Shape[1];
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < columns; c++)
                destination[c * rows + r] = values[r * columns + c];
    }

    /// <summary>Converts <paramref name="values"/> into <paramref name="destination"/> (bit for bit when the types are
    /// equal), rejecting a non-finite value or one beyond <typeparamref name="T"/>'s range.</summary>
    private static void Convert<TSource, T>(ReadOnlySpan<TSource> values, Span<T> destination, string what, bool sourceIsData)
        where TSource : unmanaged, IBinaryFloatingPointIeee754<TSource>
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        for (int i = 0; i < values.Length; i++)
        {
            TSource value = values[i];
            if (!TSource.IsFinite(value))
                Fail($"{what} element {i} (weight-file order) is {NonFinite.Describe(value)}; only finite values are transferred.", sourceIsData);
            T converted = typeof(T) == typeof(TSource) ? Unsafe.As<TSource, T>(ref value) : T.CreateTruncating(value);
            if (!T.IsFinite(converted))
                Fail($"{what} element {i} (weight-file order) is {NonFinite.Describe(value)}, beyond the range of {typeof(T).Name}; only finite values are transferred.", sourceIsData);
            destination[i] = converted;
        }
    }

    private static void Fail(string message, bool sourceIsData) =>
        throw (sourceIsData ? new InvalidDataException(message) : new ArgumentException(message, "source"));
}
