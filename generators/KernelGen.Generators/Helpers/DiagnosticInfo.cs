using System;
using Microsoft.CodeAnalysis;

namespace KernelGen.Generators.Helpers;

/// <summary>An equatable diagnostic: descriptor, location and message arguments (as strings).</summary>
internal sealed record DiagnosticInfo(DiagnosticDescriptor Descriptor, LocationInfo? Location, EquatableArray<string> MessageArgs)
{
    public static DiagnosticInfo Create(DiagnosticDescriptor descriptor, LocationInfo? location, params string[] messageArgs) =>
        new(descriptor, location, messageArgs.ToEquatableArray());

    /// <summary>Creates the diagnostic, locating it in <paramref name="compilation"/>'s syntax tree of the same path
    /// when there is one (a source location is what #pragma and .editorconfig suppressions need).</summary>
    public Diagnostic ToDiagnostic(Compilation? compilation = null)
    {
        object[] args = new object[MessageArgs.Count];
        for (int i = 0; i < args.Length; i++) args[i] = MessageArgs[i];
        Location? location = Location?.ToLocation();
        if (Location is { } info && compilation is not null)
        {
            // Only an unambiguous match: two trees may share a path (or have none), and then the plain location stays.
            SyntaxTree? match = null;
            int matches = 0;
            foreach (SyntaxTree tree in compilation.SyntaxTrees)
                if (tree.FilePath == info.FilePath && info.TextSpan.End <= tree.Length) { match = tree; matches++; }
            if (matches == 1) location = Microsoft.CodeAnalysis.Location.Create(match!, info.TextSpan);
        }
        return Diagnostic.Create(Descriptor, location, args);
    }

    public bool Equals(DiagnosticInfo? other) =>
        other is not null && Descriptor.Id == other.Descriptor.Id && Equals(Location, other.Location) && MessageArgs.Equals(other.MessageArgs);

    public override int GetHashCode() => (Descriptor.Id, Location, MessageArgs).GetHashCode();
}
