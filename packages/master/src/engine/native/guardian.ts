// The guardian: a tiny shell process that outlives a master killed with SIGKILL, and then kills
// every instance's process group (grandchildren included). The master tells it over a pipe which
// groups are live (`+pgid` / `-pgid`); when the pipe closes, whatever is still listed is killed.
// A shell, not node: it costs a megabyte, not forty. (dash's kill takes `-N -pgid`, not `--`.)
import { spawn, type ChildProcess } from 'node:child_process';

const SCRIPT = `
trap '' INT TERM HUP
groups=" "
while IFS= read -r line; do
  case "$line" in
    +*) groups="$groups\${line#+} " ;;
    -*) groups=$(printf '%s' "$groups" | sed "s/ \${line#-} / /") ;;
  esac
done
for g in $groups; do kill -15 "-$g" 2>/dev/null; done
sleep 1
for g in $groups; do kill -9 "-$g" 2>/dev/null; done
`;

export class Guardian {
  private readonly child: ChildProcess;

  constructor() {
    // Its own process group, so a Ctrl-C meant for the master does not reach it.
    this.child = spawn('/bin/sh', ['-c', SCRIPT], { detached: true, stdio: ['pipe', 'ignore', 'ignore'] });
    this.child.unref();
    this.child.stdin!.on('error', () => undefined);
    (this.child.stdin as unknown as { unref?: () => void }).unref?.();
  }

  watch(pgid: number): void {
    this.child.stdin!.write(`+${pgid}\n`);
  }

  forget(pgid: number): void {
    this.child.stdin!.write(`-${pgid}\n`);
  }

  close(): void {
    this.child.stdin!.end();
  }
}
