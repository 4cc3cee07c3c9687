// baetyl.FunctionStream (protos/function-stream.proto): our extension that carries many function
// calls on one bidirectional gRPC stream instead of one unary Call (one HTTP/2 stream) each. The
// messages are encoded by hand, like FunctionMessage in codec.ts; test/proto.test.ts checks them
// against proto-loader's reading of the .proto file.
import type * as Grpc from '@grpc/grpc-js';
import { decodeFunctionMessage, encodeFunctionMessage } from './codec.js';
import { Reader, varintSize, writeVarint } from './wire.js';
import type { FunctionMessage } from './message.js';

export const FUNCTION_STREAM_PATH = '/baetyl.FunctionStream/Calls';

export interface StreamCall {
  seq: number;
  /** ms the call may take; 0 = no deadline. */
  timeout: number;
  msg: FunctionMessage;
}

export interface StreamResult {
  seq: number;
  /** gRPC status code; 0 = OK. */
  code: number;
  details: string;
  payload: Buffer;
  /** How long the handler ran, microseconds; 0 or absent: it did not run, or was not measured. */
  us?: number;
}

const EMPTY = Buffer.alloc(0);

export function encodeStreamCall(c: StreamCall): Buffer {
  const msg = encodeFunctionMessage(c.msg);
  const timeout = Math.max(0, Math.trunc(c.timeout));
  const size = 1 + varintSize(c.seq) + (timeout ? 1 + varintSize(timeout) : 0) + 1 + varintSize(msg.length) + msg.length;
  const buf = Buffer.allocUnsafe(size);
  let pos = 0;
  buf[pos++] = (1 << 3) | 0;
  pos = writeVarint(buf, pos, c.seq);
  if (timeout) {
    buf[pos++] = (2 << 3) | 0;
    pos = writeVarint(buf, pos, timeout);
  }
  buf[pos++] = (3 << 3) | 2;
  pos = writeVarint(buf, pos, msg.length);
  msg.copy(buf, pos);
  return buf;
}

export function decodeStreamCall(buf: Buffer): StreamCall {
  const r = new Reader(buf);
  const out: StreamCall = { seq: 0, timeout: 0, msg: undefined as unknown as FunctionMessage };
  while (r.more) {
    const tag = r.varint();
    if (tag === ((1 << 3) | 0)) out.seq = r.varint();
    else if (tag === ((2 << 3) | 0)) out.timeout = r.varint();
    else if (tag === ((3 << 3) | 2)) out.msg = decodeFunctionMessage(r.bytes());
    else r.skip(tag & 7);
  }
  out.msg ??= decodeFunctionMessage(EMPTY);
  return out;
}

export function encodeStreamResult(res: StreamResult): Buffer {
  const details = res.details ? Buffer.from(res.details, 'utf8') : undefined;
  const payload = res.payload.length ? res.payload : undefined;
  const us = res.us ? Math.min(2 ** 32 - 1, Math.max(0, Math.round(res.us))) : 0;
  const size =
    1 +
    varintSize(res.seq) +
    (res.code ? 1 + varintSize(res.code) : 0) +
    (details ? 1 + varintSize(details.length) + details.length : 0) +
    (payload ? 1 + varintSize(payload.length) + payload.length : 0) +
    (us ? 1 + varintSize(us) : 0);
  const buf = Buffer.allocUnsafe(size);
  let pos = 0;
  buf[pos++] = (1 << 3) | 0;
  pos = writeVarint(buf, pos, res.seq);
  if (res.code) {
    buf[pos++] = (2 << 3) | 0;
    pos = writeVarint(buf, pos, res.code);
  }
  for (const [tag, b] of [
    [(3 << 3) | 2, details],
    [(4 << 3) | 2, payload],
  ] as const) {
    if (!b) continue;
    buf[pos++] = tag;
    pos = writeVarint(buf, pos, b.length);
    buf.set(b, pos);
    pos += b.length;
  }
  if (us) {
    buf[pos++] = (5 << 3) | 0;
    pos = writeVarint(buf, pos, us);
  }
  return buf;
}

export function decodeStreamResult(buf: Buffer): StreamResult {
  const r = new Reader(buf);
  const out: StreamResult = { seq: 0, code: 0, details: '', payload: EMPTY, us: 0 };
  while (r.more) {
    const tag = r.varint();
    if (tag === ((1 << 3) | 0)) out.seq = r.varint();
    else if (tag === ((2 << 3) | 0)) out.code = r.varint() % 2 ** 32;
    else if (tag === ((3 << 3) | 2)) out.details = r.bytes().toString('utf8');
    // A copy: grpc-js may reuse its receive buffer.
    else if (tag === ((4 << 3) | 2)) out.payload = Buffer.from(r.bytes());
    else if (tag === ((5 << 3) | 0)) out.us = r.varint() % 2 ** 32;
    else r.skip(tag & 7);
  }
  return out;
}

const callsMethod: Grpc.MethodDefinition<StreamCall, StreamResult> = {
  path: FUNCTION_STREAM_PATH,
  requestStream: true,
  responseStream: true,
  requestSerialize: encodeStreamCall,
  requestDeserialize: decodeStreamCall,
  responseSerialize: encodeStreamResult,
  responseDeserialize: decodeStreamResult,
  originalName: 'calls',
};

/** The service definition, for `server.addService(functionStreamService, { Calls })`. */
export const functionStreamService = { Calls: callsMethod } as unknown as Grpc.ServiceDefinition;

/** Opens a Calls stream on a client's channel (any grpc-js Client, e.g. the FunctionClient). */
export function openFunctionStream(client: Grpc.Client, options: Grpc.CallOptions = {}): Grpc.ClientDuplexStream<StreamCall, StreamResult> {
  return client.makeBidiStreamRequest(FUNCTION_STREAM_PATH, encodeStreamCall, decodeStreamResult, options);
}
