// The master as a user starts it: `baetyl start -w <workdir>`.
import { BAETYL } from './repo.js';
import { startProcess, type TestProcess } from './processes.js';

/**
 * Starts a master on `workdir` as a process group, so that a test failing half-way still stops
 * its instances (stopProcesses(), or the test process's exit). stop() is a SIGTERM: the master
 * then stops its instances itself.
 */
export function startBaetyl(workdir: string, opts: { args?: string[]; env?: NodeJS.ProcessEnv } = {}): TestProcess {
  return startProcess(process.execPath, [BAETYL, 'start', '-w', workdir, ...(opts.args ?? [])], {
    name: 'the master',
    group: true,
    keepBaetylEnv: true,
    ...(opts.env ? { env: opts.env } : {}),
  });
}
