// Stopping a runtime a suite shared: it must have served until the end (not stopped or crashed
// on its own meanwhile); otherwise the failure shows its log.
import assert from 'node:assert/strict';
import type { RuntimeProc } from '../helpers.js';

export async function stopShared(rt: RuntimeProc): Promise<void> {
  const before = rt.stderr();
  const code = await rt.stop();
  assert.ok(!/received SIG\w+, stopping/.test(before), `the runtime stopped before the suite ended:\n${before}`);
  // SIGTERM from stop() makes it exit 0.
  assert.equal(code, 0, `the runtime exited with ${code}:\n${rt.stderr()}`);
}
