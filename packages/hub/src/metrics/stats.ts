// The hub's counting points: plain numbers, incremented on the hot path (listeners/guard.ts,
// egress/, broker/hooks/). The report to the master (HubStats, as Baetyl's hub sent it) and the
// Prometheus registry (registry.ts) are both read from them.

/** What a QoS 0 or 1 message was dropped for (egress/queue.ts). */
export type DropReason = 'queue_full' | 'overflow';
/** Why a CONNECT was refused: the CONNACK's name, or how the connection was closed without one. */
export type ConnectRefusal =
  'identifier_rejected' | 'server_unavailable' | 'bad_username_or_password' | 'not_authorized' | 'invalid_will_topic' | 'tls_handshake';
export type PublishRefusal = 'invalid_topic' | 'not_permitted';
export type SubscribeRefusal = 'invalid_filter' | 'not_permitted' | 'store_failed';

export interface TrafficCounters {
  /** PUBLISH packets read from clients, by the QoS in their header (index 0..3). */
  messagesIn: number[];
  /** PUBLISH packets written to clients, by QoS. */
  messagesOut: number[];
  bytesIn: number;
  bytesOut: number;
  /** Messages dropped, by reason, then by QoS. */
  dropped: Record<DropReason, number[]>;
  refusedConnects: Record<ConnectRefusal, number>;
  refusedPublishes: Record<PublishRefusal, number>;
  refusedSubscribes: Record<SubscribeRefusal, number>;
}

export function newTrafficCounters(): TrafficCounters {
  return {
    messagesIn: [0, 0, 0, 0],
    messagesOut: [0, 0, 0, 0],
    bytesIn: 0,
    bytesOut: 0,
    dropped: { queue_full: [0, 0, 0], overflow: [0, 0, 0] },
    refusedConnects: { identifier_rejected: 0, server_unavailable: 0, bad_username_or_password: 0, not_authorized: 0, invalid_will_topic: 0, tls_handshake: 0 },
    refusedPublishes: { invalid_topic: 0, not_permitted: 0 },
    refusedSubscribes: { invalid_filter: 0, not_permitted: 0, store_failed: 0 },
  };
}

export const sum = (a: number[]): number => a.reduce((x, y) => x + y, 0);

/** The numbers the hub reports to the master (and `baetyl status` shows): clients, subscriptions, messages. */
export interface HubStats {
  clients: number;
  subscriptions: number;
  messages_in: number;
  messages_out: number;
  messages_dropped: number;
  bytes_in: number;
  bytes_out: number;
  rule_count: number;
}
