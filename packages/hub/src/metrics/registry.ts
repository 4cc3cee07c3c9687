// The hub's Prometheus metrics (docs/metrics.md). Nothing here runs per message: every value is
// read from the plain counters of stats.ts when the registry is collected (once per report).
import { Counter, Gauge, Registry } from 'prom-client';
import type { TrafficCounters } from './stats.js';

export interface HubGauges {
  clients(): number;
  subscriptions(): number;
  /** Retained messages in the store. */
  retained(): Promise<number>;
}

const QOS = ['0', '1', '2'] as const;

export function hubRegistry(counters: TrafficCounters, gauges: HubGauges): Registry {
  const registers = [new Registry()];
  const registry = registers[0]!;
  /** A counter whose series are set from `read` at each collect. */
  const counter = (name: string, help: string, labelNames: string[], read: () => Array<[Record<string, string>, number]>) =>
    new Counter({
      name,
      help,
      labelNames,
      registers,
      collect() {
        this.reset();
        for (const [labels, value] of read()) this.inc(labels, value);
      },
    });
  const byQos = (a: number[]) => QOS.map((q, i): [Record<string, string>, number] => [{ qos: q }, a[i] ?? 0]);
  const byReason = (r: Record<string, number>) => Object.entries(r).map(([reason, n]): [Record<string, string>, number] => [{ reason }, n]);

  new Gauge({
    name: 'baetyl_hub_connections',
    help: 'MQTT clients connected to the hub.',
    registers,
    collect() {
      this.set(gauges.clients());
    },
  });
  new Gauge({
    name: 'baetyl_hub_subscriptions',
    help: 'Subscriptions of the connected clients.',
    registers,
    collect() {
      this.set(gauges.subscriptions());
    },
  });
  new Gauge({
    name: 'baetyl_hub_retained_messages',
    help: 'Retained messages kept by the hub.',
    registers,
    async collect() {
      this.set(await gauges.retained());
    },
  });
  counter('baetyl_hub_messages_received_total', 'PUBLISH packets received from clients, by QoS.', ['qos'], () => byQos(counters.messagesIn));
  counter('baetyl_hub_messages_sent_total', 'PUBLISH packets sent to clients, by QoS.', ['qos'], () => byQos(counters.messagesOut));
  counter(
    'baetyl_hub_messages_dropped_total',
    'Messages the hub dropped on their way to a client, by QoS and reason (queue_full: a QoS 0 message over message.egress limits; overflow: a clean session passed message.egress.bytes.max and was disconnected).',
    ['qos', 'reason'],
    () => Object.entries(counters.dropped).flatMap(([reason, a]) => QOS.map((q, i): [Record<string, string>, number] => [{ qos: q, reason }, a[i] ?? 0])),
  );
  counter('baetyl_hub_received_bytes_total', 'Bytes received from clients (every MQTT packet).', [], () => [[{}, counters.bytesIn]]);
  counter('baetyl_hub_sent_bytes_total', 'Bytes sent to clients (every MQTT packet).', [], () => [[{}, counters.bytesOut]]);
  counter('baetyl_hub_connections_refused_total', 'Connections refused, by reason (the CONNACK code, invalid_will_topic or tls_handshake).', ['reason'], () =>
    byReason(counters.refusedConnects),
  );
  counter('baetyl_hub_publishes_refused_total', 'PUBLISH packets refused (the connection is closed), by reason.', ['reason'], () =>
    byReason(counters.refusedPublishes),
  );
  counter('baetyl_hub_subscriptions_refused_total', 'Subscriptions refused (granted 0x80), by reason.', ['reason'], () => byReason(counters.refusedSubscribes));
  return registry;
}
