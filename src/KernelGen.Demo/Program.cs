using System;
using System.Diagnostics;
using KernelGen;
using KernelGen.Data;
using KernelGen.Demo;

// Trains a generated network on the embedded 3-class spiral dataset and reports the loss and accuracy.
const int batchSize = 30;
const int epochs = 600;
(float[] x, int[] y) = Spiral.Generate(pointsPerClass: 100, classes: 3, seed: 7);
int n = y.Length;
var net = new SpiralNet(maxBatchSize: n, seed: 42);
Console.WriteLine($"KernelGen demo: spiral, {n} points, 3 classes; network {SpiralNet.InputFeatures}-100-{SpiralNet.OutputFeatures}, {SpiralNet.ParameterCount} parameters, SGD η = {net.LearningRate}");

var order = new int[n];
for (int i = 0; i < n; i++) order[i] = i;
var batchX = new float[batchSize * 2];
var batchY = new int[batchSize];
var random = new KernelRandom(1);
var watch = Stopwatch.StartNew();
for (int epoch = 1; epoch <= epochs; epoch++)
{
    // Fisher–Yates shuffle, then mini-batches.
    for (int i = n - 1; i > 0; i--) { int j = random.NextInt(i + 1); (order[i], order[j]) = (order[j], order[i]); }
    double sum = 0;
    int batches = 0;
    for (int start = 0; start + batchSize <= n; start += batchSize)
    {
        for (int b = 0; b < batchSize; b++)
        {
            int row = order[start + b];
            batchX[2 * b] = x[2 * row];
            batchX[2 * b + 1] = x[2 * row + 1];
            batchY[b] = y[row];
        }
        sum += net.TrainStep(batchX, batchY);
        batches++;
    }
    if (epoch == 1 || epoch % 100 == 0)
        Console.WriteLine($"epoch {epoch,4}  loss {sum / batches:F4}  full-data loss {net.Loss(x, y):F4}");
}
watch.Stop();

var logits = new float[n * 3];
net.Predict(x, logits);
int correct = 0;
for (int i = 0; i < n; i++)
{
    int best = 0;
    for (int k = 1; k < 3; k++) if (logits[3 * i + k] > logits[3 * i + best]) best = k;
    if (best == y[i]) correct++;
}
Console.WriteLine($"training time: {watch.Elapsed.TotalMilliseconds:F0} ms for {epochs} epochs");
Console.WriteLine($"training accuracy: {(double)correct / n:F4}");
