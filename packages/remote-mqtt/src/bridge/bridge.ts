// The bridge: one BridgeRule per rules[] entry; the connections to one broker share its echo
// registry, so that no rule forwards a copy another rule published.
import type { Logger } from '@baetyl/core/log';
import type { RemoteMqttConfig } from '../config/load.js';
import { BrokerEchoes } from './echo.js';
import { BridgeRule } from './rule.js';

export interface Bridge {
  rules: BridgeRule[];
  close(): Promise<void>;
}

/** Starts every rule. Throws (after closing what started) when a certificate cannot be read. */
export function startBridge(cfg: RemoteMqttConfig, opts: { logger: Logger; cwd: string }): Bridge {
  const brokers = new Map<string, BrokerEchoes>();
  const broker = (key: string) => {
    let b = brokers.get(key);
    if (!b) brokers.set(key, (b = new BrokerEchoes()));
    return b;
  };
  const rules: BridgeRule[] = [];
  const close = async () => {
    await Promise.all(rules.map((r) => r.close()));
  };
  try {
    cfg.rules.forEach((rule, index) => {
      const remoteIndex = cfg.remotes.findIndex((r) => r.name === rule.remote.name);
      const r = new BridgeRule(rule, { index, hub: cfg.hub, remote: cfg.remotes[remoteIndex]!, remoteIndex, broker, cwd: opts.cwd, log: opts.logger });
      rules.push(r);
      r.start();
    });
  } catch (err) {
    void close();
    throw err;
  }
  return { rules, close };
}
