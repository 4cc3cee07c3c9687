// The node host's gRPC server (src/grpc, node:http2) against gRPC's C core (python3-grpcio), a
// client independent of grpc-js: node85 and sql instances as real processes.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { FILTER_CONF } from './fixtures.js';
import { cleanup, message, serviceDir, startRuntimeProcess, type RuntimeProc } from './helpers.js';
import { grpcioSkip, runGrpcio, wireMsg, type StreamOutcome, type UnaryOutcome } from './support/grpcio.js';

const TOOLS_JS = `exports.echo = (event, context, callback) => callback(null, { event, fn: context.functionName });
exports.boom = () => { throw new TypeError('bøom 100%'); };
exports.sleepy = (event, context, callback) => setTimeout(() => callback(null, {}), event.sleep * 1000);
`;

const CONF = `functions:
  - name: echo
    handler: tools.echo
    codedir: code
  - name: boom
    handler: tools.boom
    codedir: code
  - name: sleepy
    handler: tools.sleepy
    codedir: code
`;

describe('grpcio against node85 and sql instances', () => {
  let dir: string;
  let sqlDir: string;
  let node: RuntimeProc;
  let sql: RuntimeProc;
  before(async () => {
    dir = serviceDir({ 'etc/baetyl/service.yml': CONF, 'code/tools.js': TOOLS_JS });
    sqlDir = serviceDir({ 'etc/baetyl/service.yml': FILTER_CONF });
    [node, sql] = await Promise.all([startRuntimeProcess('node85', dir), startRuntimeProcess('sql', sqlDir)]);
  });
  after(async () => {
    await Promise.all([node.stop(), sql.stop()]);
    cleanup(dir);
    cleanup(sqlDir);
  });

  test('unary: results, the user error text (percent-encoded on the wire), a deadline, gzip refused', { skip: grpcioSkip }, async () => {
    const out = (await runGrpcio({
      target: node.address,
      ops: [
        { kind: 'unary', msg: wireMsg(message('echo', '{"id":1}')) },
        { kind: 'unary', msg: wireMsg(message('boom', '{}')) },
        { kind: 'unary', msg: wireMsg(message('sleepy', '{"sleep": 30}')), timeout: 1 },
        // Large enough for grpcio to really compress it (a small message goes as it is).
        { kind: 'unary', msg: wireMsg(message('echo', JSON.stringify({ id: 2, pad: 'x'.repeat(300) }))), compression: 'gzip' },
      ],
    })) as UnaryOutcome[];
    const [ok, boom, slow, gzip] = out;
    assert.equal(ok!.code, 0, ok!.details ?? '');
    assert.equal(Buffer.from(ok!.response!.Payload, 'base64').toString(), '{"event":{"id":1},"fn":"echo"}');
    assert.equal(ok!.response!.FunctionName, 'echo');
    assert.equal(boom!.code, grpc.status.UNKNOWN);
    assert.equal(boom!.details, "Exception calling application: ('[UserCodeInvoke]', TypeError: bøom 100%)");
    assert.equal(slow!.code, grpc.status.DEADLINE_EXCEEDED);
    assert.equal(gzip!.code, grpc.status.UNIMPLEMENTED);
    assert.match(gzip!.details ?? '', /compressed messages are not supported/);
  });

  test('FunctionStream on sql: every call answered by seq, the stream ends OK', { skip: grpcioSkip }, async () => {
    const calls = [1, 2, 30].map((id, i) => ({ seq: i + 1, timeout: 5000, msg: wireMsg(message('sql-filter', JSON.stringify({ id }))) }));
    const [o] = (await runGrpcio({ target: sql.address, ops: [{ kind: 'stream', calls }] })) as StreamOutcome[];
    assert.equal(o!.code, 0, o!.details ?? '');
    const bySeq = Object.fromEntries(o!.results.map((r) => [r.seq, [r.code, Buffer.from(r.payload, 'base64').toString()]]));
    // id 30 fails `where id < 10`: an empty payload, which the manager does not publish.
    assert.deepEqual(bySeq, { 1: [0, '{"id":1,"qos":0,"topic":"t"}'], 2: [0, '{"id":2,"qos":0,"topic":"t"}'], 3: [0, ''] });
  });
});
