// A raw HTTP/2 client for protocol tests: it writes whatever frames a test asks for (malformed
// ones included) on a plain TCP socket, and reads the server's frames back, decoding header
// blocks with its own small HPACK decoder. Written from RFC 9113 and RFC 7541, independently of
// the server under test.
import { connect, type Socket } from 'node:net';

export const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

export const DATA = 0x0;
export const HEADERS = 0x1;
export const PRIORITY = 0x2;
export const RST_STREAM = 0x3;
export const SETTINGS = 0x4;
export const PING = 0x6;
export const GOAWAY = 0x7;
export const WINDOW_UPDATE = 0x8;
export const CONTINUATION = 0x9;

export const END_STREAM = 0x1;
export const ACK = 0x1;
export const END_HEADERS = 0x4;

export const NO_ERROR = 0x0;
export const PROTOCOL_ERROR = 0x1;
export const FLOW_CONTROL_ERROR = 0x3;
export const FRAME_SIZE_ERROR = 0x6;
export const REFUSED_STREAM = 0x7;
export const CANCEL = 0x8;
export const COMPRESSION_ERROR = 0x9;

export const SETTINGS_HEADER_TABLE_SIZE = 0x1;
export const SETTINGS_MAX_CONCURRENT_STREAMS = 0x3;
export const SETTINGS_INITIAL_WINDOW_SIZE = 0x4;
export const SETTINGS_MAX_FRAME_SIZE = 0x5;

export interface Frame {
  type: number;
  flags: number;
  stream: number;
  payload: Buffer;
}

export function frame(type: number, flags: number, stream: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  const head = Buffer.alloc(9);
  head.writeUIntBE(payload.length, 0, 3);
  head[3] = type;
  head[4] = flags;
  head.writeUInt32BE(stream, 5);
  return Buffer.concat([head, payload]);
}

export function settingsPayload(settings: Array<[number, number]>): Buffer {
  const b = Buffer.alloc(settings.length * 6);
  settings.forEach(([k, v], i) => {
    b.writeUInt16BE(k, i * 6);
    b.writeUInt32BE(v, i * 6 + 2);
  });
  return b;
}

export function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}

// --- HPACK ----------------------------------------------------------------------------------

/** RFC 7541 Appendix A. */
const STATIC: Array<[string, string]> = [
  [':authority', ''],
  [':method', 'GET'],
  [':method', 'POST'],
  [':path', '/'],
  [':path', '/index.html'],
  [':scheme', 'http'],
  [':scheme', 'https'],
  [':status', '200'],
  [':status', '204'],
  [':status', '206'],
  [':status', '304'],
  [':status', '400'],
  [':status', '404'],
  [':status', '500'],
  ['accept-charset', ''],
  ['accept-encoding', 'gzip, deflate'],
  ['accept-language', ''],
  ['accept-ranges', ''],
  ['accept', ''],
  ['access-control-allow-origin', ''],
  ['age', ''],
  ['allow', ''],
  ['authorization', ''],
  ['cache-control', ''],
  ['content-disposition', ''],
  ['content-encoding', ''],
  ['content-language', ''],
  ['content-length', ''],
  ['content-location', ''],
  ['content-range', ''],
  ['content-type', ''],
  ['cookie', ''],
  ['date', ''],
  ['etag', ''],
  ['expect', ''],
  ['expires', ''],
  ['from', ''],
  ['host', ''],
  ['if-match', ''],
  ['if-modified-since', ''],
  ['if-none-match', ''],
  ['if-range', ''],
  ['if-unmodified-since', ''],
  ['last-modified', ''],
  ['link', ''],
  ['location', ''],
  ['max-forwards', ''],
  ['proxy-authenticate', ''],
  ['proxy-authorization', ''],
  ['range', ''],
  ['referer', ''],
  ['refresh', ''],
  ['retry-after', ''],
  ['server', ''],
  ['set-cookie', ''],
  ['strict-transport-security', ''],
  ['transfer-encoding', ''],
  ['user-agent', ''],
  ['vary', ''],
  ['via', ''],
  ['www-authenticate', ''],
];

export function hpackInt(value: number, prefix: number, first = 0): Buffer {
  const max = (1 << prefix) - 1;
  if (value < max) return Buffer.from([first | value]);
  const out = [first | max];
  let v = value - max;
  while (v >= 0x80) {
    out.push((v & 0x7f) | 0x80);
    v >>>= 7;
  }
  out.push(v);
  return Buffer.from(out);
}

/**
 * RFC 7541 Appendix B codes for the symbols of 5 and 6 bits, enough for paths, digits and the
 * header names the tests write in Huffman: [code, bits].
 */
const HUFFMAN: Record<string, [number, number]> = (() => {
  const t: Record<string, [number, number]> = {};
  const five = ['0', '1', '2', 'a', 'c', 'e', 'i', 'o', 's', 't'];
  five.forEach((c, i) => (t[c] = [i, 5]));
  const six = [' ', '%', '-', '.', '/', '3', '4', '5', '6', '7', '8', '9', '=', 'A', '_', 'b', 'd', 'f', 'g', 'h', 'l', 'm', 'n', 'p', 'r', 'u'];
  six.forEach((c, i) => (t[c] = [0x14 + i, 6]));
  return t;
})();

/** Huffman-encodes text made of the symbols above (it throws for any other). */
export function huffman(text: string): Buffer {
  const out: number[] = [];
  let acc = 0;
  let bits = 0;
  for (const ch of text) {
    const code = HUFFMAN[ch];
    if (!code) throw new Error(`the test's Huffman table has no code for ${JSON.stringify(ch)}`);
    acc = (acc << code[1]) | code[0];
    bits += code[1];
    while (bits >= 8) {
      out.push((acc >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
    acc &= (1 << bits) - 1;
  }
  // Padded with the most significant bits of EOS (all ones).
  if (bits) out.push(((acc << (8 - bits)) | ((1 << (8 - bits)) - 1)) & 0xff);
  return Buffer.from(out);
}

function hpackString(s: string, huff: boolean): Buffer {
  const raw = huff ? huffman(s) : Buffer.from(s, 'latin1');
  return Buffer.concat([hpackInt(raw.length, 7, huff ? 0x80 : 0), raw]);
}

export const hpack = {
  indexed: (i: number) => hpackInt(i, 7, 0x80),
  /** A literal field; `name` is a static/dynamic index or a string; `index` adds it to the table. */
  literal(name: number | string, value: string, opts: { index?: boolean; huffman?: boolean; never?: boolean } = {}): Buffer {
    const prefix = opts.index ? 6 : 4;
    const first = opts.index ? 0x40 : opts.never ? 0x10 : 0;
    const huff = opts.huffman ?? false;
    if (typeof name === 'number') return Buffer.concat([hpackInt(name, prefix, first), hpackString(value, huff)]);
    return Buffer.concat([Buffer.from([first]), hpackString(name, huff), hpackString(value, huff)]);
  },
  sizeUpdate: (n: number) => hpackInt(n, 5, 0x20),
};

/** A gRPC request's header block (no table entries added). */
export function requestBlock(path: string, extra: Buffer[] = []): Buffer {
  return Buffer.concat([
    hpack.indexed(3), // :method POST
    hpack.indexed(6), // :scheme http
    hpack.literal(4, path), // :path
    hpack.literal(1, 'localhost'), // :authority
    hpack.literal(31, 'application/grpc'), // content-type
    hpack.literal('te', 'trailers'),
    ...extra,
  ]);
}

/** The client side's decoder of the server's header blocks (no Huffman: the server sends none). */
export class HpackDecoder {
  private table: Array<[string, string]> = [];
  private size = 0;
  private max = 4096;

  decode(block: Buffer): Array<[string, string]> {
    const out: Array<[string, string]> = [];
    let pos = 0;
    const int = (prefix: number): number => {
      const max = (1 << prefix) - 1;
      let v = block[pos++]! & max;
      if (v < max) return v;
      let shift = 0;
      for (;;) {
        const b = block[pos++]!;
        v += (b & 0x7f) * 2 ** shift;
        shift += 7;
        if (!(b & 0x80)) return v;
      }
    };
    const str = (): string => {
      if (block[pos]! & 0x80) throw new Error('the server sent a Huffman string; this test decoder reads none');
      const n = int(7);
      const s = block.subarray(pos, pos + n).toString('latin1');
      pos += n;
      return s;
    };
    const entry = (i: number): [string, string] => {
      const e = i <= 61 ? STATIC[i - 1] : this.table[i - 62];
      if (!e) throw new Error(`the server referenced header index ${i}`);
      return e;
    };
    while (pos < block.length) {
      const b = block[pos]!;
      if (b & 0x80) out.push(entry(int(7)));
      else if (b & 0x40) {
        const i = int(6);
        const name = i ? entry(i)[0] : str();
        const field: [string, string] = [name, str()];
        out.push(field);
        this.table.unshift(field);
        this.size += field[0].length + field[1].length + 32;
        while (this.size > this.max) {
          const old = this.table.pop()!;
          this.size -= old[0].length + old[1].length + 32;
        }
      } else if (b & 0x20) this.max = int(5);
      else {
        const i = int(4);
        const name = i ? entry(i)[0] : str();
        out.push([name, str()]);
      }
    }
    return out;
  }
}

// --- gRPC and protobuf -------------------------------------------------------------------------

export function grpcMessage(body: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head.writeUInt32BE(body.length, 1);
  return Buffer.concat([head, body]);
}

/** Cuts the length-prefixed messages out of a stream's DATA bytes. */
export function grpcMessages(data: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let pos = 0;
  while (data.length - pos >= 5) {
    const n = data.readUInt32BE(pos + 1);
    if (data.length - pos - 5 < n) break;
    out.push(data.subarray(pos + 5, pos + 5 + n));
    pos += 5 + n;
  }
  return out;
}

function varint(n: number): Buffer {
  const out: number[] = [];
  let v = n;
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
  return Buffer.from(out);
}

function lenField(tag: number, b: Buffer): Buffer {
  return b.length ? Buffer.concat([varint(tag), varint(b.length), b]) : Buffer.alloc(0);
}

/** A FunctionMessage (protos/function.proto) with the fields a call needs. */
export function functionMessage(fn: string, payload: Buffer, topic = 't'): Buffer {
  return Buffer.concat([
    lenField(0x1a, Buffer.from(topic)),
    lenField(0x22, payload),
    Buffer.from([0x50]),
    varint(2 * 1700000000),
    lenField(0x5a, Buffer.from(fn)),
    lenField(0x62, Buffer.from('7d0c3f5e-0a51-4c2b-8f1d-3e9a6b2c4d10')),
  ]);
}

/** The length-delimited field `num` of a protobuf message (e.g. Payload, 4). */
export function protoField(msg: Buffer, num: number): Buffer | undefined {
  let pos = 0;
  const read = (): number => {
    let v = 0;
    let mul = 1;
    for (;;) {
      const b = msg[pos++]!;
      v += (b & 0x7f) * mul;
      mul *= 128;
      if (!(b & 0x80)) return v;
    }
  };
  let found: Buffer | undefined;
  while (pos < msg.length) {
    const tag = read();
    if ((tag & 7) === 0) read();
    else if ((tag & 7) === 2) {
      const n = read();
      if (tag >> 3 === num) found = msg.subarray(pos, pos + n);
      pos += n;
    } else throw new Error(`unexpected wire type ${tag & 7}`);
  }
  return found;
}

// --- the peer -----------------------------------------------------------------------------------

export interface StreamState {
  /** Decoded header blocks, in order (response headers, then trailers). */
  blocks: Array<Array<[string, string]>>;
  data: Buffer;
  dataFrames: number;
  ended: boolean;
  rst?: number;
}

/** The stream is over: ended by the server, or reset. */
export function over(s: StreamState): boolean {
  return s.ended || s.rst !== undefined;
}

export class H2Peer {
  readonly frames: Frame[] = [];
  readonly streams = new Map<number, StreamState>();
  goaway?: { last: number; code: number; debug: string };
  closed = false;
  private buf = Buffer.alloc(0);
  private readonly decoder = new HpackDecoder();
  private header?: { stream: number; parts: Buffer[]; flags: number };
  private waiters: Array<() => void> = [];
  /** Acknowledge the server's SETTINGS (handshake() turns it on). */
  autoAck = false;

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('close', () => {
      this.closed = true;
      this.notify();
    });
    socket.on('error', () => undefined);
  }

  static open(address: string): Promise<H2Peer> {
    const [host, port] = [address.slice(0, address.lastIndexOf(':')), Number(address.slice(address.lastIndexOf(':') + 1))];
    return new Promise((resolve, reject) => {
      const s = connect(port, host, () => resolve(new H2Peer(s)));
      s.once('error', reject);
    });
  }

  /** Connects and sends the preface with `settings`; acknowledges the server's SETTINGS. */
  static async handshake(address: string, settings: Array<[number, number]> = []): Promise<H2Peer> {
    const p = await H2Peer.open(address);
    p.autoAck = true;
    p.write(Buffer.concat([PREFACE, frame(SETTINGS, 0, 0, settingsPayload(settings))]));
    await p.until("the server's SETTINGS", () => p.frames.some((f) => f.type === SETTINGS && !(f.flags & ACK)));
    return p;
  }

  write(b: Buffer): void {
    this.socket.write(b);
  }

  send(type: number, flags: number, stream: number, payload?: Buffer): void {
    this.write(frame(type, flags, stream, payload));
  }

  /** A whole unary call on `stream`: HEADERS, then the message in one DATA frame with END_STREAM. */
  request(stream: number, path: string, body: Buffer, extra: Buffer[] = []): Buffer {
    return Buffer.concat([frame(HEADERS, END_HEADERS, stream, requestBlock(path, extra)), frame(DATA, END_STREAM, stream, grpcMessage(body))]);
  }

  stream(id: number): StreamState {
    let s = this.streams.get(id);
    if (!s) {
      s = { blocks: [], data: Buffer.alloc(0), dataFrames: 0, ended: false };
      this.streams.set(id, s);
    }
    return s;
  }

  /** Resolves once `check` holds (checked on every frame); rejects if the connection closes first. */
  until(what: string, check: () => boolean, ms = 60000): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => finish(new Error(`timed out waiting for ${what}`)), ms);
      const test = () => {
        if (check()) finish();
        else if (this.closed) finish(new Error(`the connection closed before ${what} (goaway: ${JSON.stringify(this.goaway)})`));
      };
      const finish = (err?: Error) => {
        clearTimeout(timer);
        this.waiters = this.waiters.filter((w) => w !== test);
        if (err) reject(err);
        else resolve();
      };
      this.waiters.push(test);
      test();
    });
  }

  /** The server's GOAWAY and then the close of the connection. */
  async goawayAndClose(): Promise<{ last: number; code: number; debug: string }> {
    await this.until('GOAWAY', () => this.goaway !== undefined);
    await new Promise<void>((resolve) => (this.closed ? resolve() : this.socket.once('close', () => resolve())));
    return this.goaway!;
  }

  /** A PING round trip: everything the server wrote before answering it has been read. */
  async ping(data = Buffer.from('syncsync')): Promise<Frame> {
    this.send(PING, 0, 0, data);
    let ack: Frame | undefined;
    await this.until('the PING ACK', () => (ack = this.frames.find((f) => f.type === PING && f.flags & ACK && f.payload.equals(data))) !== undefined);
    return ack!;
  }

  close(): void {
    this.socket.destroy();
  }

  private notify(): void {
    for (const w of [...this.waiters]) w();
  }

  private onData(chunk: Buffer): void {
    this.buf = Buffer.concat([this.buf, chunk]);
    while (this.buf.length >= 9) {
      const len = this.buf.readUIntBE(0, 3);
      if (this.buf.length < 9 + len) break;
      const f: Frame = {
        type: this.buf[3]!,
        flags: this.buf[4]!,
        stream: this.buf.readUInt32BE(5) & 0x7fffffff,
        payload: Buffer.from(this.buf.subarray(9, 9 + len)),
      };
      this.buf = this.buf.subarray(9 + len);
      this.frames.push(f);
      this.onFrame(f);
    }
    this.notify();
  }

  private onFrame(f: Frame): void {
    switch (f.type) {
      case SETTINGS:
        if (this.autoAck && !(f.flags & ACK)) this.send(SETTINGS, ACK, 0);
        break;
      case GOAWAY:
        this.goaway = { last: f.payload.readUInt32BE(0) & 0x7fffffff, code: f.payload.readUInt32BE(4), debug: f.payload.subarray(8).toString('utf8') };
        break;
      case RST_STREAM:
        this.stream(f.stream).rst = f.payload.readUInt32BE(0);
        break;
      case DATA: {
        const s = this.stream(f.stream);
        s.data = Buffer.concat([s.data, f.payload]);
        s.dataFrames++;
        if (f.flags & END_STREAM) s.ended = true;
        break;
      }
      case HEADERS:
        this.header = { stream: f.stream, parts: [f.payload], flags: f.flags };
        if (f.flags & END_HEADERS) this.headerDone();
        break;
      case CONTINUATION:
        this.header!.parts.push(f.payload);
        if (f.flags & END_HEADERS) this.headerDone();
        break;
    }
  }

  private headerDone(): void {
    const h = this.header!;
    this.header = undefined;
    const s = this.stream(h.stream);
    s.blocks.push(this.decoder.decode(Buffer.concat(h.parts)));
    if (h.flags & END_STREAM) s.ended = true;
  }
}

/** grpc-status and grpc-message (percent-decoded) from a stream's last header block. */
export function grpcStatus(s: StreamState): { code: number; message: string } | undefined {
  const last = s.blocks[s.blocks.length - 1];
  const status = last?.find(([k]) => k === 'grpc-status');
  if (!status) return undefined;
  const msg = last!.find(([k]) => k === 'grpc-message')?.[1] ?? '';
  return { code: Number(status[1]), message: decodeURIComponent(msg) };
}
