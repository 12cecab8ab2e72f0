using System;
using System.Collections.Generic;
using System.IO;

using KernelGen.Data;

namespace KernelGen.Demo;

/// <summary>The Fashion-MNIST dataset as loaded by <see cref="FashionMnist.Load"/>.</summary>
/// <param name="Train">The 60 000 training images: 784 features in [0, 1] (pixel / 255), shape [1 × 28 × 28], labels 0…9.</param>
/// <param name="Test">The 10 000 test images, in the same form.</param>
/// <param name="ClassNames">The names of the ten classes, indexed by label.</param>
public sealed record FashionMnistData(Dataset Train, Dataset Test, IReadOnlyList<string> ClassNames);

/// <summary>
/// Loads Fashion-MNIST (Xiao, Rasul and Vollgraf, 2017; MIT license): 28×28 grey-scale images of ten kinds of
/// clothing, from the four IDX files that Debian's <c>dataset-fashion-mnist</c> package installs in
/// <see cref="DefaultDirectory"/>. Set the environment variable <see cref="EnvironmentVariable"/> to use another directory.
/// </summary>
public static class FashionMnist
{
    /// <summary>Where Debian's <c>dataset-fashion-mnist</c> package installs the files.</summary>
    public const string DefaultDirectory = "/usr/share/datasets/fashion-mnist";

    /// <summary>The environment variable that overrides <see cref="DefaultDirectory"/>.</summary>
    public const string EnvironmentVariable = "KERNELGEN_FASHION_MNIST";

    /// <summary>The training images file (also accepted without the <c>.gz</c> suffix).</summary>
    public const string TrainImagesFile = "train-images-idx3-ubyte.gz";

    /// <summary>The training labels file (also accepted without the <c>.gz</c> suffix).</summary>
    public const string TrainLabelsFile = "train-labels-idx1-ubyte.gz";

    /// <summary>The test images file (also accepted without the <c>.gz</c> suffix).</summary>
    public const string TestImagesFile = "t10k-images-idx3-ubyte.gz";

    /// <summary>The test labels file (also accepted without the <c>.gz</c> suffix).</summary>
    public const string TestLabelsFile = "t10k-labels-idx1-ubyte.gz";

    /// <summary>Image side in pixels.</summary>
    public const int Side = 28;

    /// <summary>The number of classes.</summary>
    public const int ClassCount = 10;

    private static readonly string[] s_classNames =
    [
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
    ];

    /// <summary>The class names, indexed by label: T-shirt/top, Trouser, Pullover, Dress, Coat, Sandal, Shirt, Sneaker, Bag, Ankle boot.</summary>
    public static IReadOnlyList<string> ClassNames => s_classNames;

    /// <summary>
    /// The directory to load from: <paramref name="directory"/> if given, else the value of
    /// <see cref="EnvironmentVariable"/> if set and non-empty, else <see cref="DefaultDirectory"/>.
    /// </summary>
    public static string ResolveDirectory(string? directory = null)
    {
        if (!string.IsNullOrEmpty(directory)) return directory;
        string? fromEnvironment = Environment.GetEnvironmentVariable(EnvironmentVariable);
        return string.IsNullOrEmpty(fromEnvironment) ? DefaultDirectory : fromEnvironment;
    }

    /// <summary>Whether all four files are present (compressed or not) in the resolved directory.</summary>
    public static bool IsAvailable(string? directory = null)
    {
        string dir = ResolveDirectory(directory);
        return FindFile(dir, TrainImagesFile) is not null && FindFile(dir, TrainLabelsFile) is not null
            && FindFile(dir, TestImagesFile) is not null && FindFile(dir, TestLabelsFile) is not null;
    }

    /// <summary>
    /// Loads the training and test sets from the resolved directory (see <see cref="ResolveDirectory"/>): features are
    /// pixel / 255 in [0, 1], 784 per sample, with image shape [1 × 28 × 28]; labels are 0…9.
    /// </summary>
    /// <exception cref="FileNotFoundException">A file is missing; the message says how to install the dataset.</exception>
    /// <exception cref="InvalidDataException">A file is corrupt, not 28×28, has labels ≥ 10, or images and labels disagree in number.</exception>
    public static FashionMnistData Load(string? directory = null)
    {
        string dir = ResolveDirectory(directory);
        Dataset train = LoadPart(dir, TrainImagesFile, TrainLabelsFile);
        Dataset test = LoadPart(dir, TestImagesFile, TestLabelsFile);
        return new FashionMnistData(train, test, s_classNames);
    }

    private static Dataset LoadPart(string dir, string imagesName, string labelsName)
    {
        string imagesPath = RequireFile(dir, imagesName);
        string labelsPath = RequireFile(dir, labelsName);
        Dataset data = Idx.ReadDataset(imagesPath, labelsPath, ClassCount);
        if (data.Height != Side || data.Width != Side)
            throw new InvalidDataException($"{imagesPath}: Fashion-MNIST images must be {Side}×{Side}, but these are {data.Height}×{data.Width}.");
        return data;
    }

    private static string RequireFile(string dir, string name) =>
        FindFile(dir, name) ?? throw new FileNotFoundException(
            $"Fashion-MNIST file '{Path.Combine(dir, name)}' is missing: install it with: apt-get install dataset-fashion-mnist " +
            $"(or set {EnvironmentVariable} to a directory holding the four IDX files).",
            Path.Combine(dir, name));

    private static string? FindFile(string dir, string gzName)
    {
        string path = Path.Combine(dir, gzName);
        if (File.Exists(path)) return path;
        string plain = Path.Combine(dir, gzName.Substring(0, gzName.Length - ".gz".Length));
        return File.Exists(plain) ? plain : null;
    }
}
