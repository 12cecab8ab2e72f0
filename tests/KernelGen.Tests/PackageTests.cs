using System;
using System.Collections;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.IO.Compression;
using System.Linq;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using Xunit;

namespace KernelGen.Tests;

/// <summary>
/// The README's "Getting it" and "Quick start", followed literally: its pack command in the repository, its project
/// commands in a fresh folder (with a private NuGet home, so the user's configuration is untouched), the quick start as
/// Program.cs, <c>dotnet run</c>. Then every other C# example of the README is built against the same packages, and a
/// specification error's help link must open a page that exists.
/// </summary>
[Trait("Category", "Package")]
public sealed class PackageTests(PackageTests.Packed packed) : IClassFixture<PackageTests.Packed>
{
    /// <summary>The README's blocks, and the packages its pack command wrote.</summary>
    public sealed class Packed : IDisposable
    {
        public string Root { get; } = RepositoryRoot();
        public string Readme { get; }
        public string Version { get; }
        public string Work { get; } = Path.Combine(Path.GetTempPath(), "kernelgen-package-" + Guid.NewGuid().ToString("N"));
        public string Feed => Path.Combine(Root, "artifacts", "packages");

        public Packed()
        {
            Readme = File.ReadAllText(Path.Combine(Root, "README.md"));
            Version = Regex.Match(Block("consumer: project"), @"dotnet add package KernelGen --version (\S+)").Groups[1].Value;
            Assert.False(string.IsNullOrEmpty(Version), "The README's project block names no KernelGen version.");
            Directory.CreateDirectory(Work);
            // The pack command runs as a developer would run it in the clone: with the machine's NuGet setup.
            Bash(Block("consumer: pack"), Root, Work, isolated: false);
        }

        /// <summary>The fenced block that follows <c>&lt;!-- {marker} --&gt;</c> in the README.</summary>
        public string Block(string marker)
        {
            int at = Readme.IndexOf($"<!-- {marker} -->", StringComparison.Ordinal);
            Assert.True(at >= 0, $"README.md has no '<!-- {marker} -->' block.");
            int start = Readme.IndexOf('\n', Readme.IndexOf("```", at, StringComparison.Ordinal)) + 1;
            return Readme[start..Readme.IndexOf("```", start, StringComparison.Ordinal)];
        }

        public void Dispose()
        {
            try { Directory.Delete(Work, recursive: true); } catch (IOException) { }
        }
    }

    private static readonly string[] Packages = ["KernelGen", "KernelGen.Training", "KernelGen.Reporting", "KernelGen.Interop", "KernelGen.Onnx"];

    [Fact]
    public void Every_package_is_packed_with_its_metadata_readme_and_dependencies()
    {
        var expectedDependencies = new Dictionary<string, string[]>
        {
            ["KernelGen"] = [],
            ["KernelGen.Training"] = ["KernelGen"],
            ["KernelGen.Reporting"] = ["KernelGen.Training"],
            ["KernelGen.Interop"] = ["KernelGen"],
            ["KernelGen.Onnx"] = ["Google.Protobuf", "KernelGen"],
        };
        foreach (string id in Packages)
        {
            string path = Path.Combine(packed.Feed, $"{id}.{packed.Version}.nupkg");
            Assert.True(File.Exists(path), $"`{packed.Block("consumer: pack").Trim()}` wrote no {path}");
            using ZipArchive zip = ZipFile.OpenRead(path);
            string[] entries = [.. zip.Entries.Select(e => e.FullName)];
            Assert.Contains($"lib/net10.0/{id}.dll", entries);
            Assert.Contains($"lib/net10.0/{id}.xml", entries);
            Assert.Contains("README.md", entries);
            using (var reader = new StreamReader(zip.GetEntry("README.md")!.Open()))
                Assert.DoesNotContain("the notes", reader.ReadToEnd(), StringComparison.OrdinalIgnoreCase);

            XDocument nuspec;
            using (Stream s = zip.Entries.Single(e => e.FullName.EndsWith(".nuspec", StringComparison.Ordinal)).Open()) nuspec = XDocument.Load(s);
            XElement metadata = nuspec.Root!.Elements().Single(e => e.Name.LocalName == "metadata");
            string Field(string name) => metadata.Elements().SingleOrDefault(e => e.Name.LocalName == name)?.Value ?? "";
            Assert.Equal(id, Field("id"));
            Assert.Equal("MIT", Field("license"));
            Assert.Equal("README.md", Field("readme"));
            Assert.True(Field("description").Length > 60, $"{id}: the description is too thin");
            Assert.NotEmpty(Field("tags"));
            Assert.NotNull(metadata.Elements().SingleOrDefault(e => e.Name.LocalName == "repository"));
            string[] dependencies = [.. metadata.Descendants().Where(e => e.Name.LocalName == "dependency").Select(e => e.Attribute("id")!.Value).Order(StringComparer.Ordinal)];
            Assert.Equal(expectedDependencies[id], dependencies);
            // Dependants of the core get its generator too.
            foreach (XElement d in metadata.Descendants().Where(e => e.Name.LocalName == "dependency" && e.Attribute("id")!.Value.StartsWith("KernelGen", StringComparison.Ordinal)))
                Assert.Equal("All", d.Attribute("include")?.Value);

            if (id == "KernelGen")
            {
                Assert.Contains("analyzers/dotnet/cs/KernelGen.Generators.dll", entries);
                int pages = Directory.GetFiles(Path.Combine(packed.Root, "generators", "diagnostics"), "KG*.md").Length;
                Assert.Equal(pages, entries.Count(e => e.StartsWith("analyzers/dotnet/cs/diagnostics/KG", StringComparison.Ordinal)));
                Assert.DoesNotContain(entries, e => e.StartsWith("lib/netstandard2.0", StringComparison.Ordinal));
            }
        }
    }

    [Fact]
    public void The_readme_lines_take_a_fresh_project_to_a_running_network()
    {
        string work = Path.Combine(packed.Work, "quickstart");
        Directory.CreateDirectory(work);
        Bash(packed.Block("consumer: project").Replace("<path-to-kernelgen>", packed.Root, StringComparison.Ordinal), work, work);
        string app = Path.Combine(work, "MyApp");
        File.WriteAllText(Path.Combine(app, "Program.cs"), packed.Block("example: quickstart run"));
        string build = Run(app, "dotnet", "build", packed.Work);
        Assert.Contains(" 0 Warning(s)", build, StringComparison.Ordinal);
        string output = Run(app, "dotnet", "run --no-build", packed.Work);
        Match m = Regex.Match(output, @"loss (\d+\.\d{4}) -> (\d+\.\d{4}); sample 0 is class \d");
        Assert.True(m.Success, "Unexpected output: " + output);
        Assert.True(double.Parse(m.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture) < double.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) / 10);
    }

    [Fact]
    public void Every_csharp_example_in_the_readme_builds_against_the_packages()
    {
        var examples = Regex.Matches(packed.Readme, @"<!-- example: ([\w-]+)[^>]*-->").Select(m => m.Groups[1].Value).ToArray();
        Assert.True(examples.Length >= 5, "Too few marked examples: " + string.Join(", ", examples));
        // Every C# block of the README is a marked example, so none can drift unbuilt.
        Assert.Equal(Regex.Matches(packed.Readme, "```csharp").Count, examples.Length);
        string references = string.Concat(Packages.Select(p => $"""    <PackageReference Include="{p}" Version="{packed.Version}" />""" + "\n"));
        foreach (string name in examples)
        {
            string project = Path.Combine(packed.Work, "examples", name);
            Directory.CreateDirectory(project);
            File.WriteAllText(Path.Combine(project, "NuGet.config"), $"""
                <?xml version="1.0" encoding="utf-8"?>
                <configuration>
                  <packageSources>
                    <add key="kernelgen-local" value="{packed.Feed}" />
                  </packageSources>
                </configuration>
                """);
            File.WriteAllText(Path.Combine(project, $"{name}.csproj"), $"""
                <Project Sdk="Microsoft.NET.Sdk">
                  <PropertyGroup>
                    <OutputType>Exe</OutputType>
                    <TargetFramework>net10.0</TargetFramework>
                    <Nullable>enable</Nullable>
                    <ImplicitUsings>enable</ImplicitUsings>
                    <TreatWarningsAsErrors>true</TreatWarningsAsErrors>
                  </PropertyGroup>
                  <ItemGroup>
                {references}  </ItemGroup>
                </Project>
                """);
            File.WriteAllText(Path.Combine(project, "Program.cs"), packed.Block($"example: {name}" + (name == "quickstart" ? " run" : "")));
            Run(project, "dotnet", "build", packed.Work);
        }
    }

    [Fact]
    public void A_specification_error_links_to_its_page_in_the_package()
    {
        string project = Path.Combine(packed.Work, "broken");
        Directory.CreateDirectory(project);
        File.WriteAllText(Path.Combine(project, "NuGet.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration><packageSources><add key="kernelgen-local" value="{packed.Feed}" /></packageSources></configuration>
            """);
        File.WriteAllText(Path.Combine(project, "broken.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup><OutputType>Exe</OutputType><TargetFramework>net10.0</TargetFramework></PropertyGroup>
              <ItemGroup><PackageReference Include="KernelGen" Version="{packed.Version}" /></ItemGroup>
            </Project>
            """);
        File.WriteAllText(Path.Combine(project, "Program.cs"), "using KernelGen;\nSystem.Console.WriteLine();\n[Network(0)]\n[Dense(3)]\npublic partial class Net;\n");
        string output = Run(project, "dotnet", "build", packed.Work, expectSuccess: false);
        Match link = Regex.Match(output, @"error KG0005: [^\n]*\((file://[^)\s]+KG0005\.md)\)");
        Assert.True(link.Success, "No KG0005 with a help link in:\n" + output);
        string page = new Uri(link.Groups[1].Value).LocalPath;
        Assert.True(File.Exists(page), $"The help link points at {page}, which does not exist.");
        Assert.Contains("# KG0005", File.ReadAllText(page), StringComparison.Ordinal);
    }

    private static string RepositoryRoot()
    {
        for (string? dir = AppContext.BaseDirectory; dir is not null; dir = Path.GetDirectoryName(dir))
            if (File.Exists(Path.Combine(dir, "KernelGen.sln"))) return dir;
        throw new InvalidOperationException("KernelGen.sln not found above " + AppContext.BaseDirectory);
    }

    /// <summary>Runs a README shell block with bash, stopping at the first failing command.</summary>
    private static string Bash(string script, string directory, string work, bool isolated = true) => Run(directory, "bash", ["-ec", script], work, true, isolated);

    private static string Run(string directory, string file, string arguments, string work, bool expectSuccess = true) =>
        Run(directory, file, arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries), work, expectSuccess, isolated: true);

    private static string Run(string directory, string file, string[] arguments, string work, bool expectSuccess, bool isolated)
    {
        var start = new ProcessStartInfo(file, arguments)
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        // A child build must not inherit the test host's MSBuild state. A private HOME keeps `dotnet nuget add source`
        // out of the user's configuration, and a private package folder keeps a stale copy of the same version out.
        foreach (DictionaryEntry e in Environment.GetEnvironmentVariables())
        {
            string key = (string)e.Key;
            if (key.StartsWith("MSBUILD", StringComparison.OrdinalIgnoreCase) || key.StartsWith("VSTEST", StringComparison.OrdinalIgnoreCase) || key.StartsWith("DOTNET_HOST", StringComparison.OrdinalIgnoreCase))
                start.Environment.Remove(key);
        }
        if (isolated)
        {
            Directory.CreateDirectory(Path.Combine(work, "home"));
            start.Environment["HOME"] = Path.Combine(work, "home");
            start.Environment["NUGET_PACKAGES"] = Path.Combine(work, "packages");
        }
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        start.Environment["DOTNET_SKIP_FIRST_TIME_EXPERIENCE"] = "1";
        using Process process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        string stdout = process.StandardOutput.ReadToEnd();
        string command = $"{file} {string.Join(' ', arguments)}";
        if (!process.WaitForExit(TimeSpan.FromMinutes(10))) { process.Kill(true); Assert.Fail($"{command} timed out"); }
        string all = stdout + "\n" + stderr.Result;
        if (expectSuccess)
            Assert.True(process.ExitCode == 0, $"{command} exited {process.ExitCode}\n{all}");
        return all;
    }
}
