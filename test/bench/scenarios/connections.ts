// The hub's memory per idle connection: RSS of a hub process before and after 10,000 clients
// connect (CONNECT, one QoS 1 SUBSCRIBE each) and sit idle: 3 s after the last one connected, and
// after 30 s of idling (V8 gives back the heap that connecting grew once the process has been idle
// for some seconds, so the second is what idle connections cost to keep). Clients are opened by a
// child process so that the hub's RSS is its own; both get their soft fd limit raised as needed.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { freePort, REPO, waitFor } from '@baetyl/test-support';
import { memoryOf } from '../support/procs.js';
import type { Report } from '../report.js';

export const IDLE_CONNECTIONS = 10_000;
const USER = { username: 'bench', password: 'bench-secret' };
const HUB_MAIN = join(REPO, 'packages/hub/dist/src/main.js');

/** Runs node with its soft fd limit raised to what `need` asks (up to the hard limit). */
function nodeWithFds(need: number, args: string[], opts: { cwd?: string }): ChildProcess {
  const quoted = [process.execPath, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  return spawn('/bin/sh', ['-c', `ulimit -n ${need} 2>/dev/null || ulimit -n "$(ulimit -Hn)"; exec ${quoted}`], {
    cwd: opts.cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Idle time after which the settled figure is taken. */
const SETTLE_MS = 30_000;

interface RunResult {
  /** KB per connection 3 s after connecting, and after SETTLE_MS idle. */
  freshKB: number;
  settledKB: number;
  settledMB: number;
}

async function oneRun(n: number, log: (s: string) => void): Promise<RunResult> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'baetyl-bench-conns-'));
  mkdirSync(join(dir, 'etc/baetyl'), { recursive: true });
  writeFileSync(
    join(dir, 'etc/baetyl/service.yml'),
    `listen:\n  - tcp://127.0.0.1:${port}\nprincipals:\n  - username: ${USER.username}\n    password: ${USER.password}\n    permissions:\n      - action: sub\n        permit: ['bench/#']\nlogger:\n  level: info\n`,
  );
  const hub = nodeWithFds(n + 200, [HUB_MAIN], { cwd: dir });
  let hubOut = '';
  hub.stderr!.on('data', (c: Buffer) => (hubOut += c.toString()));
  let opener: ChildProcess | undefined;
  try {
    await waitFor('the hub to start', () => /msg="hub started"/.test(hubOut), 60_000);
    await sleep(2000);
    const idle = memoryOf(hub.pid!).rss;
    const script = fileURLToPath(new URL('./connections-opener.js', import.meta.url));
    opener = nodeWithFds(n + 200, [script, String(port), String(n), USER.username, USER.password], {});
    let out = '';
    opener.stdout!.on('data', (c: Buffer) => (out += c.toString()));
    opener.stderr!.on('data', (c: Buffer) => (out += c.toString()));
    await waitFor(`${n} connections to open`, () => /open \d+ failed \d+/.test(out), 300_000);
    const [, opened, failed] = /open (\d+) failed (\d+)/.exec(out)!;
    if (Number(failed) > 0) throw new Error(`${failed} of ${n} connections failed (fd limit? ${out.trim()})`);
    await sleep(3000);
    const fresh = memoryOf(hub.pid!).rss;
    await sleep(SETTLE_MS - 3000);
    const settled = memoryOf(hub.pid!).rss;
    const kb = (rss: number) => (rss - idle) / Number(opened) / 1024;
    const mb = (rss: number) => (rss / 2 ** 20).toFixed(1);
    log(
      `  ${opened} idle connections: hub RSS ${mb(idle)} MB before, ${mb(fresh)} MB 3 s after (${kb(fresh).toFixed(1)} KB each), ${mb(settled)} MB ${SETTLE_MS / 1000} s after (${kb(settled).toFixed(1)} KB each)`,
    );
    return { freshKB: kb(fresh), settledKB: kb(settled), settledMB: settled / 2 ** 20 };
  } finally {
    opener?.kill('SIGKILL');
    hub.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The `connections` group. */
export async function connectionsBench(report: Report, runs: number, log: (s: string) => void): Promise<void> {
  const results: RunResult[] = [];
  for (let r = 0; r < runs; r++) results.push(await oneRun(IDLE_CONNECTIONS, log));
  const n = IDLE_CONNECTIONS.toLocaleString('en-US');
  report.add(
    'connections',
    `hub RSS per idle connection, ${n} connections (CONNECT + 1 SUBSCRIBE each), 3 s after connecting`,
    'KB',
    results.map((r) => r.freshKB),
  );
  report.add(
    'connections',
    `hub RSS per idle connection, ${n} connections, after ${SETTLE_MS / 1000} s idle`,
    'KB',
    results.map((r) => r.settledKB),
    {
      target: { op: '<=', value: 20, text: '<= 20 KB' },
    },
  );
  report.add(
    'connections',
    `hub RSS with ${n} idle connections, after ${SETTLE_MS / 1000} s idle`,
    'MB',
    results.map((r) => r.settledMB),
  );
}
