// ARCHITECTURE.md stays true where a machine can tell: the paths it names exist, each symbol of
// the message walk-through is in the file named before it in its step, the deadline layers are
// those of DEADLINE_LAYERS in their order, every function of the two internals modules is
// listed, the packages import only what its table allows, and the BAETYL_REQUIRE_* variables it
// lists are those .ci/run sets.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEADLINE_LAYERS } from '@baetyl/core/function';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const DOC = readFileSync(join(ROOT, 'ARCHITECTURE.md'), 'utf8');
const TOP_LEVEL = new Set(readdirSync(ROOT));

/** The text of the `## <title>` section, up to the next one. */
function section(title: string): string {
  const start = DOC.indexOf(`\n## ${title}\n`);
  assert.ok(start >= 0, `ARCHITECTURE.md has no section "## ${title}"`);
  const end = DOC.indexOf('\n## ', start + 1);
  return DOC.slice(start, end < 0 ? undefined : end);
}

/** What is written in backticks, in order. */
function codeSpans(text: string): string[] {
  return [...text.matchAll(/`([^`\n]+)`/g)].map((m) => m[1]!);
}

/**
 * A path of the repository: it starts with one of the repository's top-level entries and has a
 * folder or an extension (`packages/hub/src/broker/hub.ts`, `tsconfig.json`, `.ci/run`). Patterns
 * (`packages/*\/test`), placeholders and commands are not paths.
 */
function isRepoPath(span: string): boolean {
  if (/[\s*<>{}]/.test(span)) return false;
  const first = span.split('/')[0]!;
  return TOP_LEVEL.has(first) && (span.includes('/') || first.includes('.'));
}

/** A name of code: `callWithRetries`, `Rule.onMessage`, `_on_data`. */
const SYMBOL = /^[A-Za-z_$][\w$]*(\.[A-Za-z_$][\w$]*)*$/;

function containsWord(text: string, word: string): boolean {
  return new RegExp(`(?<![\\w$])${word.replace(/\$/g, '\\$')}(?![\\w$])`).test(text);
}

test('every path ARCHITECTURE.md names in backticks, and every file it links, exists', () => {
  let paths = 0;
  for (const span of codeSpans(DOC)) {
    if (!isRepoPath(span)) continue;
    paths++;
    assert.ok(existsSync(join(ROOT, span.replace(/\/$/, ''))), `ARCHITECTURE.md names ${span}, which does not exist`);
  }
  assert.ok(paths >= 100, `only ${paths} paths found in ARCHITECTURE.md`);
  for (const m of DOC.matchAll(/\]\(([^)#\s]+)(#[^)]*)?\)/g)) {
    const target = m[1]!;
    if (/^[a-z]+:/.test(target)) continue;
    assert.ok(existsSync(join(ROOT, target)), `ARCHITECTURE.md links ${target}, which does not exist`);
  }
});

test("every symbol of the message's walk-through is in the file its step names before it", () => {
  const walk = section("One message's way through the code");
  // Steps are numbered list items; an item goes on over the indented lines below it.
  const steps: Array<{ n: number; text: string }> = [];
  for (const line of walk.split('\n')) {
    const start = /^(\d+)\.\s(.*)$/.exec(line);
    if (start) steps.push({ n: Number(start[1]), text: start[2]! });
    else if (/^\s+\S/.test(line) && steps.length > 0) steps[steps.length - 1]!.text += ` ${line.trim()}`;
  }
  assert.ok(steps.length >= 50, `only ${steps.length} steps found in the walk-through`);
  steps.forEach((step, i) => assert.equal(step.n, i + 1, `the walk-through's steps are numbered out of order at "${step.text.slice(0, 60)}"`));
  let symbols = 0;
  for (const step of steps) {
    let file: string | undefined;
    for (const span of codeSpans(step.text)) {
      if (isRepoPath(span)) {
        file = span;
        continue;
      }
      if (!SYMBOL.test(span)) continue;
      assert.ok(file, `step ${step.n}: \`${span}\` comes before any file`);
      const path = join(ROOT, file);
      assert.ok(existsSync(path) && statSync(path).isFile(), `step ${step.n}: ${file} is not a file`);
      const source = readFileSync(path, 'utf8');
      for (const part of span.split('.')) assert.ok(containsWord(source, part), `step ${step.n}: \`${span}\` is not in ${file} (no "${part}" there)`);
      symbols++;
    }
  }
  assert.ok(symbols >= 150, `only ${symbols} symbols checked in the walk-through`);
});

test('the deadline layers are those of DEADLINE_LAYERS, in its order, with the files that enforce them', () => {
  const deadlines = section('Deadlines');
  const items = [...deadlines.matchAll(/^(\d+)\. ([^(:\n]+?)(?: \(|:)/gm)].map((m) => m[2]!.trim());
  assert.deepEqual(
    items,
    DEADLINE_LAYERS.map((l) => l.name),
    'the numbered list of the Deadlines section names the layers of packages/core/src/function/deadlines.ts, in order',
  );
  const named = new Set(codeSpans(deadlines));
  for (const layer of DEADLINE_LAYERS) {
    for (const file of layer.where) assert.ok(named.has(file), `deadline layer "${layer.name}": ${file} is not named in the Deadlines section`);
  }
});

test('every function of the internals modules (aedes, MQTT.js) is named where the internals are listed', () => {
  const named = new Set(codeSpans(section('Library internals relied on')));
  for (const module of ['packages/hub/src/broker/internals.ts', 'packages/core/src/mqtt/internals.ts']) {
    assert.ok(named.has(module), `the internals section does not name ${module}`);
    const exported = [...readFileSync(join(ROOT, module), 'utf8').matchAll(/^export (?:function|const) (\w+)/gm)].map((m) => m[1]!);
    assert.ok(exported.length >= 5, `only ${exported.length} exports found in ${module}`);
    for (const name of exported) assert.ok(named.has(name), `${module} exports ${name}, which the internals section of ARCHITECTURE.md does not name`);
  }
});

function sourceFiles(dir: string, out: string[] = []): string[] {
  if (!existsSync(dir)) return out;
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'dist') continue;
    const full = join(dir, name);
    if (statSync(full).isDirectory()) sourceFiles(full, out);
    else if (name.endsWith('.ts')) out.push(full);
  }
  return out;
}

test("each package's src imports only the packages the table allows, and package.json declares them", () => {
  const rows = new Map<string, Set<string>>();
  for (const m of section('Packages').matchAll(/^\| `packages\/([\w-]+)` \| ([^|]+) \|/gm)) {
    rows.set(m[1]!, new Set([...m[2]!.matchAll(/`(@baetyl\/[\w-]+)`/g)].map((x) => x[1]!)));
  }
  const dirs = readdirSync(join(ROOT, 'packages')).filter((d) => existsSync(join(ROOT, 'packages', d, 'package.json')));
  assert.deepEqual([...rows.keys()].sort(), [...dirs].sort(), 'the table of packages has one row per folder of packages/');
  for (const dir of dirs) {
    const allowed = rows.get(dir)!;
    const pkg = JSON.parse(readFileSync(join(ROOT, 'packages', dir, 'package.json'), 'utf8')) as { name: string; dependencies?: Record<string, string> };
    for (const name of allowed)
      assert.ok(pkg.dependencies?.[name], `packages/${dir}: the table allows ${name}, which its package.json dependencies do not have`);
    for (const file of sourceFiles(join(ROOT, 'packages', dir, 'src'))) {
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(/(?:from\s+|import\s*\(\s*|import\s+)['"](@baetyl\/[\w-]+)/g)) {
        const name = m[1]!;
        if (name === pkg.name) continue;
        assert.ok(allowed.has(name), `${file.slice(ROOT.length)} imports ${name}, which ARCHITECTURE.md does not allow packages/${dir} to import`);
      }
    }
  }
});

test('the BAETYL_REQUIRE_* variables named are those .ci/run sets', () => {
  const set = new Set(
    [...readFileSync(join(ROOT, '.ci/run'), 'utf8').matchAll(/export [^\n]*/g)].flatMap((m) => [...m[0].matchAll(/(BAETYL_REQUIRE_\w+)=/g)].map((x) => x[1]!)),
  );
  const named = new Set([...section('Tests').matchAll(/`(BAETYL_REQUIRE_\w+)`/g)].map((m) => m[1]!));
  assert.ok(set.size >= 5, `only ${set.size} BAETYL_REQUIRE_* variables found in .ci/run`);
  assert.deepEqual([...named].sort(), [...set].sort());
});
