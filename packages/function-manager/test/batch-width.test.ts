// A fast function's batch spreads on more instances only while the CPUs idle (the function then
// waits on something other than CPU, and more instances help). The pool runs in
// this process with real node85 runtime instances (child processes over real gRPC); what it reads
// of the host's CPU load is scripted, since a test cannot make the machine idle or busy on demand
// (src/pool/host-cpu.ts reads the real /proc/stat; its own test is below).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLogger } from '@baetyl/core/log';
import type { FunctionMessage } from '@baetyl/core/function';
import { freePort } from '@baetyl/test-support';
import { FunctionPool } from '../src/pool/pool.js';
import { HostCpu } from '../src/pool/host-cpu.js';
import type { InstanceLauncher } from '../src/pool/launcher.js';

const RUNTIME_MAIN = fileURLToPath(new URL('../../../runtime/dist/src/main.js', import.meta.url));
const cores = Math.max(1, availableParallelism());

// A fast function: it answers at once, so only the number of calls at a time fills the batch.
const CODE = `exports.handler = (event, context, cb) => cb(null, { inst: process.env.BAETYL_SERVICE_INSTANCE_NAME });`;

/** Real runtime processes, started and stopped the way the master's API does it. */
class ProcessLauncher implements InstanceLauncher {
  readonly started: string[] = [];
  private readonly children = new Map<string, ChildProcess>();

  constructor(private readonly dir: string) {}

  async start(service: string, instance: string): Promise<{ dialAddress: string }> {
    const listen = `127.0.0.1:${await freePort()}`;
    this.started.push(instance);
    const child = spawn(process.execPath, [RUNTIME_MAIN, '--runtime', 'node85'], {
      cwd: this.dir,
      env: { ...process.env, BAETYL_SERVICE_NAME: service, BAETYL_SERVICE_INSTANCE_NAME: instance, BAETYL_SERVICE_INSTANCE_ADDRESS: listen },
      stdio: 'ignore',
    });
    this.children.set(instance, child);
    return { dialAddress: listen };
  }

  async stop(_service: string, instance: string): Promise<void> {
    const child = this.children.get(instance);
    this.children.delete(instance);
    if (!child || child.exitCode !== null) return;
    await new Promise((resolve) => {
      child.once('exit', resolve);
      child.kill('SIGKILL');
    });
  }
}

/** /proc/stat as a host whose CPUs are `idleShare` idle, advancing on every read. */
function scriptedStat(idleShare: () => number): () => string {
  let idle = 0;
  let busy = 0;
  return () => {
    idle += 1000 * idleShare();
    busy += 1000 * (1 - idleShare());
    return `cpu  ${Math.round(busy)} 0 0 ${Math.round(idle)} 0 0 0 0 0 0\ncpu0 0 0 0 0\n`;
  };
}

interface Flood {
  started: string[];
  ran: Set<string>;
  /** The most calls in flight at once, and the most per busy instance, sampled every millisecond. */
  maxInflight: number;
  maxPerBusy: number;
  /** The most messages the pool let in at once (its reservations). */
  maxReserved: number;
}

/** 3000 calls from `callers` at once; concurrency: instance.concurrency (undefined: not set). */
async function flood(idleShare: number, opts: { concurrency?: number; callers?: number; max?: number } = { concurrency: 8 }): Promise<Flood> {
  const dir = mkdtempSync(join(tmpdir(), 'fm-width-'));
  mkdirSync(join(dir, 'etc/baetyl'), { recursive: true });
  mkdirSync(join(dir, 'code'));
  writeFileSync(join(dir, 'etc/baetyl/service.yml'), 'functions:\n  - name: f\n    handler: index.handler\n    codedir: code\n');
  writeFileSync(join(dir, 'code/index.js'), CODE);
  const launcher = new ProcessLauncher(dir);
  const max = opts.max ?? cores + 3;
  const pool = new FunctionPool(
    {
      functionName: 'f',
      serviceName: 'function-f',
      min: 0,
      max,
      idleTime: 0,
      evictTime: 0,
      timeout: 30_000,
      messageLengthMax: 4 << 20,
      backoffMax: 20,
      ...(opts.concurrency !== undefined ? { concurrency: opts.concurrency } : {}),
      hostCpu: new HostCpu(
        20,
        scriptedStat(() => idleShare),
      ),
    },
    launcher,
    createLogger({ level: 'error' }, {}, { stderr: false }),
  );
  pool.start();
  const ran = new Set<string>();
  let maxInflight = 0;
  let maxPerBusy = 0;
  let maxReserved = 0;
  const sampler = setInterval(() => {
    const { inflight, busy, reserved } = pool.stats();
    maxInflight = Math.max(maxInflight, inflight);
    maxReserved = Math.max(maxReserved, reserved);
    if (busy > 0) maxPerBusy = Math.max(maxPerBusy, inflight / busy);
  }, 1);
  try {
    const msg = (i: number): FunctionMessage => ({
      ID: i,
      QOS: 0,
      Topic: 't',
      Payload: Buffer.from('{}'),
      Timestamp: 0,
      FunctionName: 'f',
      FunctionInvokeID: `i${i}`,
    });
    // 3000 calls, as many at once as the pool's reservations allow (the rules' back-pressure).
    let next = 0;
    const worker = async () => {
      while (next < 3000) {
        const r = await pool.reserve();
        const out = await r.invoke(msg(next++), 1);
        r.release();
        assert.equal(out.kind, 'ok', JSON.stringify(out));
        if (out.kind === 'ok') ran.add((JSON.parse(out.result.Payload.toString()) as { inst: string }).inst);
      }
    };
    await Promise.all(Array.from({ length: opts.callers ?? max * 8 }, worker));
    return { started: [...launcher.started], ran, maxInflight, maxPerBusy, maxReserved };
  } finally {
    clearInterval(sampler);
    await pool.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

test('CPUs busy: a fast function stays batched on one instance per core (plus one started before its calls were measured)', async () => {
  const { started, ran } = await flood(0.05);
  assert.ok(started.length <= cores + 1, `started ${started.join(', ')}`);
  assert.ok(ran.size <= cores + 1, `ran on ${[...ran].join(', ')}`);
});

test('CPUs idle while the batch is full: the batch spreads, one instance at a time, up to instance.max', async () => {
  const { started } = await flood(0.9);
  assert.equal(started.length, cores + 3, `started ${started.join(', ')}`);
});

test('instance.concurrency not set: a fast batch goes deeper than 8 calls an instance, and never past 32', async () => {
  const { maxInflight, maxPerBusy, ran } = await flood(0.05, { callers: 400 });
  assert.ok(maxPerBusy > 8, `at most ${maxPerBusy.toFixed(1)} calls per busy instance (${maxInflight} in flight)`);
  assert.ok(maxInflight <= 32 * (cores + 1), `${maxInflight} calls in flight on at most ${cores + 1} instances`);
  assert.ok(ran.size <= cores + 1, `ran on ${[...ran].join(', ')}`);
});

test('instance.max 1: the deeper batch lets in no more messages than its one instance takes', async () => {
  const { maxReserved, maxPerBusy } = await flood(0.05, { callers: 400, max: 1 });
  assert.ok(maxPerBusy > 8, `${maxPerBusy.toFixed(1)} calls on the instance`);
  assert.ok(maxReserved <= 32, `${maxReserved} messages let in for one instance of 32 calls`);
});

test('instance.concurrency set: a fast batch is no deeper than it says', async () => {
  const { maxPerBusy, maxInflight } = await flood(0.05, { concurrency: 8, callers: 400 });
  assert.ok(maxPerBusy <= 8, `${maxPerBusy.toFixed(1)} calls per busy instance`);
  assert.ok(maxInflight > 8, `${maxInflight} calls in flight: the batch was full`);
});

test('HostCpu reads the real /proc/stat: an idle share between 0 and 1, one sample per interval', async () => {
  const cpu = new HostCpu(50);
  assert.equal(cpu.sample(0), undefined, 'the first read only sets the start');
  await new Promise((r) => setTimeout(r, 120));
  assert.equal(cpu.sample(10), undefined, 'not again within the interval');
  const s = cpu.sample(200);
  assert.equal(s?.since, 0, 'its interval starts at the previous sample');
  assert.ok(s && s.idle >= 0 && s.idle <= 1, JSON.stringify(s));
  assert.ok(readFileSync('/proc/stat', 'latin1').startsWith('cpu '));
  const broken = new HostCpu(0, () => 'nonsense');
  assert.equal(broken.sample(0), undefined);
  assert.equal(broken.readable, false);
});
