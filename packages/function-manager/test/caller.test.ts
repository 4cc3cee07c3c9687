// How the manager calls an instance: on one FunctionStream per instance when the runtime serves
// it (ours), else with v1's unary Call, decided by the runtime's UNIMPLEMENTED answer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { createFunctionClient, functionStreamService, loadFunctionProto, type FunctionMessage, type StreamCall, type StreamResult } from '@baetyl/core';
import { CallError, InstanceCaller } from '../src/call/caller.js';

interface Counts {
  unary: number;
  streamed: number;
}

async function server(withStream: boolean, counts: Counts): Promise<{ port: number; stop: () => void }> {
  const s = new grpc.Server();
  s.addService(loadFunctionProto().service, {
    Call: (call: grpc.ServerUnaryCall<FunctionMessage, FunctionMessage>, cb: grpc.sendUnaryData<FunctionMessage>) => {
      counts.unary++;
      cb(null, { ...call.request, Payload: Buffer.from(`unary:${call.request.Payload.toString()}`) });
    },
  });
  if (withStream) {
    s.addService(functionStreamService, {
      Calls: (stream: grpc.ServerDuplexStream<StreamCall, StreamResult>) => {
        stream.on('data', (c: StreamCall) => {
          counts.streamed++;
          const text = c.msg.Payload.toString();
          // Answers out of order, and one of them an error, and one never: seq matches them up.
          if (text === 'hang') return;
          const res: StreamResult =
            text === 'fail'
              ? { seq: c.seq, code: grpc.status.UNKNOWN, details: 'Exception calling application: boom', payload: Buffer.alloc(0) }
              : { seq: c.seq, code: 0, details: '', payload: Buffer.from(`stream:${text}:${c.timeout > 0}`) };
          setTimeout(() => stream.write(res), text === 'slow' ? 50 : 0);
        });
        stream.on('end', () => stream.end());
      },
    });
  }
  const port = await new Promise<number>((resolve, reject) =>
    s.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  return { port, stop: () => s.forceShutdown() };
}

const msg = (payload: string): FunctionMessage => ({
  ID: 0,
  QOS: 0,
  Topic: 't',
  Payload: Buffer.from(payload),
  Timestamp: 0,
  FunctionName: 'f',
  FunctionInvokeID: 'x',
});

test('calls go on one stream when the runtime serves it; answers are matched by seq', async () => {
  const counts = { unary: 0, streamed: 0 };
  const srv = await server(true, counts);
  const client = createFunctionClient(`127.0.0.1:${srv.port}`);
  const caller = new InstanceCaller(client);
  try {
    const [slow, fast, failed] = await Promise.allSettled([caller.call(msg('slow'), 5000), caller.call(msg('fast'), 5000), caller.call(msg('fail'), 5000)]);
    assert.equal(slow.status === 'fulfilled' && slow.value.Payload.toString(), 'stream:slow:true');
    assert.equal(fast.status === 'fulfilled' && fast.value.Payload.toString(), 'stream:fast:true');
    assert.ok(failed.status === 'rejected' && failed.reason instanceof CallError);
    assert.equal((failed as PromiseRejectedResult).reason.code, grpc.status.UNKNOWN);
    assert.equal((failed as PromiseRejectedResult).reason.details, 'Exception calling application: boom');
    // A call the runtime never answers fails at its deadline, like a unary call's.
    await assert.rejects(caller.call(msg('hang'), 200), (e: CallError) => e.code === grpc.status.DEADLINE_EXCEEDED && /^Deadline exceeded/.test(e.details));
    assert.deepEqual(counts, { unary: 0, streamed: 4 });
  } finally {
    caller.close();
    client.close();
    srv.stop();
  }
});

test('a runtime without the stream (Baetyl v1) gets unary Calls, the first ones included', async () => {
  const counts = { unary: 0, streamed: 0 };
  const srv = await server(false, counts);
  const client = createFunctionClient(`127.0.0.1:${srv.port}`);
  const caller = new InstanceCaller(client);
  try {
    const first = await Promise.all([caller.call(msg('a'), 5000), caller.call(msg('b'), 5000)]);
    assert.deepEqual(
      first.map((m) => m.Payload.toString()),
      ['unary:a', 'unary:b'],
    );
    assert.equal((await caller.call(msg('c'), 5000)).Payload.toString(), 'unary:c');
    assert.deepEqual(counts, { unary: 3, streamed: 0 });
  } finally {
    caller.close();
    client.close();
    srv.stop();
  }
});

test('when the runtime goes away, the calls on its stream fail UNAVAILABLE', async () => {
  const counts = { unary: 0, streamed: 0 };
  const srv = await server(true, counts);
  const client = createFunctionClient(`127.0.0.1:${srv.port}`);
  const caller = new InstanceCaller(client);
  try {
    const hanging = caller.call(msg('hang'), 10_000);
    await new Promise((r) => setTimeout(r, 100));
    srv.stop();
    await assert.rejects(hanging, (e: CallError) => e.code === grpc.status.UNAVAILABLE || e.code === grpc.status.CANCELLED);
  } finally {
    caller.close();
    client.close();
  }
});
