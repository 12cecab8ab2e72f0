using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Runtime.InteropServices;
using System.Text;

namespace KernelGen.IO;

/// <summary>
/// Replaces a file atomically and durably; every file save of the library (checkpoints, feature transforms, weight
/// files, reports) goes through it. Use: <c>using var file = AtomicFile.Create(path); write(file.Stream); file.Commit();</c>
/// — disposing without <see cref="Commit"/> (an exception in between) deletes the temporary file and leaves the target
/// as it was.
/// </summary>
/// <remarks>
/// <para>
/// <b>Protocol.</b> The data goes to a temporary file in the target's directory (so the rename stays within one file
/// system), opened exclusively (<see cref="FileShare.None"/>: an exclusive <c>flock</c> on Unix, a sharing lock on
/// Windows) and held open until it is complete. <see cref="Commit"/> flushes it to the disk (<c>fsync</c>), closes it,
/// renames it over the target (<c>rename(2)</c> / <c>MoveFileEx</c>, atomic: a reader sees the old file or the new one,
/// never a mixture) and then flushes the directory so the rename itself survives a power cut (below).
/// </para>
/// <para>
/// <b>Temporary names and stale temporaries.</b> A temporary file is named <c>.&lt;target name&gt;.&lt;pid&gt;.&lt;random&gt;.tmp</c>:
/// hidden, beside the target, tagged with the writing process's id. A writer killed mid-save (power cut, <c>kill -9</c>,
/// out-of-memory killer) cannot delete its temporary file, so every save and every load of a target first removes the
/// stale temporaries of that same target, as SQLite removes a hot journal. A temporary file is stale, and deleted, only
/// when all of these hold:
/// <list type="number">
/// <item>its name has exactly the form above for this target (other files, and other targets' temporaries, are never touched);</item>
/// <item>its process is gone: no process with that id is running — or the id is this process's own and no save of this
/// process is writing that file;</item>
/// <item>it can be opened exclusively, i.e. no live writer holds it open (the writer's own exclusive lock is released by
/// the operating system when the writer dies, however it dies).</item>
/// </list>
/// Either of the last two alone would protect a live writer; both are required, so that neither a reused process id
/// (2 holds, 3 does not) nor disabled file locking (<c>DOTNET_SYSTEM_IO_DISABLEFILELOCKING</c>, where 3 always holds)
/// nor a writer in another PID namespace sharing the directory can lose a file that is still being written. A reused id
/// can only postpone a deletion to a later save. Failures of the clean-up (permissions, races with another cleaner) are
/// ignored: it never makes a save or load fail.
/// </para>
/// <para>
/// <b>Durability.</b> <c>rename</c> is atomic but is recorded in the directory, whose metadata the kernel may still hold
/// in memory after the call returns: a power cut can then bring back the old file (or, on some file systems, neither).
/// On Linux, macOS and FreeBSD <see cref="Commit"/> therefore opens the directory and <c>fsync</c>s it, through a
/// minimal P/Invoke of libc's <c>open</c>, <c>fsync</c> and <c>close</c> (.NET has no managed API for it). A failure
/// there (a file system that cannot sync directories, a missing libc entry point under an unusual runtime) does not
/// fail the save: the new file is complete and in place, and only its survival of a power cut in the next few seconds
/// is weaker — reporting an error would wrongly suggest the save did not happen. On Windows the step is skipped: NTFS
/// journals the rename itself, and there is no way to open a directory for flushing from .NET.
/// </para>
/// <para>Thread-safe: concurrent saves of one target each write their own temporary file; the last rename wins.</para>
/// </remarks>
internal sealed partial class AtomicFile : IDisposable
{
    private const string Suffix = ".tmp";
    private const int BufferSize = 1 << 16;

    /// <summary>Temporaries this process is writing now (full paths), which its own clean-ups must leave alone.</summary>
    private static readonly HashSet<string> s_active = new(StringComparer.Ordinal);

    private readonly string _target;
    private readonly string _directory;
    private readonly string _temporary;
    private FileStream? _stream;
    private bool _committed;

    private AtomicFile(string target, string directory, string temporary, FileStream stream)
    {
        _target = target;
        _directory = directory;
        _temporary = temporary;
        _stream = stream;
    }

    /// <summary>The temporary file's stream (buffered; writable).</summary>
    public Stream Stream => _stream ?? throw new ObjectDisposedException(nameof(AtomicFile));

    /// <summary>The full path of the temporary file.</summary>
    public string TemporaryPath => _temporary;

    /// <summary>
    /// Removes the target's stale temporaries (see the remarks) and creates a new temporary file for it.
    /// </summary>
    /// <param name="path">The file to replace (or create).</param>
    /// <param name="createDirectory">Create the target's directory if it does not exist; otherwise a missing directory
    /// throws <see cref="DirectoryNotFoundException"/> and nothing is created.</param>
    /// <exception cref="ArgumentException"><paramref name="path"/> is empty or names a directory.</exception>
    public static AtomicFile Create(string path, bool createDirectory = false)
    {
        (string target, string directory, string name) = Split(path);
        if (createDirectory) Directory.CreateDirectory(directory);
        RemoveStaleTemporaries(target);
        string temporary = Path.Combine(directory, Prefix(name) + Environment.ProcessId.ToString(CultureInfo.InvariantCulture) + "."
            + Path.GetRandomFileName().Replace(".", "", StringComparison.Ordinal) + Suffix);
        lock (s_active) s_active.Add(temporary);
        try
        {
            var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, BufferSize);
            return new AtomicFile(target, directory, temporary, stream);
        }
        catch
        {
            lock (s_active) s_active.Remove(temporary);
            throw;
        }
    }

    /// <summary>Writes <paramref name="text"/> as UTF-8 without a byte-order mark to <paramref name="path"/>, atomically.</summary>
    public static void WriteAllText(string path, string text, bool createDirectory)
    {
        using AtomicFile file = Create(path, createDirectory);
        using (var writer = new StreamWriter(file.Stream, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false), BufferSize, leaveOpen: true))
            writer.Write(text);
        file.Commit();
    }

    /// <summary>
    /// Completes the save: flushes the temporary file to the disk, closes it, renames it over the target and flushes the
    /// directory (where the operating system allows; see the remarks). On an exception the target is unchanged.
    /// </summary>
    public void Commit()
    {
        if (_committed) throw new InvalidOperationException("The file was already committed.");
        FileStream stream = _stream ?? throw new ObjectDisposedException(nameof(AtomicFile));
        stream.Flush(flushToDisk: true);
        stream.Dispose();
        _stream = null;
        File.Move(_temporary, _target, overwrite: true);
        _committed = true;
        lock (s_active) s_active.Remove(_temporary);
        TrySyncDirectory(_directory);
    }

    /// <summary>Without a successful <see cref="Commit"/>, closes and deletes the temporary file.</summary>
    public void Dispose()
    {
        _stream?.Dispose();
        _stream = null;
        if (_committed) return;
        TryDelete(_temporary);
        lock (s_active) s_active.Remove(_temporary);
    }

    /// <summary>
    /// Deletes the stale temporary files of the target <paramref name="path"/> (the rule is in the remarks). Never throws
    /// for file-system reasons; loads call it so that debris of killed saves disappears even if the target is never saved again.
    /// </summary>
    public static void RemoveStaleTemporaries(string path)
    {
        string target, directory, name;
        try
        {
            (target, directory, name) = Split(path);
        }
        catch (ArgumentException)
        {
            return;
        }
        string prefix = Prefix(name);
        IEnumerable<string> candidates;
        try
        {
            candidates = Directory.EnumerateFiles(directory, "*" + Suffix, SearchOption.TopDirectoryOnly);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return;
        }
        try
        {
            foreach (string file in candidates)
            {
                if (!TryParseOwner(Path.GetFileName(file.AsSpan()), prefix, out int pid)) continue;
                if (pid == Environment.ProcessId)
                {
                    lock (s_active) if (s_active.Contains(file)) continue;
                }
                else if (IsRunning(pid))
                {
                    continue;
                }
                TryDeleteUnlocked(file);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The directory changed or became unreadable during the enumeration: the next save or load tries again.
        }
    }

    /// <summary>The temporary-name prefix of target file name <paramref name="name"/>: <c>.&lt;name&gt;.</c></summary>
    internal static string Prefix(string name) => "." + name + ".";

    /// <summary>Whether <paramref name="fileName"/> is <c>&lt;prefix&gt;&lt;pid&gt;.&lt;random&gt;.tmp</c>; gives the pid.</summary>
    internal static bool TryParseOwner(ReadOnlySpan<char> fileName, string prefix, out int pid)
    {
        pid = 0;
        if (!fileName.StartsWith(prefix, StringComparison.Ordinal) || !fileName.EndsWith(Suffix, StringComparison.Ordinal)) return false;
        ReadOnlySpan<char> middle = fileName[prefix.Length..^Suffix.Length];
        int dot = middle.IndexOf('.');
        if (dot <= 0 || dot == middle.Length - 1 || middle[(dot + 1)..].Contains('.')) return false;
        foreach (char c in middle[..dot]) if (!char.IsAsciiDigit(c)) return false;
        return int.TryParse(middle[..dot], NumberStyles.None, CultureInfo.InvariantCulture, out pid) && pid > 0;
    }

    /// <summary>
    /// Flushes the directory's metadata (the entries a rename changed) to the disk: <c>open</c>, <c>fsync</c>, <c>close</c>
    /// on Linux, macOS and FreeBSD. Returns whether the flush happened; false on Windows (skipped, see the remarks) and on
    /// any failure, which it never throws.
    /// </summary>
    internal static bool TrySyncDirectory(string directory)
    {
        // Windows: NTFS journals renames, and .NET cannot open a directory handle for FlushFileBuffers; nothing to do.
        if (!(OperatingSystem.IsLinux() || OperatingSystem.IsMacOS() || OperatingSystem.IsFreeBSD())) return false;
        try
        {
            int fd = Libc.Open(directory, Libc.ReadOnly);
            if (fd < 0) return false;
            try
            {
                return Libc.FSync(fd) == 0;
            }
            finally
            {
                _ = Libc.Close(fd);
            }
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException or MarshalDirectiveException)
        {
            return false;
        }
    }

    private static (string Target, string Directory, string Name) Split(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string target = Path.GetFullPath(path);
        string name = Path.GetFileName(target);
        string? directory = Path.GetDirectoryName(target);
        if (name.Length == 0 || directory is null) throw new ArgumentException($"'{path}' does not name a file.", nameof(path));
        return (target, directory, name);
    }

    /// <summary>Whether a process with id <paramref name="pid"/> is running (or might be: when in doubt, true).</summary>
    private static bool IsRunning(int pid)
    {
        try
        {
            using Process process = Process.GetProcessById(pid);
            return true;
        }
        catch (ArgumentException)
        {
            return false; // no such process
        }
        catch (InvalidOperationException)
        {
            return false; // it exited while being looked at
        }
        catch (Exception)
        {
            return true; // cannot tell (permissions, platform): keep the file
        }
    }

    /// <summary>Deletes <paramref name="path"/> if it can be opened exclusively (no live writer holds it), else leaves it.</summary>
    private static void TryDeleteUnlocked(string path)
    {
        try
        {
            // DeleteOnClose removes it while the exclusive handle is held, so no writer can open it in between.
            using var probe = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.None, bufferSize: 1, FileOptions.DeleteOnClose);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Locked by a live writer, already gone, or not ours to delete.
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Left for the next save's or load's clean-up (its owner, this process, will then be gone or idle).
        }
    }

    /// <summary>The three libc calls of the directory flush. <c>open</c> is variadic in C; without O_CREAT the mode
    /// argument is never read, so the two-argument declaration is safe on every ABI.</summary>
    private static partial class Libc
    {
        /// <summary>O_RDONLY: 0 on Linux, macOS and FreeBSD.</summary>
        public const int ReadOnly = 0;

        [LibraryImport("libc", EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8)]
        public static partial int Open(string path, int flags);

        [LibraryImport("libc", EntryPoint = "fsync")]
        public static partial int FSync(int fd);

        [LibraryImport("libc", EntryPoint = "close")]
        public static partial int Close(int fd);
    }
}
