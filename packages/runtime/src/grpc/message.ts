// gRPC's length-prefixed messages on an HTTP/2 stream: [1 byte compressed flag][u32 length, big
// endian][message], one after the other, cut into DATA frames anywhere.

/** A message refused while reading: the call ends with this status. */
export class MessageError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
    this.name = 'MessageError';
  }
}

const PREFIX = 5;

/** The message with its 5-byte prefix, in one buffer (one write on the stream). */
export function frameMessage(message: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(PREFIX + message.length);
  out[0] = 0;
  out.writeUInt32BE(message.length, 1);
  out.set(message, PREFIX);
  return out;
}

/** Cuts a stream's bytes into messages, refusing any longer than `max` before buffering it. */
export class MessageDecoder {
  private pending: Buffer | undefined;

  constructor(
    private readonly max: number,
    private readonly onMessage: (message: Buffer) => void,
  ) {}

  /** Throws MessageError for a message it must refuse; the stream is then unusable. */
  push(chunk: Buffer): void {
    let buf = this.pending ? Buffer.concat([this.pending, chunk]) : chunk;
    this.pending = undefined;
    let pos = 0;
    while (buf.length - pos >= PREFIX) {
      const compressed = buf[pos]!;
      const length = buf.readUInt32BE(pos + 1);
      if (compressed !== 0) {
        // Nothing this runtime answers tells callers it accepts compression, and grpc-js
        // compresses only when told to.
        throw new MessageError(12, 'compressed messages are not supported by this runtime (grpc-encoding identity only)');
      }
      if (length > this.max) throw new MessageError(8, `Received message larger than max (${length} vs. ${this.max})`);
      if (buf.length - pos - PREFIX < length) break;
      // A view, not a copy: it is decoded at once, and the decoders copy what they keep.
      this.onMessage(buf.subarray(pos + PREFIX, pos + PREFIX + length));
      pos += PREFIX + length;
    }
    if (pos < buf.length) {
      buf = buf.subarray(pos);
      this.pending = Buffer.from(buf);
    }
  }

  /** True when a message was cut short by the end of the stream. */
  get partial(): boolean {
    return this.pending !== undefined;
  }
}
