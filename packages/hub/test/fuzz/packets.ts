// Valid MQTT 3.1.1 packets of every type, written by mqtt-packet's generate (the copy aedes
// parses with), with fields drawn from a seeded PRNG.
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { Random } from './random.js';

interface MqttPacketModule {
  generate(packet: object): Buffer;
}

const mqttPacket = createRequire(fileURLToPath(import.meta.resolve('aedes')))('mqtt-packet') as MqttPacketModule;

const TOPICS = ['a', 'a/b', 'fuzz/x', 'fuzz/y/z', 't', 't/topic', 'healthy/other', '\u00e9t\u00e9/\u{1f600}', 'a/b/c/d/e/f/g/h/i/j', '$SYS/x'];
const FILTERS = [...TOPICS, '#', '+', 'a/#', '+/b', 'fuzz/+/z', 'a/#/b', 'x+/y', ''];

function topic(r: Random, pool: readonly string[]): string {
  if (r.chance(0.85)) return r.pick(pool);
  // Random printable text and a few code points outside ASCII.
  let s = '';
  const n = 1 + r.int(20);
  for (let i = 0; i < n; i++) s += r.chance(0.9) ? String.fromCharCode(0x20 + r.int(0x5f)) : String.fromCodePoint(0xa0 + r.int(0x2000));
  return s;
}

function payload(r: Random): Buffer {
  const size = r.chance(0.02) ? 30_000 + r.int(10_000) : r.int(200);
  return r.bytes(size);
}

const qos = (r: Random): 0 | 1 | 2 => r.pick([0, 0, 1, 1, 2] as const);
const id = (r: Random): number => 1 + r.int(65535);

export function connect(r: Random, clientId: string): Buffer {
  const packet: Record<string, unknown> = {
    cmd: 'connect',
    protocolId: 'MQTT',
    protocolVersion: 4,
    clean: r.chance(0.8),
    clientId,
    keepalive: r.pick([0, 1, 2, 30, 60]),
    username: 'test',
    password: Buffer.from(r.chance(0.9) ? 'hahaha' : 'wrong'),
  };
  if (r.chance(0.2)) packet.will = { topic: topic(r, TOPICS), payload: payload(r), qos: qos(r), retain: r.chance(0.3) };
  return mqttPacket.generate(packet);
}

/** Any packet but CONNECT, including those only a server sends. */
export function other(r: Random): Buffer {
  const k = r.int(14);
  const q = qos(r);
  switch (k) {
    case 0:
    case 1:
    case 2:
    case 3:
      return mqttPacket.generate({
        cmd: 'publish',
        topic: topic(r, TOPICS),
        payload: payload(r),
        qos: q,
        retain: r.chance(0.2),
        dup: q > 0 && r.chance(0.1),
        messageId: q > 0 ? id(r) : undefined,
      });
    case 4:
    case 5: {
      const subscriptions = Array.from({ length: 1 + r.int(4) }, () => ({ topic: topic(r, FILTERS), qos: qos(r) }));
      return mqttPacket.generate({ cmd: 'subscribe', messageId: id(r), subscriptions });
    }
    case 6:
      return mqttPacket.generate({ cmd: 'unsubscribe', messageId: id(r), unsubscriptions: Array.from({ length: 1 + r.int(3) }, () => topic(r, FILTERS)) });
    case 7:
      return mqttPacket.generate({ cmd: r.pick(['puback', 'pubrec', 'pubrel', 'pubcomp']), messageId: id(r) });
    case 8:
    case 9:
      return mqttPacket.generate({ cmd: 'pingreq' });
    case 10:
      return mqttPacket.generate({ cmd: 'disconnect' });
    case 11:
      return mqttPacket.generate({ cmd: 'connack', returnCode: r.int(6), sessionPresent: r.chance(0.5) });
    case 12:
      return mqttPacket.generate({ cmd: 'suback', messageId: id(r), granted: [r.pick([0, 1, 2, 128])] });
    default:
      return mqttPacket.generate({ cmd: r.pick(['pingresp', 'unsuback']), messageId: id(r) });
  }
}
