// Preloaded into the services of a bench stack (NODE_OPTIONS=--import ...) when BENCH_CPU_PROF is
// set: node 20 refuses --cpu-prof in NODE_OPTIONS, so this records the same .cpuprofile through
// the inspector, written to $BENCH_CPU_PROF/<argv0>-<pid>.cpuprofile when the process exits.
import { Session } from 'node:inspector';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.env.BENCH_CPU_PROF;
if (dir) {
  const session = new Session();
  session.connect();
  session.post('Profiler.enable');
  session.post('Profiler.setSamplingInterval', { interval: 200 });
  // BENCH_CPU_PROF_DELAY_MS leaves the start-up out of the profile.
  const delay = Number(process.env.BENCH_CPU_PROF_DELAY_MS ?? 0);
  if (delay > 0) setTimeout(() => session.post('Profiler.start'), delay).unref();
  else session.post('Profiler.start');
  process.on('exit', () => {
    // A same-thread inspector session answers synchronously, so this works in an exit handler.
    session.post('Profiler.stop', (err, res) => {
      if (err) return;
      mkdirSync(dir, { recursive: true });
      const name = `${process.argv0.replace(/[^\w.-]+/g, '_')}-${process.pid}.cpuprofile`;
      writeFileSync(join(dir, name), JSON.stringify(res.profile));
    });
  });
}
