// The python27/python36 runtime's gRPC server (packages/runtime/python, HTTP/2 written in Python)
// against two independent gRPC implementations: grpc-js (the function manager's client) and
// gRPC's C core (Debian's python3-grpcio, support/grpcio_client.py, raw bytes, no generated
// code), plus the function manager's InstanceCaller on top of grpc-js. Unary baetyl.Function/Call
// and the baetyl.FunctionStream/Calls stream, over TCP in cleartext and TLS with client
// certificates, and over a unix socket, on both interpreters.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { createFunctionClient, openFunctionStream, type FunctionClient, type FunctionMessage, type StreamCall, type StreamResult } from '@baetyl/core';
import { issueCert, makeCa, waitFor } from '@baetyl/test-support';
import { call, cleanup, message, serviceDir, startRuntimeProcess, type RuntimeProc } from './helpers.js';
import { grpcioSkip, runGrpcio, wireMsg, type StreamOutcome, type UnaryOutcome } from './support/grpcio.js';
import { stopShared } from './support/instance.js';

const KINDS = ['python27', 'python36'] as const;
type Kind = (typeof KINDS)[number];

const HANDLERS_PY = `# -*- coding:utf-8 -*-
import time


def echo(event, context):
    return event


def boom(event, context):
    raise ValueError(u'caf\\u00e9 100% \\u2713')


def boom_bytes(event, context):
    raise ValueError(b'\\xff\\xfe not UTF-8')


def sleepy(event, context):
    time.sleep(event['sleep'])
    return {'slept': event['sleep']}


def big(event, context):
    return b'x' * event['n']
`;

const FUNCTIONS = ['echo', 'boom', 'boom_bytes', 'sleepy', 'big'];

function conf(server: string): string {
  const fns = FUNCTIONS.map((f) => `  - name: ${f}\n    handler: handlers.${f}\n    codedir: code\n`).join('');
  return `functions:\n${fns}server:\n${server}`;
}

/** v1's details for a raising handler: the repr of the exception, as each interpreter writes it. */
const BOOM_DETAILS: Record<Kind, string> = {
  python27: `Exception calling application: ('[UserCodeInvoke] ', ValueError(u'caf\\xe9 100% \\u2713',))`,
  python36: `Exception calling application: ('[UserCodeInvoke] ', ValueError('café 100% ✓',))`,
};
const BOOM_BYTES_DETAILS: Record<Kind, string> = {
  python27: `Exception calling application: ('[UserCodeInvoke] ', ValueError('\\xff\\xfe not UTF-8',))`,
  python36: `Exception calling application: ('[UserCodeInvoke] ', ValueError(b'\\xff\\xfe not UTF-8',))`,
};
const SLEEPY_DEADLINE = 'Deadline Exceeded: function "sleepy" did not finish in time; its worker was replaced';

/** Bytes that are not JSON (nor UTF-8), so the handler gets them as bytes and returns them raw. */
function binary(n: number, seed: number): Buffer {
  const b = Buffer.alloc(n);
  b[0] = 0xff;
  for (let i = 1; i < n; i++) b[i] = (i * 31 + seed * 7) & 0xff;
  return b;
}

function msg(fn: string, payload: Buffer | string, extra: Partial<FunctionMessage> = {}): FunctionMessage {
  return message(fn, payload, {
    ID: 7,
    QOS: 1,
    Topic: 'interop/t',
    Timestamp: 1700000123,
    FunctionInvokeID: '0f8c5f1e-2b7d-4a55-9c1e-6d2b9a3e4f10',
    ...extra,
  }) as FunctionMessage;
}

/** A grpc-js unary call that also collects the response metadata and the status' trailers. */
function callWithMetadata(
  client: FunctionClient,
  m: FunctionMessage,
  md: grpc.Metadata,
): Promise<{ err?: grpc.ServiceError; res?: FunctionMessage; initial?: grpc.Metadata; status: grpc.StatusObject }> {
  return new Promise((resolve) => {
    let initial: grpc.Metadata | undefined;
    let result: { err?: grpc.ServiceError; res?: FunctionMessage } | undefined;
    let status: grpc.StatusObject | undefined;
    const done = () => {
      if (result && status) resolve({ ...result, initial, status });
    };
    type WithMetadata = (
      m: FunctionMessage,
      md: grpc.Metadata,
      o: grpc.CallOptions,
      cb: (err: grpc.ServiceError | null, res?: FunctionMessage) => void,
    ) => grpc.ClientUnaryCall;
    const c = (client.Call as unknown as WithMetadata).call(client, m, md, { deadline: Date.now() + 60000 }, (err, res) => {
      result = err ? { err } : { res: res! };
      done();
    });
    // Re-typed: ClientUnaryCall's on() is typed for its events.
    (c as unknown as NodeJS.EventEmitter).on('metadata', (md2: grpc.Metadata) => (initial = md2));
    (c as unknown as NodeJS.EventEmitter).on('status', (s: grpc.StatusObject) => {
      status = s;
      done();
    });
  });
}

/** Sends calls on one FunctionStream and collects every result and the final status. */
function streamCalls(client: grpc.Client, calls: StreamCall[]): Promise<{ results: StreamResult[]; status: grpc.StatusObject; error?: grpc.ServiceError }> {
  return new Promise((resolve) => {
    const results: StreamResult[] = [];
    const s = openFunctionStream(client, { deadline: Date.now() + 60000 });
    let error: grpc.ServiceError | undefined;
    s.on('data', (r: StreamResult) => results.push(r));
    s.on('error', (e: grpc.ServiceError) => (error = e));
    s.on('status', (status: grpc.StatusObject) => resolve({ results, status, error }));
    for (const c of calls) s.write(c);
    s.end();
  });
}

/** The function manager's caller (packages/function-manager/src/call/caller.ts), from its build. */
interface InstanceCallerLike {
  call(msg: FunctionMessage, timeout: number): Promise<FunctionMessage>;
  close(): void;
}
async function instanceCaller(client: FunctionClient): Promise<InstanceCallerLike> {
  // Not a dependency of this package: loaded from the function manager's compiled output.
  const url = new URL('../../../function-manager/dist/src/call/caller.js', import.meta.url).href;
  const mod = (await import(url)) as { InstanceCaller: new (c: FunctionClient) => InstanceCallerLike };
  return new mod.InstanceCaller(client);
}

function bySeq<T extends { seq: number }>(rs: T[]): Map<number, T> {
  return new Map(rs.map((r) => [r.seq, r]));
}

/** The calls both clients send on a stream: results by seq, some failing, one past its own deadline. */
function streamPlan(): StreamCall[] {
  return [
    { seq: 1, timeout: 30000, msg: msg('echo', binary(100, 1)) },
    { seq: 2, timeout: 30000, msg: msg('boom', '{}') },
    { seq: 3, timeout: 30000, msg: msg('echo', binary(70000, 3)) },
    { seq: 4, timeout: 30000, msg: msg('nosuch', '{}') },
    { seq: 5, timeout: 1000, msg: msg('sleepy', '{"sleep": 30}') },
    { seq: 6, timeout: 30000, msg: msg('echo', binary(1, 6)) },
  ];
}

function checkStreamResults(kind: Kind, got: Map<number, { code: number; details: string; payload: Buffer }>): void {
  assert.deepEqual(
    [...got.keys()].sort((a, b) => a - b),
    [1, 2, 3, 4, 5, 6],
  );
  assert.equal(got.get(1)!.code, grpc.status.OK);
  assert.ok(got.get(1)!.payload.equals(binary(100, 1)));
  assert.equal(got.get(2)!.code, grpc.status.UNKNOWN);
  assert.equal(got.get(2)!.details, BOOM_DETAILS[kind]);
  assert.equal(got.get(3)!.code, grpc.status.OK);
  assert.ok(got.get(3)!.payload.equals(binary(70000, 3)), 'a 70 kB result spans several DATA frames and window updates');
  assert.equal(got.get(4)!.code, grpc.status.UNKNOWN);
  assert.equal(got.get(4)!.details, 'Exception calling application: function not found');
  assert.equal(got.get(5)!.code, grpc.status.DEADLINE_EXCEEDED);
  assert.equal(got.get(5)!.details, SLEEPY_DEADLINE);
  // The call after the one whose worker was replaced runs on the new worker.
  assert.equal(got.get(6)!.code, grpc.status.OK);
  assert.ok(got.get(6)!.payload.equals(binary(1, 6)));
}

interface Certs {
  dir: string;
  ca: string;
  serverKey: string;
  serverCert: string;
  clientKey: string;
  clientCert: string;
  /** A client certificate from a CA the server does not trust. */
  strangerKey: string;
  strangerCert: string;
}

function makeCerts(dir: string): Certs {
  for (const ca of ['ca', 'other-ca']) makeCa(dir, ca, { key: 'rsa' });
  for (const [who, ca] of [
    ['server', 'ca'],
    ['client', 'ca'],
    ['stranger', 'other-ca'],
  ] as const) {
    issueCert(dir, ca, who, { cn: who === 'server' ? 'localhost' : who, ext: 'subjectAltName=IP:127.0.0.1,DNS:localhost\n', key: 'rsa' });
  }
  const p = (f: string) => join(dir, f);
  return {
    dir,
    ca: p('ca.pem'),
    serverKey: p('server.key'),
    serverCert: p('server.pem'),
    clientKey: p('client.key'),
    clientCert: p('client.pem'),
    strangerKey: p('stranger.key'),
    strangerCert: p('stranger.pem'),
  };
}

function unaryOutcome(o: UnaryOutcome | StreamOutcome): UnaryOutcome {
  assert.ok('response' in o, 'a unary outcome');
  return o;
}

function streamOutcome(o: UnaryOutcome | StreamOutcome): StreamOutcome {
  assert.ok('results' in o, 'a stream outcome');
  return o;
}

for (const kind of KINDS) {
  describe(`${kind} runtime: gRPC interop (cleartext)`, () => {
    let dir: string;
    let rt: RuntimeProc;

    before(async () => {
      // server.timeout caps unary calls (grpc-js and grpcio would enforce their own deadline
      // first, with their own text); stream calls carry their own timeout.
      dir = serviceDir({ 'etc/baetyl/service.yml': conf('  timeout: 3s\n  workers:\n    max: 1\n'), 'code/handlers.py': HANDLERS_PY });
      rt = await startRuntimeProcess(kind, dir);
    });
    after(async () => {
      await stopShared(rt);
      cleanup(dir);
    });

    test('grpc-js unary: binary payloads come back byte for byte, the other fields echoed', async () => {
      for (const n of [1, 1000, 16384, 100000]) {
        const m = msg('echo', binary(n, n));
        const { err, res } = await call(rt.client, m);
        assert.equal(err, undefined, err?.details);
        assert.ok(res!.Payload.equals(m.Payload), `payload of ${n} bytes`);
        assert.deepEqual({ ...res!, Payload: undefined }, { ...m, Payload: undefined });
      }
    });

    test("grpc-js unary: a raising handler is UNKNOWN with v1's text (non-ASCII and % percent-encoded on the wire)", async () => {
      const { err } = await call(rt.client, msg('boom', '{}'));
      assert.equal(err?.code, grpc.status.UNKNOWN);
      assert.equal(err?.details, BOOM_DETAILS[kind]);
    });

    test('grpc-js unary: an exception carrying bytes beyond UTF-8 is UNKNOWN with its repr, on the same worker', async () => {
      const { err } = await call(rt.client, msg('boom_bytes', '{}'));
      assert.equal(err?.code, grpc.status.UNKNOWN, err?.details);
      assert.equal(err?.details, BOOM_BYTES_DETAILS[kind]);
      assert.doesNotMatch(rt.stderr(), /UnicodeDecodeError/);
    });

    test('grpc-js unary: metadata is accepted and not echoed; OK has no trailers beyond the status', async () => {
      const md = new grpc.Metadata();
      md.set('x-custom', 'value');
      md.set('x-blob-bin', Buffer.from([0, 1, 2, 255]));
      const r = await callWithMetadata(rt.client, msg('echo', binary(10, 2)), md);
      assert.equal(r.err, undefined, r.err?.details);
      assert.equal(r.status.code, grpc.status.OK);
      assert.deepEqual(r.status.metadata.getMap(), {});
      assert.equal(r.initial?.get('x-custom').length, 0);
      const failed = await callWithMetadata(rt.client, msg('boom', '{}'), md);
      assert.equal(failed.status.code, grpc.status.UNKNOWN);
      // An error is answered trailers-only (RFC-style "Trailers-Only"): the one header block holds
      // what the response headers would have, and nothing of the request's.
      assert.deepEqual(failed.status.metadata.getMap(), { 'content-type': 'application/grpc', 'grpc-accept-encoding': 'identity' });
    });

    test("grpc-js unary: a handler slower than server.timeout is DEADLINE_EXCEEDED with the runtime's text", async () => {
      const { err } = await call(rt.client, msg('sleepy', '{"sleep": 30}'), 60000);
      assert.equal(err?.code, grpc.status.DEADLINE_EXCEEDED);
      assert.equal(err?.details, SLEEPY_DEADLINE);
      const next = await call(rt.client, msg('echo', binary(5, 5)));
      assert.equal(next.err, undefined, next.err?.details);
    });

    test('grpc-js stream: results by seq, failures per call, the stream ends OK', async () => {
      const r = await streamCalls(rt.client, streamPlan());
      assert.equal(r.error, undefined, r.error?.details);
      assert.equal(r.status.code, grpc.status.OK);
      checkStreamResults(kind, bySeq(r.results));
    });

    test("the function manager's InstanceCaller: many calls on its FunctionStream, failures as CallErrors", async () => {
      const client = createFunctionClient(rt.address);
      const caller = await instanceCaller(client);
      try {
        const oks = await Promise.all(Array.from({ length: 50 }, (_, i) => caller.call(msg('echo', binary(100 + i, i)), 30000)));
        oks.forEach((r, i) => {
          assert.ok(r.Payload.equals(binary(100 + i, i)));
          assert.equal(r.FunctionName, 'echo');
        });
        const boom = await caller.call(msg('boom', '{}'), 30000).then(
          () => undefined,
          (e: { code: number; details: string }) => e,
        );
        assert.equal(boom?.code, grpc.status.UNKNOWN);
        assert.equal(boom?.details, BOOM_DETAILS[kind]);
        // The caller's own timer and the runtime's (the call's timeout on the stream) race; both say DEADLINE_EXCEEDED.
        const slow = await caller.call(msg('sleepy', '{"sleep": 30}'), 1000).then(
          () => undefined,
          (e: { code: number }) => e,
        );
        assert.equal(slow?.code, grpc.status.DEADLINE_EXCEEDED);
        const after = await caller.call(msg('echo', binary(7, 7)), 30000);
        assert.ok(after.Payload.equals(binary(7, 7)));
      } finally {
        caller.close();
        client.close();
      }
    });

    test('grpc-js: an unknown method is UNIMPLEMENTED', async () => {
      const err = await new Promise<grpc.ServiceError | null>((resolve) =>
        rt.client.makeUnaryRequest(
          '/baetyl.Function/Nope',
          (b: Buffer) => b,
          (b: Buffer) => b,
          Buffer.alloc(0),
          (e) => resolve(e),
        ),
      );
      assert.equal(err?.code, grpc.status.UNIMPLEMENTED);
      assert.equal(err?.details, 'Method not found: /baetyl.Function/Nope');
    });

    test('grpcio unary: payloads byte for byte, the response echoes the request', { skip: grpcioSkip }, async () => {
      const sizes = [1, 1000, 16384, 100000];
      const out = await runGrpcio({ target: rt.address, ops: sizes.map((n) => ({ kind: 'unary' as const, msg: wireMsg(msg('echo', binary(n, n))) })) });
      out.forEach((o, i) => {
        const u = unaryOutcome(o);
        assert.equal(u.code, 0, u.details ?? '');
        const m = msg('echo', binary(sizes[i]!, sizes[i]!));
        assert.ok(Buffer.from(u.response!.Payload, 'base64').equals(m.Payload), `payload of ${sizes[i]} bytes`);
        assert.deepEqual({ ...u.response, Payload: '' }, { ...wireMsg(m), Payload: '' });
      });
    });

    test("grpcio unary: UNKNOWN with v1's text, DEADLINE_EXCEEDED with the runtime's; metadata not echoed", { skip: grpcioSkip }, async () => {
      const out = await runGrpcio({
        target: rt.address,
        ops: [
          { kind: 'unary', msg: wireMsg(msg('boom', '{}')), metadata: [['x-custom', 'value']] },
          { kind: 'unary', msg: wireMsg(msg('sleepy', '{"sleep": 30}')), timeout: 60 },
          { kind: 'unary', msg: wireMsg(msg('echo', binary(3, 3))), metadata: [['x-custom', 'value']] },
        ],
      });
      const [boom, slow, ok] = out.map(unaryOutcome);
      assert.equal(boom!.code, grpc.status.UNKNOWN);
      assert.equal(boom!.details, BOOM_DETAILS[kind]);
      assert.deepEqual(boom!.trailing_metadata, []);
      assert.equal(slow!.code, grpc.status.DEADLINE_EXCEEDED);
      assert.equal(slow!.details, SLEEPY_DEADLINE);
      assert.equal(ok!.code, grpc.status.OK);
      assert.deepEqual(
        ok!.initial_metadata.filter(([k]) => k === 'x-custom'),
        [],
      );
      assert.deepEqual(ok!.trailing_metadata, []);
    });

    test('a compressed request (grpc-encoding gzip) is UNIMPLEMENTED, naming what the runtime takes: grpcio and grpc-js', { skip: grpcioSkip }, async () => {
      const text = 'grpc-encoding gzip is not supported; this runtime takes identity only';
      const [o] = await runGrpcio({ target: rt.address, ops: [{ kind: 'unary', msg: wireMsg(msg('echo', binary(300, 1))), compression: 'gzip' }] });
      const u = unaryOutcome(o!);
      assert.equal(u.code, grpc.status.UNIMPLEMENTED);
      assert.equal(u.details, text);
      const gz = createFunctionClient(rt.address, undefined, { 'grpc.default_compression_algorithm': 2 });
      try {
        const { err } = await call(gz, msg('echo', binary(300, 1)));
        assert.equal(err?.code, grpc.status.UNIMPLEMENTED);
        assert.equal(err?.details, text);
      } finally {
        gz.close();
      }
    });

    test("grpcio: 120 calls with large distinct metadata (C core's HPACK encoder: indexing, evictions, Huffman)", { skip: grpcioSkip }, async () => {
      const ops = Array.from({ length: 120 }, (_, i) => ({
        kind: 'unary' as const,
        msg: wireMsg(msg('echo', binary(30, i))),
        metadata: [
          [`x-meta-${i % 9}`, `value ${i} `.repeat(90)],
          ['x-common', 'the same on every call'],
          [`x-other-${i % 4}`, `${i}`.repeat(300)],
        ] as Array<[string, string]>,
      }));
      const out = await runGrpcio({ target: rt.address, ops });
      out.forEach((o, i) => {
        const u = unaryOutcome(o);
        assert.equal(u.code, 0, u.details ?? '');
        assert.ok(Buffer.from(u.response!.Payload, 'base64').equals(binary(30, i)), `call ${i}`);
      });
    });

    test('grpcio stream: results by seq, failures per call, the stream ends OK', { skip: grpcioSkip }, async () => {
      const plan = streamPlan();
      const [o] = await runGrpcio({
        target: rt.address,
        ops: [{ kind: 'stream', calls: plan.map((c) => ({ seq: c.seq, timeout: c.timeout, msg: wireMsg(c.msg) })) }],
      });
      const s = streamOutcome(o!);
      assert.equal(s.code, grpc.status.OK, s.details ?? '');
      assert.deepEqual(s.trailing_metadata, []);
      checkStreamResults(kind, new Map(s.results.map((r) => [r.seq, { ...r, payload: Buffer.from(r.payload, 'base64') }])));
    });
  });

  test(`${kind} runtime: gRPC interop on a unix socket (server.address unix:path), grpc-js and grpcio`, async () => {
    const dir = serviceDir({ 'etc/baetyl/service.yml': conf('  workers:\n    max: 1\n'), 'code/handlers.py': HANDLERS_PY });
    const sock = join(dir, 'var/run/function.sock');
    mkdirSync(join(dir, 'var/run'), { recursive: true });
    const rt = await startRuntimeProcess(kind, dir, { env: { BAETYL_SERVICE_INSTANCE_ADDRESS: `unix:${sock}` } });
    const client = createFunctionClient(`unix://${sock}`);
    try {
      const { err, res } = await call(client, msg('echo', binary(20000, 4)));
      assert.equal(err, undefined, err?.details);
      assert.ok(res!.Payload.equals(binary(20000, 4)));
      const r = await streamCalls(client, streamPlan());
      assert.equal(r.status.code, grpc.status.OK, r.status.details);
      checkStreamResults(kind, bySeq(r.results));
      if (!grpcioSkip) {
        const plan = streamPlan();
        const out = await runGrpcio({
          target: `unix:${sock}`,
          ops: [
            { kind: 'unary', msg: wireMsg(msg('echo', binary(20000, 4))) },
            { kind: 'stream', calls: plan.map((c) => ({ seq: c.seq, timeout: c.timeout, msg: wireMsg(c.msg) })) },
          ],
        });
        const u = unaryOutcome(out[0]!);
        assert.equal(u.code, 0, u.details ?? '');
        assert.ok(Buffer.from(u.response!.Payload, 'base64').equals(binary(20000, 4)));
        const st = streamOutcome(out[1]!);
        assert.equal(st.code, grpc.status.OK, st.details ?? '');
        checkStreamResults(kind, new Map(st.results.map((x) => [x.seq, { ...x, payload: Buffer.from(x.payload, 'base64') }])));
      }
    } finally {
      client.close();
      await stopShared(rt);
      cleanup(dir);
    }
  });

  describe(`${kind} runtime: gRPC interop over TLS with client certificates`, () => {
    let dir: string;
    let rt: RuntimeProc;
    let certs: Certs;

    before(async () => {
      dir = serviceDir({
        'etc/baetyl/service.yml': conf('  ca: var/tls/ca.pem\n  key: var/tls/server.key\n  cert: var/tls/server.pem\n'),
        'code/handlers.py': HANDLERS_PY,
        'var/tls/.keep': '',
      });
      certs = makeCerts(join(dir, 'var/tls'));
      rt = await startRuntimeProcess(kind, dir);
    });
    after(async () => {
      await stopShared(rt);
      cleanup(dir);
    });

    const read = (f: string) => readFileSync(f);

    test('grpc-js with a client certificate: unary and stream', async () => {
      const client = createFunctionClient(rt.address, grpc.credentials.createSsl(read(certs.ca), read(certs.clientKey), read(certs.clientCert)));
      try {
        const m = msg('echo', binary(50000, 9));
        const { err, res } = await call(client, m);
        assert.equal(err, undefined, err?.details);
        assert.ok(res!.Payload.equals(m.Payload));
        const boom = await call(client, msg('boom', '{}'));
        assert.equal(boom.err?.code, grpc.status.UNKNOWN);
        assert.equal(boom.err?.details, BOOM_DETAILS[kind]);
        const r = await streamCalls(client, streamPlan());
        assert.equal(r.status.code, grpc.status.OK, r.status.details);
        checkStreamResults(kind, bySeq(r.results));
      } finally {
        client.close();
      }
    });

    test('grpc-js over TLS: 20 concurrent calls of 300 kB each, byte for byte', async () => {
      const client = createFunctionClient(rt.address, grpc.credentials.createSsl(read(certs.ca), read(certs.clientKey), read(certs.clientCert)));
      try {
        const outs = await Promise.all(Array.from({ length: 20 }, (_, i) => call(client, msg('echo', binary(300000 + i, 50 + i)))));
        outs.forEach((o, i) => {
          assert.equal(o.err, undefined, o.err?.details);
          assert.ok(o.res!.Payload.equals(binary(300000 + i, 50 + i)), `call ${i}`);
        });
      } finally {
        client.close();
      }
    });

    test('grpc-js without a client certificate, or with one from another CA, is refused', async () => {
      for (const creds of [
        grpc.credentials.createSsl(read(certs.ca)),
        grpc.credentials.createSsl(read(certs.ca), read(certs.strangerKey), read(certs.strangerCert)),
      ]) {
        const client = createFunctionClient(rt.address, creds);
        const refused = await call(client, msg('echo', binary(3, 1)), 5000);
        client.close();
        assert.ok(refused.err, 'a caller the CA did not certify must be refused');
        assert.ok([grpc.status.UNAVAILABLE, grpc.status.DEADLINE_EXCEEDED].includes(refused.err.code), `${refused.err.code} ${refused.err.details}`);
      }
      // The instance still serves certified callers.
      const client = createFunctionClient(rt.address, grpc.credentials.createSsl(read(certs.ca), read(certs.clientKey), read(certs.clientCert)));
      const ok = await call(client, msg('echo', binary(3, 1)));
      client.close();
      assert.equal(ok.err, undefined, ok.err?.details);
    });

    test('a cleartext HTTP/2 client on the TLS port is dropped; the instance keeps serving', async () => {
      const [host, port] = [rt.address.slice(0, rt.address.lastIndexOf(':')), Number(rt.address.slice(rt.address.lastIndexOf(':') + 1))];
      const sock = connect(port, host);
      sock.on('error', () => undefined);
      sock.write('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');
      await new Promise<void>((resolve) => sock.once('close', () => resolve()));
      const client = createFunctionClient(rt.address, grpc.credentials.createSsl(read(certs.ca), read(certs.clientKey), read(certs.clientCert)));
      try {
        const ok = await call(client, msg('echo', binary(3, 2)));
        assert.equal(ok.err, undefined, ok.err?.details);
      } finally {
        client.close();
      }
    });

    test('TLS connections that end abruptly (before, during and after the handshake) leave no descriptor behind', async () => {
      const fds = () => readdirSync(`/proc/${rt.child.pid}/fd`).length;
      const base = fds();
      const [host, port] = [rt.address.slice(0, rt.address.lastIndexOf(':')), Number(rt.address.slice(rt.address.lastIndexOf(':') + 1))];
      for (let i = 0; i < 30; i++) {
        const mode = i % 3;
        if (mode === 0) {
          // TCP only, or the first bytes of a ClientHello.
          const sock = connect(port, host);
          sock.on('error', () => undefined);
          await new Promise<void>((resolve) => sock.once('connect', () => resolve()));
          if (i % 2) sock.write(Buffer.from([0x16, 0x03, 0x01, 0x02]));
          sock.destroy();
        } else {
          // A whole handshake, certified (mode 1) or not (mode 2), then gone.
          const opts = mode === 1 ? { ca: read(certs.ca), key: read(certs.clientKey), cert: read(certs.clientCert) } : { ca: read(certs.ca) };
          const sock = tlsConnect({ host, port, servername: 'localhost', ALPNProtocols: ['h2'], ...opts });
          sock.on('error', () => undefined);
          await new Promise<void>((resolve) => {
            sock.once('secureConnect', () => resolve());
            sock.once('close', () => resolve());
          });
          sock.destroy();
        }
      }
      await waitFor('the runtime to close those connections', () => (fds() <= base ? true : undefined));
      const client = createFunctionClient(rt.address, grpc.credentials.createSsl(read(certs.ca), read(certs.clientKey), read(certs.clientCert)));
      try {
        const ok = await call(client, msg('echo', binary(3, 3)));
        assert.equal(ok.err, undefined, ok.err?.details);
      } finally {
        client.close();
      }
    });

    test('grpcio with a client certificate: unary and stream', { skip: grpcioSkip }, async () => {
      const plan = streamPlan();
      const out = await runGrpcio({
        target: rt.address,
        tls: { ca: certs.ca, cert: certs.clientCert, key: certs.clientKey },
        ops: [
          { kind: 'unary', msg: wireMsg(msg('echo', binary(50000, 9))) },
          { kind: 'unary', msg: wireMsg(msg('boom', '{}')) },
          { kind: 'stream', calls: plan.map((c) => ({ seq: c.seq, timeout: c.timeout, msg: wireMsg(c.msg) })) },
        ],
      });
      const ok = unaryOutcome(out[0]!);
      assert.equal(ok.code, 0, ok.details ?? '');
      assert.ok(Buffer.from(ok.response!.Payload, 'base64').equals(binary(50000, 9)));
      const boom = unaryOutcome(out[1]!);
      assert.equal(boom.code, grpc.status.UNKNOWN);
      assert.equal(boom.details, BOOM_DETAILS[kind]);
      const s = streamOutcome(out[2]!);
      assert.equal(s.code, grpc.status.OK, s.details ?? '');
      checkStreamResults(kind, new Map(s.results.map((r) => [r.seq, { ...r, payload: Buffer.from(r.payload, 'base64') }])));
    });

    test('grpcio without a client certificate, or with one from another CA, is refused (UNAVAILABLE)', { skip: grpcioSkip }, async () => {
      for (const tls of [{ ca: certs.ca }, { ca: certs.ca, cert: certs.strangerCert, key: certs.strangerKey }]) {
        const out = await runGrpcio({ target: rt.address, tls, ops: [{ kind: 'unary', msg: wireMsg(msg('echo', binary(3, 1))), timeout: 10 }] });
        const u = unaryOutcome(out[0]!);
        assert.equal(u.code, grpc.status.UNAVAILABLE, `${u.code} ${u.details}`);
        assert.equal(u.response, null);
      }
    });
  });
}
