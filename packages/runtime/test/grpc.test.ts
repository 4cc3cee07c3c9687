// The runtime's gRPC server (src/grpc on node:http2) against grpc-js, the function manager's
// client: real sockets, a stand-in executor so each case controls what the "function" answers.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { createFunctionClient, openFunctionStream, type FunctionClient, type FunctionMessage, type StreamResult } from '@baetyl/core';
import { createLogger } from '@baetyl/core/log/logger';
import { frameMessage, MessageDecoder, MessageError } from '../src/grpc/message.js';
import { deadlineFrom, encodeGrpcMessage } from '../src/grpc/metadata.js';
import type { CallResult, Executor } from '../src/host/executor.js';
import { serveFunctions, type RunningServer } from '../src/host/server.js';
import { call, message } from './helpers.js';

/** An executor whose answer each test sets; it records the deadlines it was given. */
class StandIn implements Executor {
  answer: (msg: FunctionMessage) => CallResult | Promise<CallResult> = (m) => ({ ok: true, payload: Buffer.from(`echo:${m.Payload.toString()}`) });
  deadlines: number[] = [];
  async start(): Promise<void> {}
  async call(msg: FunctionMessage, deadline: number): Promise<CallResult> {
    this.deadlines.push(deadline);
    return this.answer(msg);
  }
  async close(): Promise<void> {}
}

const logger = createLogger({ level: 'error' }, {}, { stderr: false });

async function serve(
  executor: Executor,
  extra: { timeoutMs?: number; concurrentMax?: number; maxMessageLength?: number; address?: string } = {},
): Promise<RunningServer> {
  return serveFunctions(executor, { address: extra.address ?? '127.0.0.1:0', maxMessageLength: extra.maxMessageLength ?? 1024, logger, ...extra });
}

describe('gRPC server (node:http2) with a grpc-js client', () => {
  const exec = new StandIn();
  let server: RunningServer;
  let client: FunctionClient;
  before(async () => {
    server = await serve(exec);
    client = createFunctionClient(`127.0.0.1:${server.port}`);
  });
  after(async () => {
    client.close();
    await server.close();
  });

  test('Call answers the request message with the payload replaced', async () => {
    exec.answer = (m) => ({ ok: true, payload: Buffer.from(`echo:${m.Payload.toString()}`) });
    const { res, err } = await call(client, message('f', '{"id":1}', { ID: 7, QOS: 1, Topic: 'a/b', Timestamp: 123 }));
    assert.equal(err, undefined);
    assert.equal(res!.Payload.toString(), 'echo:{"id":1}');
    assert.deepEqual([res!.ID, res!.QOS, res!.Topic, res!.Timestamp, res!.FunctionName], [7, 1, 'a/b', 123, 'f']);
  });

  test('a status text with non-ASCII characters and "%" arrives intact (percent-encoded on the wire)', async () => {
    const details = "Exception calling application: ('[UserCodeInvoke]', Error: 100% héllo ✓\nline two)";
    exec.answer = () => ({ ok: false, code: grpc.status.UNKNOWN, details });
    const { err } = await call(client, message('f', '{}'));
    assert.equal(err?.code, grpc.status.UNKNOWN);
    assert.equal(err?.details, details);
  });

  test("the caller's grpc-timeout becomes the executor's deadline", async () => {
    exec.answer = () => ({ ok: true, payload: Buffer.alloc(0) });
    exec.deadlines = [];
    const sent = Date.now();
    await call(client, message('f', '{}'), 5000);
    const d = exec.deadlines[0]!;
    assert.ok(Number.isFinite(d), 'a deadline was passed');
    assert.ok(d > sent && d <= sent + 5000 + 50, `deadline ${d - sent} ms after the call, expected at most 5000`);
  });

  test('a request larger than message.length.max is refused with RESOURCE_EXHAUSTED', async () => {
    const { err } = await call(client, message('f', Buffer.alloc(2000, 'x')));
    assert.equal(err?.code, grpc.status.RESOURCE_EXHAUSTED);
    assert.match(err!.details, /Received message larger than max \(\d+ vs\. 1024\)/);
  });

  test('an answer larger than message.length.max fails with RESOURCE_EXHAUSTED', async () => {
    exec.answer = () => ({ ok: true, payload: Buffer.alloc(2000, 'y') });
    const { err } = await call(client, message('f', '{}'));
    assert.equal(err?.code, grpc.status.RESOURCE_EXHAUSTED);
    assert.equal(err!.details, 'result of 2000 bytes (2053 as a gRPC message) is over the limit of 1024 bytes (message.length.max)');
  });

  test('an unknown method is UNIMPLEMENTED', async () => {
    const err = await new Promise<grpc.ServiceError | null>((resolve) => {
      client.makeUnaryRequest(
        '/baetyl.Function/Nope',
        (b: Buffer) => b,
        (b: Buffer) => b,
        Buffer.alloc(0),
        (e) => resolve(e),
      );
    });
    assert.equal(err?.code, grpc.status.UNIMPLEMENTED);
    assert.match(err!.details, /\/baetyl\.Function\/Nope/);
  });

  test('FunctionStream: calls answered by seq with their status, the stream ends OK after the last', async () => {
    exec.answer = async (m) => {
      const n = JSON.parse(m.Payload.toString()) as { n: number; wait: number };
      await new Promise((r) => setTimeout(r, n.wait));
      return n.n % 2 ? { ok: false, code: grpc.status.UNKNOWN, details: `odd ${n.n}` } : { ok: true, payload: Buffer.from(`even ${n.n}`) };
    };
    const stream = openFunctionStream(client);
    const results: StreamResult[] = [];
    stream.on('data', (r: StreamResult) => results.push(r));
    const ended = new Promise<grpc.StatusObject>((resolve) => stream.on('status', resolve));
    // Later calls finish first: answers come as calls finish, matched by seq.
    for (let i = 1; i <= 4; i++) stream.write({ seq: i, timeout: 5000, msg: message('f', JSON.stringify({ n: i, wait: (5 - i) * 20 })) as FunctionMessage });
    stream.end();
    assert.equal((await ended).code, grpc.status.OK);
    const bySeq = Object.fromEntries(results.map((r) => [r.seq, r.code === 0 ? r.payload.toString() : `${r.code}:${r.details}`]));
    assert.deepEqual(bySeq, { 1: `${grpc.status.UNKNOWN}:odd 1`, 2: 'even 2', 3: `${grpc.status.UNKNOWN}:odd 3`, 4: 'even 4' });
    assert.deepEqual(
      results.map((r) => r.seq),
      [4, 3, 2, 1],
    );
  });

  test("FunctionStream: each result carries the executor's handler time (us), at least 1 when measured, 0 when not", async () => {
    exec.answer = (m) => {
      const n = Number(m.Payload.toString());
      if (n === 1) return { ok: true, payload: Buffer.from('a'), us: 1234 };
      if (n === 2) return { ok: false, code: grpc.status.UNKNOWN, details: 'boom', us: 0 };
      return { ok: true, payload: Buffer.from('c') };
    };
    const stream = openFunctionStream(client);
    const results: StreamResult[] = [];
    stream.on('data', (r: StreamResult) => results.push(r));
    const ended = new Promise<grpc.StatusObject>((resolve) => stream.on('status', resolve));
    for (let i = 1; i <= 3; i++) stream.write({ seq: i, timeout: 5000, msg: message('f', String(i)) as FunctionMessage });
    stream.end();
    assert.equal((await ended).code, grpc.status.OK);
    assert.deepEqual(Object.fromEntries(results.map((r) => [r.seq, r.us])), { 1: 1234, 2: 1, 3: 0 });
  });

  test('FunctionStream: a result over message.length.max fails that call only, naming the limit and the size', async () => {
    exec.answer = (m) => ({ ok: true, payload: Buffer.alloc(Number(m.Payload.toString()), 'z') });
    const stream = openFunctionStream(client);
    const results: StreamResult[] = [];
    stream.on('data', (r: StreamResult) => results.push(r));
    const ended = new Promise<grpc.StatusObject>((resolve) => stream.on('status', resolve));
    stream.write({ seq: 1, timeout: 5000, msg: message('f', '5000') as FunctionMessage });
    stream.write({ seq: 2, timeout: 5000, msg: message('f', '10') as FunctionMessage });
    stream.end();
    // Written as it was, the big answer would have ended the stream and the call behind it.
    assert.equal((await ended).code, grpc.status.OK);
    const by = new Map(results.map((r) => [r.seq, r]));
    assert.equal(by.get(1)!.code, grpc.status.RESOURCE_EXHAUSTED);
    assert.match(by.get(1)!.details, /^result of 5000 bytes \(50\d\d as a gRPC message\) is over the limit of 1024 bytes \(message\.length\.max\)$/);
    assert.equal(by.get(2)!.code, 0);
    assert.equal(by.get(2)!.payload.toString(), 'z'.repeat(10));
  });
});

test('server.timeout caps the deadline; server.concurrent.max refuses with RESOURCE_EXHAUSTED on both methods', async () => {
  const exec = new StandIn();
  let release: () => void = () => undefined;
  const held = new Promise<void>((r) => (release = r));
  const server = await serve(exec, { timeoutMs: 1000, concurrentMax: 1 });
  const client = createFunctionClient(`127.0.0.1:${server.port}`);
  try {
    exec.answer = async () => {
      await held;
      return { ok: true, payload: Buffer.from('done') };
    };
    const sent = Date.now();
    const first = call(client, message('f', '{}'), 60000);
    while (exec.deadlines.length === 0) await new Promise((r) => setTimeout(r, 5));
    assert.ok(exec.deadlines[0]! <= sent + 1000 + 50, 'server.timeout (1 s) shortened the 60 s deadline');
    const refused = await call(client, message('f', '{}'));
    assert.equal(refused.err?.code, grpc.status.RESOURCE_EXHAUSTED);
    assert.match(refused.err!.details, /server\.concurrent\.max is 1/);
    const stream = openFunctionStream(client);
    // Cancelling below ends the stream with CANCELLED, as the caller asked.
    stream.on('error', () => undefined);
    const answer = new Promise<StreamResult>((resolve) => stream.once('data', resolve));
    stream.write({ seq: 9, timeout: 0, msg: message('f', '{}') as FunctionMessage });
    const r = await answer;
    assert.deepEqual([r.seq, r.code], [9, grpc.status.RESOURCE_EXHAUSTED]);
    stream.cancel();
    release();
    assert.equal((await first).res!.Payload.toString(), 'done');
  } finally {
    client.close();
    await server.close();
  }
});

test('a unix socket address is served; close() lets a running call finish', async () => {
  const exec = new StandIn();
  const path = join(tmpdir(), `baetyl-grpc-${process.pid}.sock`);
  const server = await serve(exec, { address: `unix://${path}` });
  const client = createFunctionClient(`unix:${path}`);
  try {
    exec.answer = async () => {
      await new Promise((r) => setTimeout(r, 200));
      return { ok: true, payload: Buffer.from('finished') };
    };
    const running = call(client, message('f', '{}'));
    while (exec.deadlines.length === 0) await new Promise((r) => setTimeout(r, 5));
    const closed = server.close(5000);
    assert.equal((await running).res?.Payload.toString(), 'finished');
    await closed;
  } finally {
    client.close();
  }
});

test('length-prefixed messages are cut out of chunks split anywhere; an oversized one is refused before it is buffered', () => {
  const wire = Buffer.concat([frameMessage(Buffer.from('one')), frameMessage(Buffer.alloc(0)), frameMessage(Buffer.from('three'))]);
  for (let cut = 0; cut <= wire.length; cut++) {
    const got: string[] = [];
    const d = new MessageDecoder(100, (m) => got.push(m.toString()));
    d.push(wire.subarray(0, cut));
    d.push(wire.subarray(cut));
    assert.deepEqual(got, ['one', '', 'three']);
    assert.equal(d.partial, false);
  }
  const big = Buffer.alloc(5);
  big.writeUInt32BE(1 << 30, 1);
  assert.throws(
    () => new MessageDecoder(100, () => undefined).push(big),
    (e: unknown) => e instanceof MessageError && e.code === grpc.status.RESOURCE_EXHAUSTED,
  );
  const compressed = Buffer.from([1, 0, 0, 0, 0]);
  assert.throws(
    () => new MessageDecoder(100, () => undefined).push(compressed),
    (e: unknown) => e instanceof MessageError && e.code === grpc.status.UNIMPLEMENTED,
  );
});

test('grpc-timeout units and grpc-message percent-encoding', () => {
  assert.equal(deadlineFrom('30S', 1000), 31000);
  assert.equal(deadlineFrom('2M', 0), 120000);
  assert.equal(deadlineFrom('1H', 0), 3600000);
  assert.equal(deadlineFrom('250m', 0), 250);
  assert.equal(deadlineFrom('5000u', 0), 5);
  assert.equal(deadlineFrom('123456789S', 0), Infinity, 'more than 8 digits is malformed');
  assert.equal(deadlineFrom(undefined, 0), Infinity);
  assert.equal(encodeGrpcMessage('plain text: ok'), 'plain text: ok');
  assert.equal(encodeGrpcMessage('100% é\n'), '100%25 %C3%A9%0A');
});

test("close() ends an open FunctionStream with OK once its calls are answered (the manager's stream never ends by itself)", async () => {
  const exec = new StandIn();
  const server = await serve(exec);
  const client = createFunctionClient(`127.0.0.1:${server.port}`);
  try {
    const stream = openFunctionStream(client);
    const results: StreamResult[] = [];
    stream.on('data', (r: StreamResult) => results.push(r));
    const ended = new Promise<grpc.StatusObject>((resolve) => stream.on('status', resolve));
    stream.write({ seq: 1, timeout: 5000, msg: message('f', 'a') as FunctionMessage });
    while (results.length === 0) await new Promise((r) => setTimeout(r, 5));
    // Cut after the grace, the stream would end with an error status instead.
    await server.close(2000);
    const st = await ended;
    assert.equal(st.code, grpc.status.OK, st.details);
    assert.deepEqual(
      results.map((r) => [r.seq, r.payload.toString()]),
      [[1, 'echo:a']],
    );
  } finally {
    client.close();
  }
});
