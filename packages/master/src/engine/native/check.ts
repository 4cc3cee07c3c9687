// `baetyl check` in native mode: every service's image must resolve to a program that exists.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { LoadedConfig } from '../../master.js';
import { BUILT_IN_IMAGES, REPO_ROOT, shortImageName } from './images.js';
import { retiredImage } from '../retired-images.js';

export function checkPrograms(loaded: LoadedConfig): string[] {
  const problems: string[] = [];
  for (const s of loaded.app.services) {
    // A package mounted at lib/baetyl/<image> provides its own program.
    const mounted = s.mounts.some((m) => m.target.startsWith('lib/baetyl/') && existsSync(join(resolve(loaded.workdir, m.source), 'package.yml')));
    // A retired image (baetyl-agent) fails at start with its own message; check warns about it.
    if (mounted || retiredImage(s.image)) continue;
    const builtIn = BUILT_IN_IMAGES[shortImageName(s.image)];
    if (!builtIn) {
      problems.push(`${loaded.appFile}: service ${s.name}: image "${s.image}" has no native program; use one of ${Object.keys(BUILT_IN_IMAGES).join(', ')}, or mount a package.yml at lib/baetyl/${shortImageName(s.image)}`);
    } else if (!existsSync(join(REPO_ROOT, 'packages', builtIn.pkg, 'dist', 'src', 'main.js'))) {
      problems.push(`service ${s.name}: the ${builtIn.pkg} service is not built yet: run "make build"`);
    }
  }
  return problems;
}
