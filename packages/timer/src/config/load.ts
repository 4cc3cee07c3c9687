// Loads and checks the timer's service.yml: the schema, then what v1 only found when it ran (a
// payload template it could not parse or execute, a topic it could not publish on, no hub).
import { ConfigError, readConfigText, formatProblems, parseConfig, parseYaml, problemAt, type ConfigProblem, type LoadOptions } from '@baetyl/core/config';
import { brokerAddressProblem, unusedCertificateKeys, unusedCertificateMessage } from '@baetyl/core/mqtt';
import { topicNameProblem } from '@baetyl/core/topic';
import { compileTemplate, cryptoRandom, TemplateError } from '../template/template.js';
import { systemClock } from '../template/clock.js';
import { timerSchema, type TimerConfig } from './schema.js';

const MAX_INTERVAL = 2 ** 31 - 1;

/** Reads, validates and checks a timer service.yml. Throws ConfigError naming the file and field. */
export function loadTimerConfig(file: string, opts: LoadOptions = {}): TimerConfig {
  return parseTimerConfig(readConfigText(file), file, opts);
}

/** Parses service.yml text as if read from `file`. Throws ConfigError. */
export function parseTimerConfig(text: string, file: string, opts: LoadOptions = {}): TimerConfig {
  const cfg = parseConfig<TimerConfig>(text, file, timerSchema, opts);
  const problems: Array<{ path: Array<string | number>; message: string }> = [];
  if (!cfg.hub.address) problems.push({ path: ['hub'], message: 'hub.address is required, like tcp://localhub:1883 (the hub the timer publishes to)' });
  else {
    const bad = brokerAddressProblem(cfg.hub.address);
    if (bad) problems.push({ path: ['hub', 'address'], message: bad });
  }
  if (!(cfg.timer.interval > 0)) problems.push({ path: ['timer', 'interval'], message: 'must be more than 0, like "10s"' });
  // Node's timers hold at most 2^31-1 ms; a longer one would fire at once.
  else if (cfg.timer.interval > MAX_INTERVAL) problems.push({ path: ['timer', 'interval'], message: 'must be at most 596h (24.8 days)' });
  const topic = topicNameProblem(cfg.publish.topic);
  if (topic) problems.push({ path: ['publish', 'topic'], message: `"${cfg.publish.topic}" is not a topic to publish on: ${topic}` });
  if (typeof cfg.publish.payload === 'string') {
    try {
      compileTemplate(cfg.publish.payload, { clock: systemClock(), random: cryptoRandom });
    } catch (err) {
      if (!(err instanceof TemplateError)) throw err;
      problems.push({ path: ['publish', 'payload'], message: `bad template: ${err.message}` });
    }
  }
  const unused = unusedCertificateKeys(cfg.hub);
  if (problems.length === 0 && unused.length === 0) return cfg;
  // Located in the file only now: the YAML is parsed a second time, for the line numbers.
  const parsed = parseYaml(text, file, { ...opts, onWarning: () => undefined });
  for (const key of unused) opts.onWarning?.(formatProblems(file, [problemAt(parsed, ['hub', key], unusedCertificateMessage(cfg.hub.address!))]));
  if (problems.length === 0) return cfg;
  const located: ConfigProblem[] = problems.map((p) => problemAt(parsed, p.path, p.message));
  throw new ConfigError(file, located);
}
