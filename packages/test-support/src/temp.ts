// Temporary directories that tests create, removed together by removeTempDirs().
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

const dirs = new Set<string>();

/** A fresh directory under the OS temp dir, named `prefix` + random characters. */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dirs.add(dir);
  return dir;
}

/** Writes `files` (path relative to `dir` -> text), making the folders they need. */
export function writeFiles(dir: string, files: Record<string, string>): void {
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, rel)), { recursive: true });
    writeFileSync(join(dir, rel), text);
  }
}

/**
 * A service directory as the master gives a native service: the cwd, holding
 * etc/baetyl/service.yml (`config`) and any other `files`. A new temp dir unless `dir` is given.
 */
export function serviceDir(config: string, opts: { dir?: string; prefix?: string; files?: Record<string, string> } = {}): string {
  const dir = opts.dir ?? tempDir(opts.prefix ?? 'baetyl-service-');
  writeFiles(dir, { 'etc/baetyl/service.yml': config, ...opts.files });
  return dir;
}

/** Removes every directory tempDir() made (for `after`). */
export function removeTempDirs(): void {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  dirs.clear();
}

/** Writes `dir/name` and sets its times `days` days back (for tests of what is removed by age). */
export function writeAged(dir: string, name: string, days: number, text = 'x\n'): void {
  writeFileSync(join(dir, name), text);
  const t = new Date(Date.now() - days * 24 * 3600 * 1000);
  utimesSync(join(dir, name), t, t);
}
