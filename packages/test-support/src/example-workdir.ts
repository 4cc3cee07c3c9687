// Copies of deploy/example/<mode> in a temp dir, with the hub on a port of the test's choosing,
// so tests never collide with each other or with a running `make start`.
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO } from './repo.js';
import { tempDir } from './temp.js';

/** deploy/example/<name> copied, without what a `make start` on it left behind (logs, run files, stats, data). */
export function copyExampleTree(name: 'native' | 'docker'): string {
  const from = join(REPO, 'deploy/example', name);
  const dir = tempDir(`baetyl-${name}-`);
  cpSync(from, dir, { recursive: true, filter: (src) => !/\/var\/(log|run)\b|application\.stats|-data\/|-log\//.test(src.slice(from.length)) });
  return dir;
}

/** A copy of deploy/example/<name> whose hub listens on `port` (and whose manager dials it). */
export function copyExample(name: 'native' | 'docker', port: number): string {
  const dir = copyExampleTree(name);
  const hub = join(dir, 'var/db/baetyl/localhub-conf/service.yml');
  writeFileSync(hub, readFileSync(hub, 'utf8').replace(/tcp:\/\/0\.0\.0\.0:1883/, `tcp://0.0.0.0:${port}`));
  const fm = join(dir, 'var/db/baetyl/function-manager-conf/service.yml');
  writeFileSync(fm, readFileSync(fm, 'utf8').replace(/address: tcp:\/\/(127\.0\.0\.1|localhub):1883/, `address: tcp://$1:${port}`));
  return dir;
}
