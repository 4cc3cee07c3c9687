// The hub's memory per idle connection: RSS of a hub process before and after 10,000 clients
// connect (CONNECT, one QoS 1 SUBSCRIBE each) and sit idle. Clients are opened by a child process
// so that the hub's RSS is its own; both get their soft fd limit raised to the hard one.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { REPO, freePort } from '../../support/workdir.js';
import { memoryOf, waitFor } from '../support/procs.js';
import type { Report } from '../report.js';

export const IDLE_CONNECTIONS = 10_000;
const USER = { username: 'bench', password: 'bench-secret' };
const HUB_MAIN = join(REPO, 'packages/hub/dist/src/main.js');

/** Runs node with its soft fd limit raised to what `need` asks (up to the hard limit). */
function nodeWithFds(need: number, args: string[], opts: { cwd?: string }): ChildProcess {
  const quoted = [process.execPath, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  return spawn('/bin/sh', ['-c', `ulimit -n ${need} 2>/dev/null || ulimit -n "$(ulimit -Hn)"; exec ${quoted}`], { cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
}

async function oneRun(n: number, log: (s: string) => void): Promise<{ perConnKB: number; idleMB: number; loadedMB: number }> {
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
    await waitFor(() => /msg="hub started"/.test(hubOut), 'the hub to start', 60_000);
    await sleep(2000);
    const idle = memoryOf(hub.pid!).rss;
    const script = fileURLToPath(new URL('./connections-opener.js', import.meta.url));
    opener = nodeWithFds(n + 200, [script, String(port), String(n), USER.username, USER.password], {});
    let out = '';
    opener.stdout!.on('data', (c: Buffer) => (out += c.toString()));
    opener.stderr!.on('data', (c: Buffer) => (out += c.toString()));
    await waitFor(() => /open \d+ failed \d+/.test(out), `${n} connections to open`, 300_000);
    const [, opened, failed] = /open (\d+) failed (\d+)/.exec(out)!;
    if (Number(failed) > 0) throw new Error(`${failed} of ${n} connections failed (fd limit? ${out.trim()})`);
    await sleep(3000);
    const loaded = memoryOf(hub.pid!).rss;
    const perConnKB = (loaded - idle) / Number(opened) / 1024;
    log(`  ${opened} idle connections: hub RSS ${(idle / 2 ** 20).toFixed(1)} -> ${(loaded / 2 ** 20).toFixed(1)} MB, ${perConnKB.toFixed(1)} KB each`);
    return { perConnKB, idleMB: idle / 2 ** 20, loadedMB: loaded / 2 ** 20 };
  } finally {
    opener?.kill('SIGKILL');
    hub.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The `connections` group. */
export async function connectionsBench(report: Report, runs: number, log: (s: string) => void): Promise<void> {
  const per: number[] = [];
  const loaded: number[] = [];
  for (let r = 0; r < runs; r++) {
    const res = await oneRun(IDLE_CONNECTIONS, log);
    per.push(res.perConnKB);
    loaded.push(res.loadedMB);
  }
  report.add('connections', `hub RSS per idle connection (${IDLE_CONNECTIONS.toLocaleString('en-US')} connections, CONNECT + 1 SUBSCRIBE each)`, 'KB', per, {
    target: { op: '<=', value: 20, text: '<= 20 KB' },
  });
  report.add('connections', `hub RSS with ${IDLE_CONNECTIONS.toLocaleString('en-US')} idle connections`, 'MB', loaded);
}
