// The JSON Schemas in schemas/ (what an editor checks a config file with): they are what the
// loaders' schemas generate, a strict ajv compiles them, every example workdir (ours and Baetyl
// v1's, with their commented-out services too) validates against them file by file, and a file
// the loader refuses or warns about is refused by them too.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { spawnSync } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import { parse } from 'yaml';
import { ConfigError, parseConfig, type Schema } from '@baetyl/core/config';
import { EDITOR_KEYWORDS } from '@baetyl/core/config/json-schema';
import { parseApp } from '@baetyl/master';
import { CONFIG_SCHEMAS, generateSchemas, schemaFileForImage, schemaFileText } from '@baetyl/master/schemas';
import { APP_FILE, REPO, serviceConfigs, uncomment, v1Examples } from '@baetyl/test-support';

const SCHEMAS = join(REPO, 'schemas');
const REGENERATE = 'run "make build" (it runs node scripts/schemas.mjs after tsc) and commit schemas/';

function compileAll(): Map<string, ValidateFunction> {
  const ajv = new Ajv({ strict: true, allowUnionTypes: true, allErrors: true });
  ajv.addVocabulary([...EDITOR_KEYWORDS]);
  return new Map(CONFIG_SCHEMAS.map((e) => [e.file, ajv.compile(JSON.parse(readFileSync(join(SCHEMAS, e.file), 'utf8')) as object)]));
}

/** The problems of one YAML file against one schema file, each naming the file and the place in it. */
function problems(validate: ValidateFunction, file: string): string[] {
  const data: unknown = parse(readFileSync(file, 'utf8'));
  if (validate(data)) return [];
  return (validate.errors ?? []).map((e) => `${file}: ${e.instancePath || '/'}: ${e.message ?? e.keyword} ${JSON.stringify(e.params)}`);
}

test("schemas/ holds what the loaders' schemas generate, and nothing else", () => {
  const generated = generateSchemas();
  for (const [file, schema] of generated) {
    const path = join(SCHEMAS, file);
    assert.ok(existsSync(path), `schemas/${file} is missing: ${REGENERATE}`);
    assert.equal(readFileSync(path, 'utf8'), schemaFileText(schema), `schemas/${file} differs from what its loader schema generates: ${REGENERATE}`);
  }
  const extra = readdirSync(SCHEMAS).filter((f) => !generated.has(f));
  assert.deepEqual(extra, [], `not generated from any loader schema: ${REGENERATE}`);
});

// `make build` rewrites schemas/ before the tests run (so does CI's), so what is committed is
// compared through git: a build that changed them leaves them modified.
const checkout = existsSync(join(REPO, '.git'));
if (!checkout) console.log('# skipped: not a git checkout, so the committed schemas cannot be compared');
test('schemas/ is committed as make build writes it', { skip: checkout ? false : 'not a git checkout' }, () => {
  const git = spawnSync('git', ['status', '--porcelain', '--untracked-files=all', '--', 'schemas'], { cwd: REPO, encoding: 'utf8' });
  assert.equal(git.status, 0, `git status: ${git.stderr}`);
  assert.equal(git.stdout, '', `schemas/ differs from what is committed: the loaders' schemas changed; ${REGENERATE}\n${git.stdout}`);
});

test('a strict ajv compiles every schema, each with its own $id and title', () => {
  const compiled = compileAll();
  assert.equal(compiled.size, CONFIG_SCHEMAS.length);
  const ids = new Set<string>();
  for (const e of CONFIG_SCHEMAS) {
    const json = JSON.parse(readFileSync(join(SCHEMAS, e.file), 'utf8')) as { $id: string; title: string; $schema: string };
    assert.equal(json.$schema, 'http://json-schema.org/draft-07/schema#');
    assert.ok(json.title && !ids.has(json.$id), e.file);
    ids.add(json.$id);
  }
});

/** Validates a workdir's conf.yml, application.yml and every service.yml we have a schema for; returns what it validated. */
function checkWorkdir(dir: string, compiled: Map<string, ValidateFunction>): { found: string[]; unchecked: string[]; files: Map<string, string> } {
  const found: string[] = [];
  const unchecked: string[] = [];
  const errors: string[] = [];
  const files = new Map<string, string>();
  const check = (schemaFile: string, file: string) => {
    errors.push(...problems(compiled.get(schemaFile)!, file));
    found.push(`${file} (${schemaFile})`);
    files.set(file, schemaFile);
  };
  check('conf.schema.json', join(dir, 'etc/baetyl/conf.yml'));
  check('application.schema.json', join(dir, APP_FILE));
  for (const [name, { image, file }] of serviceConfigs(dir)) {
    const schemaFile = schemaFileForImage(image);
    if (!schemaFile) unchecked.push(`${name} (${image})`);
    else {
      assert.ok(file && existsSync(file), `${dir}: service ${name} (${image}) mounts its service.yml at etc/baetyl`);
      check(schemaFile, file);
    }
  }
  assert.deepEqual(errors, []);
  return { found, unchecked, files };
}

describe('every example workdir validates against the schemas', () => {
  const compiled = compileAll();
  for (const name of ['native', 'docker']) {
    test(`deploy/example/${name}`, () => {
      const { found, unchecked, files } = checkWorkdir(join(REPO, 'deploy/example', name), compiled);
      assert.deepEqual(unchecked, [], 'every service of our examples has a schema');
      // conf.yml, application.yml, the hub, the function manager and four runtimes.
      assert.equal(found.length, 8, found.join('\n'));
      // Each file's first line names its schema, relative to the file, for editors (docs/editors.md).
      for (const [file, schemaFile] of files) {
        const first = readFileSync(file, 'utf8').split('\n')[0]!;
        const named = /^# yaml-language-server: \$schema=(\S+)$/.exec(first)?.[1];
        assert.ok(named, `${file} starts with "# yaml-language-server: $schema=<path to schemas/${schemaFile}>"`);
        assert.equal(resolve(dirname(file), named), join(SCHEMAS, schemaFile), `${file} names the schema of what it is`);
      }
    });
  }

  const examples = v1Examples();
  for (const app of ['stable-1/native', 'stable-1/docker', '1.0.0/native', '1.0.0/docker']) {
    test(
      `Baetyl v1's ${app}, as shipped and with its commented-out services enabled`,
      { skip: examples ? false : 'the v1 examples corpus is not on this machine (set BAETYL_V1_EXAMPLES)' },
      () => {
        const shipped = checkWorkdir(join(examples!, app), compiled);
        assert.deepEqual(shipped.unchecked, [], `every service ${app} runs has a schema`);
        const dir = mkdtempSync(join(tmpdir(), `schemas-${app.replace('/', '-')}-`));
        try {
          cpSync(join(examples!, app), dir, { recursive: true });
          writeFileSync(join(dir, APP_FILE), uncomment(readFileSync(join(dir, APP_FILE), 'utf8')));
          const all = checkWorkdir(dir, compiled);
          // The agent's image is gone (remote-mqtt replaces it) and mosquitto is not ours: no schema for them.
          assert.deepEqual(
            all.unchecked.map((s) => s.split(' ')[0]),
            [...serviceConfigs(dir)].filter(([, s]) => /baetyl-agent|mosquitto/.test(s.image)).map(([n]) => n),
          );
          assert.ok(
            all.found.some((f) => f.includes('remote-mqtt.schema.json')) && all.found.some((f) => f.includes('timer.schema.json')),
            all.found.join('\n'),
          );
          assert.ok(all.found.length > shipped.found.length);
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      },
    );
  }
});

/** A glob of VS Code's settings (`**`, `*`) as a regular expression over a whole path. */
function globRegExp(glob: string): RegExp {
  const body = glob
    .split(/(\*\*\/|\*)/)
    .map((part) => (part === '**/' ? '(?:.*/)?' : part === '*' ? '[^/]*' : part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`(?:^|/)${body}$`);
}

test(
  'docs/editors.md: each glob of its settings.json matches example files, each of them a file of that schema',
  { skip: v1Examples() ? false : 'the v1 examples corpus is not on this machine' },
  () => {
    const doc = readFileSync(join(REPO, 'docs/editors.md'), 'utf8');
    const block = /```json\n(\{\n\s+"yaml\.schemas"[\s\S]*?)```/.exec(doc)?.[1];
    assert.ok(block, 'docs/editors.md shows a settings.json with yaml.schemas');
    const settings = JSON.parse(block) as { 'yaml.schemas': Record<string, string[]> };
    const compiled = compileAll();
    const files = new Map<string, string>();
    const dirs = ['native', 'docker'].map((n) => join(REPO, 'deploy/example', n));
    for (const app of ['stable-1/native', 'stable-1/docker', '1.0.0/native', '1.0.0/docker']) {
      const dir = mkdtempSync(join(tmpdir(), `schemas-doc-${app.replace('/', '-')}-`));
      cpSync(join(v1Examples()!, app), dir, { recursive: true });
      writeFileSync(join(dir, APP_FILE), uncomment(readFileSync(join(dir, APP_FILE), 'utf8')));
      dirs.push(dir);
    }
    try {
      for (const dir of dirs) for (const [file, schemaFile] of checkWorkdir(dir, compiled).files) files.set(file, schemaFile);
    } finally {
      for (const dir of dirs.slice(2)) rmSync(dir, { recursive: true, force: true });
    }
    assert.deepEqual(
      Object.keys(settings['yaml.schemas']).sort(),
      CONFIG_SCHEMAS.map((e) => `./schemas/${e.file}`).sort(),
      'every schema, by its path in the repository',
    );
    for (const [path, globs] of Object.entries(settings['yaml.schemas'])) {
      for (const glob of globs) {
        const matched = [...files].filter(([file]) => globRegExp(glob).test(file));
        assert.ok(matched.length > 0, `${glob} matches an example file`);
        for (const [file, schemaFile] of matched) assert.equal(`./schemas/${schemaFile}`, path, `${glob} matches ${file}, a file of ${schemaFile}`);
      }
    }
  },
);

describe('a file the loader refuses or warns about, the schema refuses, at the same place', () => {
  const compiled = compileAll();
  const entry = (file: string): Schema => CONFIG_SCHEMAS.find((e) => e.file === file)!.schema;

  /** The loader's verdict: the ConfigError's paths, or the warnings it gave. */
  function loader(schemaFile: string, text: string): { errors: string[]; warnings: string[] } {
    const warnings: string[] = [];
    const opts = { onWarning: (w: string) => warnings.push(w) };
    try {
      // application.yml through its own loader, which picks the shape before it validates.
      if (schemaFile === 'application.schema.json') parseApp(text, 'application.yml', opts);
      else parseConfig(text, 'service.yml', entry(schemaFile), opts);
      return { errors: [], warnings };
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      return { errors: err.problems.map((p) => `${p.path}: ${p.message}`), warnings };
    }
  }
  function schema(schemaFile: string, text: string): string[] {
    const validate = compiled.get(schemaFile)!;
    if (validate(parse(text))) return [];
    // An `if` error only says which branch the other errors come from.
    return (validate.errors ?? []).filter((e) => e.keyword !== 'if').map((e) => `${e.instancePath} ${e.keyword} ${JSON.stringify(e.params)}`);
  }

  test("a bad duration in the hub's service.yml", () => {
    const text = 'listen: [tcp://0.0.0.0:1883]\nshutdown:\n  timeout: 10 minutes\n';
    assert.match(loader('hub.schema.json', text).errors.join('\n'), /^shutdown\.timeout: expected a duration like "30s", "1m30s" or "500ms"/m);
    assert.match(schema('hub.schema.json', text).join('\n'), /^\/shutdown\/timeout pattern /m);
  });

  test("a bad size, and a duration with no unit, in the function manager's", () => {
    const text = 'functions:\n  - name: f\n    service: s\n    timeout: "30"\n    message:\n      length:\n        max: 4 megs\n';
    const fromLoader = loader('function-manager.schema.json', text).errors.join('\n');
    assert.match(fromLoader, /^functions\[0\]\.timeout: expected a duration/m);
    assert.match(fromLoader, /^functions\[0\]\.message\.length\.max: expected a size/m);
    const fromSchema = schema('function-manager.schema.json', text).join('\n');
    assert.match(fromSchema, /^\/functions\/0\/timeout pattern /m);
    assert.match(fromSchema, /^\/functions\/0\/message\/length\/max pattern /m);
  });

  test("an unknown key in the hub's service.yml (a warning of the loader, which then ignores it)", () => {
    const text = 'listen: [tcp://0.0.0.0:1883]\nprincipal:\n  - username: test\n';
    assert.deepEqual(loader('hub.schema.json', text).errors, []);
    assert.match(
      loader('hub.schema.json', text).warnings.join('\n'),
      /principal: unknown key "principal" is ignored, as Baetyl v1 ignored it; did you mean "principals"\?/,
    );
    assert.deepEqual(schema('hub.schema.json', text), [' additionalProperties {"additionalProperty":"principal"}']);
  });

  test('application.yml in each shape: the schema picks the shape the loader picks', () => {
    const list = 'version: v0\nservices:\n  - name: hub\n    image: baetyl-hub\n    restart:\n      backoff:\n        min: 1 second\n';
    assert.match(loader('application.schema.json', list).errors.join('\n'), /^services\[0\]\.restart\.backoff\.min: expected a duration/m);
    assert.match(schema('application.schema.json', list).join('\n'), /^\/services\/0\/restart\/backoff\/min pattern /m);
    // The compose shape knows `command`, which the list shape does not; it does not know `args`.
    const compose = 'version: "3"\nservices:\n  hub:\n    image: baetyl-hub\n    command: [--verbose]\n    args: [-x]\n';
    const loaded = loader('application.schema.json', compose);
    assert.match(loaded.warnings.join('\n'), /services\.hub\.args: unknown key "args"/);
    assert.doesNotMatch(loaded.warnings.join('\n'), /unknown key "command"/);
    assert.deepEqual(schema('application.schema.json', compose), ['/services/hub additionalProperties {"additionalProperty":"args"}']);
  });

  test('a runtime with no functions, and conf.yml with a bad mode', () => {
    assert.match(loader('function-runtime.schema.json', 'server:\n  address: 127.0.0.1:50051\n').errors.join('\n'), /^functions: is required/m);
    assert.deepEqual(schema('function-runtime.schema.json', 'server:\n  address: 127.0.0.1:50051\n'), [' required {"missingProperty":"functions"}']);
    assert.match(loader('conf.schema.json', 'mode: kubernetes\n').errors.join('\n'), /^mode: expected one of "native", "docker"/m);
    assert.deepEqual(schema('conf.schema.json', 'mode: kubernetes\n'), ['/mode enum {"allowedValues":["native","docker"]}']);
  });
});
