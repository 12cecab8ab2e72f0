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
    }

    public static InferenceFormPlan Lower(GraphPlan plan)
    {
        // Walk the training graph in order, remembering which draft writes each training value. A fold or
        // fusion needs the value between the two nodes to have no other reader (a branch reading it must see it unchanged).
        var readers = new int[plan.ValueCount];
        foreach (NodePlan node in plan.Nodes) foreach (int v in node.Inputs) readers[v]++;
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
}
