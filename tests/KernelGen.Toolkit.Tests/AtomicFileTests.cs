using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using KernelGen.Checkpoints;
using KernelGen.Interop;
using KernelGen.IO;
using KernelGen.Preprocessing;
using KernelGen.Reporting;
using Xunit;

namespace KernelGen.Toolkit.Tests;

/// <summary>
/// The one atomic-save helper behind every file save: stale temporaries of killed saves are removed by the next save or
/// load of the same target, temporaries of live writers never are, other files never are, and the directory is flushed
/// after the rename.
/// </summary>
public sealed class AtomicFileTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("kernelgen-atomic-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    /// <summary>Every save site and every load site, each as (target file name, action on that path).</summary>
    public static TheoryData<string> Sites => new() { "checkpoint save", "checkpoint load", "npz save", "npz load", "safetensors save",
        "safetensors load", "transform save", "transform load", "report save", "history csv save" };

    [Theory]
    [MemberData(nameof(Sites))]
    public void A_save_or_load_removes_the_stale_temporaries_of_its_target_and_nothing_else(string site)
    {
        string name = site.Split(' ')[0] + ".bin";
        string target = Path.Combine(_directory, name);
        Prepare(site, target);
        int dead = DeadProcessId();
        string stale1 = Temporary(name, dead, "a1b2c3d4e5f"), stale2 = Temporary(name, dead, "zz9");
        string ownAbandoned = Temporary(name, Environment.ProcessId, "own0abandoned");
        File.WriteAllBytes(stale1, new byte[1000]);
        File.WriteAllBytes(stale2, []);
        File.WriteAllBytes(ownAbandoned, [1]);
        // Never touched: another target's temporary, a legacy or foreign name, and a file that merely looks similar.
        string[] untouched =
        [
            Temporary("other.bin", dead, "x1"),
            Path.Combine(_directory, "." + name + ".4f1c0a9e2b7d4c3f8e6a5b4c3d2e1f00.tmp"),
            Path.Combine(_directory, "." + name + "." + dead + ".tmp"),
            Path.Combine(_directory, name + "." + dead + ".abc.tmp"),
            Path.Combine(_directory, "." + name + ".-5.abc.tmp"),
        ];
        foreach (string path in untouched) File.WriteAllBytes(path, [7]);

        Run(site, target);

        Assert.False(File.Exists(stale1), $"{site} left {Path.GetFileName(stale1)}");
        Assert.False(File.Exists(stale2), $"{site} left {Path.GetFileName(stale2)}");
        Assert.False(File.Exists(ownAbandoned), $"{site} left {Path.GetFileName(ownAbandoned)}");
        foreach (string path in untouched) Assert.True(File.Exists(path), $"{site} deleted {Path.GetFileName(path)}");
        Assert.True(File.Exists(target));
    }

    [Fact]
    public void Temporaries_of_live_writers_survive_a_clean_up()
    {
        string target = Path.Combine(_directory, "run.kgc");
        using Process sleeper = StartSleeper();
        try
        {
            // A temporary of another live process (not locked: that process is not a .NET writer, but it is alive).
            string live = Temporary("run.kgc", sleeper.Id, "live1");
            File.WriteAllBytes(live, [1, 2, 3]);
            // A temporary whose process id looks dead but which someone holds open exclusively (a writer in another PID
            // namespace sharing the directory, or a reused id): the lock protects it.
            string locked = Temporary("run.kgc", DeadProcessId(), "locked1");
            using var holder = new FileStream(locked, FileMode.CreateNew, FileAccess.Write, FileShare.None);
            // A save of this very process that is still being written.
            using AtomicFile inProgress = AtomicFile.Create(target);
            inProgress.Stream.WriteByte(42);

            Checkpoint.Save(new CheckpointNet(4, seed: 1), target);
            var loaded = new CheckpointNet(4, seed: 2);
            Checkpoint.Load(loaded, target);
            AtomicFile.RemoveStaleTemporaries(target);

            Assert.True(File.Exists(live), "deleted the temporary of a live process");
            Assert.True(File.Exists(locked), "deleted a temporary held open by a writer");
            Assert.True(File.Exists(inProgress.TemporaryPath), "deleted this process's own save in progress");
            inProgress.Commit();
            Assert.Equal([42], File.ReadAllBytes(target));
        }
        finally
        {
            sleeper.Kill();
            sleeper.WaitForExit();
        }
    }

    [Fact]
    public void Temporary_names_carry_the_process_id_and_parse_back()
    {
        string target = Path.Combine(_directory, "model.kgc");
        using (AtomicFile file = AtomicFile.Create(target))
        {
            string name = Path.GetFileName(file.TemporaryPath);
            Assert.StartsWith($".model.kgc.{Environment.ProcessId}.", name, StringComparison.Ordinal);
            Assert.EndsWith(".tmp", name, StringComparison.Ordinal);
            Assert.True(AtomicFile.TryParseOwner(name, ".model.kgc.", out int pid));
            Assert.Equal(Environment.ProcessId, pid);
            Assert.Equal(_directory, Path.GetDirectoryName(file.TemporaryPath));
        }
        Assert.Empty(Directory.GetFiles(_directory)); // disposed without Commit: the temporary is gone, no target created

        Assert.False(AtomicFile.TryParseOwner(".model.kgc.12.tmp", ".model.kgc.", out _));
        Assert.False(AtomicFile.TryParseOwner(".model.kgc.12.a.b.tmp", ".model.kgc.", out _));
        Assert.False(AtomicFile.TryParseOwner(".model.kgc.0.a.tmp", ".model.kgc.", out _));
        Assert.False(AtomicFile.TryParseOwner(".model.kgc.+1.a.tmp", ".model.kgc.", out _));
        Assert.False(AtomicFile.TryParseOwner(".model.kgc.99999999999.a.tmp", ".model.kgc.", out _));
        Assert.True(AtomicFile.TryParseOwner(".model.kgc.77.a.tmp", ".model.kgc.", out int parsed));
        Assert.Equal(77, parsed);
    }

    [Fact]
    public void The_directory_is_flushed_where_the_operating_system_allows()
    {
        bool unix = OperatingSystem.IsLinux() || OperatingSystem.IsMacOS() || OperatingSystem.IsFreeBSD();
        Assert.Equal(unix, AtomicFile.TrySyncDirectory(_directory));
        // A failure is reported as false, never thrown (a save never fails because of it).
        Assert.False(AtomicFile.TrySyncDirectory(Path.Combine(_directory, "missing")));
    }

    [Fact]
    public void Commit_replaces_the_target_and_a_disposed_uncommitted_file_leaves_it()
    {
        string target = Path.Combine(_directory, "report.html");
        File.WriteAllText(target, "old");
        using (AtomicFile file = AtomicFile.Create(target))
        {
            file.Stream.Write("new"u8);
            // Not committed: the exception path of every save.
        }
        Assert.Equal("old", File.ReadAllText(target));
        using (AtomicFile file = AtomicFile.Create(target))
        {
            file.Stream.Write("new"u8);
            file.Commit();
            Assert.Throws<InvalidOperationException>(() => file.Commit());
        }
        Assert.Equal("new", File.ReadAllText(target));
        Assert.Equal([target], Directory.GetFiles(_directory));
    }

    // ---- helpers -----------------------------------------------------------------------------------------------------

    private string Temporary(string targetName, int pid, string random) => Path.Combine(_directory, $".{targetName}.{pid}.{random}.tmp");

    /// <summary>Creates what the load sites need to find at <paramref name="target"/>.</summary>
    private static void Prepare(string site, string target)
    {
        if (!site.EndsWith("load", StringComparison.Ordinal)) return;
        switch (site.Split(' ')[0])
        {
            case "checkpoint": Checkpoint.Save(new CheckpointNet(4, seed: 1), target); break;
            case "npz": Npz.Save(new WeightNet(1, seed: 1), target); break;
            case "safetensors": SafeTensors.Save(new WeightNet(1, seed: 1), target); break;
            case "transform": FeatureTransform.Save(Transform(), target); break;
        }
    }

    private static void Run(string site, string target)
    {
        switch (site)
        {
            case "checkpoint save": Checkpoint.Save(new CheckpointNet(4, seed: 1), target); break;
            case "checkpoint load": Checkpoint.Load(new CheckpointNet(4, seed: 2), target); break;
            case "npz save": Npz.Save(new WeightNet(1, seed: 1), target); break;
            case "npz load": Npz.Load(new WeightNet(1, seed: 2), target); break;
            case "safetensors save": SafeTensors.Save(new WeightNet(1, seed: 1), target); break;
            case "safetensors load": SafeTensors.Load(new WeightNet(1, seed: 2), target); break;
            case "transform save": FeatureTransform.Save(Transform(), target); break;
            case "transform load": FeatureTransform.Load(target); break;
            case "report save": new HtmlReport("t").Save(target); break;
            case "history csv save": new KernelGen.Training.TrainingHistory().WriteCsv(target); break;
            default: throw new ArgumentException(site, nameof(site));
        }
    }

    private static ZeroCenter Transform() => ZeroCenter.Fit(new Data.Dataset([1, 2, 3, 4], [0, 1], 2));

    /// <summary>The id of a process that has exited (ids are reused only after the kernel wraps around).</summary>
    private static int DeadProcessId()
    {
        using Process process = Process.Start(new ProcessStartInfo(OperatingSystem.IsWindows() ? "cmd.exe" : "true")
        {
            Arguments = OperatingSystem.IsWindows() ? "/c exit 0" : "",
            UseShellExecute = false,
        })!;
        process.WaitForExit();
        int id = process.Id;
        Assert.Throws<ArgumentException>(() => Process.GetProcessById(id));
        return id;
    }

    private static Process StartSleeper() =>
        Process.Start(new ProcessStartInfo(OperatingSystem.IsWindows() ? "cmd.exe" : "sleep")
        {
            Arguments = OperatingSystem.IsWindows() ? "/c timeout /t 60" : "60",
            UseShellExecute = false,
        })!;
}
