// Loads var/db/baetyl/application.yml in either of Baetyl's shapes, checks what a schema cannot
// (names that must exist, names that must be unique, start order) and returns the one model.
import { readFileSync } from 'node:fs';
import { ConfigError, parseYaml, problemAt, validateConfig, type ConfigProblem, type LoadOptions, type ParsedYaml } from '@baetyl/core/config';
import type { AppSpec, MountSpec, RestartSpec, ResourcesSpec, ServiceSpec } from './model.js';
import { appComposeSchema, appListSchema } from './schema.js';

interface ListApp {
  version: string;
  // As validated: the model's fields, but mounts name volumes and networks may be a list.
  services: Array<
    Omit<ServiceSpec, 'mounts' | 'networks'> & {
      mounts: Array<{ name: string; path: string; readonly: boolean }>;
      networks?: string[] | Record<string, { aliases?: string[]; ipv4_address?: string } | null>;
    }
  >;
  volumes: Array<{ name: string; path: string }>;
  networks: AppSpec['networks'];
}

type ComposeVolume = string | { type: 'volume' | 'bind'; source: string; target: string; read_only: boolean };

interface ComposeApp {
  version: string;
  app_version?: string;
  services: Record<
    string,
    {
      hostname?: string;
      image: string;
      replica: number;
      volumes: ComposeVolume[];
      network_mode?: string;
      networks?: ListApp['services'][number]['networks'];
      ports: string[];
      devices: string[];
      depends_on: string[];
      command?: string | string[];
      entrypoint?: string | string[];
      environment?: Record<string, string> | string[];
      restart: RestartSpec;
      resources: ResourcesSpec;
      runtime?: string;
    }
  >;
  volumes: Record<string, { path?: string } | null>;
  networks: AppSpec['networks'];
}

export function loadApp(file: string, opts: LoadOptions = {}): AppSpec {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ConfigError(file, [{ path: '', message: `cannot read the application: ${code === 'ENOENT' ? 'file not found' : (err as Error).message}` }]);
  }
  return parseApp(text, file, opts);
}

export function parseApp(text: string, file: string, opts: LoadOptions = {}): AppSpec {
  const parsed = parseYaml(text, file, opts);
  const raw = parsed.value as { services?: unknown };
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ConfigError(file, [{ path: '', message: 'expected a map with version, services and volumes' }]);
  }
  // Baetyl tries the compose shape first and falls back to the list shape; the shape of
  // `services` tells them apart, and we report errors against the shape the file is in.
  if (raw.services && typeof raw.services === 'object' && !Array.isArray(raw.services)) {
    return fromCompose(validateConfig<ComposeApp>(parsed, file, appComposeSchema), parsed, file);
  }
  return fromList(validateConfig<ListApp>(parsed, file, appListSchema), parsed, file);
}

function normalNetworks(n: ListApp['services'][number]['networks']): ServiceSpec['networks'] {
  if (!n) return undefined;
  if (Array.isArray(n)) return Object.fromEntries(n.map((name) => [name, {}]));
  return Object.fromEntries(Object.entries(n).map(([k, v]) => [k, v ?? {}]));
}

function fromList(app: ListApp, parsed: ParsedYaml, file: string): AppSpec {
  const problems: ConfigProblem[] = [];
  const volumes: AppSpec['volumes'] = {};
  app.volumes.forEach((v, i) => {
    if (volumes[v.name]) problems.push(problemAt(parsed, ['volumes', i, 'name'], `volume "${v.name}" is defined twice; give each volume its own name`));
    volumes[v.name] = { name: v.name, path: v.path };
  });
  const seen = new Map<string, number>();
  const services: ServiceSpec[] = app.services.map((s, i) => {
    const first = seen.get(s.name);
    if (first !== undefined) {
      problems.push(problemAt(parsed, ['services', i, 'name'], `service "${s.name}" is already defined at services[${first}]; service names must be unique`));
    } else seen.set(s.name, i);
    if (s.network_mode && s.networks) {
      problems.push(problemAt(parsed, ['services', i, 'networks'], 'a service cannot have both network_mode and networks; keep one'));
    }
    const mounts: MountSpec[] = s.mounts.map((m, j) => {
      const vol = volumes[m.name];
      if (!vol) {
        const known = Object.keys(volumes);
        problems.push(
          problemAt(
            parsed,
            ['services', i, 'mounts', j, 'name'],
            `mount names unknown volume "${m.name}"; ${known.length ? `defined volumes are: ${known.join(', ')}` : 'add it under volumes'}`,
          ),
        );
      }
      return { volume: m.name, source: vol?.path ?? '', target: trimSlashes(m.path), readonly: m.readonly };
    });
    return serviceSpec(s, mounts);
  });
  if (problems.length) throw new ConfigError(file, problems);
  return { version: app.version, services, volumes, networks: app.networks };
}

function serviceSpec(s: ListApp['services'][number], mounts: MountSpec[]): ServiceSpec {
  const spec: ServiceSpec = {
    name: s.name,
    image: s.image,
    replica: s.replica,
    mounts,
    ports: s.ports,
    devices: s.devices,
    args: s.args,
    entrypoint: s.entrypoint,
    env: s.env,
    restart: s.restart,
    resources: s.resources,
  };
  if (s.hostname) spec.hostname = s.hostname;
  if (s.network_mode) spec.network_mode = s.network_mode;
  const networks = normalNetworks(s.networks);
  if (networks) spec.networks = networks;
  if (s.runtime) spec.runtime = s.runtime;
  return spec;
}

function trimSlashes(p: string): string {
  return p.replace(/^\/+/, '').replace(/\/+$/, '');
}

function splitWords(v: string | string[] | undefined): string[] {
  if (v === undefined) return [];
  return Array.isArray(v) ? v : v.split(' ').filter(Boolean);
}

function fromCompose(app: ComposeApp, parsed: ParsedYaml, file: string): AppSpec {
  const problems: ConfigProblem[] = [];
  const volumes: AppSpec['volumes'] = {};
  for (const [name, v] of Object.entries(app.volumes)) volumes[name] = { name, path: v?.path ?? `var/db/baetyl/volumes/${name}` };
  const names = Object.keys(app.services);
  const byName = new Map<string, ServiceSpec>();
  for (const name of names) {
    const s = app.services[name]!;
    const at = (...rest: Array<string | number>) => ['services', name, ...rest];
    const mounts: MountSpec[] = s.volumes.map((v, j) => {
      let source: string;
      let target: string;
      let readonly = false;
      let kind: 'volume' | 'bind';
      if (typeof v === 'string') {
        const parts = v.split(':');
        if (parts.length < 2 || parts.length > 3 || (parts[2] !== undefined && !['ro', 'rw'].includes(parts[2]))) {
          problems.push(problemAt(parsed, at('volumes', j), `"${v}" is not a volume; write "source:target" or "source:target:ro"`));
        }
        source = parts[0] ?? '';
        target = parts[1] ?? '';
        readonly = parts[2] === 'ro';
        kind = source.startsWith('/') || source.startsWith('.') ? 'bind' : 'volume';
      } else {
        ({ source, target } = v);
        // Defaults inside anyOf are not filled by the schema.
        readonly = v.read_only ?? false;
        kind = v.type ?? 'volume';
      }
      if (kind === 'volume') {
        const vol = volumes[source];
        if (!vol) problems.push(problemAt(parsed, at('volumes', j), `names unknown volume "${source}"; define it under volumes`));
        return { volume: source, source: vol?.path ?? '', target: trimSlashes(target), readonly };
      }
      return { volume: source, source, target: trimSlashes(target), readonly };
    });
    if (s.network_mode && s.networks) problems.push(problemAt(parsed, at('networks'), 'a service cannot have both network_mode and networks; keep one'));
    const env = Array.isArray(s.environment)
      ? Object.fromEntries(s.environment.map((kv) => [kv.split('=')[0]!, kv.split('=').slice(1).join('=')]))
      : (s.environment ?? {});
    const spec = serviceSpec(
      {
        name,
        image: s.image,
        replica: s.replica,
        mounts: [],
        ports: s.ports,
        devices: s.devices,
        args: splitWords(s.command),
        entrypoint: splitWords(s.entrypoint),
        env,
        restart: s.restart,
        resources: s.resources,
        ...(s.hostname ? { hostname: s.hostname } : {}),
        ...(s.network_mode ? { network_mode: s.network_mode } : {}),
        ...(s.networks ? { networks: s.networks } : {}),
        ...(s.runtime ? { runtime: s.runtime } : {}),
      },
      mounts,
    );
    byName.set(name, spec);
    s.depends_on.forEach((d, j) => {
      if (!app.services[d]) problems.push(problemAt(parsed, at('depends_on', j), `depends on unknown service "${d}"`));
    });
  }
  if (problems.length) throw new ConfigError(file, problems);
  // Start order: dependencies first, otherwise file order. Baetyl silently never started
  // services caught in a cycle; we refuse the file instead.
  const order: ServiceSpec[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (name: string, chain: string[]) => {
    if (state.get(name) === 'done') return;
    if (state.get(name) === 'visiting') {
      throw new ConfigError(file, [
        problemAt(parsed, ['services', name, 'depends_on'], `dependency cycle: ${[...chain, name].join(' -> ')}; remove one depends_on`),
      ]);
    }
    state.set(name, 'visiting');
    for (const d of app.services[name]!.depends_on) visit(d, [...chain, name]);
    state.set(name, 'done');
    order.push(byName.get(name)!);
  };
  for (const name of names) visit(name, []);
  return { version: app.app_version ?? app.version, services: order, volumes, networks: app.networks };
}
