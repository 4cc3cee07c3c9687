// The protobuf encoding of baetyl.FunctionMessage (protos/function.proto), written out by hand.
// The message has seven scalar fields, and every function call encodes and decodes two of them on
// each side. Doing it here instead of through proto-loader/protobufjs saves each runtime ~40 ms of
// start-up (a cold start waits for it) and the generic per-field work on every call.
// test/proto.test.ts checks the bytes against proto-loader's reading of the .proto file.
import type { FunctionMessage } from './message.js';
import { Reader, varintSize, writeVarint } from './wire.js';

export { FunctionMessageDecodeError } from './wire.js';

// Field tags: (field number << 3) | wire type (0 varint, 2 length-delimited).
const ID = (1 << 3) | 0;
const QOS = (2 << 3) | 0;
const TOPIC = (3 << 3) | 2;
const PAYLOAD = (4 << 3) | 2;
const TIMESTAMP = (10 << 3) | 0;
const FUNCTION_NAME = (11 << 3) | 2;
const FUNCTION_INVOKE_ID = (12 << 3) | 2;

/** sint64's zigzag, in doubles: 0, -1, 1, -2 ... become 0, 1, 2, 3 ... */
const zigzag = (n: number): number => (n >= 0 ? n * 2 : -n * 2 - 1);
const unzigzag = (n: number): number => (n % 2 === 0 ? n / 2 : -(n + 1) / 2);

/** A uint64/uint32 field value as proto3 sends it: integral, non-negative (negatives as 2^64 + n). */
function unsigned(n: number | undefined): number {
  if (!n) return 0;
  const t = Math.trunc(n);
  return t < 0 ? 2 ** 64 + t : t;
}

export function encodeFunctionMessage(msg: Partial<FunctionMessage>): Buffer {
  const id = unsigned(msg.ID);
  // uint32 keeps the low 32 bits, as protobuf does for an out-of-range value.
  const qos = unsigned(msg.QOS) % 2 ** 32;
  const ts = msg.Timestamp ? zigzag(Math.trunc(msg.Timestamp)) : 0;
  const topic = msg.Topic ? Buffer.from(msg.Topic, 'utf8') : undefined;
  const payload = msg.Payload && msg.Payload.length ? msg.Payload : undefined;
  const name = msg.FunctionName ? Buffer.from(msg.FunctionName, 'utf8') : undefined;
  const invoke = msg.FunctionInvokeID ? Buffer.from(msg.FunctionInvokeID, 'utf8') : undefined;
  const bytesField = (b: Uint8Array | undefined) => (b ? 1 + varintSize(b.length) + b.length : 0);
  const size =
    (id ? 1 + varintSize(id) : 0) +
    (qos ? 1 + varintSize(qos) : 0) +
    bytesField(topic) +
    bytesField(payload) +
    (ts ? 1 + varintSize(ts) : 0) +
    bytesField(name) +
    bytesField(invoke);
  const buf = Buffer.allocUnsafe(size);
  let pos = 0;
  const putBytes = (tag: number, b: Uint8Array | undefined) => {
    if (!b) return;
    buf[pos++] = tag;
    pos = writeVarint(buf, pos, b.length);
    buf.set(b, pos);
    pos += b.length;
  };
  if (id) {
    buf[pos++] = ID;
    pos = writeVarint(buf, pos, id);
  }
  if (qos) {
    buf[pos++] = QOS;
    pos = writeVarint(buf, pos, qos);
  }
  putBytes(TOPIC, topic);
  putBytes(PAYLOAD, payload);
  if (ts) {
    buf[pos++] = TIMESTAMP;
    pos = writeVarint(buf, pos, ts);
  }
  putBytes(FUNCTION_NAME, name);
  putBytes(FUNCTION_INVOKE_ID, invoke);
  return buf;
}

/** Decodes a FunctionMessage, proto3 defaults filled in; unknown fields are skipped, as protobuf does. */
export function decodeFunctionMessage(buf: Buffer): FunctionMessage {
  const msg: FunctionMessage = { ID: 0, QOS: 0, Topic: '', Payload: EMPTY, Timestamp: 0, FunctionName: '', FunctionInvokeID: '' };
  const r = new Reader(buf);
  while (r.more) {
    const tag = r.varint();
    switch (tag) {
      case ID:
        msg.ID = r.varint();
        break;
      case QOS:
        msg.QOS = r.varint() % 2 ** 32;
        break;
      case TOPIC:
        msg.Topic = r.bytes().toString('utf8');
        break;
      case PAYLOAD:
        // A copy: the caller may keep the payload after gRPC reuses its receive buffer.
        msg.Payload = Buffer.from(r.bytes());
        break;
      case TIMESTAMP:
        msg.Timestamp = unzigzag(r.varint());
        break;
      case FUNCTION_NAME:
        msg.FunctionName = r.bytes().toString('utf8');
        break;
      case FUNCTION_INVOKE_ID:
        msg.FunctionInvokeID = r.bytes().toString('utf8');
        break;
      default:
        r.skip(tag & 7);
    }
  }
  return msg;
}

const EMPTY = Buffer.alloc(0);
