using System;
using System.Diagnostics;
using System.Runtime.ExceptionServices;
using System.Runtime.InteropServices;
using System.Threading;

namespace KernelGen.Kernels;

/// <summary>
/// Opt-in use of a second core by the <see cref="Dense"/> kernels, the optimizer update and the element-wise training
/// kernels (and so by generated networks built on them).
/// </summary>
/// <remarks>
/// <para>
/// With <see cref="DegreeOfParallelism"/> = 2, work is split in two parts: the calling thread computes part 0 and one
/// persistent worker thread part 1.
/// </para>
/// <list type="bullet">
/// <item><see cref="Dense.Forward{T, TAct}"/>, <see cref="Dense.BackwardInput{T}"/> and
/// <see cref="Dense.BackwardParameters{T}"/> with at least <see cref="MinimumBatch"/> batch rows: the forward pass and
/// dX by batch rows, dW and db by output columns (a layer too narrow for two column panels splits dW by input rows, and
/// the worker also computes db).</item>
/// <item><see cref="Dense.Forward{T, TAct}"/> with fewer rows and at least <see cref="MinimumSplitWeightBytes"/> of
/// weights (batch-1 inference in particular): by output columns. The worker always takes the same half of a layer's
/// columns (in row-major W each half is half of every row, so the hardware prefetchers bring much of the other half into
/// each core's cache as well).</item>
/// <item><see cref="Dense.ForwardPacked{T, TAct}"/> (the inference form's dense layers): by rows as above, and smaller
/// batches by panels: each core streams its own contiguous half of the packed weights, which stays in its L2 cache.</item>
/// <item>The optimizer update, and the element-wise and loss kernels of a training step, over large enough
/// arrays (see the kernels).</item>
/// <item><see cref="Convolution"/> with at least <see cref="MinimumBatch"/> samples and scratch for two parts: the forward
/// pass and dX by samples, the implicit-GEMM weight gradient by kernel taps.</item>
/// </list>
/// <para>
/// Results are bit-identical to one thread: each output element is computed by exactly one thread with the same
/// summation order as the single-threaded kernel (the kernels' orders do not depend on how rows or columns are
/// grouped into register tiles), and reductions combine fixed partial sums in a fixed order whatever the degree.
/// </para>
/// <para>
/// The worker is created once, the first time the degree is set to 2, and then lives for the process (a background
/// thread, so it never keeps the process alive). After each part it spins for about
/// <see cref="WorkerSpinMicroseconds"/> µs waiting for the next one (consecutive kernels of a training step or
/// back-to-back predictions follow each other within microseconds), then blocks on an event, so it costs no CPU while
/// idle; a call that finds it blocked wakes it (a system call). Part 1 goes to whichever thread claims it first: the
/// caller, having finished part 0, takes part 1 itself when the worker has not started it (the worker was blocked, or
/// its core is busy with another process), so a busy second core costs at most the one-thread time plus the hand-off,
/// never a scheduler time slice. A split call allocates nothing: its arguments go to a per-kernel work object created
/// once, with the spans pinned for the duration of the call. One caller at a time uses the worker; a call that finds it
/// busy (another thread is in a split call) simply runs on its own thread, with identical results.
/// </para>
/// </remarks>
public static class KernelParallelism
{
    /// <summary>The smallest batch whose dense kernels are split by batch rows between two threads.</summary>
    public const int MinimumBatch = 64;

    /// <summary>
    /// The smallest weight matrix (in bytes) whose forward pass is split by output columns at batches below
    /// <see cref="MinimumBatch"/>: below it the hand-off (a fraction of a microsecond) costs more than half the layer.
    /// </summary>
    public const int MinimumSplitWeightBytes = 192 * 1024;

    /// <summary>
    /// The smallest streaming pass (optimizer update, gradient check, input check; elements) split between two threads:
    /// 256 KB of floats, a few microseconds, where the hand-off (well under a microsecond while the worker spins) pays.
    /// </summary>
    public const int MinimumSplitElements = 65_536;

    /// <summary>How long the worker waits for the next part, spinning, before it blocks (microseconds).</summary>
    public const int WorkerSpinMicroseconds = 200;

    private static readonly object Gate = new();
    private static readonly ManualResetEventSlim Wake = new(false, 1);
    private static volatile int s_degree = 1;
    private static Thread? s_worker;
    private static ParallelWork? s_work;
    private static ExceptionDispatchInfo? s_error;
    private static int s_busy;

    private static HandOff s_handOff;

    /// <summary>
    /// The hand-off's counters, together on one cache line (fewest line transfers between the two cores) and alone on
    /// it. Published: the number of the last published job (written by the caller). Claimed: the number of the last
    /// job whose part 1 a thread took (a compare-exchange race between the caller and the worker). Finished: the number
    /// of the last job whose part 1 the worker completed. Parked: 1 while the worker blocks (or is about to). The
    /// worker's statistics (for tests) sit on the next line: each store to the hand-off line while the caller spins on it
    /// costs a line transfer, so the worker ends a part with one store.
    /// </summary>
    [StructLayout(LayoutKind.Explicit, Size = 192)]
    private struct HandOff
    {
        [FieldOffset(64)] public long Published;
        [FieldOffset(72)] public long Claimed;
        [FieldOffset(80)] public long Finished;
        [FieldOffset(88)] public int Parked;
        [FieldOffset(96)] public long SplitCalls;
        [FieldOffset(128)] public long WorkerParts;
        [FieldOffset(136)] public long WorkerAllocatedBytes;
    }

    /// <summary>How many calls have been split so far (for tests).</summary>
    internal static long SplitCalls => Volatile.Read(ref s_handOff.SplitCalls);

    /// <summary>How many parts the worker thread has computed so far (for tests: the rest the callers took back).</summary>
    internal static long WorkerParts => Volatile.Read(ref s_handOff.WorkerParts);

    /// <summary>Bytes the worker thread has allocated so far, as of its last finished job (for tests).</summary>
    internal static long WorkerAllocatedBytes => Volatile.Read(ref s_handOff.WorkerAllocatedBytes);

    /// <summary>
    /// 1 (the default): every kernel runs on the calling thread. 2: large kernels use one extra worker thread (created
    /// when this is first set to 2). Other values throw <see cref="ArgumentOutOfRangeException"/>.
    /// </summary>
    public static int DegreeOfParallelism
    {
        get => s_degree;
        set
        {
            if (value is not (1 or 2)) ThrowHelper.ThrowArgumentOutOfRange(nameof(value), value, "The degree of parallelism must be 1 or 2.");
            if (value == 2) EnsureWorker();
            s_degree = value;
        }
    }

    /// <summary>True when a dense call with <paramref name="batch"/> rows should be split by rows.</summary>
    internal static bool ShouldSplit(int batch) => s_degree == 2 && batch >= MinimumBatch;

    /// <summary>True when a dense forward pass below <see cref="MinimumBatch"/> rows over
    /// <paramref name="weightBytes"/> bytes of weights should be split by columns.</summary>
    internal static bool ShouldSplitColumns(long weightBytes) => s_degree == 2 && weightBytes >= MinimumSplitWeightBytes;

    /// <summary>
    /// True when an element-wise pass over <paramref name="elements"/> elements should be split: at least
    /// <paramref name="minimum"/> of them, and the worker spinning (a part of another split call ended within
    /// <see cref="WorkerSpinMicroseconds"/>). A pass of a few microseconds does not pay for waking a blocked worker (a
    /// system call and a scheduler wake-up, after which the worker holds the second core spinning), so in a training step
    /// the update and the checks use the worker only when the step's dense kernels are split too (batches of at least
    /// <see cref="MinimumBatch"/> rows) and leave it parked at smaller batches. Results never depend on it.
    /// </summary>
    internal static bool ShouldSplitElements(int elements, int minimum) =>
        s_degree == 2 && elements >= minimum && (Volatile.Read(ref s_handOff.Parked) == 0 || WakeForElementwise);

    /// <summary>Split element-wise passes even when the worker is blocked (for tests, which must take the split path).</summary>
    internal static bool WakeForElementwise { get; set; }

    /// <summary>Claims the worker; false if another call holds it. A successful claim must be followed by <see cref="Run"/>.</summary>
    internal static bool TryEnter() => Interlocked.CompareExchange(ref s_busy, 1, 0) == 0;

    /// <summary>
    /// Runs part 0 of <paramref name="work"/> here and part 1 on the worker (or here, if the worker has not started it
    /// when part 0 is done), waits for both, releases the worker.
    /// </summary>
    internal static void Run(ParallelWork work)
    {
        long job = Volatile.Read(ref s_handOff.Published) + 1; // only the claim holder publishes
        bool stolen = false;
        ExceptionDispatchInfo? error;
        try
        {
            Interlocked.Increment(ref s_handOff.SplitCalls);
            s_work = work;
            Interlocked.Exchange(ref s_handOff.Published, job); // a full fence: the work is visible before the number
            if (Volatile.Read(ref s_handOff.Parked) != 0) Wake.Set();
            work.Execute(0);
            // A plain read first: when the worker has the part (the usual case) this only shares its line.
            stolen = Volatile.Read(ref s_handOff.Claimed) != job && Interlocked.CompareExchange(ref s_handOff.Claimed, job, job - 1) == job - 1;
            if (stolen) work.Execute(1);
        }
        finally
        {
            // The pinned spans must outlive the worker's part: take part 1 back if the worker has not claimed it (also
            // when part 0 threw), else wait for the worker to finish it. A part that throws here wins over the worker's.
            if (!stolen && (Volatile.Read(ref s_handOff.Claimed) == job || Interlocked.CompareExchange(ref s_handOff.Claimed, job, job - 1) != job - 1))
                WaitFinished(job);
            error = s_error;
            s_error = null;
            s_work = null;
            Volatile.Write(ref s_busy, 0);
        }
        error?.Throw();
    }

    private static void WaitFinished(long job)
    {
        // The worker is running part 1 (about as long as part 0 took): spin, yielding now and then in case it was
        // preempted on a core this thread could give up.
        for (int spins = 0; Volatile.Read(ref s_handOff.Finished) != job; spins++)
        {
            if ((spins & 1023) == 1023) Thread.Yield();
            else Thread.SpinWait(1);
        }
    }

    private static void EnsureWorker()
    {
        lock (Gate)
        {
            if (s_worker is not null) return;
            // A ManualResetEventSlim allocates its lock object the first time a wait blocks; make that happen now, so
            // no later split call (on either thread) allocates.
            Wake.Wait(1);
            var worker = new Thread(WorkerLoop) { IsBackground = true, Name = "KernelGen kernel worker" };
            worker.Start();
            s_worker = worker;
        }
    }

    private static void WorkerLoop()
    {
        long seen = 0, spinTicks = Stopwatch.Frequency * WorkerSpinMicroseconds / 1_000_000;
        while (true)
        {
            long job = WaitForJob(seen, spinTicks);
            seen = job;
            // Take part 1 unless the caller already took it back (or a later job is already out: then this one is done).
            if (Interlocked.CompareExchange(ref s_handOff.Claimed, job, job - 1) != job - 1) continue;
            try
            {
                s_work!.Execute(1);
            }
            catch (Exception e)
            {
                s_error = ExceptionDispatchInfo.Capture(e);
            }
            Volatile.Write(ref s_handOff.WorkerParts, s_handOff.WorkerParts + 1); // only the worker writes these two
            Volatile.Write(ref s_handOff.WorkerAllocatedBytes, GC.GetAllocatedBytesForCurrentThread());
            Volatile.Write(ref s_handOff.Finished, job);
        }
    }

    /// <summary>Spins for a job newer than <paramref name="seen"/>, then blocks until one is published.</summary>
    private static long WaitForJob(long seen, long spinTicks)
    {
        long start = Stopwatch.GetTimestamp();
        while (true)
        {
            for (int i = 0; i < 64; i++)
            {
                long job = Volatile.Read(ref s_handOff.Published);
                if (job != seen) return job;
                Thread.SpinWait(1);
            }
            if (Stopwatch.GetTimestamp() - start < spinTicks) continue;
            // Block. Announce it first and look again (both sides use full fences), so a job published in between is
            // either seen here or followed by its caller's Set.
            Wake.Reset();
            Interlocked.Exchange(ref s_handOff.Parked, 1);
            if (Volatile.Read(ref s_handOff.Published) == seen) Wake.Wait();
            Interlocked.Exchange(ref s_handOff.Parked, 0);
            start = Stopwatch.GetTimestamp();
        }
    }
}

/// <summary>One split kernel call: part 0 runs on the calling thread, part 1 on the worker (or the caller).</summary>
internal abstract class ParallelWork
{
    /// <summary>Computes part <paramref name="part"/> (0 or 1) of the outputs.</summary>
    internal abstract void Execute(int part);
}
