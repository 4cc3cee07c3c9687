// Mutated packets from many connections never crash the hub nor starve a healthy client. A
// fixed seed and a bounded count here; `make fuzz` runs the same campaign longer, with a new seed.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { fuzzHub, fuzzHubConfig } from './fuzz/campaign.js';
import { endAll, startHubProcess, stopProcesses } from '@baetyl/test-support';

after(async () => {
  await endAll();
  await stopProcesses();
});

test('6,000 fuzzed packets (seed 20261201): the hub stays up, and a healthy QoS 1 round trip never takes over 5 s', async (t) => {
  const hub = await startHubProcess({ config: fuzzHubConfig() });
  const result = await fuzzHub(hub, { seed: 20261201, packets: 6000, boundMs: 5000 });
  const { problems: _, ...figures } = result;
  t.diagnostic(JSON.stringify(figures));
  assert.deepEqual(result.problems, [], `replay with FUZZ_SEED=${result.seed} FUZZ_PACKETS=6000 make fuzz`);
  assert.ok(result.packets >= 6000 && result.connections > 200, `sent ${result.packets} packets on ${result.connections} connections`);
  assert.ok(result.closedByHub > 0, 'the hub closed some of the connections that sent bad packets');
  assert.ok(result.roundTrips > 0, 'the healthy client did round trips');
});
