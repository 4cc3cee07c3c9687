// MQTT.js clients for tests: connect once (rejecting with the CONNACK code), record what comes,
// subscribe and see the SUBACK codes, and close every client at the end.
import mqtt, { type IClientOptions, type MqttClient, type Packet } from 'mqtt';

export interface Received {
  topic: string;
  payload: string;
  qos: number;
  retain: boolean;
}

export class ConnectRefused extends Error {
  constructor(
    readonly code: number | undefined,
    message: string,
  ) {
    super(message);
  }
}

const open = new Set<MqttClient>();
const sessions = new WeakMap<MqttClient, boolean>();

/** The CONNACK's session-present flag of a client from connect(). */
export function sessionPresent(client: MqttClient): boolean {
  return sessions.get(client) === true;
}

/** Connects once (no reconnect). Rejects with ConnectRefused carrying the CONNACK return code. */
export function connect(url: string, opts: IClientOptions = {}): Promise<MqttClient> {
  return new Promise((ok, fail) => {
    const client = mqtt.connect(url, { reconnectPeriod: 0, connectTimeout: 20_000, protocolVersion: 4, ...opts });
    open.add(client);
    // Record from the start: queued messages can arrive in the same read as the CONNACK.
    const got: Received[] = [];
    client.on('message', (topic, payload, packet) => got.push({ topic, payload: payload.toString(), qos: packet.qos, retain: packet.retain }));
    received.set(client, got);
    const onError = (err: Error & { code?: number | string }) => {
      client.end(true);
      fail(new ConnectRefused(typeof err.code === 'number' ? err.code : undefined, err.message));
    };
    client.once('error', onError);
    client.once('close', () => onError(new Error('connection closed before CONNACK')));
    client.once('connect', (connack: { sessionPresent?: boolean }) => {
      sessions.set(client, connack.sessionPresent === true);
      client.removeListener('error', onError);
      client.removeAllListeners('close');
      ok(client);
    });
  });
}

const received = new WeakMap<MqttClient, Received[]>();

/** Every message a client from connect() has received, kept up to date. */
export function record(client: MqttClient): Received[] {
  const got = received.get(client);
  if (!got) throw new Error('record() works on clients from connect()');
  return got;
}

/** Resolves when the client's connection closes (the hub closed it). */
export function closed(client: MqttClient): Promise<void> {
  return new Promise((ok) => {
    if (!client.connected && client.disconnected) return ok();
    client.once('close', () => ok());
  });
}

/** Subscribes and resolves with the SUBACK return codes (MQTT.js turns any 0x80 into an error). */
export function subscribe(client: MqttClient, topic: string | string[], qos: 0 | 1 | 2 = 0): Promise<number[]> {
  return new Promise((ok, fail) => {
    const timer = setTimeout(() => fail(new Error('no SUBACK')), 20_000);
    const onPacket = (p: Packet) => {
      if (p.cmd !== 'suback') return;
      clearTimeout(timer);
      client.off('packetreceive', onPacket);
      ok((p.granted ?? []) as number[]);
    };
    client.on('packetreceive', onPacket);
    client.subscribe(topic, { qos }, () => undefined);
  });
}

/** Force-closes every client these helpers opened (for `after`). */
export async function endAll(): Promise<void> {
  for (const c of open) c.end(true);
  open.clear();
}

export { mqtt };
