// Our hub as the master starts it natively: `node packages/hub/dist/src/main.js` with cwd = a
// service directory holding etc/baetyl/service.yml. Listeners on port 0 get their port from the
// OS; the bound addresses are read back from the hub's "hub listening" lines, the only place
// that says them.
import { HUB_MAIN } from './repo.js';
import { startNodeService, type TestProcess } from './processes.js';
import { serviceDir } from './temp.js';

export interface HubProcess extends TestProcess {
  dir: string;
  /** Bound listener URLs, in `listen` order. */
  addresses: string[];
  /** The first bound address of a scheme (tcp, ssl, ws, wss). */
  url(scheme?: string): string;
}

export interface HubStartOptions {
  /** service.yml text. */
  config: string;
  /** Reuse a service directory (to restart a hub on the same store). */
  dir?: string;
  /** Extra files to write, relative to the service directory. */
  files?: Record<string, string>;
  env?: NodeJS.ProcessEnv;
  args?: string[];
}

function launch(opts: HubStartOptions): { dir: string; p: TestProcess } {
  const dir = serviceDir(opts.config, { prefix: 'hub-test-', ...(opts.dir ? { dir: opts.dir } : {}), ...(opts.files ? { files: opts.files } : {}) });
  return { dir, p: startNodeService(HUB_MAIN, dir, { name: 'the hub', ...(opts.env ? { env: opts.env } : {}), ...(opts.args ? { args: opts.args } : {}) }) };
}

/** Starts a hub and resolves once it logs "hub started", with the addresses it bound. */
export async function startHubProcess(opts: HubStartOptions): Promise<HubProcess> {
  const { dir, p } = launch(opts);
  await p.waitFor(/msg="hub started"/);
  const addresses = [...p.output().matchAll(/msg="hub listening" address=(\S+)/g)].map((m) => m[1]!);
  return {
    ...p,
    dir,
    addresses,
    url(scheme = 'tcp') {
      const a = addresses.find((x) => x.startsWith(`${scheme}://`));
      if (!a) throw new Error(`no ${scheme} listener in ${addresses.join(', ')}`);
      return a;
    },
  };
}

/** Runs a hub that is expected to refuse its config; resolves with its exit code and output. */
export async function runHubExpectingExit(opts: HubStartOptions): Promise<{ code: number | null; output: string }> {
  const { p } = launch(opts);
  const timer = setTimeout(() => void p.kill9(), 30_000);
  const { code } = await p.exited;
  clearTimeout(timer);
  return { code, output: p.output() };
}

/** The principal of openConfig(), allowed everything. */
export const OPEN_AUTH = { username: 'test', password: 'hahaha' };

/** A service.yml with one principal (OPEN_AUTH) allowed everything, on the given listeners; `extra` is appended. */
export function openConfig(listen: string[] = ['tcp://127.0.0.1:0'], extra = '', logLevel: 'debug' | 'info' = 'debug'): string {
  return `listen:
${listen.map((l) => `  - ${l}`).join('\n')}
principals:
  - username: ${OPEN_AUTH.username}
    password: ${OPEN_AUTH.password}
    permissions:
      - action: pub
        permit: ['#']
      - action: sub
        permit: ['#']
logger:
  level: ${logLevel}
${extra}`;
}
