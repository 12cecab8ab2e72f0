using System;
using System.IO;
using System.Runtime.CompilerServices;
using System.Text;
using Xunit.Sdk;

namespace KernelGen.Generators.Tests;

/// <summary>
/// Checked-in baseline files (the Verify packages are not available here; System.Text.Json keeps baselines the same
/// way). <see cref="Verify"/> compares a text with <c>_snapshots/{name}.txt</c> beside the calling test file; with
/// <c>KERNELGEN_UPDATE_SNAPSHOTS=1</c> it writes the file into the source tree instead, so baselines are regenerated
/// by running the tests once and reviewing the diff.
/// </summary>
internal static class Baseline
{
    public const string UpdateVariable = "KERNELGEN_UPDATE_SNAPSHOTS";
    public const string Directory = "_snapshots";

    public static bool Updating => Environment.GetEnvironmentVariable(UpdateVariable) == "1";

    /// <summary>The <c>_snapshots</c> folder in the source tree, next to the file that calls this.</summary>
    public static string SourceDirectory([CallerFilePath] string callerFilePath = "") =>
        Path.Combine(Path.GetDirectoryName(callerFilePath)!, Directory);

    public static void Verify(string name, string actual, [CallerFilePath] string callerFilePath = "")
    {
        string file = name + ".txt";
        string text = Normalize(actual);
        string sourcePath = Path.Combine(SourceDirectory(callerFilePath), file);
        if (Updating)
        {
            System.IO.Directory.CreateDirectory(Path.GetDirectoryName(sourcePath)!);
            File.WriteAllText(sourcePath, text, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
            return;
        }

        // Prefer the source tree (fresh after an update run); fall back to the copy in the output directory.
        string? path = File.Exists(sourcePath) ? sourcePath
            : File.Exists(Path.Combine(AppContext.BaseDirectory, Directory, file)) ? Path.Combine(AppContext.BaseDirectory, Directory, file)
            : null;
        if (path is null)
            throw new XunitException($"No baseline {Directory}/{file}. Run the tests with {UpdateVariable}=1 to write it, then review and commit it.");

        string expected = Normalize(File.ReadAllText(path));
        if (!string.Equals(expected, text, StringComparison.Ordinal))
            throw new XunitException($"{Directory}/{file} differs from the generated text.\n{Diff(expected, text)}\n"
                + $"If the change is intended, rerun with {UpdateVariable}=1 and review the diff of {Directory}/.");
    }

    /// <summary>Line endings as \n, so a checkout with autocrlf compares equal.</summary>
    public static string Normalize(string text) => text.Replace("\r\n", "\n", StringComparison.Ordinal);

    /// <summary>The first differing line with a little context, in both versions.</summary>
    public static string Diff(string expected, string actual)
    {
        string[] e = expected.Split('\n'), a = actual.Split('\n');
        int line = 0;
        while (line < e.Length && line < a.Length && string.Equals(e[line], a[line], StringComparison.Ordinal)) line++;
        var text = new StringBuilder();
        text.Append("First difference at line ").Append(line + 1)
            .Append(" (baseline has ").Append(e.Length).Append(" lines, generated ").Append(a.Length).Append("):\n");
        for (int i = Math.Max(0, line - 2); i < line; i++) text.Append("    ").Append(e[i]).Append('\n');
        text.Append("  - ").Append(line < e.Length ? e[line] : "<end of baseline>").Append('\n');
        text.Append("  + ").Append(line < a.Length ? a[line] : "<end of generated text>").Append('\n');
        return text.ToString();
    }
}
