using System;
using System.Collections;
using System.Diagnostics;
using System.IO;
using System.IO.Compression;
using System.Linq;
using Xunit;

namespace KernelGen.Tests;

/// <summary>
/// The user's path, end to end: pack the library (runtime + generator as an analyzer), then restore, build and run a
/// fresh console project that references the package from a local folder source, with warnings as errors.
/// </summary>
[Trait("Category", "Package")]
public class PackageTests
{
    [Fact]
    public void Packed_library_works_in_a_fresh_console_project()
    {
        string root = RepositoryRoot();
        string work = Path.Combine(Path.GetTempPath(), "kernelgen-package-" + Guid.NewGuid().ToString("N"));
        string feed = Path.Combine(work, "feed");
        string app = Path.Combine(work, "app");
        Directory.CreateDirectory(app);
        string version = "0.1.0-test." + DateTime.UtcNow.ToString("yyyyMMddHHmmss");
        try
        {
            Run(root, "dotnet", $"pack \"{Path.Combine(root, "src", "KernelGen", "KernelGen.csproj")}\" -c Release -o \"{feed}\" -p:PackageVersion={version}", work);

            string package = Path.Combine(feed, $"KernelGen.{version}.nupkg");
            Assert.True(File.Exists(package), $"no package at {package}");
            using (ZipArchive zip = ZipFile.OpenRead(package))
            {
                string[] entries = zip.Entries.Select(e => e.FullName).ToArray();
                Assert.Contains("lib/net10.0/KernelGen.dll", entries);
                Assert.Contains("lib/net10.0/KernelGen.xml", entries);
                Assert.Contains("analyzers/dotnet/cs/KernelGen.Generators.dll", entries);
                Assert.DoesNotContain(entries, e => e.StartsWith("lib/netstandard2.0", StringComparison.Ordinal));
            }

            // The machine's default source stays (no <clear/>); the local feed is added next to it.
            File.WriteAllText(Path.Combine(app, "NuGet.config"), $"""
                <?xml version="1.0" encoding="utf-8"?>
                <configuration>
                  <packageSources>
                    <add key="kernelgen-local" value="{feed}" />
                  </packageSources>
                </configuration>
                """);
            File.WriteAllText(Path.Combine(app, "App.csproj"), $"""
                <Project Sdk="Microsoft.NET.Sdk">
                  <PropertyGroup>
                    <OutputType>Exe</OutputType>
                    <TargetFramework>net10.0</TargetFramework>
                    <Nullable>enable</Nullable>
                    <ImplicitUsings>enable</ImplicitUsings>
                    <TreatWarningsAsErrors>true</TreatWarningsAsErrors>
                    <GenerateDocumentationFile>true</GenerateDocumentationFile>
                    <NoWarn>$(NoWarn);CS1591</NoWarn>
                  </PropertyGroup>
                  <ItemGroup>
                    <PackageReference Include="KernelGen" Version="{version}" />
                  </ItemGroup>
                </Project>
                """);
            File.WriteAllText(Path.Combine(app, "Program.cs"), """
                using KernelGen;

                // Three classes of points around three centres.
                var random = new Random(1);
                float[] x = new float[180 * 2];
                int[] y = new int[180];
                for (int i = 0; i < 180; i++)
                {
                    y[i] = i % 3;
                    x[2 * i] = (float)(Math.Cos(2 * Math.PI * y[i] / 3) + 0.3 * random.NextDouble());
                    x[2 * i + 1] = (float)(Math.Sin(2 * Math.PI * y[i] / 3) + 0.3 * random.NextDouble());
                }
                var net = new App.SpiralClassifier(maxBatchSize: y.Length, seed: 3);
                float first = net.Loss(x, y);
                for (int i = 0; i < 200; i++) net.TrainStep(x, y);
                float last = net.Loss(x, y);
                var check = new App.SpiralClassifier.Float64(4, 3);
                Console.WriteLine($"params {App.SpiralClassifier.ParameterCount} loss {first:F4} -> {last:F4} double {check.Parameters.Length}");
                return last < first ? 0 : 1;

                namespace App
                {
                    /// <summary>A user's network.</summary>
                    [Network(2)]
                    [Dense(32, Activation.Tanh)]
                    [Dense(3)]
                    [SoftmaxCrossEntropyLoss]
                    [Sgd(0.5)]
                    public partial class SpiralClassifier;
                }
                """);

            string output = Run(app, "dotnet", "run -c Release", work);
            Assert.Contains($"params {2 * 32 + 32 + 32 * 3 + 3} loss", output);
        }
        finally
        {
            try { Directory.Delete(work, recursive: true); } catch (IOException) { }
        }
    }

    private static string RepositoryRoot()
    {
        for (string? dir = AppContext.BaseDirectory; dir is not null; dir = Path.GetDirectoryName(dir))
            if (File.Exists(Path.Combine(dir, "KernelGen.sln"))) return dir;
        throw new InvalidOperationException("KernelGen.sln not found above " + AppContext.BaseDirectory);
    }

    private static string Run(string directory, string file, string arguments, string work)
    {
        var start = new ProcessStartInfo(file, arguments)
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        // A child build must not inherit the test host's MSBuild state; its packages go to a private folder so a
        // stale copy of the same version can never be picked up.
        foreach (DictionaryEntry e in Environment.GetEnvironmentVariables())
        {
            string key = (string)e.Key;
            if (key.StartsWith("MSBUILD", StringComparison.OrdinalIgnoreCase) || key.StartsWith("VSTEST", StringComparison.OrdinalIgnoreCase) || key.StartsWith("DOTNET_HOST", StringComparison.OrdinalIgnoreCase))
                start.Environment.Remove(key);
        }
        start.Environment["NUGET_PACKAGES"] = Path.Combine(work, "packages");
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        using Process process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        string stdout = process.StandardOutput.ReadToEnd();
        if (!process.WaitForExit(TimeSpan.FromMinutes(5))) { process.Kill(true); Assert.Fail($"{file} {arguments} timed out"); }
        Assert.True(process.ExitCode == 0, $"{file} {arguments} exited {process.ExitCode}\n{stdout}\n{stderr.Result}");
        return stdout;
    }
}
