// Copies an example workdir to a temp dir and gives the hub a free port, so tests never collide
// with each other or with a running `make start`.
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = fileURLToPath(new URL('../../../', import.meta.url));
export const BAETYL = join(REPO, 'packages/master/bin/baetyl.js');

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** A copy of deploy/example/<name> whose hub listens on `port` (and whose manager dials it). */
export function copyExample(name: 'native' | 'docker', port: number): string {
  const dir = mkdtempSync(join(tmpdir(), `baetyl-${name}-`));
  cpSync(join(REPO, 'deploy/example', name), dir, {
    recursive: true,
    filter: (src) => !/\/var\/(log|run)\b|application\.stats|-data\/|-log\//.test(src.slice(join(REPO, 'deploy/example', name).length)),
  });
  const hub = join(dir, 'var/db/baetyl/localhub-conf/service.yml');
  writeFileSync(hub, readFileSync(hub, 'utf8').replace(/tcp:\/\/0\.0\.0\.0:1883/, `tcp://0.0.0.0:${port}`));
  const fm = join(dir, 'var/db/baetyl/function-manager-conf/service.yml');
  writeFileSync(fm, readFileSync(fm, 'utf8').replace(/address: tcp:\/\/(127\.0\.0\.1|localhub):1883/, `address: tcp://$1:${port}`));
  return dir;
}
