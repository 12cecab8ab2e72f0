using System;
using System.IO;
using System.Linq;
using KernelGen.Interop;
using Xunit;
using Xunit.Abstractions;

namespace KernelGen.Toolkit.Tests;

/// <summary>
/// <see cref="SafeTensors.LoadMatching{T}(INeuralNetwork{T}, Stream, TransferMode)"/> facing mutated files (the loader
/// fuzz harness): it throws <see cref="InvalidDataException"/> and changes nothing, or it loads, and then every tensor the
/// report lists as matched holds the saved values (safetensors has no checksum, so an in-place change of at most 8 bytes
/// may alter up to 3 of them, never to a non-finite value) and every other element of the target is exactly as before.
/// Expected values are the saved network's spans, never the loader's output.
/// </summary>
public sealed class CorruptTransferFileTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(TransferMode.Partial)]
    [InlineData(TransferMode.Strict)]
    public void Mutated_safetensors_files_transfer_exactly_what_the_report_says_or_are_rejected(TransferMode mode)
    {
        var source = CorruptWeightFileTests.Filled<WeightNet, float>(new WeightNet(1), 13);
        byte[] original = CorruptWeightFileTests.Save(s => SafeTensors.Save(source, s));
        float[] parameters = source.Parameters.ToArray(), statistics = source.RunningStatistics.ToArray();
        var target = CorruptWeightFileTests.Filled<WeightNet, float>(new WeightNet(1), 99);
        float[] sentinelParameters = target.Parameters.ToArray(), sentinelStatistics = target.RunningStatistics.ToArray();
        int partialLoads = 0;

        (int rejected, int loaded) = LoaderFuzz.Run<InvalidDataException>(original, 2000,
            (mutated, seekable) =>
            {
                sentinelParameters.CopyTo(target.Parameters);
                sentinelStatistics.CopyTo(target.RunningStatistics);
                TransferReport report = SafeTensors.LoadMatching(target, LoaderFuzz.Open(mutated, seekable), mode);

                // Expected: the sentinel everywhere, the saved values in the matched tensors (which may differ from the
                // saved ones in at most 3 elements, and only when the mutation kept the file's length).
                float[] expectedParameters = (float[])sentinelParameters.Clone(), expectedStatistics = (float[])sentinelStatistics.Clone();
                bool[] matchedParameters = new bool[parameters.Length], matchedStatistics = new bool[statistics.Length];
                var matched = report.Matched.Select(t => t.Name).ToHashSet();
                foreach (LayerTensor tensor in target.Layers.SelectMany(l => l.Tensors).Where(t => matched.Contains(t.FileName)))
                {
                    (float[] saved, float[] expected, bool[] mask) = tensor.IsState
                        ? (statistics, expectedStatistics, matchedStatistics)
                        : (parameters, expectedParameters, matchedParameters);
                    Array.Copy(saved, tensor.Offset, expected, tensor.Offset, tensor.Length);
                    mask.AsSpan(tensor.Offset, tensor.Length).Fill(true);
                }
                int differing = 0;
                differing += Compare(expectedParameters, target.Parameters, matchedParameters);
                differing += Compare(expectedStatistics, target.RunningStatistics, matchedStatistics);
                Assert.True(CorruptWeightFileTests.AllFinite(target.Parameters) && CorruptWeightFileTests.AllFinite(target.RunningStatistics), "loaded a non-finite value");
                Assert.True(differing <= 3, $"{differing} loaded values differ from the saved ones");
                Assert.True(differing == 0 || mutated.Length == original.Length, "a load after an insertion, deletion or truncation changed values");
                if (mode == TransferMode.Strict) Assert.True(report.IsComplete, "a strict load returned an incomplete report");
                if (!report.IsComplete) partialLoads++;
            },
            mutation =>
            {
                Assert.True(CorruptWeightFileTests.BitEqual<float>(sentinelParameters, target.Parameters), $"{mutation}: a rejected load changed the parameters");
                Assert.True(CorruptWeightFileTests.BitEqual<float>(sentinelStatistics, target.RunningStatistics), $"{mutation}: a rejected load changed the running statistics");
            });
        output.WriteLine($"{mode}: 2000 mutations, {rejected} rejected, {loaded} loaded ({partialLoads} of them partially: a name or shape changed in the header)");
        Assert.True(rejected > 1000, $"only {rejected} of 2000 mutations were rejected");
    }

    /// <summary>Elements that differ: outside <paramref name="matched"/> any difference fails at once (untouched
    /// elements must stay bit for bit); inside it the count is returned.</summary>
    private static int Compare(float[] expected, ReadOnlySpan<float> actual, bool[] matched)
    {
        int differing = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            if (BitConverter.SingleToInt32Bits(expected[i]) == BitConverter.SingleToInt32Bits(actual[i])) continue;
            Assert.True(matched[i], $"element {i}, outside every copied tensor, changed");
            differing++;
        }
        return differing;
    }
}
