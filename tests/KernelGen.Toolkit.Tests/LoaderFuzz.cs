using System;
using System.IO;
using CsCheck;
using Xunit;

namespace KernelGen.Toolkit.Tests;

/// <summary>One random change to a valid file: a flipped bit, a truncation, overwritten, inserted or deleted bytes.</summary>
internal sealed record ByteMutation(string Kind, int Position, int Count, byte[] Bytes)
{
    public byte[] Apply(byte[] original)
    {
        switch (Kind)
        {
            case "flip bit":
            {
                byte[] result = (byte[])original.Clone();
                result[Position] ^= (byte)(1 << Count);
                return result;
            }
            case "truncate to": return original.AsSpan(0, Position).ToArray();
            case "insert at": return [.. original.AsSpan(0, Position), .. Bytes, .. original.AsSpan(Position)];
            case "delete at": return [.. original.AsSpan(0, Position), .. original.AsSpan(Math.Min(original.Length, Position + Count))];
            default:
            {
                byte[] result = (byte[])original.Clone();
                Bytes.AsSpan(0, Math.Min(Bytes.Length, result.Length - Position)).CopyTo(result.AsSpan(Position));
                return result;
            }
        }
    }

    public override string ToString() => $"{Kind} {Position} (count {Count}, bytes {Convert.ToHexString(Bytes)})";
}

/// <summary>
/// The loader fuzz harness: applies random mutations to a valid file and hands each mutated file to a check that loads
/// it and asserts the loader's contract (it loads exactly the original values, or throws the documented exception and
/// changes nothing). Any other exception type fails the test, naming the mutation; CsCheck prints the seed to replay it.
/// </summary>
internal static class LoaderFuzz
{
    /// <summary>Mutations of a file of <paramref name="length"/> bytes; half of them flip a single bit (the corruption a
    /// checksum must catch), the rest truncate, overwrite (random bytes, or 0x00/0xFF runs), insert or delete bytes.</summary>
    public static Gen<ByteMutation> Mutations(int length) => Gen.Frequency(
        (5, Gen.Int[0, length * 8 - 1].Select(bit => new ByteMutation("flip bit", bit / 8, bit % 8, []))),
        (2, Gen.Int[0, length - 1].Select(n => new ByteMutation("truncate to", n, 0, []))),
        (2, Gen.Select(Gen.Int[0, length - 1], Gen.Byte.Array[1, 8], (at, bytes) => new ByteMutation("overwrite at", at, 0, bytes))),
        (1, Gen.Select(Gen.Int[0, length - 1], Gen.Int[1, 8], Gen.Bool, (at, n, ones) => new ByteMutation("overwrite at", at, 0, Filled(n, ones ? (byte)0xFF : (byte)0)))),
        (1, Gen.Select(Gen.Int[0, length], Gen.Byte.Array[1, 8], (at, bytes) => new ByteMutation("insert at", at, 0, bytes))),
        (1, Gen.Select(Gen.Int[0, length - 1], Gen.Int[1, 8], (at, n) => new ByteMutation("delete at", at, n, []))));

    /// <summary>
    /// Runs <paramref name="iterations"/> mutations of <paramref name="original"/>. <paramref name="load"/> loads the
    /// mutated bytes (from a seekable stream, or a forward-only one) and checks what was loaded; it returns normally for
    /// a load and lets <typeparamref name="TException"/> escape for a rejection, after which <paramref name="unchanged"/>
    /// checks that the target was not touched. Returns the counts of rejected and loaded mutations.
    /// </summary>
    public static (int Rejected, int Loaded) Run<TException>(byte[] original, int iterations, Action<byte[], bool> load, Action<string> unchanged)
        where TException : Exception
    {
        int rejected = 0, loaded = 0;
        Gen.Select(Mutations(original.Length), Gen.Bool).Sample((mutation, seekable) =>
        {
            byte[] mutated = mutation.Apply(original);
            try
            {
                load(mutated, seekable);
                loaded++;
            }
            catch (TException)
            {
                unchanged(mutation.ToString());
                rejected++;
            }
            catch (Exception e) when (e is not Xunit.Sdk.XunitException)
            {
                throw new InvalidOperationException($"{mutation} (seekable {seekable}) threw {e.GetType().Name} instead of {typeof(TException).Name}: {e.Message}", e);
            }
            catch (Xunit.Sdk.XunitException e)
            {
                throw new InvalidOperationException($"{mutation} (seekable {seekable}): {e.Message}", e);
            }
        }, iter: iterations, threads: 1);
        return (rejected, loaded);
    }

    public static Stream Open(byte[] bytes, bool seekable) => seekable ? new MemoryStream(bytes, writable: false) : new ForwardOnlyReadStream(bytes);

    private static byte[] Filled(int n, byte value)
    {
        var bytes = new byte[n];
        bytes.AsSpan().Fill(value);
        return bytes;
    }
}

/// <summary>A read-only stream that cannot seek and has no length (a pipe or socket); it hands out at most
/// <paramref name="maxRead"/> bytes per call, as such streams may.</summary>
internal sealed class ForwardOnlyReadStream(byte[] data, int maxRead = 4096) : Stream
{
    private readonly MemoryStream _inner = new(data, writable: false);

    /// <summary>Bytes handed out so far.</summary>
    public long Consumed => _inner.Position;

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));
    public override int Read(Span<byte> buffer) => _inner.Read(buffer[..Math.Min(buffer.Length, maxRead)]);
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
