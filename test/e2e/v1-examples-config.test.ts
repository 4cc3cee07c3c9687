// Baetyl v1's own example configs load in our services' loaders as v1 loaded them: the function
// manager's `keepalive: -1` and every timer config of both releases.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { loadFunctionManagerConfig } from '@baetyl/function-manager/config';
import { loadTimerConfig } from '@baetyl/timer/config';
import { v1Examples } from '@baetyl/test-support';

const CORPUS = v1Examples();
const DB = 'var/db/baetyl';

describe("v1 examples' service configs", { skip: CORPUS ? false : 'the v1 examples corpus is not on this machine (set BAETYL_V1_EXAMPLES)' }, () => {
  test("stable-1's function manager config loads: keepalive -1 (no ping/pong) is no keep-alive", () => {
    const warnings: string[] = [];
    const cfg = loadFunctionManagerConfig(join(CORPUS!, 'stable-1/native', DB, 'function-manager-conf/service.yml'), { onWarning: (w) => warnings.push(w) });
    assert.equal(cfg.hub.keepalive, 0);
    assert.deepEqual(warnings, []);
    assert.deepEqual(
      cfg.functions.map((f) => f.name),
      ['node8-sayhi', 'python3-sayhi', 'python2-sayhi'],
    );
  });

  test('every timer config of both releases loads with its interval, topic and client id', () => {
    for (const app of ['1.0.0/docker', '1.0.0/native', 'stable-1/docker', 'stable-1/native']) {
      const warnings: string[] = [];
      const cfg = loadTimerConfig(join(CORPUS!, app, DB, 'timer-conf/service.yml'), { onWarning: (w) => warnings.push(w) });
      assert.equal(cfg.timer.interval, 10_000, app);
      assert.equal(cfg.publish.topic, 't', app);
      assert.equal(cfg.hub.clientid, 'timer-1', app);
      assert.equal(cfg.logger.level, 'debug', app);
      assert.deepEqual(warnings, [], app);
    }
  });
});
