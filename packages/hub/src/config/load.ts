// Loads and checks the hub's service.yml: the schema first (core names the field), then the
// rules a schema cannot say: topic syntax, unique names, TLS files, and route cycles.
import {
  ConfigError,
  formatPath,
  formatProblems,
  parseYaml,
  problemAt,
  readConfigText,
  topicFilterProblem,
  topicNameProblem,
  validateConfig,
  type ConfigProblem,
  type ParsedYaml,
} from './deps.js';
import { hubConfigSchema, MAX_MQTT_PACKET, type HubConfig } from './schema.js';
import { findRouteCycle } from '../routes/cycle.js';
import { parseListenUrl } from '../listeners/url.js';

export interface LoadHubConfigOptions {
  env?: Record<string, string | undefined>;
  onWarning?: (message: string) => void;
}

/** Reads `file` and returns the validated config. Throws ConfigError naming the field. */
export function loadHubConfig(file: string, opts: LoadHubConfigOptions = {}): HubConfig {
  const text = readConfigText(file);
  return parseHubConfig(text, file, opts);
}

/** Same as loadHubConfig, from text already read. */
export function parseHubConfig(text: string, file: string, opts: LoadHubConfigOptions = {}): HubConfig {
  const parsed = parseYaml(text, file, opts);
  const config = validateConfig<HubConfig>(parsed, file, hubConfigSchema);
  const problems = checkHubConfig(config).map((p) => locate(p, parsed));
  if (problems.length > 0) throw new ConfigError(file, problems);
  for (const [path, why] of UNUSED_KEYS) {
    if (parsed.doc.hasIn(path)) opts.onWarning?.(formatProblems(file, [problemAt(parsed, path, `is not used: ${why}`)]));
  }
  return config;
}

/** Keys v1 had that act on nothing here: accepted, so v1 files load, and said when a file sets them. */
export const UNUSED_KEYS: ReadonlyArray<readonly [string[], string]> = [
  [['pprof'], "this hub has no profiling endpoint (Baetyl v1 served Go's pprof there)"],
  [['message', 'ingress'], "it tuned Baetyl v1's ingress queues and message log, which this hub does not have"],
  [['message', 'offset'], "it tuned Baetyl v1's per-session offsets in its message log, which this hub does not have"],
  [['message', 'egress', 'qos1', 'retry'], 'unacknowledged QoS 1 messages are sent again when the session reconnects, as MQTT 3.1.1 says'],
  [['status'], "Baetyl v1's docs listed it, but its code never read it"],
];

interface Problem {
  path: Array<string | number>;
  message: string;
}

/** The problems in a schema-valid config; empty when it can be used. */
export function checkHubConfig(config: HubConfig): ConfigProblem[] {
  const out: Problem[] = [];
  let tls = false;
  config.listen.forEach((url, i) => {
    try {
      const parsed = parseListenUrl(url);
      if (parsed.tls) tls = true;
    } catch (err) {
      out.push({ path: ['listen', i], message: (err as Error).message });
    }
  });
  if (tls && (!config.certificate.key || !config.certificate.cert)) {
    out.push({
      path: ['certificate'],
      message: 'an ssl:// or wss:// listener needs certificate.key and certificate.cert (and certificate.ca to accept client certificates)',
    });
  }
  if (config.message.length.max > MAX_MQTT_PACKET) {
    out.push({ path: ['message', 'length', 'max'], message: `at most ${MAX_MQTT_PACKET} bytes (MQTT's largest packet)` });
  }
  if (config.message.length.max < 64) {
    out.push({ path: ['message', 'length', 'max'], message: 'at least 64 bytes, or no CONNECT fits' });
  }
  const names = new Map<string, number>();
  config.principals.forEach((p, i) => {
    const first = names.get(p.username);
    if (first !== undefined)
      out.push({ path: ['principals', i, 'username'], message: `"${p.username}" is already principals[${first}]; usernames must be unique` });
    else names.set(p.username, i);
    p.permissions.forEach((perm, j) => {
      perm.permit.forEach((filter, k) => {
        const why = topicFilterProblem(filter);
        if (why) out.push({ path: ['principals', i, 'permissions', j, 'permit', k], message: `${JSON.stringify(filter)} is not a valid topic filter: ${why}` });
      });
    });
  });
  const pairs = new Map<string, number>();
  let routesOk = true;
  config.subscriptions.forEach((r, i) => {
    const s = topicFilterProblem(r.source.topic);
    if (s) {
      routesOk = false;
      out.push({ path: ['subscriptions', i, 'source', 'topic'], message: `${JSON.stringify(r.source.topic)} is not a valid topic filter: ${s}` });
    }
    const t = topicNameProblem(r.target.topic);
    if (t) {
      routesOk = false;
      out.push({ path: ['subscriptions', i, 'target', 'topic'], message: `${JSON.stringify(r.target.topic)} is not a valid topic name: ${t}` });
    }
    const key = `${r.source.topic}\u0000${r.target.topic}`;
    const first = pairs.get(key);
    if (first !== undefined) out.push({ path: ['subscriptions', i], message: `same source and target as subscriptions[${first}]; remove one` });
    else pairs.set(key, i);
  });
  if (routesOk) {
    const cycle = findRouteCycle(config.subscriptions);
    if (cycle) {
      const steps = cycle.map((i) => `subscriptions[${i}] (${config.subscriptions[i]!.source.topic} -> ${config.subscriptions[i]!.target.topic})`);
      out.push({
        path: ['subscriptions', cycle[0]!],
        message: `found cycle in source and target config: ${steps.join(' feeds ')}; a message would be re-published forever, so change a source or a target`,
      });
    }
  }
  return out.map((p) => ({ path: formatPath(p.path), message: p.message, raw: p.path }) as ConfigProblem & { raw: Array<string | number> });
}

function locate(problem: ConfigProblem, parsed: ParsedYaml): ConfigProblem {
  const raw = (problem as ConfigProblem & { raw?: Array<string | number> }).raw ?? [];
  const out: ConfigProblem = { path: problem.path, message: problem.message };
  let node = parsed.doc.getIn(raw, true) as { range?: [number, number, number] } | undefined;
  for (let n = raw.length; (!node || !node.range) && n > 0; n--) {
    node = parsed.doc.getIn(raw.slice(0, n - 1), true) as { range?: [number, number, number] } | undefined;
  }
  if (node?.range) {
    const pos = parsed.lines.linePos(node.range[0]);
    out.line = pos.line;
    out.column = pos.col;
  }
  return out;
}
