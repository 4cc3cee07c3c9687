// Loads and checks remote-mqtt's service.yml (exported as @baetyl/remote-mqtt/config, so that
// `baetyl check` finds these problems before anything starts). Beyond the schema it checks what
// Baetyl v1 found only at run time: a rule naming an unknown remote, bad addresses and topics,
// two connections with one client id on one broker; keys v1 accepted and never used are warnings.
import {
  ConfigError,
  readConfigText,
  formatProblems,
  parseYaml,
  problemAt,
  validateConfig,
  type ConfigProblem,
  type LoadOptions,
  type ParsedYaml,
} from '@baetyl/core/config';
import { brokerAddressProblem, unusedCertificateKeys, unusedCertificateMessage, type ClientInfo } from '@baetyl/core/mqtt';
import { topicFilterProblem } from '@baetyl/core/topic';
import { remoteMqttSchema, UNUSED_WHY, type RemoteConfig, type RemoteMqttConfig, type RuleConfig } from './schema.js';

export type { RemoteConfig, RemoteMqttConfig, RuleConfig, TopicInfo } from './schema.js';
export type { LoadOptions } from '@baetyl/core/config';

/** The client ids of a rule's two connections, as v1 chose them. */
export function ruleClientIds(rule: RuleConfig, remote: RemoteConfig): { hub: string; remote: string } {
  // rules[].remote.clientid, else remotes[].clientid, else the remote's name.
  const remoteId = rule.remote.clientid || remote.clientid || rule.remote.name;
  // rules[].hub.clientid, else the remote connection's id (v1 never used hub.clientid here).
  return { hub: rule.hub.clientid || remoteId, remote: remoteId };
}

/** Reads, validates and checks a remote-mqtt service.yml. Throws ConfigError. */
export function loadRemoteMqttConfig(file: string, opts: LoadOptions = {}): RemoteMqttConfig {
  return parseRemoteMqttConfig(readConfigText(file), file, opts);
}

/** Parses service.yml text as if read from `file`. Throws ConfigError. */
export function parseRemoteMqttConfig(text: string, file: string, opts: LoadOptions = {}): RemoteMqttConfig {
  const parsed = parseYaml(text, file, opts);
  const cfg = validateConfig<RemoteMqttConfig>(parsed, file, remoteMqttSchema);
  const { problems, warnings } = checkConfig(cfg, parsed);
  if (problems.length > 0) throw new ConfigError(file, problems);
  for (const w of warnings) opts.onWarning?.(formatProblems(file, [w]));
  return cfg;
}

function checkConfig(cfg: RemoteMqttConfig, parsed: ParsedYaml): { problems: ConfigProblem[]; warnings: ConfigProblem[] } {
  const problems: ConfigProblem[] = [];
  const warnings: ConfigProblem[] = [];
  const add = (path: Array<string | number>, message: string) => problems.push(problemAt(parsed, path, message));
  const warn = (path: Array<string | number>, message: string) => warnings.push(problemAt(parsed, path, message));
  const checkAddress = (path: Array<string | number>, info: ClientInfo, what: string) => {
    const address = info.address;
    if (!address) return add(path, `${what} needs an address, like ${path[0] === 'hub' ? 'tcp://localhub:1883' : 'ssl://broker.example.com:8883'}`);
    const bad = brokerAddressProblem(address);
    if (bad) return add([...path, 'address'], bad);
    for (const key of unusedCertificateKeys(info)) warn([...path, key], unusedCertificateMessage(address));
  };
  const checkTopics = (path: Array<string | number>, subs: Array<{ topic: string }>) =>
    subs.forEach((s, i) => {
      const why = topicFilterProblem(s.topic);
      if (why) add([...path, i, 'topic'], `"${s.topic}" is not a valid topic filter: ${why}`);
    });

  if (cfg.rules.length > 0) checkAddress(['hub'], cfg.hub, 'hub');
  if (cfg.hub.clientid) warn(['hub', 'clientid'], `is not used: ${UNUSED_WHY.hubClientid}`);
  if (cfg.hub.subscriptions.length > 0) warn(['hub', 'subscriptions'], `is not used: ${UNUSED_WHY.hubSubscriptions}`);

  const remotes = new Map<string, number>();
  cfg.remotes.forEach((remote, i) => {
    const first = remotes.get(remote.name);
    if (first !== undefined) add(['remotes', i, 'name'], `remote "${remote.name}" is already defined at remotes[${first}]; give each remote its own name`);
    else remotes.set(remote.name, i);
    checkAddress(['remotes', i], remote, `remote "${remote.name}"`);
    if (remote.subscriptions.length > 0) warn(['remotes', i, 'subscriptions'], `is not used: ${UNUSED_WHY.remoteSubscriptions}`);
  });

  // One client id per broker: two connections with one id keep kicking each other off.
  const hubIds = new Map<string, number>();
  const remoteIds = new Map<string, number>();
  cfg.rules.forEach((rule, i) => {
    const at = remotes.get(rule.remote.name);
    if (at === undefined) {
      const known = [...remotes.keys()];
      add(
        ['rules', i, 'remote', 'name'],
        `names remote "${rule.remote.name}", which is not defined in remotes; ` +
          (known.length ? `defined remotes: ${known.join(', ')}` : 'add it to remotes (name, address, ...)'),
      );
    }
    checkTopics(['rules', i, 'hub', 'subscriptions'], rule.hub.subscriptions);
    checkTopics(['rules', i, 'remote', 'subscriptions'], rule.remote.subscriptions);
    if (rule.hub.subscriptions.length === 0 && rule.remote.subscriptions.length === 0) {
      warn(['rules', i], 'forwards nothing: it has no hub.subscriptions and no remote.subscriptions');
    }
    if (at === undefined) return;
    const ids = ruleClientIds(rule, cfg.remotes[at]!);
    const hubFirst = hubIds.get(ids.hub);
    if (hubFirst !== undefined) {
      add(
        rule.hub.clientid ? ['rules', i, 'hub', 'clientid'] : ['rules', i],
        `the hub connection's client id "${ids.hub}" is already used by rules[${hubFirst}]; give each rule its own rules[].hub.clientid`,
      );
    } else hubIds.set(ids.hub, i);
    const key = `${rule.remote.name}\0${ids.remote}`;
    const remoteFirst = remoteIds.get(key);
    if (remoteFirst !== undefined) {
      add(
        rule.remote.clientid ? ['rules', i, 'remote', 'clientid'] : ['rules', i, 'remote'],
        `the client id "${ids.remote}" on remote "${rule.remote.name}" is already used by rules[${remoteFirst}]; give each rule its own rules[].remote.clientid`,
      );
    } else remoteIds.set(key, i);
  });
  return { problems, warnings };
}
