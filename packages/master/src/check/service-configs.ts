// The loader that checks each service's own config, by the image's short name (as
// shortImageName gives it). Each loader lives in its service's package and is imported only when
// a check runs, so `baetyl start` does not load them.
import type { ConfigProblem, LoadOptions } from '@baetyl/core/config';
import type { RuntimeKind } from '@baetyl/runtime/config';
import { V1_0_IMAGE_NAMES } from '../app/image-names.js';

/** Loads one config file as the service would: throws its ConfigError, passes warnings on. */
export type ServiceConfigChecker = (file: string, opts: LoadOptions) => Promise<void>;

type Loader = (file: string, opts: LoadOptions) => unknown;

/** A checker from a service package's loader, imported on first use. */
const lazy =
  (load: () => Promise<Loader>): ServiceConfigChecker =>
  async (file, opts) => {
    (await load())(file, opts);
  };

const runtime = (kind: RuntimeKind): ServiceConfigChecker =>
  lazy(async () => {
    const { loadRuntimeConfig } = await import('@baetyl/runtime/config');
    return (file, opts) => loadRuntimeConfig(file, kind, opts.env ?? {}, opts.onWarning);
  });

/** The sql runtime compiles its SQL at start: a syntax error there is a config error here too. */
const sql: ServiceConfigChecker = async (file, opts) => {
  const [{ loadRuntimeConfig }, { parseSql, SqlSyntaxError }, core] = await Promise.all([
    import('@baetyl/runtime/config'),
    import('@baetyl/runtime'),
    import('@baetyl/core/config'),
  ]);
  const cfg = loadRuntimeConfig(file, 'sql', opts.env ?? {}, opts.onWarning);
  const problems: ConfigProblem[] = [];
  cfg.functions.forEach((f, i) => {
    try {
      parseSql(f.handler);
    } catch (err) {
      if (!(err instanceof SqlSyntaxError)) throw err;
      // Parsed again (no warnings: they were said) only to place the problem on its line.
      const parsed = core.parseYaml(core.readConfigText(file), file, opts.env ? { env: opts.env } : {});
      problems.push(core.problemAt(parsed, ['functions', i, 'handler'], `function "${f.name}": ${err.message}`));
    }
  });
  if (problems.length) throw new core.ConfigError(file, problems);
};

const OWN: Record<string, ServiceConfigChecker> = {
  'baetyl-hub': lazy(async () => (await import('@baetyl/hub/config')).loadHubConfig),
  'baetyl-function-manager': lazy(async () => (await import('@baetyl/function-manager/config')).loadFunctionManagerConfig),
  'baetyl-timer': lazy(async () => (await import('@baetyl/timer/config')).loadTimerConfig),
  'baetyl-remote-mqtt': lazy(async () => (await import('@baetyl/remote-mqtt/config')).loadRemoteMqttConfig),
  'baetyl-function-python27': runtime('python27'),
  'baetyl-function-python36': runtime('python36'),
  'baetyl-function-node85': runtime('node85'),
  'baetyl-function-sql': sql,
};

export const SERVICE_CONFIG_CHECKERS: Readonly<Record<string, ServiceConfigChecker>> = {
  ...OWN,
  ...Object.fromEntries(Object.entries(V1_0_IMAGE_NAMES).map(([v1, ours]) => [v1, OWN[ours]!])),
};
