// Reading a log file as `tail` does: its last lines (read backwards, so a large log costs only
// what is printed), and following it as it grows, is rotated (renamed and replaced, inode
// changes), is truncated, or is removed and made again (an instance dir made anew at a restart).
import { closeSync, fstatSync, openSync, readSync, statSync, type Stats } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';

const CHUNK = 64 * 1024;

/**
 * The last `n` lines of the first `size` bytes of `fd` that `accept` takes (all by default).
 * A last line without its newline is included.
 */
export function lastLines(fd: number, size: number, n: number, accept: (line: string) => boolean = () => true): string[] {
  const out: string[] = [];
  let end = size;
  // The bytes after the last newline seen so far: the end of a line that starts further back.
  let rest = Buffer.alloc(0);
  let first = true;
  while (out.length < n && (end > 0 || rest.length > 0)) {
    if (end === 0) {
      // The file's first line.
      const line = rest.toString('utf8');
      if (accept(line)) out.push(line);
      break;
    }
    const start = Math.max(0, end - CHUNK);
    const buf = Buffer.alloc(end - start);
    readSync(fd, buf, 0, buf.length, start);
    end = start;
    let text = Buffer.concat([buf, rest]);
    // The newline that ends the last line does not start another one.
    if (first && text[text.length - 1] === 0x0a) text = text.subarray(0, text.length - 1);
    first = false;
    for (let nl = text.lastIndexOf(0x0a); nl >= 0 && out.length < n; nl = text.lastIndexOf(0x0a)) {
      const line = text.subarray(nl + 1).toString('utf8');
      if (accept(line)) out.push(line);
      text = text.subarray(0, nl);
    }
    rest = text;
  }
  return out.reverse();
}

/** The last `n` lines of a file (none when it does not exist). */
export function tailFile(path: string, n: number, accept?: (line: string) => boolean): string[] {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return [];
  }
  try {
    return lastLines(fd, fstatSync(fd).size, n, accept);
  } finally {
    closeSync(fd);
  }
}

function statOrUndefined(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}

/**
 * Follows one path: `start` hands over the last `n` lines, then `poll` hands over every line
 * written since, wherever the path's file goes. Rotation: what the old file got after the last
 * poll is read to its end first, then the new file from its start. Truncation: read again from 0.
 */
export class FileFollower {
  private fd: number | undefined;
  private ino = 0;
  private pos = 0;
  private partial = '';
  private decoder = new StringDecoder('utf8');

  constructor(readonly path: string) {}

  /** Opens the file (if it exists) and returns its last `n` lines; later lines come from poll(). */
  start(n: number, accept?: (line: string) => boolean): string[] {
    if (!this.open()) return [];
    const size = fstatSync(this.fd!).size;
    this.pos = size;
    return lastLines(this.fd!, size, n, accept);
  }

  /** Lines written since the last call. A file that appears is read from its start. */
  poll(): string[] {
    const out: string[] = [];
    const st = statOrUndefined(this.path);
    if (this.fd !== undefined && (!st || st.ino !== this.ino)) {
      // Rotated or removed: the old file's last lines, then the new one (if any) from 0.
      out.push(...this.drain(true));
      closeSync(this.fd);
      this.fd = undefined;
    }
    if (this.fd === undefined) {
      if (!st || !this.open()) return out;
      this.pos = 0;
    }
    const size = fstatSync(this.fd!).size;
    if (size < this.pos) {
      // Truncated in place (copytruncate, `> file`): what is there now is new.
      this.pos = 0;
      this.partial = '';
      this.decoder = new StringDecoder('utf8');
    }
    out.push(...this.drain(false));
    return out;
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  private open(): boolean {
    try {
      this.fd = openSync(this.path, 'r');
    } catch {
      return false;
    }
    this.ino = fstatSync(this.fd).ino;
    this.partial = '';
    this.decoder = new StringDecoder('utf8');
    return true;
  }

  /** Reads from pos to the end; `final`: the file is done, so a last line without newline counts. */
  private drain(final: boolean): string[] {
    const chunks: string[] = [];
    const buf = Buffer.alloc(CHUNK);
    for (;;) {
      const got = readSync(this.fd!, buf, 0, buf.length, this.pos);
      if (got <= 0) break;
      this.pos += got;
      // A character split across two reads is decoded whole.
      chunks.push(this.decoder.write(buf.subarray(0, got)));
    }
    if (final) chunks.push(this.decoder.end());
    if (chunks.join('') === '' && !(final && this.partial)) return [];
    const lines = (this.partial + chunks.join('')).split('\n');
    this.partial = lines.pop() ?? '';
    if (final && this.partial) {
      lines.push(this.partial);
      this.partial = '';
    }
    return lines;
  }
}
