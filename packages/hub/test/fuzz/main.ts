// `make fuzz`: the fuzz campaign of fuzz.test.ts, longer and with a fresh seed, printed first so
// a failure can be replayed: FUZZ_SEED=<seed> make fuzz. FUZZ_PACKETS sets the length.
import { fuzzHub, fuzzHubConfig } from './campaign.js';
import { randomSeed } from './random.js';
import { startHubProcess, stopProcesses } from '@baetyl/test-support';

const seed = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) >>> 0 : randomSeed();
const packets = Number(process.env.FUZZ_PACKETS ?? 300_000);
console.log(`fuzz: seed ${seed}, ${packets} packets (replay: FUZZ_SEED=${seed} FUZZ_PACKETS=${packets} make fuzz)`);
const hub = await startHubProcess({ config: fuzzHubConfig() });
const started = Date.now();
let result;
try {
  result = await fuzzHub(hub, { seed, packets });
} finally {
  await stopProcesses();
}
const { problems, ...figures } = result;
console.log(`fuzz: ${JSON.stringify(figures)} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
if (problems.length) {
  console.error(`fuzz: FAILED with seed ${seed}:\n${problems.join('\n')}`);
  process.exit(1);
}
console.log(`fuzz: the hub held (seed ${seed})`);
