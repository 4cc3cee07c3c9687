// The python runtime's handler process under a stream of calls (what the function manager sends),
// on the real interpreters (2.7.18 and 3.6.15): pipelined calls run one at a time in order; a call
// killed at its deadline in the middle of a batch takes none of the calls queued behind it along
// (they never started, and run on the fresh process); a queued call whose deadline passes is
// answered at once and skipped; kill -9 of the handler process fails only the call it was running;
// the handler's prints reach the log and never the protocol.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { status } from '@grpc/grpc-js';
import type { FunctionMessage } from '@baetyl/core';
import { waitFor } from '@baetyl/test-support';
import { childrenOf, cleanup, isRunning, serviceDir, startRuntimeProcess, StreamCaller, type RuntimeProc } from './helpers.js';

const PY = `import os, sys, time
n = 0
def handler(event, ctx):
    global n
    n += 1
    if event.get('print'):
        print('print %d from the handler' % event['i'])
        sys.stderr.write('stderr %d\\n' % event['i'])
    if event.get('sleep'):
        time.sleep(event['sleep'])
    return {'i': event['i'], 'n': n, 'pid': os.getpid()}
`;

type Out = { i: number; n: number; pid: number };

function msg(event: Record<string, unknown>): FunctionMessage {
  return { ID: 0, QOS: 0, Topic: 't', Payload: Buffer.from(JSON.stringify(event)), Timestamp: 0, FunctionName: 'f', FunctionInvokeID: 'x' };
}

const parse = (m: FunctionMessage): Out => JSON.parse(m.Payload.toString()) as Out;

/** A call's outcome: its result, or the error's code and details. */
async function outcome(p: Promise<FunctionMessage>): Promise<{ out?: Out; code?: number; details?: string }> {
  try {
    return { out: parse(await p) };
  } catch (err) {
    const e = err as { code: number; details: string };
    return { code: e.code, details: e.details };
  }
}

for (const kind of ['python27', 'python36'] as const) {
  describe(`${kind}: the handler process under a stream of calls`, () => {
    let dir: string;
    let rt: RuntimeProc;
    let caller: StreamCaller;

    before(async () => {
      dir = serviceDir({
        'etc/baetyl/service.yml': 'functions:\n  - name: f\n    handler: index.handler\n    codedir: code\nlogger:\n  level: debug\n',
        'code/index.py': PY,
      });
      rt = await startRuntimeProcess(kind, dir);
      caller = new StreamCaller(rt.client);
    });
    after(async () => {
      caller.close();
      await rt.stop();
      cleanup(dir);
    });

    const warm = async () => {
      // A few calls first, so the runtime knows the function is fast (it pipelines only then).
      for (let i = 0; i < 3; i++) await caller.call(msg({ i: -1 }), 30_000);
    };

    test('calls pipelined on one stream run one at a time, in the order sent, in one process', async () => {
      await warm();
      const outs = (await Promise.all(Array.from({ length: 40 }, (_, i) => caller.call(msg({ i }), 30_000)))).map(parse);
      assert.deepEqual(
        outs.map((o) => o.i),
        Array.from({ length: 40 }, (_, i) => i),
      );
      const first = outs[0]!.n;
      assert.deepEqual(
        outs.map((o) => o.n),
        Array.from({ length: 40 }, (_, i) => first + i),
      );
      assert.equal(new Set(outs.map((o) => o.pid)).size, 1);
      // One handler process (the default), under the server process.
      assert.deepEqual(childrenOf(rt.child.pid!), [outs[0]!.pid]);
    });

    test('every answer says how long its handler ran (StreamResult.us, which the manager batches fast functions by)', async () => {
      await caller.call(msg({ i: 0 }), 30_000);
      const fast = caller.times.at(-1)!;
      await caller.call(msg({ i: 1, sleep: 0.05 }), 30_000);
      const slow = caller.times.at(-1)!;
      assert.ok(fast >= 1, `a fast call says ${fast} us`);
      assert.ok(slow >= 50_000 && slow < 60_000_000, `a call that slept 50 ms says ${slow} us`);
      assert.ok(slow > fast);
    });

    test('a deadline in the middle of a pipelined batch kills only that call; the calls behind it run on the fresh process, in order', async () => {
      await warm();
      const before = parse(await caller.call(msg({ i: -1 }), 30_000));
      const calls = [
        caller.call(msg({ i: 0 }), 30_000),
        caller.call(msg({ i: 1, sleep: 30 }), 800),
        caller.call(msg({ i: 2 }), 30_000),
        caller.call(msg({ i: 3 }), 30_000),
      ].map(outcome);
      const [ok, hung, ...behind] = await Promise.all(calls);
      assert.equal(ok!.out?.pid, before.pid);
      assert.equal(hung!.code, status.DEADLINE_EXCEEDED);
      assert.match(hung!.details ?? '', /did not finish in time; its worker was replaced/);
      await waitFor('the killed process to be gone', () => (isRunning(before.pid) ? undefined : true));
      const outs = behind.map((b) => b.out!);
      assert.deepEqual(
        outs.map((o) => o.i),
        [2, 3],
      );
      assert.notEqual(outs[0]!.pid, before.pid);
      // The fresh process ran them as its first two calls.
      assert.deepEqual(
        outs.map((o) => [o.pid, o.n]),
        [
          [outs[0]!.pid, 1],
          [outs[0]!.pid, 2],
        ],
      );
    });

    test('a call whose deadline passes while queued behind a slow call is answered first, and skipped', async () => {
      await warm();
      const order: string[] = [];
      const slow = caller.call(msg({ i: 0, sleep: 1.5 }), 30_000).then((m) => (order.push('slow'), parse(m)));
      const queued = outcome(caller.call(msg({ i: 1 }), 300)).then((o) => (order.push('queued'), o));
      const q = await queued;
      assert.equal(q.code, status.DEADLINE_EXCEEDED);
      const s = await slow;
      assert.deepEqual(order, ['queued', 'slow']);
      // The process skipped the expired call: the next one it runs is the slow one's successor.
      const next = parse(await caller.call(msg({ i: 2 }), 30_000));
      assert.equal(next.pid, s.pid);
      assert.equal(next.n, s.n + 1);
    });

    test('kill -9 of the handler process fails the call it was running; the queued calls run on a new process; the stream goes on', async () => {
      await warm();
      const victim = parse(await caller.call(msg({ i: -1 }), 30_000)).pid;
      const running = outcome(caller.call(msg({ i: 0, sleep: 30 }), 60_000));
      const queued = [1, 2].map((i) => outcome(caller.call(msg({ i }), 60_000)));
      // Wait until the sleeping call is in the handler (its process has been given the batch).
      await new Promise((r) => setTimeout(r, 300));
      process.kill(victim, 'SIGKILL');
      const r = await running;
      assert.equal(r.code, status.INTERNAL);
      assert.match(r.details ?? '', /worker process was killed by SIGKILL while running function "f"; the worker was replaced/);
      const outs = (await Promise.all(queued)).map((q) => q.out!);
      assert.deepEqual(
        outs.map((o) => o.i),
        [1, 2],
      );
      assert.notEqual(outs[0]!.pid, victim);
      assert.equal(outs[0]!.pid, outs[1]!.pid);
      // The same stream still works.
      assert.equal(parse(await caller.call(msg({ i: 3 }), 30_000)).i, 3);
    });

    test("the handler's prints in a pipelined batch go to the log, line by line, and every result is intact", async () => {
      await warm();
      const outs = (await Promise.all(Array.from({ length: 10 }, (_, i) => caller.call(msg({ i, print: true }), 30_000)))).map(parse);
      assert.deepEqual(
        outs.map((o) => o.i),
        Array.from({ length: 10 }, (_, i) => i),
      );
      await waitFor('the prints in the log', () => (rt.stderr().includes('print 9 from the handler') && rt.stderr().includes('stderr 9') ? true : undefined));
      for (let i = 0; i < 10; i++) {
        assert.match(rt.stderr(), new RegExp(`level=info msg="print ${i} from the handler" stream=stdout worker=${outs[0]!.pid}`));
        assert.match(rt.stderr(), new RegExp(`level=warn msg="stderr ${i}" stream=stderr worker=${outs[0]!.pid}`));
      }
    });
  });
}

for (const kind of ['python27', 'python36'] as const) {
  test(`${kind}: a replacement handler process that cannot load fails the waiting calls with the reason, is retried a second later, not in a loop`, async () => {
    const marker = join(mkdtempSync(join(tmpdir(), 'baetyl-reload-')), 'broken');
    const dir = serviceDir({
      'etc/baetyl/service.yml': 'functions:\n  - name: f\n    handler: flaky.handler\n    codedir: code\n',
      // Loads at start; once the marker exists, every new process dies while importing it.
      'code/flaky.py': `import os, time\nif os.path.exists(${JSON.stringify(marker)}):\n    os._exit(7)\ndef handler(event, ctx):\n    if event.get('sleep'):\n        time.sleep(event['sleep'])\n    return {'pid': os.getpid()}\n`,
    });
    const rt = await startRuntimeProcess(kind, dir);
    const caller = new StreamCaller(rt.client);
    try {
      const first = parse(await caller.call(msg({ i: 0 }), 30_000)).pid;
      writeFileSync(marker, '');
      // Killed at its deadline: the replacement cannot import the module.
      const hung = await outcome(caller.call(msg({ i: 1, sleep: 30 }), 500));
      assert.equal(hung.code, status.DEADLINE_EXCEEDED);
      const failed = await outcome(caller.call(msg({ i: 2 }), 30_000));
      assert.equal(failed.code, status.UNAVAILABLE);
      assert.match(failed.details ?? '', /cannot start a handler process: the python \S+ handler process exited with code 7 before loading the handlers/);
      // A second later it tries again, once: no fork loop in the meantime.
      await new Promise((r) => setTimeout(r, 1500));
      const tries = (rt.stderr().match(/cannot start a handler process/g) ?? []).length;
      assert.ok(tries >= 1 && tries <= 3, `${tries} failed starts in 1.5 s`);
      rmSync(marker);
      const back = await waitFor('a call to work again', async () => {
        const o = await outcome(caller.call(msg({ i: 3 }), 30_000));
        return o.out;
      });
      assert.notEqual(back.pid, first);
    } finally {
      caller.close();
      await rt.stop();
      cleanup(dir);
    }
  });
}
