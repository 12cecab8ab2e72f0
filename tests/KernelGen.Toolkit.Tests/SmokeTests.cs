using Xunit;

namespace KernelGen.Toolkit.Tests;

public class ProjectTests
{
    [Fact]
    public void RuntimeLibraryHasNoPackageDependencies()
    {
        // The runtime library must stay dependency-free: it references only the framework.
        var references = typeof(KernelRandom).Assembly.GetReferencedAssemblies();
        foreach (var name in references)
            Assert.True(name.Name!.StartsWith("System", System.StringComparison.Ordinal) || name.Name == "netstandard" || name.Name == "mscorlib",
                $"KernelGen references {name.Name}");
    }
}
