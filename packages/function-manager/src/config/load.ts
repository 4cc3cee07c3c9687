// Loads and checks the function manager's service.yml. Beyond the schema, it checks what Baetyl v1
// only found at run time (or crashed on): rules naming unknown functions, bad topics, a missing hub.
import {
  ConfigError,
  readConfigText,
  formatPath,
  formatProblems,
  problemAt,
  parseYaml,
  validateConfig,
  type ConfigProblem,
  type LoadOptions,
  type ParsedYaml,
} from '@baetyl/core/config';
import { brokerAddressProblem, unusedCertificateKeys, unusedCertificateMessage } from '@baetyl/core/mqtt';
import { topicFilterProblem, topicNameProblem } from '@baetyl/core/topic';
import { bindTarget } from '../server/address.js';
import { functionManagerSchema, type FunctionManagerConfig } from './schema.js';

/** Reads, validates and checks a function manager service.yml. Throws ConfigError. */
export function loadFunctionManagerConfig(file: string, opts: LoadOptions = {}): FunctionManagerConfig {
  return parseFunctionManagerConfig(readConfigText(file), file, opts);
}

/** Parses service.yml text as if read from `file`. Throws ConfigError. */
export function parseFunctionManagerConfig(text: string, file: string, opts: LoadOptions = {}): FunctionManagerConfig {
  const parsed = parseYaml(text, file, opts);
  const cfg = validateConfig<FunctionManagerConfig>(parsed, file, functionManagerSchema);
  const problems = checkConfig(cfg, parsed);
  if (problems.length > 0) throw new ConfigError(file, problems);
  for (const key of unusedCertificateKeys(cfg.hub))
    opts.onWarning?.(formatProblems(file, [problemAt(parsed, ['hub', key], unusedCertificateMessage(cfg.hub.address!))]));
  return cfg;
}

function checkConfig(cfg: FunctionManagerConfig, parsed: ParsedYaml): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const add = (path: Array<string | number>, message: string) => {
    const problem: ConfigProblem = { path: formatPath(path), message };
    const node = parsed.doc.getIn(path, true) as { range?: [number, number, number] } | undefined;
    const pos = node?.range ? parsed.lines.linePos(node.range[0]) : undefined;
    if (pos) {
      problem.line = pos.line;
      problem.column = pos.col;
    }
    problems.push(problem);
  };

  const functions = new Map<string, number>();
  cfg.functions.forEach((fn, i) => {
    const first = functions.get(fn.name);
    if (first !== undefined) add(['functions', i, 'name'], `function "${fn.name}" is already defined at functions[${first}]; give each function its own name`);
    else functions.set(fn.name, i);
    if (fn.instance.min > fn.instance.max) {
      add(['functions', i, 'instance', 'min'], `min (${fn.instance.min}) is more than max (${fn.instance.max}); raise instance.max or lower instance.min`);
    }
    if (!(fn.timeout > 0)) add(['functions', i, 'timeout'], 'must be more than 0, like "30s": it is the dial timeout and the deadline of each call');
  });

  if (cfg.rules.length > 0 && !cfg.hub.address) {
    add(['hub'], 'hub.address is required when there are rules, like tcp://localhub:1883');
  }
  const hubMax = cfg.hub.message.length.max;
  if (hubMax !== undefined && (hubMax < 64 || hubMax > 268_435_460)) {
    add(
      ['hub', 'message', 'length', 'max'],
      `${hubMax} bytes is not a packet size a hub can have; set the hub's message.length.max (from its service.yml, default 32k), between 64 and 256m`,
    );
  }
  if (cfg.hub.address) {
    const bad = brokerAddressProblem(cfg.hub.address);
    if (bad) add(['hub', 'address'], bad);
  }

  const server = cfg.server;
  if (server.address && !bindTarget(server.address, '.')) {
    add(['server', 'address'], `"${server.address}" is not an address to listen on; use host:port (like 0.0.0.0:50050), tcp://host:port or unix://path`);
  }
  if (Boolean(server.key) !== Boolean(server.cert)) add(['server'], 'TLS needs both server.key and server.cert (and server.ca to require client certificates)');
  else if (server.ca && !server.key) add(['server', 'ca'], 'server.ca checks client certificates over TLS, which needs server.key and server.cert too');
  if (!server.address && (server.key || server.cert || server.ca))
    add(['server'], 'server.ca/cert/key are set but server.address is not: set the address to serve calls on, or remove them');
  if (!(server.timeout > 0)) add(['server', 'timeout'], 'must be more than 0, like "2m": it is the deadline of each call through the server');

  const clientids = new Map<string, number>();
  cfg.rules.forEach((rule, i) => {
    const label = rule.clientid ? `rule "${rule.clientid}"` : `rule ${i + 1}`;
    if (!functions.has(rule.function.name)) {
      const known = [...functions.keys()];
      add(
        ['rules', i, 'function', 'name'],
        `${label} names function "${rule.function.name}", which is not defined in functions; ` +
          (known.length ? `defined functions: ${known.join(', ')}` : 'add it to functions (with the service that runs it)'),
      );
    }
    const sub = topicFilterProblem(rule.subscribe.topic);
    if (sub) add(['rules', i, 'subscribe', 'topic'], `${label}: "${rule.subscribe.topic}" is not a valid topic filter: ${sub}`);
    const pub = topicNameProblem(rule.publish.topic);
    if (pub) add(['rules', i, 'publish', 'topic'], `${label}: "${rule.publish.topic}" is not a valid topic to publish on: ${pub}`);
    // A rule without clientid uses hub.clientid (Baetyl: the rule's, even empty, always won).
    const clientid = rule.clientid || cfg.hub.clientid;
    if (clientid) {
      const first = clientids.get(clientid);
      if (first !== undefined) {
        add(
          rule.clientid ? ['rules', i, 'clientid'] : ['rules', i],
          `clientid "${clientid}"${rule.clientid ? '' : ' (from hub.clientid)'} is already used by rules[${first}]; two connections with one client id keep kicking each other off the hub, give each rule its own clientid`,
        );
      } else clientids.set(clientid, i);
    }
  });
  return problems;
}
