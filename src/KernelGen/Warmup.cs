using System;
using System.Diagnostics;
using System.Numerics;
using System.Threading;
using KernelGen.Catalog;
using KernelGen.Optimization;

namespace KernelGen;

/// <summary>
/// Explicit warm-up for latency-sensitive hosts. A fresh process runs a method's loops in unoptimized (tier-0) code until
/// the tiered JIT has counted enough calls and installed optimized code in the background, which takes a few hundred
/// milliseconds; calls made meanwhile can be several times slower. <see cref="Run{T}"/> drives every hot path of a
/// network (inference at batch 1 and at the maximum batch, training forward and backward, and for trainable networks
/// the loss, gradients and optimizer update) on zero inputs until that has happened, then puts every piece of state
/// back. Alternatives that skip JIT tiering altogether: <c>&lt;TieredCompilation&gt;false&lt;/TieredCompilation&gt;</c>,
/// ReadyToRun, or NativeAOT (the generated code uses no reflection and is trimming- and AOT-safe).
/// </summary>
public static class Warmup
{
    /// <summary>
    /// Warms <paramref name="network"/> up and restores its parameters, gradients, running statistics, dropout counter and
    /// (for <see cref="ITrainableNetwork{T, TLabel}"/>) optimizer state, step count and momentum product bit for bit.
    /// Forward caches are invalidated (call Forward again before Backward). Allocates scratch buffers once per call.
    /// </summary>
    /// <param name="network">The network.</param>
    /// <param name="duration">How long to keep calling: at least the JIT's tier-up delay (default 400 ms).</param>
    public static void Run<T>(INeuralNetwork<T> network, TimeSpan? duration = null) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(network);
        TimeSpan budget = duration ?? TimeSpan.FromMilliseconds(400);
        if (budget < TimeSpan.Zero) ThrowHelper.ThrowArgumentOutOfRange(nameof(duration), budget, "Must not be negative.");

        T[] parameters = network.Parameters.ToArray(), gradients = network.Gradients.ToArray(), statistics = network.RunningStatistics.ToArray();
        ulong dropoutStep = network.DropoutStep;
        Optimizer<T>? optimizer = (network as ITrainableNetwork<T, int>)?.Optimizer ?? (network as ITrainableNetwork<T, T>)?.Optimizer;
        T[][] state = [];
        long stepCount = 0;
        double momentumProduct = 0;
        if (optimizer is not null)
        {
            state = new T[optimizer.StateSlots][];
            for (int s = 0; s < state.Length; s++) state[s] = optimizer.State(s).ToArray();
            stepCount = optimizer.StepCount;
            momentumProduct = optimizer.MomentumProduct;
        }

        int max = network.MaxBatchSize;
        var inputs = new T[max * network.InputSize];
        var outputs = new T[max * network.OutputSize];
        var labels = new int[max];
        int[] batches = max > 1 ? [1, max] : [1];
        int minimumTrainingBatch = 1;
        foreach (LayerInfo layer in network.Layers) minimumTrainingBatch = Math.Max(minimumTrainingBatch, OpCatalog.Get(layer.Kind).MinimumTrainingBatch);
        try
        {
            var clock = Stopwatch.StartNew();
            do
            {
                // Two bursts around a pause: call counting starts after the runtime's delay, and optimized code is
                // compiled on a background thread.
                for (int round = 0; round < 40; round++)
                {
                    foreach (int batch in batches)
                    {
                        ReadOnlySpan<T> x = inputs.AsSpan(0, batch * network.InputSize);
                        network.Predict(x, outputs.AsSpan(0, batch * network.OutputSize));
                        if (batch < minimumTrainingBatch) continue; // BatchNorm's batch statistics need two rows
                        ReadOnlySpan<T> y = network.Forward(x);
                        network.Backward(outputs.AsSpan(0, y.Length), default);
                        switch (network)
                        {
                            case ITrainableNetwork<T, int> classifier:
                                classifier.TrainStep(x, labels.AsSpan(0, batch));
                                break;
                            case ITrainableNetwork<T, T> regressor:
                                regressor.TrainStep(x, outputs.AsSpan(0, batch * network.OutputSize));
                                break;
                        }
                    }
                }
                if (clock.Elapsed < budget) Thread.Sleep(TimeSpan.FromMilliseconds(Math.Min(100, Math.Max(1, (budget - clock.Elapsed).TotalMilliseconds))));
            }
            while (clock.Elapsed < budget);
        }
        finally
        {
            parameters.CopyTo(network.Parameters);
            gradients.CopyTo(network.Gradients);
            statistics.CopyTo(network.RunningStatistics);
            network.DropoutStep = dropoutStep;
            if (optimizer is not null)
            {
                for (int s = 0; s < state.Length; s++) state[s].CopyTo(optimizer.State(s));
                optimizer.StepCount = stepCount;
                optimizer.MomentumProduct = momentumProduct;
            }
        }
    }
}
