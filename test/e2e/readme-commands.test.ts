// The commands README.md and docs/getting-started.md tell a user to type, run as written in a
// fresh clone of this checkout's commit: `make start` in the background (it installs from pnpm's
// store and builds), then in a second shell `baetyl check`, `status`, `logs`, `logs -f`, the
// tutorial's mosquitto_sub/pub, and `stop`. The blocks are found by the `<!-- readme-test: NAME -->`
// line before their fence, so the docs are what runs; each NAME has its checks here.
//
// Ports: the blocks use the example's own 1883. So that nothing else on the machine (other tests,
// another hub) can answer on it or hold it, everything runs in a network namespace of its own
// (`unshare -n`, entered with `nsenter` for each block), and the README's commands run unchanged.
// Where no namespace can be made, they run on the host's network if 1883 is free, else the test
// skips, saying why (BAETYL_REQUIRE_README=1, set by .ci/run, turns that into a failure).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { waitFor } from '@baetyl/test-support';

const REPO = fileURLToPath(new URL('../../..', import.meta.url));
const DOCS = ['README.md', 'docs/getting-started.md'];
const WORKDIR = 'deploy/example/native';
/** Every step a marker may name; each has its checks below. */
const STEPS = ['start', 'check', 'status', 'logs', 'follow', 'tutorial', 'stop'] as const;
type Step = (typeof STEPS)[number];

interface Block {
  step: Step;
  where: string;
  text: string;
}

/** The marked shell blocks of the docs: a `<!-- readme-test: NAME -->` line, then a sh fence. */
function markedBlocks(root: string): Block[] {
  const out: Block[] = [];
  for (const doc of DOCS) {
    const lines = readFileSync(join(root, doc), 'utf8').split('\n');
    lines.forEach((line, i) => {
      const m = line.match(/^<!-- readme-test: (\S+) -->$/);
      if (!m) return;
      const where = `${doc}:${i + 1}`;
      assert.ok((STEPS as readonly string[]).includes(m[1]!), `${where}: unknown step "${m[1]}" (known: ${STEPS.join(', ')}); add its checks to this test`);
      assert.match(lines[i + 1] ?? '', /^```(sh|bash)$/, `${where}: the marker must be right before a \`\`\`sh fence`);
      const end = lines.findIndex((l, j) => j > i + 1 && l === '```');
      assert.ok(end > 0, `${where}: the block is not closed`);
      out.push({ step: m[1] as Step, where, text: lines.slice(i + 2, end).join('\n') });
    });
  }
  return out;
}

/** What a block does, without its comments: two docs may show one step with other comments. */
function commands(text: string): string {
  return text
    .split('\n')
    .map((l) => l.replace(/\s+#\s.*$/, '').trimEnd())
    .filter(Boolean)
    .join('\n');
}

/** One block per step (the same commands wherever it is shown). */
function stepsOf(blocks: Block[]): Map<Step, Block> {
  const steps = new Map<Step, Block>();
  for (const b of blocks) {
    const seen = steps.get(b.step);
    if (seen) assert.equal(commands(b.text), commands(seen.text), `${b.where} and ${seen.where} both show step "${b.step}" with different commands`);
    else steps.set(b.step, b);
  }
  for (const s of STEPS) assert.ok(steps.has(s), `no block is marked "${s}" in ${DOCS.join(' or ')}`);
  return steps;
}

function commandWorks(cmd: string, args: string[]): boolean {
  return spawnSync(cmd, args, { stdio: 'ignore' }).status === 0;
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '0.0.0.0', () => s.close(() => resolve(true)));
  });
}

/** A network namespace with its loopback up, held by a sleeping process; entered with nsenter. */
async function networkNamespace(): Promise<{ enter: string[]; holder: ChildProcess } | undefined> {
  if (!commandWorks('nsenter', ['--version']) || !commandWorks('ip', ['-V'])) return undefined;
  const root = process.getuid?.() === 0;
  const holder = spawn('unshare', [...(root ? ['-n'] : ['-r', '-n']), 'sh', '-c', 'ip link set lo up && echo up && exec sleep 100000'], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const up = await new Promise<boolean>((resolve) => {
    holder.stdout!.once('data', () => resolve(true));
    holder.once('exit', () => resolve(false));
    holder.once('error', () => resolve(false));
  });
  if (!up) return undefined;
  const enter = ['nsenter', '-t', String(holder.pid), '-n', ...(root ? [] : ['-U', '--preserve-credentials']), '--'];
  if (!commandWorks(enter[0]!, [...enter.slice(1), 'true'])) {
    holder.kill();
    return undefined;
  }
  return { enter, holder };
}

const mosquitto = commandWorks('mosquitto_pub', ['--help']) || spawnSync('sh', ['-c', 'command -v mosquitto_pub'], { stdio: 'ignore' }).status === 0;
const git = commandWorks('git', ['--version']);
const ns = mosquitto && git ? await networkNamespace() : undefined;
let skip: string | undefined;
if (!git) skip = 'git is not installed';
else if (!mosquitto) skip = 'mosquitto_pub/mosquitto_sub are not installed (apt-get install mosquitto-clients)';
else if (!ns && !(await portFree(1883)))
  skip = 'no network namespace can be made here (unshare -n), and port 1883, which the README uses, is taken on this host';
if (skip) {
  if (process.env.BAETYL_REQUIRE_README === '1') throw new Error(`${skip}, and BAETYL_REQUIRE_README=1 says the README test must run`);
  process.stderr.write(`# README commands test skipped: ${skip}\n`);
} else if (!ns) process.stderr.write('# README commands: no network namespace here; running on the host network (port 1883 is free)\n');

/**
 * The store this checkout installed from. pnpm picks a store on the project's filesystem, so a
 * clone in a tmpfs /tmp would look for a store of its own, empty, and need the network (which the
 * namespace has none of); the clone uses the checkout's store, as a second clone on one machine does.
 */
function checkoutStore(): string | undefined {
  const res = spawnSync('corepack', ['pnpm', 'store', 'path'], {
    cwd: REPO,
    encoding: 'utf8',
    env: { ...process.env, COREPACK_ENABLE_DOWNLOAD_PROMPT: '0', COREPACK_INTEGRITY_KEYS: '0' },
  });
  return res.status === 0 && res.stdout.trim() ? res.stdout.trim() : undefined;
}
const store = skip ? undefined : checkoutStore();

/** The environment of a new terminal: nothing of the make or test run that started this one. */
function userEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^(BAETYL_|OPENEDGE_|npm_|PNPM_|MAKE|MFLAGS$|NODE_TEST_CONTEXT$|NODE_OPTIONS$)/.test(k)) continue;
    env[k] = v;
  }
  if (store) env.npm_config_store_dir = store;
  return env;
}

interface Shell {
  child: ChildProcess;
  out: () => string;
  exited: Promise<number | null>;
  /** Ends the block and whatever it left running in the background (its process group). */
  kill: () => Promise<void>;
}

/** Runs a block with bash in `dir`, in its own process group, as a user's second shell would. */
function shell(dir: string, text: string): Shell {
  const argv = [...(ns?.enter ?? []), 'bash', '-c', text];
  const child = spawn(argv[0]!, argv.slice(1), { cwd: dir, env: userEnv(), detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out = (out + d).slice(-200_000)));
  child.stderr!.on('data', (d) => (out = (out + d).slice(-200_000)));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    child,
    out: () => out,
    exited,
    kill: async () => {
      try {
        process.kill(-child.pid!, 'SIGTERM');
      } catch {
        // gone already
      }
      await Promise.race([exited, sleep(60_000, undefined, { ref: false })]);
    },
  };
}

async function run(dir: string, b: Block, limitMs = 120_000): Promise<{ code: number | null; out: string }> {
  const sh = shell(dir, b.text);
  const code = await Promise.race([sh.exited, sleep(limitMs, undefined, { ref: false }).then(() => 'timeout' as const)]);
  if (code === 'timeout') {
    await sh.kill();
    assert.fail(`${b.where}: step "${b.step}" did not end within ${limitMs / 1000}s:\n${b.text}\n--- output:\n${sh.out()}`);
  }
  return { code, out: sh.out() };
}

const read = (file: string) => (existsSync(file) ? readFileSync(file, 'utf8') : '');

const shells: Shell[] = [];
after(async () => {
  for (const s of shells.reverse()) await s.kill();
  ns?.holder.kill();
});

test('the README and getting-started commands work as written in a fresh clone', { skip, timeout: 1_800_000 }, async () => {
  const base = mkdtempSync(join(tmpdir(), 'baetyl-readme-'));
  const dir = join(base, 'baetyl');
  // The commit under test, as a user would clone it (what is not committed is not in it).
  const head = spawnSync('git', ['-C', REPO, 'rev-parse', 'HEAD'], { encoding: 'utf8' }).stdout.trim();
  const clone = spawnSync('git', ['clone', '--quiet', '--no-checkout', REPO, dir], { encoding: 'utf8' });
  assert.equal(clone.status, 0, clone.stderr);
  const co = spawnSync('git', ['-C', dir, 'checkout', '--quiet', head], { encoding: 'utf8' });
  assert.equal(co.status, 0, co.stderr);
  const steps = stepsOf(markedBlocks(dir));
  const step = (s: Step) => steps.get(s)!;
  const masterLog = join(dir, WORKDIR, 'var/log/baetyl/baetyl.log');
  const fmLog = join(dir, WORKDIR, 'var/db/baetyl/function-manager-log/service.log');

  // make start: installs, builds, runs the master in the foreground.
  const start = shell(dir, step('start').text);
  shells.push(start);
  let startExit: number | null | undefined;
  void start.exited.then((c) => (startExit = c));
  await waitFor(
    `"make start" to start the services (${step('start').where})`,
    () => read(masterLog).includes('msg="services started"') || startExit !== undefined,
    1_200_000,
  ).catch((err: Error) => {
    throw new Error(`${err.message}\n--- make start:\n${start.out().slice(-5000)}`);
  });
  const offline = ns
    ? ' (in a network namespace with no network: its pnpm install must find every package in the store; run "make install" in the checkout first)'
    : '';
  assert.equal(startExit, undefined, `make start ended early (${startExit})${offline}:\n${start.out().slice(-5000)}`);

  const check = await run(dir, step('check'));
  assert.equal(check.code, 0, `${step('check').where}:\n${check.out}`);
  assert.match(check.out, /service localhub \(hub\.baidubce\.com\/baetyl\/baetyl-hub\): .*localhub-conf\/service\.yml: OK/);
  assert.match(check.out, /^OK!$/m);

  const status = await run(dir, step('status'));
  assert.equal(status.code, 0, `${step('status').where}:\n${status.out}`);
  assert.match(status.out, /^SERVICE\s+INSTANCE\s+STATE\s+PID\/CONTAINER\s+UPTIME\s+RESTARTS/m);
  assert.match(status.out, /^localhub\s+localhub\s+running\s+\d+\s/m);
  assert.match(status.out, /^function-manager\s+function-manager\s+running\s+\d+\s/m);
  assert.match(status.out, /^function-python36-sayhi\s+-\s+no instance/m);

  const logs = await run(dir, step('logs'));
  assert.equal(logs.code, 0, `${step('logs').where}:\n${logs.out}`);
  const hubLines = logs.out.split('\n').filter(Boolean);
  assert.ok(hubLines.length > 0 && hubLines.length <= 10, `${step('logs').where}: the hub's last lines (got ${hubLines.length}):\n${logs.out}`);
  for (const l of hubLines)
    assert.match(l, /^localhub \| time=\S+ level=\w+ msg=/, `${step('logs').where}: a line of the hub's log, prefixed with its instance`);
  // They are the lines of the hub's own log file, where its service.yml and its volume put it.
  const hubFile = read(join(dir, WORKDIR, 'var/db/baetyl/localhub-log/service.log'));
  for (const l of hubLines) assert.ok(hubFile.includes(l.slice('localhub | '.length)), `a line of localhub-log/service.log: ${l}`);

  // logs -f, in a shell of its own, cut off once it showed what the tutorial's first message does.
  const follow = shell(dir, step('follow').text);
  shells.push(follow);
  await waitFor(`${step('follow').where}: the function manager's last lines`, () => /^function-manager \| time=/m.test(follow.out()), 60_000);
  // The rules subscribe once the manager is connected; a QoS 0 message published before is lost.
  await waitFor('the function manager to subscribe its four rules', () => (read(fmLog).match(/msg="subscribed to t /g) ?? []).length >= 4, 120_000);

  const tutorial = shell(dir, step('tutorial').text);
  shells.push(tutorial);
  const want = ['t', 't/topic', 't/py2hi', 't/py3hi', 't/node8hi', 't/sqlfilter'];
  const got = () => want.filter((t) => new RegExp(`^${t.replace('/', '\\/')} \\{.*"id": ?1[,}]`, 'm').test(tutorial.out()));
  await waitFor(
    `${step('tutorial').where}: the six messages of the tutorial (got ${got().join(', ')}):\n${tutorial.out()}`,
    () => got().length === want.length,
    240_000,
  ).catch((err: Error) => {
    throw new Error(`${err.message}\n--- baetyl logs -f function-manager:\n${follow.out().slice(-5000)}`);
  });
  assert.match(tutorial.out(), /^t\/py3hi \{.*"Say": "Hello Baetyl"/m);
  assert.match(tutorial.out(), /^t\/sqlfilter \{"id":1,"qos":0,"topic":"t"\}$/m);
  // mosquitto_sub runs on in the background, as in a user's terminal, until its shell ends.
  await tutorial.kill();
  // -f went on printing: the function instances the message started, as the manager logs them.
  await waitFor(
    `${step('follow').where}: new lines (the function instances started)`,
    () => /^function-manager \| .*msg="instance \(function-\S+\) started"/m.test(follow.out()),
    60_000,
  );
  await follow.kill();

  const stop = await run(dir, step('stop'), 180_000);
  assert.equal(stop.code, 0, `${step('stop').where}:\n${stop.out}`);
  assert.match(stop.out, /stopping baetyl \(pid \d+\)\.* stopped/);
  // baetyl stop ended make start, cleanly.
  const code = await Promise.race([start.exited, sleep(120_000, undefined, { ref: false }).then(() => 'timeout' as const)]);
  assert.equal(code, 0, `make start after baetyl stop: ${code}\n${start.out().slice(-3000)}`);
  assert.match(read(masterLog), /msg="engine stopped"/);
  rmSync(base, { recursive: true, force: true });
});
