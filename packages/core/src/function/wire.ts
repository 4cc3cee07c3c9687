// Protobuf's wire format, the parts the hand-written codecs (codec.ts, stream.ts) need: varints
// up to 2^64 in doubles, and a reader of varints, length-delimited fields and skipped fields.

/** Thrown for bytes that are not a valid message. */
export class FunctionMessageDecodeError extends Error {
  override name = 'FunctionMessageDecodeError';
}

export function varintSize(n: number): number {
  let size = 1;
  while (n >= 128) {
    n = Math.floor(n / 128);
    size++;
  }
  return size;
}

export function writeVarint(buf: Buffer, pos: number, n: number): number {
  while (n >= 128) {
    buf[pos++] = (n % 128) | 0x80;
    n = Math.floor(n / 128);
  }
  buf[pos++] = n;
  return pos;
}

/** A reader over one message's bytes; malformed input throws FunctionMessageDecodeError. */
export class Reader {
  pos = 0;
  constructor(readonly buf: Buffer) {}
  get more(): boolean {
    return this.pos < this.buf.length;
  }
  varint(): number {
    let n = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.buf.length) throw new FunctionMessageDecodeError('truncated varint');
      const b = this.buf[this.pos++]!;
      n += (b & 0x7f) * scale;
      if (b < 0x80) return n;
      scale *= 128;
    }
    throw new FunctionMessageDecodeError('varint longer than 10 bytes');
  }
  bytes(): Buffer {
    const len = this.varint();
    if (this.pos + len > this.buf.length) throw new FunctionMessageDecodeError('truncated field');
    const s = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return s;
  }
  skip(wireType: number): void {
    if (wireType === 0) this.varint();
    else if (wireType === 1) this.pos += 8;
    else if (wireType === 2) this.bytes();
    else if (wireType === 5) this.pos += 4;
    else throw new FunctionMessageDecodeError(`unsupported wire type ${wireType}`);
    if (this.pos > this.buf.length) throw new FunctionMessageDecodeError('truncated field');
  }
}
