// Where a rule learns the hub's message.length.max: the manager's own `hub.message.length.max`
// when set; else the hub's service.yml, when the manager can read it (native mode: the master runs
// each instance in <workdir>/var/run/baetyl/services/<service>/<instance>, so the application and
// the hub's config volume are in the workdir above); else the hub's default, 32k. In docker mode
// the hub's files are in another container, so there the key is the way to say it.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseSize, parseYaml, readConfigText } from '@baetyl/core/config';
import { HUB_MESSAGE_LENGTH_MAX } from './packet-size.js';

export interface HubLimit {
  max: number;
  /** Where it came from, for the log. */
  from: string;
}

interface AppService {
  name?: unknown;
  image?: unknown;
  mounts?: Array<{ name?: unknown; path?: unknown }>;
}

/** The limit the rules check results against. */
export function resolveHubLimit(configured: number | undefined, hubAddress: string | undefined, cwd: string): HubLimit {
  if (configured !== undefined) return { max: configured, from: 'hub.message.length.max' };
  const found = hubConfigLimit(hubAddress, cwd);
  if (found) return found;
  return { max: HUB_MESSAGE_LENGTH_MAX, from: "the hub's default (32k; set hub.message.length.max if the hub's differs)" };
}

/** The hub's own message.length.max, read from its service.yml through the application; undefined when it cannot be read. */
export function hubConfigLimit(hubAddress: string | undefined, cwd: string): HubLimit | undefined {
  const m = /^(.*)\/var\/run\/baetyl\/services\/[^/]+\/[^/]+\/?$/.exec(resolve(cwd));
  if (!m) return undefined;
  const workdir = m[1]!;
  try {
    const appFile = join(workdir, 'var/db/baetyl/application.yml');
    if (!existsSync(appFile)) return undefined;
    const app = parseYaml(readConfigText(appFile), appFile).value as { services?: AppService[]; volumes?: Array<{ name?: unknown; path?: unknown }> };
    const port = /:(\d+)\/?$/.exec(hubAddress ?? '')?.[1];
    const hubs: Array<{ file: string; cfg: { listen?: unknown; message?: { length?: { max?: unknown } } } }> = [];
    for (const s of app.services ?? []) {
      if (typeof s.image !== 'string' || !/(^|\/)baetyl-hub(:|$)/.test(s.image)) continue;
      const mount = (s.mounts ?? []).find((x) => typeof x.path === 'string' && x.path.replace(/\/+$/, '') === 'etc/baetyl');
      const volume = (app.volumes ?? []).find((v) => v.name === mount?.name);
      if (typeof volume?.path !== 'string') continue;
      const file = resolve(workdir, volume.path, 'service.yml');
      if (!existsSync(file)) continue;
      hubs.push({ file, cfg: (parseYaml(readConfigText(file), file).value ?? {}) as (typeof hubs)[number]['cfg'] });
    }
    // Several hubs: the one listening on the port the rules dial.
    const hub =
      hubs.length === 1 ? hubs[0] : hubs.find((h) => Array.isArray(h.cfg.listen) && h.cfg.listen.some((l) => typeof l === 'string' && l.endsWith(`:${port}`)));
    if (!hub) return undefined;
    const max = hub.cfg.message?.length?.max;
    return { max: max === undefined ? HUB_MESSAGE_LENGTH_MAX : parseSize(max as string | number), from: `the hub's ${hub.file}` };
  } catch {
    // Unreadable or odd: the default (or the key) decides; nothing here may stop the manager.
    return undefined;
  }
}
