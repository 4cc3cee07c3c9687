// Copies a few Debian packages, and what they depend on, out of a Debian root filesystem (one that
// debootstrap made) into a folder that holds only their files: the layers of the offline images
// (scripts/images/base.sh, docs/docker.md "The bases").
//
//   node scripts/images/rootfs.mjs <tree> <out> <packages> [--without <packages>] [--below <list file>] [--list <list file>] [--files <paths>]
//
// <packages> (comma separated) and their Depends/Pre-Depends, as the tree's dpkg database records
// them, are copied; --without names packages left out with what only they need (maintainer-script
// tools, data nobody here reads). --below names a file listing the packages of the layer beneath,
// which are not copied again; --list writes the packages copied here. --files copies more paths
// of the tree as they are (e.g. etc/passwd). Documentation, manual pages and translations are
// left out, and so are glibc's iconv modules (node uses ICU, python its own codecs). Python modules
// keep the bytecode the tree compiled for them.
// Paths are made canonical for a merged-/usr tree (lib/x -> usr/lib/x), as the images are.
import { copyFileSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

const [tree, out, rootsArg, ...rest] = process.argv.slice(2);
if (!tree || !out || !rootsArg) {
  process.stderr.write('usage: rootfs.mjs <tree> <out> <packages> [--without <packages>] [--below <file>] [--list <file>] [--files <paths>]\n');
  process.exit(2);
}
const opt = (name) => {
  const i = rest.indexOf(name);
  return i >= 0 ? rest[i + 1] : undefined;
};
const csv = (s) =>
  s
    ? s
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean)
    : [];
const without = new Set(csv(opt('--without')));
const belowFile = opt('--below');
const below = new Set(belowFile ? readFileSync(belowFile, 'utf8').split('\n').filter(Boolean) : []);

// --- the dpkg database: installed packages, what they depend on, what they provide ---
const installed = new Map();
const providers = new Map();
for (const stanza of readFileSync(join(tree, 'var/lib/dpkg/status'), 'utf8').split(/\n\n+/)) {
  const fields = {};
  let last;
  for (const line of stanza.split('\n')) {
    if (/^\s/.test(line) && last) fields[last] += `\n${line}`;
    else {
      const m = /^([\w-]+):\s?(.*)$/.exec(line);
      if (m) fields[(last = m[1])] = m[2];
    }
  }
  if (!fields.Package || !/install ok installed/.test(fields.Status ?? '')) continue;
  const deps = [fields['Pre-Depends'], fields.Depends]
    .filter(Boolean)
    .join(',')
    .split(',')
    .map((group) =>
      group
        .split('|')
        .map((alt) => alt.trim().split(/[\s:(]/)[0])
        .filter(Boolean),
    )
    .filter((alts) => alts.length);
  installed.set(fields.Package, { name: fields.Package, arch: fields.Architecture, deps });
  for (const p of csv(fields.Provides)) {
    const name = p.split(/[\s(]/)[0];
    if (!providers.has(name)) providers.set(name, fields.Package);
  }
}
const resolvePkg = (name) => (installed.has(name) ? name : providers.get(name));

// --- the closure of the roots ---
const chosen = [];
const seen = new Set();
function visit(name, from) {
  const pkg = resolvePkg(name);
  if (!pkg) throw new Error(`${tree}: package ${name}${from ? ` (needed by ${from})` : ''} is not installed there`);
  if (seen.has(pkg)) return;
  seen.add(pkg);
  if (without.has(pkg) || below.has(pkg)) return;
  chosen.push(pkg);
  for (const alts of installed.get(pkg).deps) {
    // The first alternative the tree has, as dpkg would have satisfied it.
    const alt = alts.find((a) => resolvePkg(a)) ?? alts[0];
    visit(alt, pkg);
  }
}
for (const r of csv(rootsArg)) visit(r);

// --- their files ---
const skipped = [/^usr\/share\/(doc|man|info|lintian|locale|bug|doc-base|menu)\//, /^usr\/lib\/x86_64-linux-gnu\/gconv\//, /^usr\/lib\/[^/]+\/gconv\//];
const topLinks = new Map();
for (const top of ['bin', 'sbin', 'lib', 'lib32', 'lib64', 'libx32']) {
  const p = join(tree, top);
  if (existsSync(p) && lstatSync(p).isSymbolicLink()) topLinks.set(top, readlinkSync(p).replace(/^\//, ''));
}
/** `lib/x86_64-linux-gnu/libc.so.6` -> `usr/lib/x86_64-linux-gnu/libc.so.6` where lib is a link to usr/lib. */
function canonical(rel) {
  const [top, ...tail] = rel.split('/');
  return topLinks.has(top) && tail.length ? [topLinks.get(top), ...tail].join('/') : rel;
}
let bytes = 0;
let count = 0;
const done = new Set();
function copyPath(rel) {
  const path = canonical(rel);
  if (done.has(path) || skipped.some((r) => r.test(path))) return;
  const src = join(tree, path);
  let st;
  try {
    st = lstatSync(src);
  } catch {
    return; // listed by dpkg but gone (removed by a maintainer script, or a diversion)
  }
  if (st.isDirectory()) return; // made as the files in it need
  done.add(path);
  const dest = join(out, path);
  mkdirSync(dirname(dest), { recursive: true });
  if (st.isSymbolicLink()) symlinkSync(readlinkSync(src), dest);
  else {
    copyFileSync(src, dest);
    bytes += st.size;
  }
  count++;
  // Python modules come with the bytecode the tree's maintainer scripts compiled (no package owns
  // it): without it every new container would compile the standard library again.
  if (path.endsWith('.py')) {
    const base = path.slice(path.lastIndexOf('/') + 1, -3);
    const cache = join(dirname(path), '__pycache__');
    copyPath(`${path}c`);
    if (existsSync(join(tree, cache)))
      for (const f of readdirSync(join(tree, cache))) if (f.startsWith(`${base}.`) && f.endsWith('.pyc')) copyPath(join(cache, f));
  }
}
for (const pkg of chosen) {
  const { arch } = installed.get(pkg);
  const list = [join(tree, `var/lib/dpkg/info/${pkg}:${arch}.list`), join(tree, `var/lib/dpkg/info/${pkg}.list`)].find(existsSync);
  if (!list) throw new Error(`${tree}: no file list for ${pkg}`);
  for (const line of readFileSync(list, 'utf8').split('\n')) if (line.startsWith('/') && line !== '/.') copyPath(line.slice(1));
}
for (const f of csv(opt('--files'))) copyPath(f);
// Modes of copied files come with them; links of the merged /usr at the top, as in the tree.
mkdirSync(out, { recursive: true });
for (const [top, target] of topLinks) {
  if (existsSync(join(out, target)) && !existsSync(join(out, top))) symlinkSync(target, join(out, top));
}
const listFile = opt('--list');
if (listFile) writeFileSync(listFile, [...below, ...chosen].join('\n') + '\n');
process.stdout.write(`${chosen.length} packages (${chosen.join(' ')}), ${count} files, ${(bytes / 1e6).toFixed(1)} MB\n`);
