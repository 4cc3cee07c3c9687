// Where the config files of a workdir (v0 list-shaped application.yml) are, read from the app
// itself, and the services an example app ships commented out.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

/** application.yml, relative to the workdir. */
export const APP_FILE = 'var/db/baetyl/application.yml';

interface V0App {
  services: Array<{ name: string; image: string; mounts?: Array<{ name: string; path: string }> }>;
  volumes: Array<{ name: string; path: string }>;
}

/** Each service's image and service.yml: the file in the volume it mounts at etc/baetyl (when it mounts one). */
export function serviceConfigs(dir: string): Map<string, { image: string; file?: string }> {
  const app = parse(readFileSync(join(dir, APP_FILE), 'utf8')) as V0App;
  const out = new Map<string, { image: string; file?: string }>();
  for (const s of app.services) {
    const mount = s.mounts?.find((m) => m.path.replace(/^\/+|\/+$/g, '') === 'etc/baetyl');
    const volume = app.volumes.find((v) => v.name === mount?.name);
    out.set(s.name, volume ? { image: s.image, file: join(dir, volume.path, 'service.yml') } : { image: s.image });
  }
  return out;
}

/** An app's text with the services (and volumes) its authors left commented out enabled. */
export function uncomment(text: string): string {
  return text
    .split('\n')
    .map((line) => {
      const m = /^(\s*)# (.*)$/.exec(line);
      // Only commented YAML entries ("- name: x", "image: y"), not the prose comments.
      return m && /^\s*(- )?[\w-]+:/.test(m[2]!) ? `${m[1]}${m[2]}` : line;
    })
    .join('\n');
}
