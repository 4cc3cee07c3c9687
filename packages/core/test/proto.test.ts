import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { createFunctionClient, loadFunctionProto, type FunctionMessage } from '../src/index.js';

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
    client.Call({ ID: 7, QOS: 1, Topic: 't', Payload: Buffer.from('x'), Timestamp: -5, FunctionName: 'f', FunctionInvokeID: 'u' }, (e, r) => (e || !r ? reject(e) : resolve(r))),
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
    0x08, ...varint(7n), // 1: ID uint64
    0x10, 1, // 2: QOS uint32
    ...str(0x1a, 't'), // 3: Topic
    ...str(0x22, '{"id":1}'), // 4: Payload bytes
    0x50, ...varint(ts * 2n), // 10: Timestamp sint64, zigzag: 2n for n >= 0
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
