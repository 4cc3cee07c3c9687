#!/usr/bin/env node
// Fails (exit 1) when the TypeScript sources import in a circle, naming each circle file by file.
// Run by `make lint`. Two graphs are checked:
//   - files: every import, `export ... from` and `import('...')` with a literal specifier, type-only
//     ones included (a type cycle still ties two modules so that neither can be read alone);
//   - folders: packages/<name>/src, packages/<name>/test and test/, joined when a file of one
//     imports a file of the other, so a cycle between packages is caught even when no single
//     chain of files closes it.
// Specifiers are resolved without a build: `./x.js` is the `./x.ts` beside it, `@baetyl/<name>/...`
// goes through that package's package.json "exports" from dist/ back to its sources. Anything else
// (node:*, libraries) is outside the graph.
// Usage: node scripts/import-cycles.mjs [--root <dir>]   (default: the repository)
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
// typescript is found from the repository, whatever --root says.
const ts = createRequire(join(here, '..', 'package.json'))('typescript');

const args = process.argv.slice(2);
const rootAt = args.indexOf('--root');
const root = resolve(rootAt >= 0 ? (args[rootAt + 1] ?? '.') : join(here, '..'));

const SKIP = new Set(['node_modules', 'dist']);

function tsFiles(dir, out = []) {
  let names;
  try {
    names = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of names) {
    if (SKIP.has(name) || name.startsWith('.')) continue;
    const full = join(dir, name);
    if (statSync(full).isDirectory()) tsFiles(full, out);
    else if (/\.(m|c)?ts$/.test(name) && !name.endsWith('.d.ts')) out.push(full);
  }
  return out;
}

/** The workspace packages by name: their folder and their "exports" (or "main") map. */
function readPackages() {
  const byName = new Map();
  const pkgsDir = join(root, 'packages');
  if (!existsSync(pkgsDir)) return byName;
  for (const name of readdirSync(pkgsDir)) {
    const file = join(pkgsDir, name, 'package.json');
    if (!existsSync(file)) continue;
    const pkg = JSON.parse(readFileSync(file, 'utf8'));
    const exportsMap = typeof pkg.exports === 'string' ? { '.': pkg.exports } : (pkg.exports ?? { '.': pkg.main ?? './dist/src/index.js' });
    byName.set(pkg.name, { dir: join(pkgsDir, name), exports: exportsMap });
  }
  return byName;
}
const packages = readPackages();

/** A compiled path (./dist/src/x.js) back to its source (src/x.ts), if that exists. */
function sourceOf(pkgDir, target) {
  const rel = target.replace(/^\.\//, '').replace(/^dist\//, '');
  const base = join(pkgDir, rel).replace(/\.(m|c)?js$/, '');
  for (const ext of ['.ts', '.mts', '.cts']) if (existsSync(base + ext)) return base + ext;
  return undefined;
}

function resolveWorkspace(spec) {
  const m = /^(@[^/]+\/[^/]+)(\/.*)?$/.exec(spec);
  if (!m) return undefined;
  const pkg = packages.get(m[1]);
  if (!pkg) return undefined;
  const sub = `.${m[2] ?? ''}`;
  const exact = pkg.exports[sub];
  if (typeof exact === 'string') return sourceOf(pkg.dir, exact);
  // One "./*" pattern at most is used in this repository; match it the way node does.
  for (const [key, target] of Object.entries(pkg.exports)) {
    if (!key.includes('*') || typeof target !== 'string') continue;
    const [pre, post] = key.split('*');
    if (sub.startsWith(pre) && sub.endsWith(post) && sub.length >= pre.length + post.length) {
      return sourceOf(pkg.dir, target.replace('*', sub.slice(pre.length, sub.length - post.length)));
    }
  }
  return undefined;
}

function resolveSpec(from, spec) {
  if (spec.startsWith('.')) {
    const base = resolve(dirname(from), spec);
    const stem = base.replace(/\.(m|c)?js$/, '');
    for (const cand of [stem + '.ts', stem + '.mts', stem + '.cts', join(base, 'index.ts')]) if (existsSync(cand)) return cand;
    return undefined;
  }
  return resolveWorkspace(spec);
}

/** Every module specifier a file names: imports, re-exports, import() and import types with a literal. */
function specifiers(file) {
  const text = readFileSync(file, 'utf8');
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
  const out = [];
  const visit = (node) => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      out.push(node.moduleSpecifier.text);
    } else if (ts.isCallExpression(node) && node.arguments.length === 1 && ts.isStringLiteralLike(node.arguments[0])) {
      if (node.expression.kind === ts.SyntaxKind.ImportKeyword) out.push(node.arguments[0].text);
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
      out.push(node.argument.literal.text);
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

/** The folder a file belongs to in the folder graph: packages/<name>/src|test, or test. */
function folderOf(file) {
  const parts = relative(root, file).split(sep);
  if (parts[0] === 'packages' && parts.length > 3) return `packages/${parts[1]}/${parts[2]}`;
  return parts[0];
}

/** Strongly connected components with more than one node, or a node that imports itself (Tarjan). */
function cycles(graph) {
  let index = 0;
  const idx = new Map();
  const low = new Map();
  const stack = [];
  const onStack = new Set();
  const found = [];
  const strong = (v) => {
    idx.set(v, index);
    low.set(v, index);
    index++;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!idx.has(w)) {
        strong(w);
        low.set(v, Math.min(low.get(v), low.get(w)));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v), idx.get(w)));
    }
    if (low.get(v) === idx.get(v)) {
      const comp = [];
      let w;
      do {
        w = stack.pop();
        onStack.delete(w);
        comp.push(w);
      } while (w !== v);
      if (comp.length > 1 || (graph.get(v) ?? new Set()).has(v)) found.push(comp);
    }
  };
  for (const v of [...graph.keys()].sort()) if (!idx.has(v)) strong(v);
  return found;
}

/** One shortest circle through the component, starting at its first node in sort order. */
function circleIn(graph, comp) {
  const inComp = new Set(comp);
  const start = [...comp].sort()[0];
  const prev = new Map([[start, undefined]]);
  const queue = [start];
  while (queue.length > 0) {
    const v = queue.shift();
    for (const w of [...(graph.get(v) ?? [])].sort()) {
      if (!inComp.has(w)) continue;
      if (w === start) {
        const path = [start];
        for (let u = v; u !== start; u = prev.get(u)) path.splice(1, 0, u);
        return [...path, start];
      }
      if (!prev.has(w)) {
        prev.set(w, v);
        queue.push(w);
      }
    }
  }
  return [start, start];
}

const files = [...tsFiles(join(root, 'packages')).filter((f) => /[/\\](src|test)[/\\]/.test(relative(root, f))), ...tsFiles(join(root, 'test'))];
const fileGraph = new Map();
const folderGraph = new Map();
/** For a folder edge, one file import that makes it (for the message). */
const folderWhy = new Map();
for (const file of files) {
  const edges = new Set();
  fileGraph.set(file, edges);
  const from = folderOf(file);
  if (!folderGraph.has(from)) folderGraph.set(from, new Set());
  for (const spec of specifiers(file)) {
    const to = resolveSpec(file, spec);
    if (!to) continue;
    edges.add(to);
    const toFolder = folderOf(to);
    if (toFolder !== from) {
      folderGraph.get(from).add(toFolder);
      if (!folderWhy.has(`${from}\0${toFolder}`)) folderWhy.set(`${from}\0${toFolder}`, `${relative(root, file)} imports ${spec}`);
    }
  }
}

const problems = [];
for (const comp of cycles(fileGraph)) {
  const circle = circleIn(fileGraph, comp);
  const more =
    comp.length > circle.length - 1
      ? ` (${comp.length} files are tied in it: ${comp
          .map((f) => relative(root, f))
          .sort()
          .join(', ')})`
      : '';
  problems.push(`import cycle: ${circle.map((f) => relative(root, f)).join(' -> ')}${more}`);
}
for (const comp of cycles(folderGraph)) {
  const circle = circleIn(folderGraph, comp);
  const why = circle.slice(1).map((to, i) => `  ${folderWhy.get(`${circle[i]}\0${to}`)}`);
  problems.push(`import cycle between folders: ${circle.join(' -> ')}\n${why.join('\n')}`);
}
if (problems.length > 0) {
  process.stderr.write(
    `${problems.join('\n')}\n${problems.length} import cycle(s) in ${relative(process.cwd(), root) || '.'}: break each one (move what both sides need into a module of its own, or pass it in)\n`,
  );
  process.exit(1);
}
process.stdout.write(`no import cycles (${files.length} files)\n`);
