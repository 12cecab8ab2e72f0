using System.Collections.Generic;
using KernelGen.Catalog;
using KernelGen.Generators.Helpers;
using KernelGen.Generators.Ops;

namespace KernelGen.Generators.Lowering;

/// <summary>
/// A pool of work regions sized per sample (a region holds maxBatchSize × size elements at run time), and fixed-size
/// regions (recorded as the negated length) that are never shared. Regions are
/// handed out by best fit among the released ones (the smallest that is large enough, else the largest grown), so
/// values whose lifetimes do not overlap share memory. Deterministic: ties go to the lower region number.
/// </summary>
internal sealed class RegionPool
{
    private readonly List<int> _sizes;
    private readonly List<int> _free = new();
    private readonly int _first;

    /// <summary>A pool whose regions are numbered after <paramref name="existing"/> (which it extends).</summary>
    public RegionPool(List<int> existing)
    {
        _sizes = existing;
        _first = existing.Count;
    }

    /// <summary>A region of its own that is never reused.</summary>
    public int Pinned(int perSample)
    {
        _sizes.Add(perSample);
        return _sizes.Count - 1;
    }

    /// <summary>A region of <paramref name="length"/> elements whatever the batch (recorded as −length), never reused.</summary>
    public int Fixed(int length)
    {
        _sizes.Add(-length);
        return _sizes.Count - 1;
    }

    /// <summary>A region of at least <paramref name="perSample"/> elements per sample: a released one when possible.</summary>
    public int Take(int perSample)
    {
        int best = -1;
        foreach (int r in _free)
            if (_sizes[r] >= perSample && (best < 0 || _sizes[r] < _sizes[best] || (_sizes[r] == _sizes[best] && r < best))) best = r;
        if (best < 0)
            foreach (int r in _free)
                if (best < 0 || _sizes[r] > _sizes[best] || (_sizes[r] == _sizes[best] && r < best)) best = r;
        if (best < 0) return Pinned(perSample);
        _free.Remove(best);
        Grow(best, perSample);
        return best;
    }

    /// <summary>Makes <paramref name="region"/> hold at least <paramref name="perSample"/> elements per sample.</summary>
    public void Grow(int region, int perSample)
    {
        if (_sizes[region] < perSample) _sizes[region] = perSample;
    }

    /// <summary>Returns <paramref name="region"/> to the pool (fixed-size regions stay out of it).</summary>
    public void Release(int region)
    {
        if (region >= _first && _sizes[region] >= 0 && !_free.Contains(region)) _free.Add(region);
    }
}

/// <summary>
/// Assigns work regions by liveness over the dataflow graph, for training (forward values pinned so backward and
/// LayerOutput can read them; gradients reused as soon as they are consumed) and for evaluation (values reused as soon as
/// their last reader has run; in-place nodes write over an input that dies with them).
/// </summary>
internal static class RegionAllocator
{
    public static TrainingLayout Training(IReadOnlyList<NodePlan> nodes, int valueCount, int inputSize, List<int> regions)
    {
        var pool = new RegionPool(regions);
        var values = new int[valueCount];
        values[0] = -1;
        var saved = new NodeRegions[nodes.Count];
        foreach (NodePlan node in nodes)
        {
            OpGenerator generator = OpGenerator.For(node.Kind);
            values[node.Output] = generator.Output(node, training: true) == OutputMode.Alias && values[node.Input] >= 0
                ? values[node.Input]
                : pool.Pinned(node.Out);
            saved[node.Index] = Named(generator.Saved(node), pool, pinned: true);
        }
        int inputRegion = pool.Pinned(inputSize);

        // Backward over the nodes in reverse. A value read by several slots gets the sum of their contributions: the first
        // contribution computed (the last reader's) becomes the value's gradient region, later ones are added into it.
        var readers = new int[valueCount];
        foreach (NodePlan node in nodes) foreach (int v in node.Inputs) readers[v]++;
        const int Unset = int.MinValue;
        var gradients = new int[valueCount];
        for (int v = 0; v < valueCount; v++) gradients[v] = Unset;
        var scratch = new NodeRegions[nodes.Count];
        var slots = new SlotGradients[nodes.Count];
        int outputValue = valueCount - 1;
        gradients[outputValue] = outputValue == 0 ? pool.Pinned(inputSize) : pool.Take(nodes[nodes.Count - 1].Out);
        int outputGradient = gradients[outputValue];
        for (int k = nodes.Count - 1; k >= 0; k--)
        {
            NodePlan node = nodes[k];
            OpGenerator generator = OpGenerator.For(node.Kind);
            int dy = gradients[node.Output];
            scratch[k] = Named(generator.BackwardScratch(node), pool, pinned: false);
            IReadOnlyList<int> inputs = node.Inputs;
            IReadOnlyList<TensorShape> shapes = node.InputShapes;
            var nodeSlots = new SlotGradient[inputs.Count];
            var release = new List<int>();
            bool dyAdopted = false;
            for (int j = 0; j < inputs.Count; j++)
            {
                int v = inputs[j], size = shapes[j].Size;
                bool first = gradients[v] == Unset;
                int region;
                if (v == 0 && readers[0] == 1) region = -1; // the caller's span
                else if (generator.Gradient(node) != OutputMode.Distinct && !(first && dyAdopted))
                {
                    // In place (activations, normalizations) or a sum's pass-through: the contribution is in ∂L/∂y's own
                    // region; the first value to take it keeps it as its gradient, the others add it into theirs.
                    region = dy;
                    pool.Grow(dy, size);
                    dyAdopted |= first;
                }
                else region = pool.Take(size); // written by the node (a sum copies ∂L/∂y into it)
                if (first)
                {
                    gradients[v] = region;
                    nodeSlots[j] = new SlotGradient(region, -1);
                }
                else
                {
                    nodeSlots[j] = new SlotGradient(region, gradients[v]);
                    if (region != dy) release.Add(region);
                }
            }
            slots[k] = new SlotGradients(nodeSlots.ToEquatableArray());
            foreach (NamedRegion r in scratch[k].Regions) pool.Release(r.Region);
            foreach (int r in release) pool.Release(r);
            if (!dyAdopted && k > 0) pool.Release(dy);
        }
        if (gradients[0] == Unset) gradients[0] = -1;
        return new TrainingLayout(values.ToEquatableArray(), gradients.ToEquatableArray(), saved.ToEquatableArray(), scratch.ToEquatableArray(), inputRegion,
            outputGradient, slots.ToEquatableArray());
    }

    public static EvaluationLayout Evaluation(IReadOnlyList<NodePlan> nodes, int valueCount, List<int> regions)
    {
        var pool = new RegionPool(regions);
        var values = new int[valueCount];
        values[0] = EvaluationLayout.External;
        var lastUse = new int[valueCount];
        for (int v = 0; v < valueCount; v++) lastUse[v] = -1;
        foreach (NodePlan node in nodes) foreach (int v in node.Inputs) lastUse[v] = node.Index;
        var users = new Dictionary<int, int>(); // region → values still alive in it
        var scratch = new NodeRegions[nodes.Count];
        foreach (NodePlan node in nodes)
        {
            OpGenerator generator = OpGenerator.For(node.Kind);
            scratch[node.Index] = Named(generator.EvaluationScratch(node), pool, pinned: false);
            int input = values[node.Input];
            OutputMode mode = generator.Output(node, training: false);
            int output;
            if (node.Output == valueCount - 1) output = EvaluationLayout.External;
            else if (mode == OutputMode.Alias) output = input;
            else if (mode == OutputMode.InPlace && input >= 0 && lastUse[node.Input] == node.Index && users[input] == 1 && !ReadsAgain(node))
            {
                output = input;
                pool.Grow(input, node.Out);
            }
            else output = pool.Take(node.Out);
            values[node.Output] = output;
            if (output >= 0) users[output] = users.TryGetValue(output, out int n) ? n + 1 : 1;
            foreach (NamedRegion r in scratch[node.Index].Regions) pool.Release(r.Region);
            var seen = new HashSet<int>();
            foreach (int v in node.Inputs)
            {
                if (!seen.Add(v)) continue;
                int region = values[v];
                if (region >= 0 && lastUse[v] == node.Index && --users[region] == 0) pool.Release(region);
            }
        }
        return new EvaluationLayout(values.ToEquatableArray(), scratch.ToEquatableArray());
    }

    /// <summary>True when a merge reads its first input again at a later slot (x + y + x): writing the output over the
    /// first input would change what the later slot reads.</summary>
    private static bool ReadsAgain(NodePlan node)
    {
        for (int j = 1; j < node.Inputs.Count; j++) if (node.Inputs[j] == node.Input) return true;
        return false;
    }

    private static NodeRegions Named(IEnumerable<BufferNeed> needs, RegionPool pool, bool pinned)
    {
        var named = new List<NamedRegion>();
        foreach (BufferNeed need in needs)
            named.Add(new NamedRegion(need.Name, need.Fixed ? pool.Fixed(need.PerSample) : pinned ? pool.Pinned(need.PerSample) : pool.Take(need.PerSample)));
        return named.Count == 0 ? NodeRegions.None : new NodeRegions(named.ToEquatableArray());
    }
}
