// The pipe protocol between the runtime host and a language worker. A frame is
// [u32 header length][u32 body length][header: UTF-8 JSON][body: raw bytes], big-endian, so a
// payload travels as bytes (no base64) and the Python worker can read it with struct alone.

/** The JSON half of a frame; `type` says what it is. */
export interface FrameHeader {
  type: string;
  [key: string]: unknown;
}

export interface Frame {
  header: FrameHeader;
  body: Buffer;
}

const PREFIX = 8;

const NO_BODY = Buffer.alloc(0);

export function encodeFrame(header: FrameHeader, body: Buffer = NO_BODY): Buffer {
  const head = JSON.stringify(header);
  const headLen = Buffer.byteLength(head, 'utf8');
  // One buffer for the whole frame: prefix, header and body.
  const frame = Buffer.allocUnsafe(PREFIX + headLen + body.length);
  frame.writeUInt32BE(headLen, 0);
  frame.writeUInt32BE(body.length, 4);
  frame.write(head, PREFIX, headLen, 'utf8');
  body.copy(frame, PREFIX + headLen);
  return frame;
}

/** Thrown when the other side sends something that is not a frame: the pipe is then unusable. */
export class FrameError extends Error {
  override name = 'FrameError';
}

/** Cuts a byte stream into frames. Feed it chunks; it returns the frames they complete. */
export class FrameDecoder {
  private buffered: Buffer[] = [];
  private size = 0;

  constructor(private readonly maxFrame: number) {}

  push(chunk: Buffer): Frame[] {
    this.buffered.push(chunk);
    this.size += chunk.length;
    const frames: Frame[] = [];
    for (;;) {
      if (this.size < PREFIX) break;
      const all = this.buffered.length === 1 ? this.buffered[0]! : Buffer.concat(this.buffered);
      this.buffered = [all];
      const headLen = all.readUInt32BE(0);
      const bodyLen = all.readUInt32BE(4);
      if (headLen + bodyLen > this.maxFrame) {
        throw new FrameError(`frame of ${headLen + bodyLen} bytes exceeds the limit of ${this.maxFrame}`);
      }
      const total = PREFIX + headLen + bodyLen;
      if (all.length < total) break;
      let header: unknown;
      try {
        header = JSON.parse(all.subarray(PREFIX, PREFIX + headLen).toString('utf8'));
      } catch (err) {
        throw new FrameError(`frame header is not JSON: ${(err as Error).message}`);
      }
      if (typeof header !== 'object' || header === null || typeof (header as FrameHeader).type !== 'string') {
        throw new FrameError('frame header has no type');
      }
      // Copy the body out so the big buffer can be released.
      const body = Buffer.from(all.subarray(PREFIX + headLen, total));
      frames.push({ header: header as FrameHeader, body });
      const rest = all.subarray(total);
      this.buffered = rest.length ? [rest] : [];
      this.size = rest.length;
    }
    return frames;
  }
}
