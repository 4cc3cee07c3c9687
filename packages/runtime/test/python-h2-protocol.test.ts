// The python runtime's HTTP/2 server (packages/runtime/python/baetyl_runtime/h2.py, hpack.py,
// grpc.py) on the wire: raw frames from support/h2-peer.ts, malformed ones included, plus
// node:http2 and grpc-js where a real encoder serves. Each connection error must be a GOAWAY with
// the right code, and must cost only that connection. On both interpreters.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import * as http2 from 'node:http2';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import {
  createFunctionClient,
  decodeStreamResult,
  encodeStreamCall,
  openFunctionStream,
  type FunctionClient,
  type FunctionMessage,
  type StreamResult,
} from '@baetyl/core';
import { waitFor } from '@baetyl/test-support';
import { call, cleanup, message, serviceDir, startRuntimeProcess, type RuntimeProc } from './helpers.js';
import {
  ACK,
  CANCEL,
  COMPRESSION_ERROR,
  CONTINUATION,
  DATA,
  END_HEADERS,
  END_STREAM,
  FLOW_CONTROL_ERROR,
  FRAME_SIZE_ERROR,
  GOAWAY,
  H2Peer,
  HEADERS,
  NO_ERROR,
  PING,
  PREFACE,
  PRIORITY as PRIORITY_FRAME,
  PROTOCOL_ERROR,
  REFUSED_STREAM,
  RST_STREAM,
  SETTINGS,
  SETTINGS_INITIAL_WINDOW_SIZE,
  SETTINGS_MAX_CONCURRENT_STREAMS,
  SETTINGS_MAX_FRAME_SIZE,
  WINDOW_UPDATE,
  frame,
  functionMessage,
  grpcMessage,
  grpcMessages,
  grpcStatus,
  hpack,
  over,
  protoField,
  requestBlock,
  settingsPayload,
  u32,
  type StreamState,
} from './support/h2-peer.js';
import { stopShared } from './support/instance.js';

const KINDS = ['python27', 'python36'] as const;
const CALL = '/baetyl.Function/Call';
const MAX = 32 * 1024;

const HANDLERS_PY = `import time


def echo(event, context):
    return event


def big(event, context):
    return b'x' * event['n']


def sleepy(event, context):
    time.sleep(event['sleep'])
    return {'slept': event['sleep']}
`;

const CONF = `functions:
  - name: echo
    handler: handlers.echo
    codedir: code
  - name: big
    handler: handlers.big
    codedir: code
  - name: sleepy
    handler: handlers.sleepy
    codedir: code
server:
  message:
    length:
      max: 32k
  workers:
    max: 1
`;

/** Not JSON, so echo returns it raw. */
function binary(n: number, seed: number): Buffer {
  const b = Buffer.alloc(n);
  b[0] = 0xff;
  for (let i = 1; i < n; i++) b[i] = (i * 13 + seed * 101 + (seed >> 8)) & 0xff;
  return b;
}

/** The result Payload of a unary answer on a raw stream, checking it ended with grpc-status 0. */
function okPayload(s: StreamState): Buffer {
  assert.deepEqual(grpcStatus(s), { code: 0, message: '' });
  const msgs = grpcMessages(s.data);
  assert.equal(msgs.length, 1);
  return protoField(msgs[0]!, 4) ?? Buffer.alloc(0);
}

/** nghttp2's command-line client and load generator, a third peer (optional: skipped with the reason). */
const nghttp2Missing = ['h2load', 'nghttp'].filter((c) => spawnSync(c, ['--version']).error).map((c) => `${c} is not installed (Debian's nghttp2-client)`);
const nghttp2Skip: string | false = nghttp2Missing.length ? nghttp2Missing.join('; ') : false;
if (nghttp2Skip && process.env.BAETYL_REQUIRE_NGHTTP2 === '1') throw new Error(`BAETYL_REQUIRE_NGHTTP2=1, but ${nghttp2Skip}`);
if (nghttp2Skip) console.log(`skipping the nghttp2 peer tests: ${nghttp2Skip}`);

function run(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile(cmd, args, { maxBuffer: 16 << 20, timeout: 120000 }, (err, stdout, stderr) =>
      err ? reject(new Error(`${cmd} failed: ${err.message}\n${stdout}\n${stderr}`)) : resolve(stdout),
    ),
  );
}

for (const kind of KINDS) {
  describe(`${kind} runtime: HTTP/2 on the wire`, () => {
    let dir: string;
    let rt: RuntimeProc;
    /** A connection opened before any bad one, used after each: it must be unaffected. */
    let keeper: FunctionClient;

    before(async () => {
      dir = serviceDir({ 'etc/baetyl/service.yml': CONF, 'code/handlers.py': HANDLERS_PY });
      rt = await startRuntimeProcess(kind, dir);
      keeper = createFunctionClient(rt.address);
      assert.equal((await call(keeper, message('echo', binary(5, 1)))).err, undefined);
    });
    after(async () => {
      keeper.close();
      await stopShared(rt);
      cleanup(dir);
    });

    /** The instance still serves: on the connection opened before, and on a new one. */
    async function stillServes(): Promise<void> {
      const a = await call(keeper, message('echo', binary(20, 2)));
      assert.equal(a.err, undefined, a.err?.details);
      assert.ok(a.res!.Payload.equals(binary(20, 2)));
      const fresh = createFunctionClient(rt.address);
      try {
        const b = await call(fresh, message('echo', binary(30, 3)));
        assert.equal(b.err, undefined, b.err?.details);
        assert.ok(b.res!.Payload.equals(binary(30, 3)));
      } finally {
        fresh.close();
      }
    }

    // --- connection errors: GOAWAY with the code, the connection closed, nothing else hurt ----------

    const connectionErrors: Array<{ what: string; code: number; raw?: Buffer; send?: Buffer; last?: number }> = [
      { what: 'a bad preface (HTTP/1.1)', code: PROTOCOL_ERROR, raw: Buffer.from('GET / HTTP/1.1\r\nHost: localhost\r\n\r\n') },
      { what: 'a first frame that is not SETTINGS', code: PROTOCOL_ERROR, raw: Buffer.concat([PREFACE, frame(PING, 0, 0, Buffer.alloc(8))]) },
      // Only the frame header: the server must refuse it from its length alone.
      { what: 'a frame larger than SETTINGS_MAX_FRAME_SIZE', code: FRAME_SIZE_ERROR, send: frame(DATA, 0, 1, Buffer.alloc(16385)).subarray(0, 9) },
      { what: 'SETTINGS whose length is not a multiple of 6', code: FRAME_SIZE_ERROR, send: frame(SETTINGS, 0, 0, Buffer.alloc(7)) },
      { what: 'SETTINGS on a stream', code: PROTOCOL_ERROR, send: frame(SETTINGS, 0, 1, Buffer.alloc(0)) },
      {
        what: 'SETTINGS_INITIAL_WINDOW_SIZE above 2^31-1',
        code: FLOW_CONTROL_ERROR,
        send: frame(SETTINGS, 0, 0, settingsPayload([[SETTINGS_INITIAL_WINDOW_SIZE, 2 ** 31]])),
      },
      { what: 'a PING of 7 bytes', code: FRAME_SIZE_ERROR, send: frame(PING, 0, 0, Buffer.alloc(7)) },
      { what: 'a PING on a stream', code: PROTOCOL_ERROR, send: frame(PING, 0, 1, Buffer.alloc(8)) },
      { what: 'DATA on stream 0', code: PROTOCOL_ERROR, send: frame(DATA, 0, 0, Buffer.from('x')) },
      { what: 'DATA on an idle stream', code: PROTOCOL_ERROR, send: frame(DATA, 0, 5, Buffer.from('x')) },
      { what: 'HEADERS on an even stream id', code: PROTOCOL_ERROR, send: frame(HEADERS, END_HEADERS, 2, requestBlock(CALL)) },
      {
        what: 'a header block interrupted by another frame before END_HEADERS',
        code: PROTOCOL_ERROR,
        send: Buffer.concat([frame(HEADERS, 0, 1, requestBlock(CALL).subarray(0, 5)), frame(PING, 0, 0, Buffer.alloc(8))]),
        last: 0,
      },
      {
        what: 'a CONTINUATION on another stream than its HEADERS',
        code: PROTOCOL_ERROR,
        send: Buffer.concat([frame(HEADERS, 0, 1, requestBlock(CALL).subarray(0, 5)), frame(CONTINUATION, END_HEADERS, 3, requestBlock(CALL).subarray(5))]),
      },
      {
        what: 'a header block over twice SETTINGS_MAX_HEADER_LIST_SIZE, in CONTINUATION frames',
        code: 0xb, // ENHANCE_YOUR_CALM
        // 5 + 8 * 16384 bytes: one past the 131072 the runtime takes, on the last frame sent.
        send: Buffer.concat([
          frame(HEADERS, 0, 1, requestBlock(CALL).subarray(0, 5)),
          ...Array.from({ length: 8 }, () => frame(CONTINUATION, 0, 1, Buffer.alloc(16384, 0x80))),
        ]),
      },
      { what: 'a CONTINUATION with no HEADERS before it', code: PROTOCOL_ERROR, send: frame(CONTINUATION, END_HEADERS, 1, requestBlock(CALL)) },
      {
        what: 'a header index beyond the tables',
        code: COMPRESSION_ERROR,
        send: frame(HEADERS, END_HEADERS, 1, Buffer.concat([hpack.indexed(3), hpack.indexed(70)])),
      },
      { what: 'header index 0', code: COMPRESSION_ERROR, send: frame(HEADERS, END_HEADERS, 1, hpack.indexed(0)) },
      {
        what: 'a table size update above SETTINGS_HEADER_TABLE_SIZE (4096)',
        code: COMPRESSION_ERROR,
        send: frame(HEADERS, END_HEADERS, 1, Buffer.concat([hpack.sizeUpdate(8192), requestBlock(CALL)])),
      },
      {
        what: 'a Huffman string padded with zeros',
        code: COMPRESSION_ERROR,
        // '0' is the 5-bit code 00000; the 3 bits of padding must be ones.
        send: frame(HEADERS, END_HEADERS, 1, Buffer.concat([hpack.indexed(3), Buffer.from([0x44, 0x81, 0x00])])),
      },
      { what: 'a header block that ends inside a string', code: COMPRESSION_ERROR, send: frame(HEADERS, END_HEADERS, 1, requestBlock(CALL).subarray(0, 8)) },
      { what: 'a WINDOW_UPDATE of 0 on the connection', code: PROTOCOL_ERROR, send: frame(WINDOW_UPDATE, 0, 0, u32(0)) },
      { what: 'a WINDOW_UPDATE of 5 bytes', code: FRAME_SIZE_ERROR, send: frame(WINDOW_UPDATE, 0, 0, Buffer.alloc(5)) },
      { what: 'a connection window above 2^31-1', code: FLOW_CONTROL_ERROR, send: frame(WINDOW_UPDATE, 0, 0, u32(2 ** 31 - 1)) },
      { what: 'RST_STREAM on stream 0', code: PROTOCOL_ERROR, send: frame(RST_STREAM, 0, 0, u32(CANCEL)) },
      { what: 'RST_STREAM on an idle stream', code: PROTOCOL_ERROR, send: frame(RST_STREAM, 0, 9, u32(CANCEL)) },
      {
        what: 'HEADERS on a stream id below one already used',
        code: 0x5, // STREAM_CLOSED
        send: Buffer.concat([
          frame(HEADERS, END_HEADERS | END_STREAM, 3, requestBlock('/nope')),
          frame(HEADERS, END_HEADERS | END_STREAM, 1, requestBlock('/nope')),
        ]),
        last: 3,
      },
      { what: 'PUSH_PROMISE from a client', code: PROTOCOL_ERROR, send: frame(0x5, END_HEADERS, 1, Buffer.concat([u32(2), requestBlock(CALL)])) },
    ];

    for (const c of connectionErrors) {
      test(`${c.what}: GOAWAY ${c.code}, the connection closes, the instance keeps serving`, async () => {
        let peer: H2Peer;
        if (c.raw) {
          peer = await H2Peer.open(rt.address);
          peer.write(c.raw);
        } else {
          peer = await H2Peer.handshake(rt.address);
          peer.write(c.send!);
        }
        const goaway = await peer.goawayAndClose();
        assert.equal(goaway.code, c.code, `GOAWAY code (debug: ${goaway.debug})`);
        assert.equal(goaway.last, c.last ?? 0);
        assert.ok(goaway.debug.length > 0, 'the GOAWAY says why');
        await stillServes();
      });
    }

    test('connections that end abruptly (mid-call, mid-frame, mid-header-block, after an error) leave no descriptor behind', async () => {
      const fds = () => readdirSync(`/proc/${rt.child.pid}/fd`).length;
      const base = fds();
      for (let i = 0; i < 40; i++) {
        const p = await H2Peer.handshake(rt.address);
        const mode = i % 4;
        if (mode === 0) p.write(p.request(1, CALL, functionMessage('sleepy', Buffer.from('{"sleep": 0.1}'))));
        if (mode === 1) p.write(frame(PING, 0, 0, Buffer.alloc(3)));
        if (mode === 2) p.write(frame(HEADERS, 0, 1, requestBlock(CALL).subarray(0, 3)));
        if (mode === 3) p.write(Buffer.concat([p.request(1, CALL, functionMessage('echo', binary(3, 1))), frame(DATA, 0, 3, Buffer.alloc(9)).subarray(0, 6)]));
        await p.ping().catch(() => undefined);
        p.socket.destroy();
      }
      await waitFor('the runtime to close those connections', () => (fds() <= base ? true : undefined));
      await stillServes();
    });

    // --- stream errors: only the stream is reset ----------------------------------------------------

    test('a WINDOW_UPDATE of 0 on a stream resets that stream only (RST_STREAM PROTOCOL_ERROR)', async () => {
      const peer = await H2Peer.handshake(rt.address);
      try {
        peer.send(HEADERS, END_HEADERS, 1, requestBlock(CALL));
        peer.send(WINDOW_UPDATE, 0, 1, u32(0));
        await peer.until('RST_STREAM on stream 1', () => peer.stream(1).rst !== undefined);
        assert.equal(peer.stream(1).rst, PROTOCOL_ERROR);
        peer.write(peer.request(3, CALL, functionMessage('echo', binary(10, 4))));
        await peer.until('the answer on stream 3', () => peer.stream(3).ended);
        assert.ok(okPayload(peer.stream(3)).equals(binary(10, 4)));
        assert.equal(peer.goaway, undefined);
      } finally {
        peer.close();
      }
    });

    test('malformed requests are refused per stream: uppercase header names, a connection header, no :path, a self-dependency, non-ASCII names', async () => {
      const peer = await H2Peer.handshake(rt.address);
      try {
        peer.send(HEADERS, END_HEADERS | END_STREAM, 1, requestBlock(CALL, [hpack.literal('X-Upper', 'v')]));
        peer.send(HEADERS, END_HEADERS | END_STREAM, 3, requestBlock(CALL, [hpack.literal('connection', 'keep-alive')]));
        peer.send(HEADERS, END_HEADERS | END_STREAM, 5, Buffer.concat([hpack.indexed(3), hpack.indexed(6), hpack.literal(31, 'application/grpc')]));
        // A self-dependent HEADERS is refused too, but its block is still decoded: the HPACK
        // table, shared by the connection, gets its entry.
        const selfDependent = Buffer.concat([
          u32(9),
          Buffer.from([16]),
          requestBlock('/m/self').subarray(0, 2),
          hpack.literal(4, '/m/self', { index: true }),
          hpack.literal(31, 'application/grpc'),
        ]);
        peer.send(HEADERS, END_HEADERS | END_STREAM | 0x20, 9, selfDependent);
        peer.send(
          HEADERS,
          END_HEADERS | END_STREAM,
          11,
          Buffer.concat([hpack.indexed(3), hpack.indexed(6), hpack.indexed(62), hpack.literal(31, 'application/grpc')]),
        );
        // A well-formed call with a never-indexed literal.
        peer.write(peer.request(13, CALL, functionMessage('echo', binary(10, 5)), [hpack.literal('x-secret', 'sensitive', { never: true })]));
        await peer.until('the answers on streams 11 and 13', () => peer.stream(11).ended && peer.stream(13).ended);
        for (const s of [1, 3, 5, 9]) assert.equal(peer.stream(s).rst, PROTOCOL_ERROR, `stream ${s}`);
        assert.ok(okPayload(peer.stream(13)).equals(binary(10, 5)));
        assert.deepEqual(grpcStatus(peer.stream(11)), { code: grpc.status.UNIMPLEMENTED, message: 'Method not found: /m/self' });
        // Names with bytes outside ASCII (the reasons quote them): an unknown pseudo-header, an
        // uppercase name. Each costs its stream only, on both interpreters.
        peer.send(HEADERS, END_HEADERS | END_STREAM, 15, Buffer.concat([hpack.indexed(3), hpack.literal(':p\u00ff', 'x')]));
        peer.send(HEADERS, END_HEADERS | END_STREAM, 17, requestBlock(CALL, [hpack.literal('X\u00c4', 'v')]));
        peer.write(peer.request(19, CALL, functionMessage('echo', binary(10, 6))));
        await peer.until('the answer on stream 19', () => peer.stream(19).ended);
        for (const s of [15, 17]) assert.equal(peer.stream(s).rst, PROTOCOL_ERROR, `stream ${s}`);
        assert.ok(okPayload(peer.stream(19)).equals(binary(10, 6)));
        await stillServes();
      } finally {
        peer.close();
      }
    });

    test('DATA after END_STREAM resets that stream (STREAM_CLOSED); the connection goes on', async () => {
      const peer = await H2Peer.handshake(rt.address);
      try {
        peer.send(HEADERS, END_HEADERS, 1, requestBlock(CALL));
        peer.send(DATA, END_STREAM, 1, grpcMessage(functionMessage('sleepy', Buffer.from('{"sleep": 0.2}'))));
        peer.send(DATA, 0, 1, Buffer.from('late'));
        await peer.until('RST_STREAM on stream 1', () => peer.stream(1).rst !== undefined);
        assert.equal(peer.stream(1).rst, 0x5);
        peer.write(peer.request(3, CALL, functionMessage('echo', binary(10, 14))));
        await peer.until('the answer on stream 3', () => peer.stream(3).ended);
        assert.ok(okPayload(peer.stream(3)).equals(binary(10, 14)));
        await peer.ping();
        assert.equal(peer.stream(1).blocks.length, 0, 'the reset call is not answered');
      } finally {
        peer.close();
      }
    });

    test('a self-dependent HEADERS continued in CONTINUATION: that stream is reset once its block is complete; the connection goes on', async () => {
      const peer = await H2Peer.handshake(rt.address);
      try {
        const block = requestBlock('/m/cont', [hpack.literal('x-indexed', 'kept', { index: true })]);
        peer.send(HEADERS, END_STREAM | 0x20, 1, Buffer.concat([u32(1), Buffer.from([16]), block.subarray(0, 6)]));
        peer.send(CONTINUATION, END_HEADERS, 1, block.subarray(6));
        // The block went through the decoder: its indexed entry is 62.
        peer.send(
          HEADERS,
          END_HEADERS | END_STREAM,
          3,
          Buffer.concat([hpack.indexed(3), hpack.indexed(6), hpack.literal(4, '/m/next'), hpack.literal(31, 'application/grpc'), hpack.indexed(62)]),
        );
        await peer.until('the answer on stream 3', () => over(peer.stream(3)));
        assert.equal(peer.goaway, undefined, JSON.stringify(peer.goaway));
        assert.equal(peer.stream(1).rst, PROTOCOL_ERROR);
        assert.deepEqual(grpcStatus(peer.stream(3)), { code: grpc.status.UNIMPLEMENTED, message: 'Method not found: /m/next' });
      } finally {
        peer.close();
      }
    });

    test('padding and priority: PADDED|PRIORITY HEADERS, PADDED DATA, PRIORITY frames', async () => {
      const peer = await H2Peer.handshake(rt.address);
      try {
        const block = requestBlock(CALL);
        const pad = 17;
        // pad length, dependency (stream 0, not exclusive), weight, the block, the padding
        const headers = Buffer.concat([Buffer.from([pad]), u32(0), Buffer.from([200]), block, Buffer.alloc(pad)]);
        const body = grpcMessage(functionMessage('echo', binary(300, 15)));
        peer.send(PRIORITY_FRAME, 0, 3, Buffer.concat([u32(0), Buffer.from([15])]));
        peer.send(HEADERS, END_HEADERS | 0x8 | 0x20, 1, headers);
        peer.send(DATA, 0x8, 1, Buffer.concat([Buffer.from([3]), body.subarray(0, 100), Buffer.alloc(3)]));
        peer.send(DATA, 0x8 | END_STREAM, 1, Buffer.concat([Buffer.from([0]), body.subarray(100)]));
        await peer.until('the answer on stream 1', () => peer.stream(1).ended);
        assert.ok(okPayload(peer.stream(1)).equals(binary(300, 15)));
      } finally {
        peer.close();
      }
    });

    test('a request cut into 1-byte DATA frames and ended by client trailers is one message', async () => {
      const peer = await H2Peer.handshake(rt.address);
      try {
        const body = grpcMessage(functionMessage('echo', binary(64, 16)));
        peer.send(HEADERS, END_HEADERS, 1, requestBlock(CALL));
        peer.write(Buffer.concat([...body].map((b) => frame(DATA, 0, 1, Buffer.from([b])))));
        peer.send(HEADERS, END_HEADERS | END_STREAM, 1, hpack.literal('x-trailer', 'end'));
        await peer.until('the answer on stream 1', () => peer.stream(1).ended);
        assert.ok(okPayload(peer.stream(1)).equals(binary(64, 16)));
      } finally {
        peer.close();
      }
    });

    test('a stream carrying more than its window (100 calls of 30 kB): the server credits it back, both ways', async () => {
      const payloads = Array.from({ length: 100 }, (_, i) => binary(30000, 2000 + i));
      const results = await new Promise<StreamResult[]>((resolve, reject) => {
        const out: StreamResult[] = [];
        const s = openFunctionStream(rt.client);
        s.on('data', (r: StreamResult) => out.push(r));
        s.on('error', reject);
        s.on('status', (st: grpc.StatusObject) => (st.code === grpc.status.OK ? resolve(out) : reject(new Error(st.details))));
        payloads.forEach((p, i) => s.write({ seq: i + 1, timeout: 60000, msg: message('echo', p) as FunctionMessage }));
        s.end();
      });
      assert.equal(results.length, 100);
      for (const r of results) {
        assert.equal(r.code, 0, r.details);
        assert.ok(r.payload.equals(payloads[r.seq - 1]!), `seq ${r.seq}`);
      }
    });

    test(
      "a backlog beyond the executor's high-water mark (10000 waiting calls): credit held back is given back, every call answered",
      { timeout: 120000 },
      async () => {
        // One worker, held for 3 s by the first call, while 30000 more arrive on one stream: more
        // than the stream's window holds, so the client needs the credit held back meanwhile.
        const n = 30000;
        const res = await new Promise<{ answered: number; status: grpc.StatusObject }>((resolve) => {
          let answered = 0;
          let bad = 0;
          const s = openFunctionStream(rt.client);
          s.on('data', (r: StreamResult) => {
            if (r.code === 0 && (r.seq === 1 || r.payload.equals(Buffer.from([0xff, r.seq & 0xff, r.seq >> 8])))) answered++;
            else bad++;
          });
          s.on('error', () => undefined);
          s.on('status', (status: grpc.StatusObject) => resolve({ answered: answered - bad, status }));
          s.write({ seq: 1, timeout: 0, msg: message('sleepy', '{"sleep": 3}') as FunctionMessage });
          for (let seq = 2; seq <= n; seq++) s.write({ seq, timeout: 0, msg: message('echo', Buffer.from([0xff, seq & 0xff, seq >> 8])) as FunctionMessage });
          s.end();
        });
        assert.equal(res.status.code, grpc.status.OK, res.status.details);
        assert.equal(res.answered, n);
      },
    );

    test('not gRPC: GET is 405, another content-type 415, an unknown path UNIMPLEMENTED', async () => {
      const peer = await H2Peer.handshake(rt.address);
      try {
        peer.send(HEADERS, END_HEADERS | END_STREAM, 1, Buffer.concat([hpack.indexed(2), hpack.indexed(6), hpack.literal(4, CALL)]));
        peer.send(
          HEADERS,
          END_HEADERS | END_STREAM,
          3,
          Buffer.concat([hpack.indexed(3), hpack.indexed(6), hpack.literal(4, CALL), hpack.literal(31, 'text/plain')]),
        );
        peer.send(HEADERS, END_HEADERS | END_STREAM, 5, requestBlock('/baetyl.Function/Other'));
        await peer.until('three answers', () => [1, 3, 5].every((sid) => peer.stream(sid).ended));
        assert.deepEqual(peer.stream(1).blocks, [[[':status', '405']]]);
        assert.deepEqual(peer.stream(3).blocks, [[[':status', '415']]]);
        assert.deepEqual(grpcStatus(peer.stream(5)), { code: grpc.status.UNIMPLEMENTED, message: 'Method not found: /baetyl.Function/Other' });
        assert.deepEqual(peer.stream(5).blocks[0]!.slice(0, 2), [
          [':status', '200'],
          ['content-type', 'application/grpc'],
        ]);
      } finally {
        peer.close();
      }
    });

    // --- flow control --------------------------------------------------------------------------------

    test('a window of zero: no DATA until WINDOW_UPDATE, then exactly what the window allows, then the whole answer', async () => {
      const peer = await H2Peer.handshake(rt.address, [[SETTINGS_INITIAL_WINDOW_SIZE, 0]]);
      try {
        peer.write(peer.request(1, CALL, functionMessage('big', Buffer.from('{"n": 30000}'))));
        const s = peer.stream(1);
        // The response headers come once the answer is ready; its DATA must wait.
        await peer.until('the response headers', () => s.blocks.length > 0);
        await peer.ping();
        assert.equal(s.dataFrames, 0, 'no DATA on a zero window');
        assert.equal(s.blocks.length, 1, 'the trailers wait behind the data');
        peer.send(WINDOW_UPDATE, 0, 1, u32(10));
        await peer.until('10 bytes of DATA', () => s.data.length >= 10);
        await peer.ping(Buffer.from('pingpong'));
        assert.equal(s.data.length, 10, 'not a byte beyond the window');
        assert.equal(s.ended, false);
        peer.send(WINDOW_UPDATE, 0, 1, u32(1 << 20));
        await peer.until('the end of stream 1', () => s.ended);
        const payload = okPayload(s);
        assert.ok(payload.equals(Buffer.alloc(30000, 'x')));
        for (const f of peer.frames.filter((f) => f.type === DATA)) assert.ok(f.payload.length <= 16384, 'DATA within the default SETTINGS_MAX_FRAME_SIZE');
      } finally {
        peer.close();
      }
    });

    test('a window of zero opened by a new SETTINGS_INITIAL_WINDOW_SIZE: the waiting answer goes out, and the SETTINGS is acknowledged', async () => {
      const peer = await H2Peer.handshake(rt.address, [[SETTINGS_INITIAL_WINDOW_SIZE, 0]]);
      try {
        peer.write(peer.request(1, CALL, functionMessage('big', Buffer.from('{"n": 20000}'))));
        const s = peer.stream(1);
        await peer.until('the response headers', () => s.blocks.length > 0);
        await peer.ping();
        assert.equal(s.dataFrames, 0);
        const acks = () => peer.frames.filter((f) => f.type === SETTINGS && f.flags & ACK).length;
        const before = acks();
        peer.send(SETTINGS, 0, 0, settingsPayload([[SETTINGS_INITIAL_WINDOW_SIZE, 65535]]));
        await peer.until('the end of stream 1', () => s.ended);
        assert.ok(okPayload(s).equals(Buffer.alloc(20000, 'x')));
        await peer.until('the SETTINGS ACK', () => acks() > before);
      } finally {
        peer.close();
      }
    });

    test('the connection window: an answer larger than 65535 bytes waits for a WINDOW_UPDATE on stream 0', async () => {
      const peer = await H2Peer.handshake(rt.address, [[SETTINGS_INITIAL_WINDOW_SIZE, 1 << 20]]);
      try {
        // Three calls on one FunctionStream: their 30 kB results (each within message.length.max)
        // add up past the connection's initial 65535-byte window.
        peer.send(HEADERS, END_HEADERS, 1, requestBlock('/baetyl.FunctionStream/Calls'));
        const calls = [1, 2, 3].map((seq) => grpcMessage(encodeStreamCall({ seq, timeout: 0, msg: message('big', '{"n": 30000}') as FunctionMessage })));
        peer.send(DATA, END_STREAM, 1, Buffer.concat(calls));
        const s = peer.stream(1);
        await peer.until('65535 bytes of DATA', () => s.data.length >= 65535);
        await peer.ping();
        assert.equal(s.data.length, 65535, 'exactly the connection window');
        peer.send(WINDOW_UPDATE, 0, 0, u32(1 << 20));
        await peer.until('the end of stream 1', () => s.ended);
        const results = grpcMessages(s.data).map(decodeStreamResult);
        assert.deepEqual(results.map((r) => [r.seq, r.code, r.payload.length]).sort(), [
          [1, 0, 30000],
          [2, 0, 30000],
          [3, 0, 30000],
        ]);
        assert.deepEqual(grpcStatus(s), { code: 0, message: '' });
      } finally {
        peer.close();
      }
    });

    test('a client SETTINGS_MAX_FRAME_SIZE of 1 MiB: the answer comes in one DATA frame', async () => {
      const peer = await H2Peer.handshake(rt.address, [[SETTINGS_MAX_FRAME_SIZE, 1 << 20]]);
      try {
        peer.write(peer.request(1, CALL, functionMessage('big', Buffer.from('{"n": 30000}'))));
        await peer.until('the end of stream 1', () => peer.stream(1).ended);
        assert.ok(okPayload(peer.stream(1)).equals(Buffer.alloc(30000, 'x')));
        assert.equal(peer.stream(1).dataFrames, 1);
      } finally {
        peer.close();
      }
    });

    // --- message.length.max -----------------------------------------------------------------------------

    test('a request over message.length.max is RESOURCE_EXHAUSTED', async () => {
      const { err } = await call(rt.client, message('echo', binary(MAX + 100, 6)));
      assert.equal(err?.code, grpc.status.RESOURCE_EXHAUSTED);
      assert.match(err!.details, /^Received message larger than max \(\d+ vs\. 32768\)$/);
      await stillServes();
    });

    test('a result over message.length.max is RESOURCE_EXHAUSTED', async () => {
      const { err } = await call(rt.client, message('big', `{"n": ${MAX + 100}}`));
      assert.equal(err?.code, grpc.status.RESOURCE_EXHAUSTED);
      assert.equal(err!.details, `result of ${MAX + 100} bytes is over the limit of 32768 bytes (message.length.max)`);
      const fits = await call(rt.client, message('big', `{"n": ${MAX - 200}}`));
      assert.equal(fits.err, undefined, fits.err?.details);
      assert.equal(fits.res!.Payload.length, MAX - 200);
    });

    test('on the stream, an oversized request or result fails that call only', async () => {
      const results = await new Promise<StreamResult[]>((resolve, reject) => {
        const out: StreamResult[] = [];
        const s = openFunctionStream(rt.client);
        s.on('data', (r: StreamResult) => out.push(r));
        s.on('error', reject);
        s.on('status', (st: grpc.StatusObject) => (st.code === grpc.status.OK ? resolve(out) : reject(new Error(st.details))));
        const m = (fn: string, p: Buffer | string) => message(fn, p) as FunctionMessage;
        s.write({ seq: 1, timeout: 30000, msg: m('echo', binary(100, 7)) });
        s.write({ seq: 2, timeout: 30000, msg: m('echo', binary(MAX + 100, 8)) });
        s.write({ seq: 3, timeout: 30000, msg: m('big', `{"n": ${MAX + 100}}`) });
        s.write({ seq: 4, timeout: 30000, msg: m('echo', binary(200, 9)) });
        s.end();
      });
      const by = new Map(results.map((r) => [r.seq, r]));
      assert.deepEqual([...by.keys()].sort(), [1, 2, 3, 4]);
      assert.equal(by.get(1)!.code, 0);
      assert.ok(by.get(1)!.payload.equals(binary(100, 7)));
      assert.equal(by.get(2)!.code, grpc.status.RESOURCE_EXHAUSTED);
      assert.match(by.get(2)!.details, /^Received message larger than max \(\d+ vs\. 32768\)$/);
      assert.equal(by.get(3)!.code, grpc.status.RESOURCE_EXHAUSTED);
      assert.match(by.get(3)!.details, /^result of \d+ bytes is over the limit of 32768 bytes \(message\.length\.max\)$/);
      assert.equal(by.get(4)!.code, 0);
      assert.ok(by.get(4)!.payload.equals(binary(200, 9)));
    });

    test('on the stream, an oversized call fails alone even when its DATA frames are cut right after the length prefix', async () => {
      const peer = await H2Peer.handshake(rt.address);
      try {
        const m = (fn: string, p: Buffer | string) => message(fn, p) as FunctionMessage;
        const small1 = grpcMessage(encodeStreamCall({ seq: 1, timeout: 30000, msg: m('echo', binary(10, 17)) }));
        const big = grpcMessage(encodeStreamCall({ seq: 2, timeout: 30000, msg: m('echo', binary(MAX + 100, 18)) }));
        const small3 = grpcMessage(encodeStreamCall({ seq: 3, timeout: 30000, msg: m('echo', binary(10, 19)) }));
        peer.send(HEADERS, END_HEADERS, 1, requestBlock('/baetyl.FunctionStream/Calls'));
        // Frame boundaries are the client's to choose: [small1 + the big one's prefix], then its
        // body in pieces, then small3.
        const chunks: Buffer[] = [Buffer.concat([small1, big.subarray(0, 5)])];
        for (let pos = 5; pos < big.length; pos += 16000) chunks.push(big.subarray(pos, Math.min(pos + 16000, big.length)));
        chunks.push(small3);
        for (const c of chunks) peer.send(DATA, 0, 1, c);
        peer.send(DATA, END_STREAM, 1, Buffer.alloc(0));
        const s = peer.stream(1);
        await peer.until('the end of the stream', () => over(s));
        assert.deepEqual(grpcStatus(s), { code: 0, message: '' });
        const results = new Map(
          grpcMessages(s.data)
            .map(decodeStreamResult)
            .map((r) => [r.seq, r]),
        );
        assert.deepEqual([...results.keys()].sort(), [1, 2, 3]);
        assert.ok(results.get(1)!.payload.equals(binary(10, 17)));
        assert.equal(results.get(2)!.code, grpc.status.RESOURCE_EXHAUSTED);
        assert.match(results.get(2)!.details, /^Received message larger than max \(\d+ vs\. 32768\)$/);
        assert.ok(results.get(3)!.payload.equals(binary(10, 19)));
      } finally {
        peer.close();
      }
    });

    // --- HPACK ---------------------------------------------------------------------------------------------

    test('the HPACK dynamic table: Huffman literals with incremental indexing, evictions, references by index', async () => {
      const peer = await H2Peer.handshake(rt.address);
      const alphabet = '0123456789acdeilmnoprstu/-._=%Abfgh';
      const pad = (i: number) => Array.from({ length: 1500 }, (_, j) => alphabet[(j * 7 + i) % alphabet.length]).join('');
      const head = [hpack.indexed(3), hpack.indexed(6)];
      const ctype = hpack.literal(31, 'application/grpc', { huffman: true });
      const unimplemented = async (sid: number, block: Buffer) => {
        peer.send(HEADERS, END_HEADERS | END_STREAM, sid, block);
        await peer.until(`the answer on stream ${sid}`, () => peer.stream(sid).ended);
        const st = grpcStatus(peer.stream(sid));
        assert.equal(st?.code, grpc.status.UNIMPLEMENTED, JSON.stringify(peer.stream(sid)));
        return st!.message;
      };
      try {
        // Each request adds ':path: /m/i' (41 bytes in the table) and 'pad-i: <1500 chars>' (1537):
        // the 4096-byte table holds two requests' worth, so the third evicts the first's entries.
        for (const i of [1, 2, 3]) {
          const block = Buffer.concat([
            ...head,
            hpack.literal(4, `/m/${i}`, { index: true, huffman: true }),
            ctype,
            hpack.literal(`pad-${i}`, pad(i), { index: true, huffman: true }),
          ]);
          assert.equal(await unimplemented(2 * i - 1, block), `Method not found: /m/${i}`);
        }
        // Now 62 = pad-3, 63 = /m/3, 64 = pad-2, 65 = /m/2.
        assert.equal(await unimplemented(7, Buffer.concat([...head, hpack.indexed(65), ctype, hpack.indexed(64)])), 'Method not found: /m/2');
        assert.equal(await unimplemented(9, Buffer.concat([...head, hpack.indexed(63), ctype, hpack.indexed(62)])), 'Method not found: /m/3');
        // A literal whose name is a dynamic entry's, not indexed itself: the table does not change.
        assert.equal(await unimplemented(11, Buffer.concat([...head, hpack.literal(63, '/m/n', { huffman: true }), ctype])), 'Method not found: /m/n');
        assert.equal(await unimplemented(13, Buffer.concat([...head, hpack.indexed(65), ctype])), 'Method not found: /m/2');
        // A real call through the same table.
        // The path is added as 62, so pad-3 is now 63.
        const call1 = Buffer.concat([...head, hpack.literal(4, CALL, { index: true }), ctype, hpack.indexed(63)]);
        peer.send(HEADERS, END_HEADERS, 15, call1);
        peer.send(DATA, END_STREAM, 15, grpcMessage(functionMessage('echo', binary(40, 10))));
        await peer.until('the call on stream 15', () => peer.stream(15).ended);
        assert.ok(okPayload(peer.stream(15)).equals(binary(40, 10)));
        // Shrinking the table to 0 empties it: index 62 is gone.
        peer.send(HEADERS, END_HEADERS | END_STREAM, 17, Buffer.concat([hpack.sizeUpdate(0), hpack.sizeUpdate(4096), ...head, hpack.indexed(62)]));
        const goaway = await peer.goawayAndClose();
        assert.equal(goaway.code, COMPRESSION_ERROR);
        assert.equal(goaway.last, 15);
      } finally {
        peer.close();
      }
      await stillServes();
    });

    test('an entry larger than the whole HPACK table empties it (RFC 7541 4.4)', async () => {
      const peer = await H2Peer.handshake(rt.address);
      const head = Buffer.concat([hpack.indexed(3), hpack.indexed(6)]);
      const ctype = hpack.literal(31, 'application/grpc');
      try {
        peer.send(HEADERS, END_HEADERS | END_STREAM, 1, Buffer.concat([head, hpack.literal(4, '/m/a', { index: true }), ctype]));
        // 62 is read before the 4200-byte entry that follows it empties the table.
        peer.send(
          HEADERS,
          END_HEADERS | END_STREAM,
          3,
          Buffer.concat([head, hpack.indexed(62), ctype, hpack.literal('x-huge', 'h'.repeat(4200), { index: true })]),
        );
        await peer.until('two answers', () => peer.stream(1).ended && peer.stream(3).ended);
        assert.equal(grpcStatus(peer.stream(1))?.message, 'Method not found: /m/a');
        assert.equal(grpcStatus(peer.stream(3))?.message, 'Method not found: /m/a');
        peer.send(HEADERS, END_HEADERS | END_STREAM, 5, Buffer.concat([head, hpack.indexed(62), ctype]));
        const goaway = await peer.goawayAndClose();
        assert.equal(goaway.code, COMPRESSION_ERROR);
        assert.equal(goaway.last, 3);
      } finally {
        peer.close();
      }
    });

    test("node:http2 (nghttp2's encoder, Huffman and indexing): many distinct large custom headers, evicting each other", async () => {
      const session = http2.connect(`http://${rt.address}`);
      try {
        const one = (i: number, headers: http2.OutgoingHttpHeaders) =>
          new Promise<{ status: string | undefined; body: Buffer }>((resolve, reject) => {
            const req = session.request({ ':method': 'POST', ':path': CALL, 'content-type': 'application/grpc', te: 'trailers', ...headers });
            const chunks: Buffer[] = [];
            let status: string | undefined;
            req.on('data', (c: Buffer) => chunks.push(c));
            req.on('trailers', (t) => (status = String(t['grpc-status'])));
            req.on('end', () => resolve({ status, body: Buffer.concat(chunks) }));
            req.on('error', reject);
            req.end(grpcMessage(functionMessage('echo', binary(50, i))));
          });
        const headersOf = (i: number): http2.OutgoingHttpHeaders => {
          const h: http2.OutgoingHttpHeaders = { 'x-shared': 'the same on every call', 'user-agent': 'baetyl-h2-test' };
          for (let k = 0; k < 4; k++) h[`x-meta-${k}-${i % 7}`] = `value ${i} ${k} `.repeat(60);
          return h;
        };
        // Sequential calls first (the table churns call after call), then 60 at once.
        for (let i = 0; i < 20; i++) {
          const r = await one(i, headersOf(i));
          assert.equal(r.status, '0');
          assert.ok(protoField(grpcMessages(r.body)[0]!, 4)!.equals(binary(50, i)));
        }
        const many = await Promise.all(Array.from({ length: 60 }, (_, i) => one(100 + i, headersOf(i))));
        many.forEach((r, i) => {
          assert.equal(r.status, '0');
          assert.ok(protoField(grpcMessages(r.body)[0]!, 4)!.equals(binary(50, 100 + i)));
        });
      } finally {
        session.close();
      }
    });

    test("every header value byte (tab, 0x20-0xff) decodes through nghttp2's Huffman code", async () => {
      // The runtime quotes an unsupported grpc-encoding back (as latin-1) in grpc-message: a way to
      // see what it decoded. Mostly 'e' (5 bits) so that Huffman is the shorter form nghttp2 picks.
      let rare = '\t';
      for (let c = 0x20; c <= 0xff; c++) if (c !== 0x7f) rare += String.fromCharCode(c);
      const value = 'e'.repeat(1500) + rare + 'e'.repeat(500);
      const session = http2.connect(`http://${rt.address}`);
      try {
        const headers = await new Promise<http2.IncomingHttpHeaders>((resolve, reject) => {
          const req = session.request({ ':method': 'POST', ':path': CALL, 'content-type': 'application/grpc', 'grpc-encoding': value }, { endStream: true });
          req.on('response', resolve);
          req.on('error', reject);
        });
        assert.equal(headers['grpc-status'], String(grpc.status.UNIMPLEMENTED));
        assert.equal(decodeURIComponent(String(headers['grpc-message'])), `grpc-encoding ${value} is not supported; this runtime takes identity only`);
      } finally {
        session.close();
      }
    });

    test('a header block split over HEADERS and CONTINUATION frames (inside strings) is one block', async () => {
      const peer = await H2Peer.handshake(rt.address);
      try {
        const block = requestBlock(CALL, [hpack.literal('x-long', 'abc'.repeat(100))]);
        // An empty HEADERS fragment, then CONTINUATIONs cut inside the literals.
        const bounds = [0, 0, 7, 20, 21, block.length - 3, block.length];
        const parts = bounds.slice(1).map((end, i) => block.subarray(bounds[i], end));
        const frames = parts.map((p, i) => frame(i === 0 ? HEADERS : CONTINUATION, i === parts.length - 1 ? END_HEADERS : 0, 1, p));
        peer.write(Buffer.concat([...frames, frame(DATA, END_STREAM, 1, grpcMessage(functionMessage('echo', binary(77, 11))))]));
        await peer.until('the answer on stream 1', () => peer.stream(1).ended);
        assert.ok(okPayload(peer.stream(1)).equals(binary(77, 11)));
      } finally {
        peer.close();
      }
    });

    // --- streams ---------------------------------------------------------------------------------------

    test('500 concurrent unary calls on one connection are all answered, each with its own payload', async () => {
      const peer = await H2Peer.handshake(rt.address, [[SETTINGS_INITIAL_WINDOW_SIZE, 1 << 20]]);
      try {
        const settings = peer.frames.find((f) => f.type === SETTINGS && !(f.flags & ACK))!;
        let maxStreams = Infinity;
        for (let i = 0; i < settings.payload.length; i += 6)
          if (settings.payload.readUInt16BE(i) === SETTINGS_MAX_CONCURRENT_STREAMS) maxStreams = settings.payload.readUInt32BE(i + 2);
        assert.ok(maxStreams >= 500, `SETTINGS_MAX_CONCURRENT_STREAMS ${maxStreams}`);
        peer.send(WINDOW_UPDATE, 0, 0, u32(64 << 20));
        const ids = Array.from({ length: 500 }, (_, i) => 2 * i + 1);
        // Every request is written before any answer is read.
        peer.write(Buffer.concat(ids.map((sid) => peer.request(sid, CALL, functionMessage('echo', binary(64, sid))))));
        await peer.until('500 answers', () => ids.every((sid) => peer.stream(sid).ended));
        for (const sid of ids) assert.ok(okPayload(peer.stream(sid)).equals(binary(64, sid)), `stream ${sid}`);
        assert.equal(peer.goaway, undefined);
      } finally {
        peer.close();
      }
    });

    test('500 concurrent grpc-js calls on one channel', async () => {
      const client = createFunctionClient(rt.address);
      try {
        const outs = await Promise.all(Array.from({ length: 500 }, (_, i) => call(client, message('echo', binary(32, 1000 + i)))));
        outs.forEach((o, i) => {
          assert.equal(o.err, undefined, o.err?.details);
          assert.ok(o.res!.Payload.equals(binary(32, 1000 + i)));
        });
      } finally {
        client.close();
      }
    });

    test('beyond SETTINGS_MAX_CONCURRENT_STREAMS (1000), a new stream is refused (REFUSED_STREAM); the others are answered', async () => {
      const peer = await H2Peer.handshake(rt.address, [[SETTINGS_INITIAL_WINDOW_SIZE, 1 << 20]]);
      try {
        peer.send(WINDOW_UPDATE, 0, 0, u32(64 << 20));
        // The first call holds the one worker for 2 s, so the 999 behind it stay open meanwhile.
        const ids = Array.from({ length: 1001 }, (_, i) => 2 * i + 1);
        peer.write(
          Buffer.concat(
            ids.map((sid) =>
              peer.request(sid, CALL, sid === 1 ? functionMessage('sleepy', Buffer.from('{"sleep": 2}')) : functionMessage('echo', binary(16, sid))),
            ),
          ),
        );
        const last = ids[ids.length - 1]!;
        await peer.until('1000 answers and a refusal', () => ids.every((sid) => over(peer.stream(sid))));
        assert.equal(peer.stream(last).rst, REFUSED_STREAM);
        assert.equal(peer.stream(last).blocks.length, 0);
        assert.equal(okPayload(peer.stream(1)).toString(), '{"slept": 2}');
        for (const sid of ids.slice(1, -1)) assert.ok(okPayload(peer.stream(sid)).equals(binary(16, sid)), `stream ${sid}`);
        assert.equal(peer.goaway, undefined);
      } finally {
        peer.close();
      }
    });

    test('grpc-timeout: the runtime enforces it (DEADLINE_EXCEEDED with its text); a malformed one is INTERNAL', async () => {
      const peer = await H2Peer.handshake(rt.address);
      try {
        peer.write(peer.request(1, CALL, functionMessage('sleepy', Buffer.from('{"sleep": 30}')), [hpack.literal('grpc-timeout', '1S')]));
        peer.write(peer.request(3, CALL, functionMessage('echo', binary(5, 1)), [hpack.literal('grpc-timeout', 'abc')]));
        await peer.until('both answers', () => peer.stream(1).ended && peer.stream(3).ended);
        assert.deepEqual(grpcStatus(peer.stream(1)), {
          code: grpc.status.DEADLINE_EXCEEDED,
          message: 'Deadline Exceeded: function "sleepy" did not finish in time; its worker was replaced',
        });
        assert.deepEqual(grpcStatus(peer.stream(3)), { code: grpc.status.INTERNAL, message: 'malformed grpc-timeout "abc"' });
      } finally {
        peer.close();
      }
    });

    test('PING is answered with ACK and the same payload; a PING ACK from the client is not answered', async () => {
      const peer = await H2Peer.handshake(rt.address);
      try {
        const data = Buffer.from([0, 1, 2, 3, 0xfc, 0xfd, 0xfe, 0xff]);
        const ack = await peer.ping(data);
        assert.equal(ack.stream, 0);
        assert.ok(ack.payload.equals(data));
        peer.send(PING, ACK, 0, Buffer.from('ackonly!'));
        await peer.ping(Buffer.from('second.'.padEnd(8, '.')));
        assert.equal(peer.frames.filter((f) => f.type === PING && f.payload.equals(Buffer.from('ackonly!'))).length, 0);
      } finally {
        peer.close();
      }
    });

    test('RST_STREAM from the client cancels that call; the others on the connection go on', async () => {
      const peer = await H2Peer.handshake(rt.address);
      try {
        const slow = functionMessage('sleepy', Buffer.from('{"sleep": 0.3}'));
        peer.write(
          Buffer.concat([peer.request(1, CALL, slow), peer.request(3, CALL, slow), frame(RST_STREAM, 0, 3, u32(CANCEL)), peer.request(5, CALL, slow)]),
        );
        await peer.until('the answers on streams 1 and 5', () => peer.stream(1).ended && peer.stream(5).ended);
        await peer.ping();
        assert.deepEqual(okPayload(peer.stream(1)).toString(), '{"slept": 0.3}');
        assert.deepEqual(okPayload(peer.stream(5)).toString(), '{"slept": 0.3}');
        const cancelled = peer.stream(3);
        assert.equal(cancelled.blocks.length, 0, 'nothing answered on the cancelled stream');
        assert.equal(cancelled.dataFrames, 0);
        // Frames for the closed stream are ignored, and the connection goes on.
        peer.send(WINDOW_UPDATE, 0, 3, u32(100));
        peer.write(peer.request(7, CALL, functionMessage('echo', binary(9, 12))));
        await peer.until('the answer on stream 7', () => peer.stream(7).ended);
        assert.ok(okPayload(peer.stream(7)).equals(binary(9, 12)));
      } finally {
        peer.close();
      }
    });

    test('grpc-js: cancelling one call leaves the others on the channel', async () => {
      const client = createFunctionClient(rt.address);
      try {
        const calls = [0, 1, 2].map(
          (i) =>
            new Promise<{ err: grpc.ServiceError | null; res?: { Payload: Buffer } }>((resolve) => {
              const c = client.Call(message('sleepy', '{"sleep": 0.2}'), { deadline: Date.now() + 60000 }, (err, res) => resolve({ err, res }));
              if (i === 1) setImmediate(() => c.cancel());
            }),
        );
        const [a, b, c] = await Promise.all(calls);
        assert.equal(a!.err, null);
        assert.equal(b!.err?.code, grpc.status.CANCELLED);
        assert.equal(c!.err, null);
        assert.equal(c!.res!.Payload.toString(), '{"slept": 0.2}');
      } finally {
        client.close();
      }
    });

    test('server.concurrent.max: calls beyond it are RESOURCE_EXHAUSTED at once, the others run', async () => {
      const limited = serviceDir({
        'etc/baetyl/service.yml': CONF.replace('server:\n', 'server:\n  concurrent:\n    max: 2\n'),
        'code/handlers.py': HANDLERS_PY,
      });
      const small = await startRuntimeProcess(kind, limited);
      try {
        const peer = await H2Peer.handshake(small.address);
        const ids = [1, 3, 5, 7, 9];
        // All five in one write; the first two keep the runtime busy for 2 s.
        peer.write(Buffer.concat(ids.map((sid) => peer.request(sid, CALL, functionMessage('sleepy', Buffer.from('{"sleep": 2}'))))));
        await peer.until('five answers', () => ids.every((sid) => peer.stream(sid).ended));
        assert.equal(okPayload(peer.stream(1)).toString(), '{"slept": 2}');
        assert.equal(okPayload(peer.stream(3)).toString(), '{"slept": 2}');
        for (const sid of [5, 7, 9]) {
          assert.deepEqual(grpcStatus(peer.stream(sid)), {
            code: grpc.status.RESOURCE_EXHAUSTED,
            message: 'too many concurrent calls (server.concurrent.max is 2)',
          });
        }
        peer.close();
      } finally {
        await stopShared(small);
        cleanup(limited);
      }
    });

    test('SIGTERM: GOAWAY NO_ERROR naming the last stream, the call in flight answered, later streams refused, exit 0', async () => {
      const own = serviceDir({ 'etc/baetyl/service.yml': CONF, 'code/handlers.py': HANDLERS_PY });
      const inst = await startRuntimeProcess(kind, own);
      try {
        const peer = await H2Peer.handshake(inst.address);
        peer.write(peer.request(1, CALL, functionMessage('sleepy', Buffer.from('{"sleep": 1}'))));
        // The call is running once the worker has it; the log says nothing of that, so wait for
        // the request to have been read: a PING answered after it.
        await peer.ping();
        inst.child.kill('SIGTERM');
        await peer.until('GOAWAY', () => peer.goaway !== undefined);
        assert.deepEqual({ last: peer.goaway!.last, code: peer.goaway!.code }, { last: 1, code: NO_ERROR });
        peer.write(peer.request(3, CALL, functionMessage('echo', binary(5, 1))));
        await peer.until('the answer on stream 1 and the refusal of stream 3', () => peer.stream(1).ended && over(peer.stream(3)));
        assert.equal(okPayload(peer.stream(1)).toString(), '{"slept": 1}');
        assert.equal(peer.stream(3).rst, REFUSED_STREAM);
        await new Promise<void>((resolve) => (peer.closed ? resolve() : peer.socket.once('close', () => resolve())));
        assert.equal(await inst.exited, 0);
      } finally {
        await inst.stop();
        cleanup(own);
      }
    });

    test("nghttp2's peers: h2load (4 connections, 100 streams each) and nghttp (PRIORITY frames, its own HPACK)", { skip: nghttp2Skip }, async () => {
      const tmp = mkdtempSync(join(tmpdir(), 'baetyl-h2load-'));
      try {
        const body = join(tmp, 'call.bin');
        const request = functionMessage('echo', binary(40, 13));
        writeFileSync(body, grpcMessage(request));
        const url = `http://${rt.address}${CALL}`;
        const headers = ['-H', 'content-type: application/grpc', '-H', 'te: trailers'];
        const load = await run('h2load', ['-n', '2000', '-c', '4', '-m', '100', '-d', body, ...headers, url]);
        assert.match(load, /requests: 2000 total, 2000 started, 2000 done, 2000 succeeded, 0 failed, 0 errored, 0 timeout/);
        assert.match(load, /status codes: 2000 2xx/);
        const verbose = await run('nghttp', ['-v', '-d', body, ...headers, url]);
        assert.match(verbose, /send PRIORITY frame/);
        // The echo's answer is as long as the request (the same fields, the same payload).
        assert.match(verbose, /recv \(stream_id=\d+\) :status: 200/);
        assert.match(verbose, new RegExp(`recv DATA frame <length=${request.length + 5}, flags=0x00, stream_id=\\d+>`));
        assert.match(verbose, /recv \(stream_id=\d+\) grpc-status: 0/);
      } finally {
        rmSync(tmp, { recursive: true, force: true });
      }
    });

    test('a FunctionStream cancelled with calls running and queued: nothing more on it, the instance serves on', async () => {
      const peer = await H2Peer.handshake(rt.address);
      try {
        const m = (fn: string, p: Buffer | string) => message(fn, p) as FunctionMessage;
        const calls = [grpcMessage(encodeStreamCall({ seq: 1, timeout: 0, msg: m('sleepy', '{"sleep": 0.5}') }))];
        for (let seq = 2; seq <= 20; seq++) calls.push(grpcMessage(encodeStreamCall({ seq, timeout: 0, msg: m('echo', binary(8, seq)) })));
        peer.send(HEADERS, END_HEADERS, 1, requestBlock('/baetyl.FunctionStream/Calls'));
        peer.send(DATA, 0, 1, Buffer.concat(calls));
        await peer.until("the stream's response headers", () => peer.stream(1).blocks.length > 0);
        peer.send(RST_STREAM, 0, 1, u32(CANCEL));
        // A call on a new stream is answered once the worker is free.
        peer.write(peer.request(3, CALL, functionMessage('echo', binary(8, 99))));
        await peer.until('the answer on stream 3', () => peer.stream(3).ended);
        assert.ok(okPayload(peer.stream(3)).equals(binary(8, 99)));
        await peer.ping();
        assert.equal(peer.stream(1).dataFrames, 0, 'no result on the cancelled stream');
        assert.equal(peer.stream(1).blocks.length, 1, 'no trailers on the cancelled stream');
      } finally {
        peer.close();
      }
      await stillServes();
    });

    test('GOAWAY from the client: the open call is still answered, then the server closes the connection', async () => {
      const peer = await H2Peer.handshake(rt.address);
      peer.write(peer.request(1, CALL, functionMessage('sleepy', Buffer.from('{"sleep": 0.3}'))));
      peer.send(GOAWAY, 0, 0, Buffer.concat([u32(0), u32(NO_ERROR)]));
      await peer.until('the answer on stream 1', () => peer.stream(1).ended);
      assert.equal(okPayload(peer.stream(1)).toString(), '{"slept": 0.3}');
      await new Promise<void>((resolve) => (peer.closed ? resolve() : peer.socket.once('close', () => resolve())));
      await stillServes();
    });
  });
}
