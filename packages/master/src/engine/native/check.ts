// `baetyl check` in native mode: every service's image must resolve to a program that exists, and
// a python runtime needs an interpreter on the device.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ConfigError } from '@baetyl/core/config';
import type { CheckTarget, ServiceCheck } from '../engine.js';
import { shortImageName } from '../../app/image-names.js';
import { BUILT_IN_IMAGES, pythonKindOf, REPO_ROOT } from './images.js';
import { retiredImage } from '../retired-images.js';

export function checkPrograms(target: CheckTarget): string[] {
  const problems: string[] = [];
  for (const s of target.app.services) {
    // A package mounted at lib/baetyl/<image> provides its own program.
    const mounted = s.mounts.some((m) => m.target.startsWith('lib/baetyl/') && existsSync(join(resolve(target.workdir, m.source), 'package.yml')));
    // A retired image (baetyl-agent) fails at start with its own message; check warns about it.
    if (mounted || retiredImage(s.image)) continue;
    const builtIn = BUILT_IN_IMAGES[shortImageName(s.image)];
    if (!builtIn) {
      problems.push(
        `${target.appFile}: service ${s.name}: image "${s.image}" has no native program; use one of ${Object.keys(BUILT_IN_IMAGES).join(', ')}, or mount a package.yml at lib/baetyl/${shortImageName(s.image)}`,
      );
    } else if (!existsSync(join(REPO_ROOT, 'packages', builtIn.pkg, 'dist', 'src', 'main.js'))) {
      problems.push(`service ${s.name}: the ${builtIn.pkg} service is not built yet: run "make build"`);
    }
  }
  return problems;
}

/** The interpreter a python runtime's instances would run on (only that service fails without one). */
export async function checkInterpreter({ service, configFile, env, label }: ServiceCheck): Promise<string[]> {
  const kind = pythonKindOf(service.image);
  if (!kind) return [];
  const { pythonLaunch, RUNTIME_CONFIG_ENV } = await import('@baetyl/runtime/python');
  try {
    const launch = pythonLaunch(kind, configFile, env);
    // Its config's warnings again (check deduplicates them) and the interpreter's ("uses Python 3.11, not 3.6").
    return (JSON.parse(launch.env[RUNTIME_CONFIG_ENV]!) as { warnings: string[] }).warnings;
  } catch (err) {
    return err instanceof ConfigError ? [] : [`${label} will fail at start: ${(err as Error).message}`];
  }
}
