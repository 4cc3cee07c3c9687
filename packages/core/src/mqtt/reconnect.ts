// Reconnect back-off for a service's MQTT.js client: the wait before each attempt doubles, from
// FIRST_RECONNECT_DELAY up to a most, and starts over once connected.
import type { MqttClient } from 'mqtt';
import { FIRST_RECONNECT_DELAY } from './client-info.js';
import { reconnectDelayOf, setReconnectDelay } from './internals.js';

export interface ReconnectBackoff {
  /** The wait before the next attempt, ms. */
  readonly delay: number;
}

/** Makes `client`'s reconnect attempts back off, up to `maxMs` (at least FIRST_RECONNECT_DELAY) between two. */
export function backoffReconnects(client: MqttClient, maxMs: number): ReconnectBackoff {
  const most = Math.max(FIRST_RECONNECT_DELAY, maxMs);
  setReconnectDelay(client, FIRST_RECONNECT_DELAY);
  // Each attempt ('reconnect' comes as it starts) makes the wait before the next one longer.
  client.on('reconnect', () => setReconnectDelay(client, Math.min(reconnectDelayOf(client) * 2, most)));
  client.on('connect', () => setReconnectDelay(client, FIRST_RECONNECT_DELAY));
  return {
    get delay() {
      return reconnectDelayOf(client);
    },
  };
}
