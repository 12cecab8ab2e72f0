using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Threading;
using KernelGen;
using KernelGen.Checkpoints;
using KernelGen.Data;
using KernelGen.Demo;
using KernelGen.Onnx;
using KernelGen.Preprocessing;
using KernelGen.Reporting;
using KernelGen.Training;

// The main job: trains on the embedded spiral data (no files needed) and, when Fashion-MNIST is installed
// (apt-get install dataset-fashion-mnist), the 784-256-128-10 MLP on it; writes self-contained HTML reports.
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
var options = Options.Parse(args);
if (options is null) return 2;
// Ctrl-C stops training cleanly after the current batch (the trainer takes a cancellation token; the library itself
// never touches the process's Ctrl-C handling).
using var stop = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) => { e.Cancel = true; stop.Cancel(); };
options = options with { Stop = stop.Token };
Directory.CreateDirectory(options.ReportDirectory);
Console.WriteLine($"KernelGen main job. Reports go to {Path.GetFullPath(options.ReportDirectory)}");

RunSpiral(options);
RunInitializationStudy(options);
if (options.SpiralOnly) return 0;
string directory = FashionMnist.ResolveDirectory(options.DataDirectory);
if (!FashionMnist.IsAvailable(options.DataDirectory))
{
    Console.WriteLine($"Fashion-MNIST not found in {directory}: install it with `apt-get install dataset-fashion-mnist` (or set {FashionMnist.EnvironmentVariable}) and run again.");
    return 0;
}
return RunFashionMnist(options) ? 0 : 1;

static void RunSpiral(Options options)
{
    Console.WriteLine();
    Console.WriteLine("== Spiral: 3 classes, 300 points, 2-100-3 ReLU network, SGD");
    (float[] x, int[] y) = Spiral.Generate(pointsPerClass: 100, classes: 3, seed: 7);
    (float[] vx, int[] vy) = Spiral.Generate(pointsPerClass: 50, classes: 3, seed: 8);
    var train = new Dataset(x, y, 2, 3);
    var validation = new Dataset(vx, vy, 2, 3);
    var net = new SpiralNet(maxBatchSize: 300, seed: 42);
    var trainer = new Trainer(net, new TrainerOptions { Epochs = options.SpiralEpochs, BatchSize = 30, Seed = 1 });
    TrainingResult result = trainer.Fit(train, validation, options.Stop);
    Evaluation final = Trainer.Evaluate(net, train);
    Console.WriteLine($"{result.Message} {result.MeanEpochSeconds * 1e3:F2} ms per epoch");
    Console.WriteLine($"training accuracy: {final.Accuracy:F4}");
    Console.WriteLine($"validation accuracy: {Trainer.Evaluate(net, validation).Accuracy:F4}");

    // The learned decision boundary on a 120 × 120 grid.
    const int grid = 120;
    var extent = (-1.1, 1.1, -1.1, 1.1);
    float[] points = Svg.GridPoints(grid, grid, extent);
    int[] classes = new int[grid * grid];
    float[] logits = new float[300 * 3];
    for (int start = 0; start < grid * grid; start += 300)
    {
        int rows = Math.Min(300, grid * grid - start);
        net.Predict(points.AsSpan(start * 2, rows * 2), logits.AsSpan(0, rows * 3));
        for (int r = 0; r < rows; r++)
        {
            int best = 0;
            for (int k = 1; k < 3; k++) if (logits[r * 3 + k] > logits[r * 3 + best]) best = k;
            classes[start + r] = best;
        }
    }
    string boundary = Svg.DecisionBoundary("Learned decision boundary", grid, grid, classes, extent, x, y, 3);
    string path = Path.Combine(options.ReportDirectory, "spiral.html");
    TrainingReport.Write(result.History, path, "KernelGen: spiral", boundary);
    Console.WriteLine($"report: {path}");
}

static void RunInitializationStudy(Options options)
{
    Console.WriteLine();
    Console.WriteLine("== Weight-initialization study (CS231n's experiment): 10 layers × 500 units, unit-Gaussian input, activation mean / std per layer");
    InitializationStudyResult study = InitializationStudy.Run(seed: 0);
    Console.Write(study.ToTable());
    string path = Path.Combine(options.ReportDirectory, "initialization-study.html");
    var report = new HtmlReport("KernelGen: weight-initialization study");
    study.AddTo(report);
    report.Save(path);
    Console.WriteLine($"report: {path}");
}

static bool RunFashionMnist(Options options)
{
    Console.WriteLine();
    if (options.RepVggEpochs == 0) Console.WriteLine("== Fashion-MNIST: 784-256-128-10 ReLU MLP, Adam (η = 1e-3, cosine annealing), batch 64, one thread");
    FashionMnistData data;
    try
    {
        data = FashionMnist.Load(options.DataDirectory);
    }
    catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException)
    {
        // Missing or corrupt files: the loader's message names the file and what is wrong with it.
        Console.WriteLine(e.Message);
        Console.WriteLine("Reinstall the files with `apt-get install --reinstall dataset-fashion-mnist` (or point --data at a directory holding the four IDX files).");
        return false;
    }
    (Dataset train, Dataset validation) = data.Train.Split(5000.0 / data.Train.Count, seed: 1);
    // Standardization fitted on the training split only, applied identically to validation and test data.
    Standardize standardize = Standardize.Fit(train, perChannel: true);
    standardize.Apply(train.Features, train.Count);
    standardize.Apply(validation.Features, validation.Count);
    Dataset test = data.Test;
    standardize.Apply(test.Features, test.Count);
    Console.WriteLine($"{train.Count} training, {validation.Count} validation, {test.Count} test images; standardized with mean {standardize.Mean[0]:F4}, std {standardize.StdDev[0]:F4}");

    if (options.RepVggEpochs > 0) return RunFashionRepVgg(options, train, validation, test);
    var net = new FashionMlp(maxBatchSize: 1000, seed: 1);
    TrainingResult result = TrainAndReport(net, options, train, validation, test, "Fashion-MNIST", "fashion-mnist", "", patience: 6, options.Epochs);
    if (result.Reason == StopReason.Exploded) return false;
    if (options.ConvEpochs > 0 && !RunFashionConvnet(options, train, validation, test)) return false;
    return options.TransferEpochs == 0 || RunTransfer(options, train, test);
}

// Transfer learning: pretrain a convnet on classes 0–4, then learn classes 5–9 from 1 % of their training images, once
// by loading the pretrained backbone by name and training only a new head (backbone frozen, its BatchNorm layers in
// evaluation mode), once from scratch; both judged on the test images of classes 5–9.
static bool RunTransfer(Options options, Dataset train, Dataset test)
{
    Console.WriteLine();
    Console.WriteLine("== Transfer learning: pretrain on classes 0–4, then classes 5–9 from 1 % of their training images");
    static Dataset Classes(Dataset data, int first, double fraction, ulong seed)
    {
        var indices = new List<int>();
        for (int i = 0; i < data.Count; i++) if (data.Labels[i] >= first && data.Labels[i] < first + 5) indices.Add(i);
        if (fraction < 1)
        {
            var random = new Random((int)seed);
            for (int i = indices.Count - 1; i > 0; i--) { int j = random.Next(i + 1); (indices[i], indices[j]) = (indices[j], indices[i]); }
            indices.RemoveRange((int)Math.Round(indices.Count * fraction), indices.Count - (int)Math.Round(indices.Count * fraction));
            indices.Sort();
        }
        Dataset subset = data.Take(indices.ToArray());
        int[] labels = new int[subset.Count];
        for (int i = 0; i < labels.Length; i++) labels[i] = subset.Labels[i] - first;
        return new Dataset(subset.Features, labels, data.Channels, data.Height, data.Width, 5);
    }
    Dataset pretrainData = Classes(train, 0, 1, 0), fewShot = Classes(train, 5, 0.01, 3), testNew = Classes(test, 5, 1, 0);
    Console.WriteLine($"pretraining: {pretrainData.Count} images of classes 0–4; fine-tuning: {fewShot.Count} images of classes 5–9; test: {testNew.Count} images of classes 5–9");

    var pretrained = new PretrainNet(maxBatchSize: 1000, seed: 1);
    var pretrainer = new Trainer(pretrained, new TrainerOptions { Epochs = options.TransferEpochs, BatchSize = 64, Seed = 2 });
    TrainingResult pre = pretrainer.Fit(pretrainData, null, options.Stop);
    Console.WriteLine($"pretrained {pre.EpochsCompleted} epochs ({pre.MeanEpochSeconds:F1} s each); classes 0–4 test accuracy {Trainer.Evaluate(pretrained, Classes(test, 0, 1, 0)).Accuracy:F4}");
    string checkpoint = Path.Combine(options.ReportDirectory, "pretrained-0-4.kgc");
    Checkpoint.Save(pretrained, checkpoint);

    // Fine-tune: the backbone's tensors by name from the checkpoint, then only the new head trains.
    var tuned = new FineTuneNet(maxBatchSize: 1000, seed: 5);
    TransferReport report = WeightTransfer.FromCheckpoint(new PretrainNet(1, 0), checkpoint, tuned, TransferMode.Partial);
    Console.WriteLine(report.ToString().TrimEnd());
    foreach (string layer in new[] { "Conv1", "Norm1", "Conv2", "Norm2", "Features" }) tuned.SetFrozen(layer);
    tuned.SetEvaluationMode("Norm1");
    tuned.SetEvaluationMode("Norm2");
    var fineTuner = new Trainer(tuned, new TrainerOptions { Epochs = 60, BatchSize = 30, Seed = 4 });
    TrainingResult fine = fineTuner.Fit(fewShot, null, options.Stop);

    // More of the network tuned: every layer trains, the pretrained ones at a tenth of the head's learning rate.
    var whole = new FineTuneNet(maxBatchSize: 1000, seed: 5);
    WeightTransfer.FromCheckpoint(new PretrainNet(1, 0), checkpoint, whole, TransferMode.Partial);
    foreach (string layer in new[] { "Conv1", "Norm1", "Conv2", "Norm2", "Features" }) whole.SetLearningRateMultiplier(layer, 0.1);
    var wholeTuner = new Trainer(whole, new TrainerOptions { Epochs = 60, BatchSize = 30, Seed = 4 });
    TrainingResult wholeResult = wholeTuner.Fit(fewShot, null, options.Stop);

    // The same network from scratch on the same 1 %.
    var scratch = new FineTuneNet(maxBatchSize: 1000, seed: 5);
    var scratchTrainer = new Trainer(scratch, new TrainerOptions { Epochs = 60, BatchSize = 30, Seed = 4 });
    TrainingResult fromScratch = scratchTrainer.Fit(fewShot, null, options.Stop);
    if (fine.Reason == StopReason.Exploded || fromScratch.Reason == StopReason.Exploded || wholeResult.Reason == StopReason.Exploded) return false;
    double tunedAccuracy = Trainer.Evaluate(tuned, testNew).Accuracy, wholeAccuracy = Trainer.Evaluate(whole, testNew).Accuracy;
    double scratchAccuracy = Trainer.Evaluate(scratch, testNew).Accuracy;
    Console.WriteLine($"60 epochs each on the {fewShot.Count} images ({fine.MeanEpochSeconds * 1e3:F0} ms per epoch with the backbone frozen, {wholeResult.MeanEpochSeconds * 1e3:F0} ms tuning every layer, {fromScratch.MeanEpochSeconds * 1e3:F0} ms from scratch)");
    Console.WriteLine($"transfer test accuracy: new head only {tunedAccuracy:F4}, every layer (backbone at 0.1× the rate) {wholeAccuracy:F4}, from scratch {scratchAccuracy:F4}");
    return true;
}

// Trains with early stopping on validation accuracy (batch 64, one thread), evaluates on the test set, prints
// "<prefix>time per epoch" and "<prefix>test accuracy" (the lines CI reads), and writes a checkpoint, an ONNX model and
// an HTML report named after the run.
static TrainingResult TrainAndReport(KernelGen.Runtime.TrainableNetworkBase<float, int> net, Options options, Dataset train, Dataset validation, Dataset test,
    string title, string file, string prefix, int patience, int epochs)
{
    var display = new TrainingDisplay(title, options.LogEvery);
    var trainer = new Trainer(net, new TrainerOptions { Epochs = epochs, BatchSize = 64, Seed = 2, Patience = patience, Monitor = ValidationMetric.Accuracy, Progress = display });
    TrainingResult result = display.Run(() => trainer.Fit(train, validation, options.Stop));
    Console.WriteLine(result.Message);
    Evaluation evaluation = Trainer.Evaluate(net, test);
    Console.WriteLine($"{prefix}time per epoch: {result.MeanEpochSeconds:F3} s (training loop incl. shuffling and batching, {train.Count / 64} steps); total {result.TotalSeconds:F1} s incl. evaluation");
    Console.WriteLine($"{prefix}test accuracy: {evaluation.Accuracy:F4}");

    string checkpoint = Path.Combine(options.ReportDirectory, file + ".kgc");
    Checkpoint.Save(net, checkpoint);
    string onnx = Path.Combine(options.ReportDirectory, file + ".onnx");
    OnnxExporter.Export(net, onnx, new OnnxExportOptions { AppendSoftmax = true });
    string path = Path.Combine(options.ReportDirectory, file + ".html");
    TrainingReport.Write(result.History, path, "KernelGen: " + title, extraSections: report =>
    {
        report.AddHeading("Test set");
        report.AddKeyValues(new Dictionary<string, string>
        {
            ["test accuracy"] = evaluation.Accuracy.ToString("F4"),
            ["test loss"] = evaluation.Loss.ToString("F4"),
            ["time per epoch (s)"] = result.MeanEpochSeconds.ToString("F3"),
            ["stopped"] = result.Message,
            ["checkpoint"] = checkpoint,
            ["ONNX model"] = onnx,
        });
    });
    Console.WriteLine($"report: {path}; checkpoint: {checkpoint}; ONNX: {onnx}");
    return result;
}

static bool RunFashionConvnet(Options options, Dataset train, Dataset validation, Dataset test)
{
    Console.WriteLine();
    Console.WriteLine("== Fashion-MNIST convnet: conv 3×3 ×16 → BN → ReLU → max-pool 2 → (conv 3×3 ×32 → BN → ReLU) ×2 → max-pool 2 → 128 ReLU → dropout 0.3 → 10, Adam, batch 64, one thread");
    var net = new FashionConvnet(maxBatchSize: 1000, seed: 1);
    TrainingResult result = TrainAndReport(net, options, train, validation, test, "Fashion-MNIST convnet", "fashion-convnet", "convnet ", patience: 4, options.ConvEpochs);
    return result.Reason != StopReason.Exploded;
}

// Only with --repvgg N (instead of the MLP and the convnet): trains FashionRepVgg, then prints the test accuracy of the
// training network (evaluation mode, all branches) and of its re-parameterized inference form side by side.
static bool RunFashionRepVgg(Options options, Dataset train, Dataset validation, Dataset test)
{
    Console.WriteLine();
    Console.WriteLine("== Fashion-MNIST RepVGG: conv 3×3 ×16 → BN → ReLU → 4 blocks (3×3 conv+BN + 1×1 conv+BN [+ BN], summed, ReLU: 16, 32/2, 32, 64/2) → global average pool → 10, Adam, batch 64, one thread");
    var net = new FashionRepVgg(maxBatchSize: 500, seed: 1);
    TrainingResult result = TrainAndReport(net, options, train, validation, test, "Fashion-MNIST RepVGG", "fashion-repvgg", "repvgg ", patience: 4, options.RepVggEpochs);
    if (result.Reason == StopReason.Exploded) return false;

    const int chunk = 500;
    FashionRepVgg.Inference inference = net.CreateInference(chunk);
    var multi = new float[chunk * 10];
    var folded = new float[chunk * 10];
    int multiCorrect = 0, foldedCorrect = 0;
    double worst = 0;
    for (int start = 0; start < test.Count; start += chunk)
    {
        int rows = Math.Min(chunk, test.Count - start);
        ReadOnlySpan<float> x = test.Features.AsSpan(start * test.FeatureCount, rows * test.FeatureCount);
        ReadOnlySpan<int> labels = test.Labels.AsSpan(start, rows);
        net.Predict(x, multi.AsSpan(0, rows * 10));
        inference.Predict(x, folded.AsSpan(0, rows * 10));
        multiCorrect += Trainer.CountCorrect(multi.AsSpan(0, rows * 10), labels, 10);
        foldedCorrect += Trainer.CountCorrect(folded.AsSpan(0, rows * 10), labels, 10);
        for (int i = 0; i < rows * 10; i++) worst = Math.Max(worst, Math.Abs(multi[i] - folded[i]));
    }
    Console.WriteLine($"repvgg test accuracy, multi-branch (evaluation mode): {(double)multiCorrect / test.Count:F4}; re-parameterized inference form: {(double)foldedCorrect / test.Count:F4}; largest |logit difference| {worst:G3}");
    return true;
}

/// <summary>Command-line options of the main job.</summary>
internal sealed record Options(bool SpiralOnly, int Epochs, int SpiralEpochs, string ReportDirectory, string? DataDirectory, int LogEvery, int ConvEpochs = 12, int TransferEpochs = 3, int RepVggEpochs = 0)
{
    /// <summary>Cancelled by Ctrl-C.</summary>
    public CancellationToken Stop { get; init; }

    public static Options? Parse(string[] args)
    {
        var o = new Options(false, 20, 300, "kernelgen-report", null, 1);
        for (int i = 0; i < args.Length; i++)
        {
            string? Next() => i + 1 < args.Length ? args[++i] : null;
            switch (args[i])
            {
                case "--spiral-only": o = o with { SpiralOnly = true }; break;
                case "--epochs" when int.TryParse(Next(), out int e) && e > 0: o = o with { Epochs = e }; break;
                case "--conv-epochs" when int.TryParse(Next(), out int ce) && ce >= 0: o = o with { ConvEpochs = ce }; break;
                case "--transfer-epochs" when int.TryParse(Next(), out int te) && te >= 0: o = o with { TransferEpochs = te }; break;
                case "--repvgg" when int.TryParse(Next(), out int re) && re > 0: o = o with { RepVggEpochs = re }; break;
                case "--report" when Next() is { } r: o = o with { ReportDirectory = r }; break;
                case "--data" when Next() is { } d: o = o with { DataDirectory = d }; break;
                case "--log-every" when int.TryParse(Next(), out int n) && n > 0: o = o with { LogEvery = n }; break;
                default:
                    Console.Error.WriteLine($"Unknown or incomplete option '{args[i]}'.");
                    Console.Error.WriteLine("Options: --spiral-only | --epochs N (Fashion-MNIST MLP, default 20) | --conv-epochs N (convnet, default 12; 0 skips it) | --transfer-epochs N (pretraining epochs of the transfer example, default 3; 0 skips it) | --repvgg N (trains only the RepVGG network for N epochs, in place of the MLP, the convnet and the transfer example) | --log-every N (epochs between printed lines, default 1) | --report DIR (default kernelgen-report) | --data DIR (Fashion-MNIST files)");
                    return null;
            }
        }
        return o;
    }
}
