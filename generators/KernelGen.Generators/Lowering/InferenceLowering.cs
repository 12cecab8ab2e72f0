using System.Collections.Generic;
using System.Linq;
using KernelGen.Catalog;
using KernelGen.Generators.Helpers;
using KernelGen.Generators.Ops;

namespace KernelGen.Generators.Lowering;

/// <summary>
/// Lowers the inference form of a network: layers that are the identity in evaluation (dropout) go; a layer that folds
/// into a dense layer (BatchNorm, an affine map in evaluation) folds into the dense layer before it when that layer has
/// no activation, else into a dense layer directly after it, else stays with its running statistics; a standalone
/// activation after a dense layer without one fuses into it. The surviving nodes are re-laid out in a fresh arena, and
/// each remembers how to rebuild its tensors from the training network.
/// </summary>
internal static class InferenceLowering
{
    private sealed class Draft
    {
        public Draft(NodePlan node) { Node = node; Original = node; }
        public NodePlan Node;
        public NodePlan Original;
        public NodePlan? Before;
        public NodePlan? After;
        /// <summary>The drafts writing the values it reads (null: the network input), in order.</summary>
        public List<Draft?> Inputs = new();
        /// <summary>A re-parameterized sum of branches (RepVGG): the convolution's branches, or null.</summary>
        public List<Branch>? Branches;
    }

    /// <summary>One branch of a re-parameterized sum: a convolution (with the BatchNorm folded after it, if any), a
    /// BatchNorm on the block's input, or the input itself.</summary>
    private sealed class Branch
    {
        public Draft? Convolution;
        public NodePlan? Norm;
    }

    public static InferenceFormPlan Lower(GraphPlan plan)
    {
        // Walk the training graph in order, remembering which draft writes each training value. A fold or
        // fusion needs the value between the two nodes to have no other reader (a branch reading it must see it unchanged).
        // Readers are counted on the values the inference form keeps: a layer that is the identity in evaluation (dropout)
        // passes its input on, so its readers read that input.
        var alias = new int[plan.ValueCount];
        for (int v = 0; v < alias.Length; v++) alias[v] = v;
        foreach (NodePlan node in plan.Nodes)
            if (OpCatalog.Get(node.Kind).IdentityInEvaluation) alias[node.Output] = alias[node.Input];
        var kept = new int[plan.ValueCount];
        foreach (NodePlan node in plan.Nodes)
            if (!OpCatalog.Get(node.Kind).IdentityInEvaluation)
                foreach (int v in node.Inputs) kept[alias[v]]++;
        var readers = new int[plan.ValueCount];
        for (int v = 0; v < readers.Length; v++) readers[v] = kept[alias[v]];
        var producer = new Dictionary<int, Draft>(); // training value → the draft writing it
        var drafts = new List<Draft>();
        foreach (NodePlan node in plan.Nodes)
        {
            LayerDescriptor descriptor = OpCatalog.Get(node.Kind);
            if (descriptor.IdentityInEvaluation)
            {
                if (producer.TryGetValue(node.Input, out Draft? through)) producer[node.Output] = through;
                continue;
            }
            producer.TryGetValue(node.Input, out Draft? last);
            bool single = node.MergeInputs.IsEmpty && readers[node.Input] == 1 && last is not null;
            bool lastFuses = single && OpCatalog.Get(last!.Node.Kind).FusesActivation && !last.Node.HasActivation;
            if (descriptor.FoldsIntoDense && lastFuses && last!.After is null)
            {
                last.After = node;
                producer[node.Output] = last;
                continue;
            }
            if (node.Kind == LayerKind.Activation && lastFuses)
            {
                last!.Node = last.Node with { Activation = node.Activation, ActivationParameter = node.ActivationParameter, Custom = node.Custom };
                producer[node.Output] = last;
                continue;
            }
            // Before a dense layer, or a convolution without padding (a padded one's zeros are not normalized values).
            if ((node.Kind == LayerKind.Dense || (node.Kind == LayerKind.Conv2D && node.Options is ConvOptions { PadTop: 0, PadLeft: 0, PadBottom: 0, PadRight: 0 }))
                && single && OpCatalog.Get(last!.Node.Kind).FoldsIntoDense && last.Before is null && last.After is null && last.Node == last.Original)
            {
                NodePlan norm = last.Original;
                var replaced = new Draft(node) { Before = norm, Inputs = last.Inputs };
                drafts[drafts.IndexOf(last)] = replaced;
                producer[node.Output] = replaced;
                continue;
            }
            if (node.Kind == LayerKind.Add && Reparameterize(node, producer, readers) is { } block)
            {
                foreach (Branch b in block.Branches!) if (b.Convolution is { } d) drafts.Remove(d); else if (b.Norm is { } n) drafts.Remove(producer[n.Output]);
                drafts.Add(block);
                producer[node.Output] = block;
                continue;
            }
            var draft = new Draft(node) { Inputs = node.Inputs.Select(v => producer.TryGetValue(v, out Draft? d) ? d : null).ToList() };
            drafts.Add(draft);
            producer[node.Output] = draft;
        }

        // Re-lay out the arena; statistics keep the network's offsets (they are copied whole when a BatchNorm stays).
        var nodes = new List<NodePlan>();
        var folds = new List<FoldPlan>();
        int offset = 0;
        bool statistics = false;
        for (int k = 0; k < drafts.Count; k++)
        {
            Draft draft = drafts[k];
            if (draft.Branches is { } branches)
            {
                LayerTensorPlan w = draft.Node.Tensor(TensorRole.Weight);
                var blockWeights = w with { Offset = offset, L1 = 0, L2 = 0 };
                offset = Lowerer.Align(offset + w.Length);
                var blockBias = new LayerTensorPlan(TensorRole.Bias, draft.Node.Name + ".Bias", draft.Node.Name + ".bias", TensorShape.Vector(w.Shape[0]), FileLayout.Same, offset, false);
                offset = Lowerer.Align(offset + w.Shape[0]);
                var blockInputs = draft.Inputs.Select(d => d is null ? 0 : drafts.IndexOf(d) + 1).ToEquatableArray();
                nodes.Add(draft.Node with { Index = k, Input = blockInputs[0], Output = k + 1, Tensors = new[] { blockWeights, blockBias }.ToEquatableArray() });
                folds.Add(new FoldPlan(-1, blockWeights.Offset, blockWeights.Length, -1, blockBias.Offset, w.Length / w.Shape[0], w.Shape[0], -1, -1)
                {
                    Convolution = true,
                    KernelArea = w.Shape[2] * w.Shape[3],
                    Groups = 1,
                    Branches = branches.Select(b => b.Convolution is { } c
                        ? new BranchFold(c.Original.Tensor(TensorRole.Weight).Offset, c.Original.Has(TensorRole.Bias) ? c.Original.Tensor(TensorRole.Bias).Offset : -1,
                            ((ConvOptions)c.Original.Options).Kernel, c.After?.Index ?? -1)
                        : new BranchFold(-1, -1, 1, b.Norm?.Index ?? -1)).ToEquatableArray(),
                });
                continue;
            }
            var tensors = new List<LayerTensorPlan>();
            foreach (LayerTensorPlan t in draft.Node.Tensors)
            {
                if (t.IsState)
                {
                    statistics = true;
                    tensors.Add(t);
                    continue;
                }
                tensors.Add(t with { Offset = offset, L1 = 0, L2 = 0 });
                offset = Lowerer.Align(offset + t.Length);
            }
            bool folded = draft.Before is not null || draft.After is not null;
            if (folded && !draft.Node.Has(TensorRole.Bias))
            {
                // A convolution without bias gets one: the folded normalization's shift lands there.
                LayerTensorPlan w = draft.Node.Tensor(TensorRole.Weight);
                tensors.Add(new LayerTensorPlan(TensorRole.Bias, draft.Node.Name + ".Bias", draft.Node.Name + ".bias", TensorShape.Vector(w.Shape[0]), FileLayout.Same, offset, false));
                offset = Lowerer.Align(offset + w.Shape[0]);
            }
            var inputs = draft.Inputs.Select(d => d is null ? 0 : drafts.IndexOf(d) + 1).ToEquatableArray();
            NodePlan node = draft.Node with { Index = k, Input = inputs[0], Output = k + 1, Tensors = tensors.ToEquatableArray(), ActivityL1 = 0,
                MergeInputs = draft.Node.MergeInputs.IsEmpty ? EquatableArray<int>.Empty : inputs };
            TensorShape input = draft.Before?.InputShape ?? draft.Node.InputShape;
            TensorShape output = draft.After?.OutputShape ?? draft.Node.OutputShape;
            node = node with { InputShape = input, OutputShape = output };
            nodes.Add(node);
            if (draft.Before is null && draft.After is null)
            {
                for (int i = 0; i < tensors.Count; i++)
                    if (!tensors[i].IsState) folds.Add(new FoldPlan(draft.Original.Tensors[i].Offset, tensors[i].Offset, tensors[i].Length, -1, -1, 0, 0, -1, -1));
                continue;
            }
            LayerTensorPlan weights = draft.Original.Tensor(TensorRole.Weight);
            int sourceBias = draft.Original.Has(TensorRole.Bias) ? draft.Original.Tensor(TensorRole.Bias).Offset : -1; // −1: none, zeros
            bool convolution = weights.Shape.Rank == 4;
            folds.Add(new FoldPlan(weights.Offset, node.Tensor(TensorRole.Weight).Offset, weights.Length, sourceBias, node.Tensor(TensorRole.Bias).Offset,
                convolution ? weights.Length / weights.Shape[0] : weights.Shape[0], convolution ? weights.Shape[0] : weights.Shape[1],
                draft.Before?.Index ?? -1, draft.After?.Index ?? -1)
            {
                Convolution = convolution,
                KernelArea = convolution ? weights.Shape[2] * weights.Shape[3] : 0,
                Groups = convolution ? ((ConvOptions)draft.Original.Options).Groups : 0,
            });
        }
        var regions = new List<int>();
        EvaluationLayout evaluation = RegionAllocator.Evaluation(nodes, nodes.Count + 1, regions);
        return new InferenceFormPlan(nodes.ToEquatableArray(), folds.ToEquatableArray(), offset, statistics ? plan.StatisticsLength : 0,
            regions.ToEquatableArray(), evaluation);
    }

    /// <summary>
    /// RepVGG's structural re-parameterization: a sum whose every input is a branch over one value x — a stride-s convolution
    /// of odd kernel k with "same" padding (k − 1)/2, one group, no dilation and no activation (a BatchNorm after it folded
    /// in), a BatchNorm of x, or x itself (the last two need stride 1) — and whose branches nothing else reads, is one
    /// convolution of the largest kernel K with a bias: each k×k kernel zero-padded to K×K at its centre, a BatchNorm of x
    /// the per-channel scale at the centre tap of channel c → c, x itself the centre tap 1. Returns null when the sum is not
    /// such a block.
    /// </summary>
    private static Draft? Reparameterize(NodePlan add, Dictionary<int, Draft> producer, int[] readers)
    {
        int x = -1, stride = -1, kernel = 0;
        Draft? widest = null;
        var branches = new List<Branch>();
        var seen = new HashSet<Draft>();
        foreach (int v in add.Inputs)
        {
            Draft? d = producer.TryGetValue(v, out Draft? found) ? found : null;
            if (d is not null && readers[v] == 1 && d.Node.Kind == LayerKind.Conv2D && d.Before is null && !d.Node.HasActivation && d.Node.MergeInputs.IsEmpty
                && d.Node.Options is ConvOptions o && o.Groups == 1 && o.Dilation == 1 && o.Kernel % 2 == 1
                && o.PadTop == o.Kernel / 2 && o.PadLeft == o.Kernel / 2 && o.PadBottom == o.Kernel / 2 && o.PadRight == o.Kernel / 2 && seen.Add(d))
            {
                if ((x >= 0 && d.Original.Input != x) || (stride >= 0 && o.Stride != stride)) return null;
                x = d.Original.Input;
                stride = o.Stride;
                if (o.Kernel > kernel) { kernel = o.Kernel; widest = d; }
                branches.Add(new Branch { Convolution = d });
            }
            else if (d is not null && readers[v] == 1 && d.Node.Kind == LayerKind.BatchNorm && d.Node == d.Original && d.Before is null && d.After is null
                && d.Node.InputShape.Rank == 3 && seen.Add(d))
            {
                if (x >= 0 && d.Original.Input != x) return null;
                x = d.Original.Input;
                branches.Add(new Branch { Norm = d.Original });
            }
            else branches.Add(new Branch { Norm = null, Convolution = null, }); // x itself, checked below
        }
        if (widest is null) return null;
        for (int j = 0; j < add.Inputs.Count; j++)
            if (branches[j].Convolution is null && branches[j].Norm is null && add.Inputs[j] != x) return null;
        bool identity = branches.Exists(b => b.Convolution is null);
        if (identity && stride != 1) return null;

        NodePlan conv = widest.Original;
        var options = (ConvOptions)conv.Options;
        LayerTensorPlan w = conv.Tensor(TensorRole.Weight);
        var weights = w with { Name = add.Name + ".Weights", FileName = add.Name + ".weight" };
        NodePlan block = conv with
        {
            Name = add.Name,
            Input = x,
            MergeInputs = EquatableArray<int>.Empty,
            MergeInputShapes = EquatableArray<TensorShape>.Empty,
            OutputShape = add.OutputShape,
            Activation = Activation.Identity,
            Custom = null,
            Options = options,
            Tensors = new[] { weights }.ToEquatableArray(),
        };
        Draft? source = producer.TryGetValue(x, out Draft? p) ? p : null;
        return new Draft(block) { Inputs = new List<Draft?> { source }, Branches = branches };
    }
}
