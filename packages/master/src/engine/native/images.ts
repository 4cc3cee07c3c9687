// Which program runs an image in native mode. Baetyl v1 configs name Docker images; we map
// them to our own service entry points, ignoring registry and tag, so configs work unchanged.
// A `package.yml` mounted at lib/baetyl/<image> (Baetyl's own native packaging) still wins.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { MAPPED_BUFFERS_ENV } from '@baetyl/core/memory/mapped-buffers';
import { INSTANCE_NODE_FLAGS } from '@baetyl/runtime/config';
import type { PythonKind } from '@baetyl/runtime/python';
import { PermanentStartError } from '../engine.js';
import { shortImageName, V1_0_IMAGE_NAMES } from '../../app/image-names.js';

/** The repository root, found from this file (packages/master/dist/src/engine/native/). */
export const REPO_ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../../../../..');

interface BuiltIn {
  pkg: string;
  args: string[];
  /** Node and V8 flags the service runs with (the same as in its image's ENTRYPOINT, images/<pkg>/Dockerfile). */
  node?: string[];
  /** Environment the service starts with unless the service's own env sets it (the same as its image's ENV). */
  env?: Readonly<Record<string, string>>;
  /** Workspace packages its bundle (dist/bundle/main.mjs, made by scripts/bundle.mjs) contains. */
  bundles?: string[];
  /** A python runtime: the interpreter runs packages/runtime/python itself (engine/runtime-config.ts). */
  python?: PythonKind;
  /** A node85 or sql runtime: its service.yml is checked by the master and passed to the host (engine/runtime-config.ts). */
  runtime?: NodeRuntimeKind;
}

/** The runtimes a Node host runs. */
export type NodeRuntimeKind = 'node85' | 'sql';

const RUNTIME = (lang: NodeRuntimeKind): BuiltIn => ({
  pkg: 'runtime',
  args: ['--runtime', lang],
  node: [...INSTANCE_NODE_FLAGS],
  bundles: ['runtime', 'core'],
  runtime: lang,
});
const PYTHON = (kind: PythonKind): BuiltIn => ({ pkg: 'runtime', args: [], python: kind });

const mtime = (file: string): number => {
  try {
    return statSync(file).mtimeMs;
  } catch {
    return Infinity;
  }
};

/**
 * The service's bundle, if it was made after the last compile of every package in it (a bare
 * `tsc -b` would leave an old bundle behind: then the compiled files run, as without a bundle).
 */
export function freshBundle(builtIn: BuiltIn, root = REPO_ROOT): string | undefined {
  if (!builtIn.bundles) return undefined;
  const bundle = join(root, 'packages', builtIn.pkg, 'dist', 'bundle', 'main.mjs');
  if (!existsSync(bundle)) return undefined;
  const made = mtime(bundle);
  const compiled = builtIn.bundles.map((p) => mtime(join(root, 'packages', p, 'dist', 'tsconfig.tsbuildinfo')));
  return compiled.every((t) => t <= made) ? bundle : undefined;
}

// Flags measured for footprint at no cost in throughput (docs/performance.md, "Lean services").
// One V8 worker thread: each worker keeps its own malloc arena and stack, and the GC work of these
// services is small. Not a smaller young generation (--max-semi-space-size=4, 6 MB less each when
// idle): at saturation it cost the hub 20-40% more CPU per message, and the manager ~30% at QoS 1.
const SERVICE_FLAGS = ['--v8-pool-size=1'];

const OWN_IMAGES: Record<string, BuiltIn> = {
  'baetyl-hub': { pkg: 'hub', args: [], node: SERVICE_FLAGS },
  'baetyl-function-manager': { pkg: 'function-manager', args: [], node: SERVICE_FLAGS, env: MAPPED_BUFFERS_ENV },
  'baetyl-remote-mqtt': { pkg: 'remote-mqtt', args: [], node: SERVICE_FLAGS },
  'baetyl-timer': { pkg: 'timer', args: [], node: SERVICE_FLAGS },
  'baetyl-function-python27': PYTHON('python27'),
  'baetyl-function-python36': PYTHON('python36'),
  'baetyl-function-node85': RUNTIME('node85'),
  'baetyl-function-sql': RUNTIME('sql'),
};

/** Every image name (short, as shortImageName gives it) that runs one of our services, v1.0's names too. */
export const BUILT_IN_IMAGES: Record<string, BuiltIn> = {
  ...OWN_IMAGES,
  ...Object.fromEntries(Object.entries(V1_0_IMAGE_NAMES).map(([v1, ours]) => [v1, OWN_IMAGES[ours]!])),
};

/** The name we build an image under (`make images`): the docker image name for v1.0's native names. */
export function ownImageName(image: string): string | undefined {
  const short = shortImageName(image);
  if (!BUILT_IN_IMAGES[short]) return undefined;
  return V1_0_IMAGE_NAMES[short] ?? short;
}

export interface Program {
  /** The executable; for our services, node itself (python for the python runtimes). */
  file: string;
  /** For our services: node's own flags, before `args` (the script and its arguments). */
  nodeFlags?: string[];
  args: string[];
  /** For messages: what the image resolved to. */
  describe: string;
  /** Added to the instance's environment. */
  env?: Record<string, string>;
  /** The instance's environment where the service's env does not set the same variable. */
  defaultEnv?: Readonly<Record<string, string>>;
}

/** The python runtime an image names, if it does. */
export function pythonKindOf(image: string): PythonKind | undefined {
  return BUILT_IN_IMAGES[shortImageName(image)]?.python;
}

/** The node85 or sql runtime an image names, if it does. */
export function nodeRuntimeKindOf(image: string): NodeRuntimeKind | undefined {
  return BUILT_IN_IMAGES[shortImageName(image)]?.runtime;
}

/**
 * Resolves the program for an image, looking first for a mounted package.yml in `instanceDir`.
 * `python` launches a python runtime instance (the interpreter and its checked config).
 */
export function resolveProgram(
  image: string,
  instanceDir: string,
  python?: (kind: PythonKind) => Program,
  checkedConfig?: (kind: NodeRuntimeKind) => Record<string, string>,
): Program {
  const candidates = [image.replace(/:/g, '/'), shortImageName(image)];
  for (const c of candidates) {
    const pkgDir = join(instanceDir, 'lib', 'baetyl', c);
    const pkgFile = join(pkgDir, 'package.yml');
    if (!existsSync(pkgFile)) continue;
    let entry: unknown;
    try {
      entry = (parse(readFileSync(pkgFile, 'utf8')) as { entry?: unknown } | null)?.entry;
    } catch (err) {
      throw new PermanentStartError(`${pkgFile}: invalid YAML (${(err as Error).message.split('\n')[0]})`);
    }
    if (typeof entry !== 'string' || !entry) throw new PermanentStartError(`${pkgFile}: "entry" must name the program to run, like "bin/baetyl-hub"`);
    const file = join(pkgDir, entry);
    if (!existsSync(file)) throw new PermanentStartError(`${pkgFile}: entry "${entry}" does not exist (${file})`);
    return { file, args: [], describe: `${file} (from ${pkgFile})` };
  }
  const short = shortImageName(image);
  const builtIn = BUILT_IN_IMAGES[short];
  if (!builtIn) {
    throw new PermanentStartError(
      `image "${image}" has no native program: use one of ${Object.keys(BUILT_IN_IMAGES).join(', ')}, or mount a package with a package.yml at lib/baetyl/${short}`,
    );
  }
  if (builtIn.python) {
    if (!python) throw new PermanentStartError(`image "${image}" is a python runtime, which this engine cannot launch natively`);
    return python(builtIn.python);
  }
  const main = join(REPO_ROOT, 'packages', builtIn.pkg, 'dist', 'src', 'main.js');
  if (!existsSync(main)) {
    // Not permanent: a build while the master runs is picked up by the next start.
    throw new Error(`image "${image}" is the ${builtIn.pkg} service, which is not built yet (${main} is missing): run "make build"`);
  }
  const program: Program = {
    file: process.execPath,
    nodeFlags: builtIn.node ?? [],
    args: [freshBundle(builtIn) ?? main, ...builtIn.args],
    describe: `packages/${builtIn.pkg}`,
    ...(builtIn.env ? { defaultEnv: builtIn.env } : {}),
  };
  if (builtIn.runtime && checkedConfig) program.env = checkedConfig(builtIn.runtime);
  return program;
}
