using System;
using System.Threading;

namespace KernelGen.Tests;

/// <summary>
/// Warm-up for allocation tests. The tiered JIT promotes a method after 30 calls plus a background delay (~100 ms);
/// completing that promotion can allocate on the calling thread, so a measurement that straddles it sees bytes that
/// are not the code's. Two bursts of calls around a pause finish every promotion before the measurement starts.
/// </summary>
internal static class HotLoop
{
    public static void WarmUp(Action calls)
    {
        for (int burst = 0; burst < 4; burst++)
        {
            for (int i = 0; i < 40; i++) calls();
            Thread.Sleep(200);
        }
    }
}
