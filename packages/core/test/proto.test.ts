import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { createFunctionClient, loadFunctionProto, type FunctionMessage } from '../src/function/proto.js';

test('function.proto round-trips a message over a real gRPC server, Timestamp as sint64', async () => {
  const proto = loadFunctionProto();
  const server = new grpc.Server();
  server.addService(proto.service, {
    Call: (call: grpc.ServerUnaryCall<FunctionMessage, FunctionMessage>, cb: grpc.sendUnaryData<FunctionMessage>) => {
      cb(null, { ...call.request, Payload: Buffer.from(`echo ${call.request.Payload.toString()}`) });
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  const client = createFunctionClient(`127.0.0.1:${port}`);
  const res = await new Promise<FunctionMessage>((resolve, reject) =>
    client.Call({ ID: 7, QOS: 1, Topic: 't', Payload: Buffer.from('x'), Timestamp: -5, FunctionName: 'f', FunctionInvokeID: 'u' }, (e, r) =>
      e || !r ? reject(e) : resolve(r),
    ),
  );
  assert.equal(res.Payload.toString(), 'echo x');
  assert.equal(res.Timestamp, -5);
  assert.equal(res.ID, 7);
  assert.equal(res.FunctionName, 'f');
  client.close();
  server.forceShutdown();
});

/** A varint, as protobuf writes it. */
function varint(n: bigint): number[] {
  const out: number[] = [];
  do {
    let b = Number(n & 0x7fn);
    n >>= 7n;
    if (n > 0n) b |= 0x80;
    out.push(b);
  } while (n > 0n);
  return out;
}

test('the wire bytes are those of Baetyl v1 (field numbers 1-4 and 10-12, Timestamp as zigzag sint64)', () => {
  // What Baetyl's Go manager sends for {"id":1} on t at QoS 1, built by hand from its .proto.
  const ts = 1574000000n;
  const str = (tag: number, s: string) => [tag, s.length, ...Buffer.from(s)];
  const baetyl = Buffer.from([
    0x08,
    ...varint(7n), // 1: ID uint64
    0x10,
    1, // 2: QOS uint32
    ...str(0x1a, 't'), // 3: Topic
    ...str(0x22, '{"id":1}'), // 4: Payload bytes
    0x50,
    ...varint(ts * 2n), // 10: Timestamp sint64, zigzag: 2n for n >= 0
    ...str(0x5a, 'python36-sayhi'), // 11: FunctionName
    ...str(0x62, '37bbbddc-44f0-4850-af87-47013c7f70f6'), // 12: FunctionInvokeID
  ]);
  const call = loadFunctionProto().service.Call!;
  const decoded = call.requestDeserialize(baetyl) as FunctionMessage;
  assert.equal(decoded.ID, 7);
  assert.equal(decoded.QOS, 1);
  assert.equal(decoded.Topic, 't');
  assert.equal(decoded.Payload.toString(), '{"id":1}');
  assert.equal(decoded.Timestamp, Number(ts));
  assert.equal(decoded.FunctionName, 'python36-sayhi');
  assert.equal(decoded.FunctionInvokeID, '37bbbddc-44f0-4850-af87-47013c7f70f6');
  // And ours encodes the same message to the same bytes, so a Baetyl runtime can serve our manager.
  assert.deepEqual(call.responseSerialize(decoded), baetyl);
  // A negative timestamp is zigzag too: -1 is 1 on the wire, not ten bytes of 0xff.
  const neg = call.requestSerialize({ Timestamp: -1 } as FunctionMessage);
  assert.deepEqual([...neg], [0x50, 0x01]);
});

test('the hand-written codec and proto-loader read function.proto the same way, both directions', async () => {
  const { createRequire } = await import('node:module');
  const protoLoader = createRequire(import.meta.url)('@grpc/proto-loader') as typeof import('@grpc/proto-loader');
  const { FUNCTION_PROTO_PATH } = await import('../src/function/proto.js');
  const def = protoLoader.loadSync(FUNCTION_PROTO_PATH, { keepCase: true, longs: Number, defaults: true, bytes: Buffer });
  const reference = (grpc.loadPackageDefinition(def) as unknown as { baetyl: { Function: grpc.ServiceClientConstructor } }).baetyl.Function.service.Call!;
  const ours = loadFunctionProto().service.Call!;
  const samples: Array<Partial<FunctionMessage>> = [
    {},
    { ID: 0, QOS: 0, Topic: '', Payload: Buffer.alloc(0), Timestamp: 0, FunctionName: '', FunctionInvokeID: '' },
    { ID: 65535, QOS: 1, Topic: 'a/b/ü', Payload: Buffer.alloc(300, 7), Timestamp: 1574000000, FunctionName: 'f', FunctionInvokeID: 'x' },
    { ID: 2 ** 40, QOS: 2, Timestamp: -1574000000, Payload: Buffer.from([0, 255, 128]) },
    { Timestamp: -1 },
    { Topic: 't'.repeat(20000), Payload: Buffer.alloc(200_000, 1) },
  ];
  for (let i = 0; i < 200; i++) {
    const rnd = (n: number) => Math.floor(Math.random() * n);
    samples.push({
      ID: rnd(2 ** 31),
      QOS: rnd(3),
      Topic: Math.random().toString(36).repeat(rnd(5)),
      Payload: Buffer.from(Array.from({ length: rnd(200) }, () => rnd(256))),
      Timestamp: rnd(2 ** 40) - 2 ** 39,
      FunctionName: rnd(2) ? 'python36-sayhi' : '',
      FunctionInvokeID: rnd(2) ? '37bbbddc-44f0-4850-af87-47013c7f70f6' : '',
    });
  }
  for (const m of samples) {
    const what = JSON.stringify({ ...m, Payload: m.Payload?.length }).slice(0, 200);
    const a = ours.requestSerialize(m as FunctionMessage);
    const b = reference.requestSerialize(m);
    // protobufjs also writes fields explicitly set to their default; Go (Baetyl) and we leave them out.
    // Both are valid proto3, so what each side reads is compared, in all four pairings.
    const expected = reference.responseDeserialize(b);
    assert.deepEqual(reference.responseDeserialize(a), expected, `proto-loader reads our bytes of ${what}`);
    assert.deepEqual(ours.responseDeserialize(b), expected, `we read proto-loader's bytes of ${what}`);
    assert.deepEqual(ours.responseDeserialize(a), expected, `we read our own bytes of ${what}`);
  }
  // Unknown fields (a newer peer) are skipped, as protobuf does.
  const extra = Buffer.concat([
    Buffer.from([0x30, 0x05, 0x3a, 0x02, 0x68, 0x69, 0x45, 1, 2, 3, 4, 0x39, 1, 2, 3, 4, 5, 6, 7, 8]),
    ours.requestSerialize({ Topic: 'x' } as FunctionMessage),
  ]);
  assert.equal((ours.requestDeserialize(extra) as FunctionMessage).Topic, 'x');
  assert.throws(() => ours.requestDeserialize(Buffer.from([0x1a, 0x05, 0x41])), /truncated/);
});

test('the stream codec and proto-loader read function-stream.proto the same way, both directions', async () => {
  const { createRequire } = await import('node:module');
  const protoLoader = createRequire(import.meta.url)('@grpc/proto-loader') as typeof import('@grpc/proto-loader');
  const { FUNCTION_PROTO_PATH } = await import('../src/function/proto.js');
  const { encodeStreamCall, decodeStreamCall, encodeStreamResult, decodeStreamResult } = await import('../src/function/stream.js');
  const file = FUNCTION_PROTO_PATH.replace(/function\.proto$/, 'function-stream.proto');
  const def = protoLoader.loadSync(file, {
    keepCase: true,
    longs: Number,
    defaults: true,
    bytes: Buffer,
    includeDirs: [FUNCTION_PROTO_PATH.replace(/\/function\.proto$/, '')],
  });
  const calls = (grpc.loadPackageDefinition(def) as unknown as { baetyl: { FunctionStream: grpc.ServiceClientConstructor } }).baetyl.FunctionStream.service
    .Calls!;
  const rnd = (n: number) => Math.floor(Math.random() * n);
  for (let i = 0; i < 100; i++) {
    const msg = {
      ID: rnd(65536),
      QOS: rnd(2),
      Topic: `t/${rnd(9)}`,
      Payload: Buffer.from(Array.from({ length: rnd(64) }, () => rnd(256))),
      Timestamp: rnd(2 ** 31) - 2 ** 30,
      FunctionName: 'f',
      FunctionInvokeID: rnd(2) ? 'id' : '',
    };
    const call = { seq: rnd(2 ** 40), timeout: rnd(2) ? rnd(60_000) : 0, msg };
    const ref = calls.requestDeserialize(encodeStreamCall(call)) as { seq: number; timeout: number; msg: typeof msg };
    assert.equal(ref.seq, call.seq);
    assert.equal(ref.timeout, call.timeout);
    assert.deepEqual({ ...ref.msg, Payload: Buffer.from(ref.msg.Payload) }, msg);
    assert.deepEqual(decodeStreamCall(calls.requestSerialize(call)), call);
    const res = { seq: rnd(2 ** 40), code: rnd(2) ? 0 : rnd(16), details: rnd(2) ? '' : 'boom', payload: Buffer.from(`r${i}`), us: rnd(2) ? rnd(2 ** 32) : 0 };
    assert.deepEqual(calls.responseDeserialize(encodeStreamResult(res)), res);
    assert.deepEqual(decodeStreamResult(calls.responseSerialize(res)), res);
  }
});
