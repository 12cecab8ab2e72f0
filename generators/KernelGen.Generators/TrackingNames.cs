namespace KernelGen.Generators;

/// <summary>Names of the tracked incremental steps, asserted by the incrementality tests.</summary>
internal static class TrackingNames
{
    public const string Parse = nameof(Parse);
    public const string Validate = nameof(Validate);
    /// <summary>Global types that hide a namespace the generated code names (System, KernelGen), from the compilation.</summary>
    public const string Shadowing = nameof(Shadowing);
    public const string Diagnostics = nameof(Diagnostics);
    public const string Lower = nameof(Lower);
    /// <summary>The filter that keeps specs without errors, ahead of lowering.</summary>
    public const string ValidSpecs = nameof(ValidSpecs);
}
