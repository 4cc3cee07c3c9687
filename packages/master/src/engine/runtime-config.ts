// The runtime images' configs are checked here, by the runtime's own loader, and handed to the
// instance as JSON in its environment (BAETYL_RUNTIME_CONFIG), so that no instance runs a config
// loader. The python images (baetyl-function-python27/-python36) run the interpreter itself, with
// no Node process; node85 and sql run the Node host, which then skips its loader (about a third
// of its cold start). Both engines use this; for python only where the interpreter comes from
// differs (native: found on the device; docker: the image's own).
import { join, resolve } from 'node:path';
import { pythonLaunch, pythonRuntimeConfig, RUNTIME_CONFIG_ENV, type PythonKind } from '@baetyl/runtime/python';
import { passedConfigText } from '@baetyl/runtime/config/pass';
import type { ServiceSpec } from '../app/model.js';
import { PermanentStartError } from './engine.js';
import type { NodeRuntimeKind, Program } from './native/images.js';

/** The config file a runtime reads, relative to its root: `-c FILE` in the service's args, else v1's default. */
export function runtimeConfigPath(service: ServiceSpec): string {
  const args = service.args;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '-c' || arg === '--config' || arg === '--conf') return args[i + 1] ?? 'etc/baetyl/service.yml';
    const eq = arg.match(/^(?:-c|--config|--conf)=(.+)$/);
    if (eq) return eq[1]!;
  }
  return 'etc/baetyl/service.yml';
}

/** Where a path the service sees (relative to its root) is on the host, through its mounts. */
export function hostPathOf(workdir: string, service: ServiceSpec, path: string): string | undefined {
  const inside = path.replace(/^\/+/, '');
  let best: { source: string; rest: string; len: number } | undefined;
  for (const m of service.mounts) {
    const target = m.target.replace(/^\/+|\/+$/g, '');
    if (inside === target || inside.startsWith(`${target}/`)) {
      if (!best || target.length > best.len) best = { source: m.source, rest: inside.slice(target.length).replace(/^\/+/, ''), len: target.length };
    }
  }
  return best ? join(resolve(workdir, best.source), best.rest) : undefined;
}

/** A bad config or a missing interpreter: retrying cannot help; the message says what to fix. */
function asStartError(err: unknown): Error {
  return new PermanentStartError(err instanceof Error ? err.message : String(err));
}

/** Native mode: the interpreter found on the device runs packages/runtime/python/run.py. */
export function nativePythonProgram(kind: PythonKind, instanceDir: string, service: ServiceSpec, env: Record<string, string>): Program {
  try {
    const launch = pythonLaunch(kind, join(instanceDir, runtimeConfigPath(service)), env);
    return {
      file: launch.command,
      args: launch.args,
      env: launch.env,
      describe: `the ${kind} runtime on Python ${launch.interpreter.version} (${launch.interpreter.path})`,
    };
  } catch (err) {
    throw asStartError(err);
  }
}

/** Native and docker mode: a node85 or sql instance's checked config, for its env. */
export function nodeRuntimeEnv(kind: NodeRuntimeKind, configFile: string, env: Record<string, string>): Record<string, string> {
  try {
    return { [RUNTIME_CONFIG_ENV]: passedConfigText(configFile, kind, env) };
  } catch (err) {
    throw asStartError(err);
  }
}

/** Docker mode: where the service's config is on the host, through its mounts. */
export function configOnHost(workdir: string, service: ServiceSpec): string {
  const inside = runtimeConfigPath(service);
  const file = hostPathOf(workdir, service, inside);
  if (!file) {
    throw new PermanentStartError(
      `service ${service.name}: its config ${inside} is not in any of its mounts; mount the volume holding service.yml at ${inside.replace(/\/[^/]*$/, '')}`,
    );
  }
  return file;
}

/** Docker mode: the image's python runs it; the checked config goes in the container's env. */
export function dockerPythonEnv(kind: PythonKind, workdir: string, service: ServiceSpec, env: Record<string, string>): Record<string, string> {
  const file = configOnHost(workdir, service);
  try {
    const cfg = pythonRuntimeConfig({ kind, configFile: file, env });
    if (cfg.runtime.python) {
      cfg.warnings.push(`runtime.python (${cfg.runtime.python}) in ${file} is not used in docker mode: the image's own interpreter runs the functions`);
    }
    return { [RUNTIME_CONFIG_ENV]: JSON.stringify(cfg) };
  } catch (err) {
    throw asStartError(err);
  }
}
