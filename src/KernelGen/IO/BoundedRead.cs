using System;
using System.IO;

namespace KernelGen.IO;

/// <summary>
/// Reads a length that a file declares without trusting it: the buffer grows with the bytes that actually arrive
/// (64 KiB, then doubling up to the declared size), so a corrupt or hostile length on a short stream fails after
/// allocating about twice what the stream held, not the declared size.
/// </summary>
internal static class BoundedRead
{
    /// <summary>The first chunk of a growing read.</summary>
    public const int InitialChunk = 1 << 16;

    /// <summary>
    /// Reads <paramref name="length"/> bytes, or fewer if the stream ends first. Returns the bytes read; the array has
    /// exactly <paramref name="length"/> elements when all arrived (check <paramref name="read"/> otherwise).
    /// </summary>
    /// <param name="stream">The source.</param>
    /// <param name="length">The declared length (at most <see cref="Array.MaxLength"/>).</param>
    /// <param name="trusted">The caller has checked <paramref name="length"/> against what the stream holds (a
    /// seekable stream's remaining length): allocate it at once.</param>
    /// <param name="read">How many bytes arrived.</param>
    /// <param name="onError">Maps an <see cref="IOException"/> of the stream (for example a decompressor's) to the
    /// caller's exception; null to let it pass.</param>
    public static byte[] ReadUpTo(Stream stream, int length, bool trusted, out int read, Func<IOException, Exception>? onError = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        byte[] buffer = new byte[trusted ? length : Math.Min(length, InitialChunk)];
        int filled = 0;
        try
        {
            while (true)
            {
                while (filled < buffer.Length)
                {
                    int n = stream.Read(buffer, filled, buffer.Length - filled);
                    if (n <= 0)
                    {
                        read = filled;
                        return buffer;
                    }
                    filled += n;
                }
                if (filled == length) break;
                Array.Resize(ref buffer, (int)Math.Min(2L * buffer.Length, length));
            }
        }
        catch (IOException e) when (onError is not null && e is not FileNotFoundException)
        {
            throw onError(e);
        }
        read = filled;
        return buffer;
    }
}
