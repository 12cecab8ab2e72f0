using System;
using System.Runtime.ExceptionServices;
using System.Threading;

namespace KernelGen.Kernels;

/// <summary>
/// Opt-in use of a second core by the <see cref="Dense"/> kernels (and so by generated networks built on them).
/// </summary>
/// <remarks>
/// <para>
/// With <see cref="DegreeOfParallelism"/> = 2, <see cref="Dense.Forward{T, TAct}"/>,
/// <see cref="Dense.BackwardInput{T}"/> and <see cref="Dense.BackwardParameters{T}"/> calls with at least
/// <see cref="MinimumBatch"/> batch rows are split in two: the calling thread computes one half and one persistent
/// worker thread the other. The forward pass and dX are split by batch rows; dW and db by output columns (a layer
/// too narrow for two column panels splits dW by input rows instead, and the worker also computes db).
/// </para>
/// <para>
/// Results are bit-identical to one thread: each output element is computed by exactly one thread with the same
/// summation order as the single-threaded kernel (the kernels' orders do not depend on how rows or columns are
/// grouped into register tiles).
/// </para>
/// <para>
/// The worker is created once, the first time the degree is set to 2, and then lives for the process (a background
/// thread, so it never keeps the process alive). Between calls it parks on an event that first spins briefly and then
/// blocks, so it costs no CPU while idle. A split call allocates nothing: its arguments go to a per-kernel work object
/// created once, with the spans pinned for the duration of the call. One caller at a time uses the worker; a call that
/// finds it busy (another thread is in a split call) simply runs on its own thread, with identical results.
/// </para>
/// <para>
/// Worth it for large batches on an otherwise idle machine: the split costs a wake-up and a join (microseconds), and a
/// second core that is busy with something else slows the call down instead.
/// </para>
/// </remarks>
public static class KernelParallelism
{
    /// <summary>The smallest batch that is split between two threads.</summary>
    public const int MinimumBatch = 64;

    // The worker spins this many SpinWait rounds for its next job before it blocks (consecutive kernels of a training
    // step follow each other within microseconds); the caller spins as long for the worker's half to finish.
    private const int WorkerSpin = 1000, JoinSpin = 1000;

    private static readonly object Gate = new();
    private static readonly ManualResetEventSlim Start = new(false, WorkerSpin);
    private static readonly ManualResetEventSlim Done = new(false, JoinSpin);
    private static volatile int s_degree = 1;
    private static Thread? s_worker;
    private static ParallelWork? s_work;
    private static ExceptionDispatchInfo? s_error;
    private static int s_busy;
    private static long s_splitCalls;

    private static long s_workerAllocatedBytes;

    /// <summary>How many calls have been split so far (for tests).</summary>
    internal static long SplitCalls => Volatile.Read(ref s_splitCalls);

    /// <summary>Bytes the worker thread has allocated so far, as of its last finished job (for tests).</summary>
    internal static long WorkerAllocatedBytes => Volatile.Read(ref s_workerAllocatedBytes);

    /// <summary>
    /// 1 (the default): every kernel runs on the calling thread. 2: large-batch dense kernels use one extra worker
    /// thread (created when this is first set to 2). Other values throw <see cref="ArgumentOutOfRangeException"/>.
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

    /// <summary>True when a call with <paramref name="batch"/> rows should be split.</summary>
    internal static bool ShouldSplit(int batch) => s_degree == 2 && batch >= MinimumBatch;

    /// <summary>Claims the worker; false if another call holds it. A successful claim must be followed by <see cref="Run"/>.</summary>
    internal static bool TryEnter() => Interlocked.CompareExchange(ref s_busy, 1, 0) == 0;

    /// <summary>Runs part 1 of <paramref name="work"/> on the worker and part 0 here, waits for both, releases the worker.</summary>
    internal static void Run(ParallelWork work)
    {
        try
        {
            Interlocked.Increment(ref s_splitCalls);
            s_work = work;
            Start.Set();
            try
            {
                work.Execute(0);
            }
            finally
            {
                Done.Wait();
                Done.Reset();
            }
            ExceptionDispatchInfo? error = s_error;
            s_error = null;
            error?.Throw();
        }
        finally
        {
            s_work = null;
            Volatile.Write(ref s_busy, 0);
        }
    }

    private static void EnsureWorker()
    {
        lock (Gate)
        {
            if (s_worker is not null) return;
            // A ManualResetEventSlim allocates its lock object the first time a wait blocks; make that happen now, so
            // no later split call (on either thread) allocates.
            Start.Wait(1);
            Done.Wait(1);
            var worker = new Thread(WorkerLoop) { IsBackground = true, Name = "KernelGen kernel worker" };
            worker.Start();
            s_worker = worker;
        }
    }

    private static void WorkerLoop()
    {
        while (true)
        {
            Start.Wait();
            Start.Reset();
            try
            {
                s_work!.Execute(1);
            }
            catch (Exception e)
            {
                s_error = ExceptionDispatchInfo.Capture(e);
            }
            Volatile.Write(ref s_workerAllocatedBytes, GC.GetAllocatedBytesForCurrentThread());
            Done.Set();
        }
    }
}

/// <summary>One split kernel call: part 0 runs on the calling thread, part 1 on the worker.</summary>
internal abstract class ParallelWork
{
    /// <summary>Computes part <paramref name="part"/> (0 or 1) of the outputs.</summary>
    internal abstract void Execute(int part);
}
