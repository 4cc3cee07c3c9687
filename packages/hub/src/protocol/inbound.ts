// Checks each packet a client sends, on its raw bytes and before aedes parses it, for what
// MQTT 3.1.1 requires a server to close the connection over and that mqtt-packet and aedes let
// through: strings that are not UTF-8 or hold U+0000 (mqtt-packet turns bad bytes into U+FFFD),
// a SUBSCRIBE or UNSUBSCRIBE with no topic, a packet id of 0, a malformed topic filter, CONNECT
// flags that contradict each other, and a protocol level that mqtt-packet refuses without the
// CONNACK 0x01 the spec asks for.
// Only what a packet's checks need is kept: a PUBLISH's topic, not its payload.
import { filterSyntaxProblem, stringProblem } from './strings.js';

/** CONNACK 0x01, unacceptable protocol level [MQTT-3.1.2-2]. */
const CONNACK_BAD_LEVEL = Buffer.from([0x20, 0x02, 0x00, 0x01]);
/** Protocol levels mqtt-packet parses: 3.1, 3.1.1, 5, and the bridge flag on 3.1 and 3.1.1. */
const PARSED_LEVELS = new Set([3, 4, 5, 0x83, 0x84]);

const CONNECT = 1;
const PUBLISH = 3;
const SUBSCRIBE = 8;
const UNSUBSCRIBE = 10;

/**
 * Follows packet boundaries in one connection's inbound bytes: the size guard
 * (message.length.max), a callback per packet with its type and flags (the traffic counters), and the checks above, in
 * one pass over each byte.
 */
export class InboundCheck {
  private state: 'type' | 'length' | 'body' = 'type';
  private type = 0;
  private flags = 0;
  private length = 0;
  private multiplier = 1;
  private lengthBytes = 0;
  /** Body bytes still to come. */
  private left = 0;
  /** The body bytes kept for checking, and how many of them arrived. */
  private kept: Buffer | undefined;
  private filled = 0;
  /** Bytes to send before closing, when the spec asks for an answer (a CONNACK). */
  reply: Buffer | undefined;

  constructor(
    private readonly max = Number.MAX_SAFE_INTEGER,
    private readonly onPacket: (type: number, flags: number) => void = () => undefined,
  ) {}

  /** Feeds bytes; returns why the connection must be closed, or undefined. */
  feed(chunk: Uint8Array): string | undefined {
    let i = 0;
    while (i < chunk.length) {
      if (this.state === 'type') {
        this.type = chunk[i]! >> 4;
        this.flags = chunk[i]! & 0x0f;
        this.length = 0;
        this.multiplier = 1;
        this.lengthBytes = 0;
        this.state = 'length';
        i++;
      } else if (this.state === 'length') {
        const b = chunk[i]!;
        i++;
        this.length += (b & 0x7f) * this.multiplier;
        this.multiplier *= 128;
        this.lengthBytes++;
        if (b & 0x80) {
          if (this.lengthBytes >= 4) return 'malformed remaining length';
          continue;
        }
        const size = 1 + this.lengthBytes + this.length;
        if (size > this.max) return `a packet of ${size} bytes is over message.length.max (${this.max})`;
        this.onPacket(this.type, this.flags);
        this.left = this.length;
        this.filled = 0;
        this.kept = undefined;
        const keep = this.keepFor();
        if (keep > 0) this.kept = Buffer.allocUnsafe(keep);
        else {
          const why = this.check();
          if (why) return why;
        }
        this.state = this.left > 0 ? 'body' : 'type';
      } else {
        let take = Math.min(this.left, chunk.length - i);
        const kept = this.kept;
        if (kept) {
          take = Math.min(take, kept.length - this.filled);
          kept.set(chunk.subarray(i, i + take), this.filled);
          this.filled += take;
          if (this.filled === kept.length) {
            // A PUBLISH keeps its topic length first, then grows to hold the topic (and packet id).
            const id = (this.flags & 0x06) !== 0 ? 2 : 0;
            const grow = this.type === PUBLISH && kept.length === 2 ? Math.min(this.length, 2 + kept.readUInt16BE(0) + id) : 0;
            if (grow > 2) {
              this.kept = Buffer.allocUnsafe(grow);
              kept.copy(this.kept);
            } else {
              const why = this.check();
              this.kept = undefined;
              if (why) return why;
            }
          }
        }
        this.left -= take;
        i += take;
        if (this.left === 0) this.state = 'type';
      }
    }
    return undefined;
  }

  /** How many body bytes the packet's checks need (for PUBLISH, at first). */
  private keepFor(): number {
    switch (this.type) {
      case CONNECT:
      case SUBSCRIBE:
      case UNSUBSCRIBE:
        return this.length;
      case PUBLISH:
        return Math.min(this.length, 2);
      default:
        return 0;
    }
  }

  private check(): string | undefined {
    const body = this.kept ?? Buffer.alloc(0);
    switch (this.type) {
      case CONNECT: {
        const level = connectLevel(body);
        if (level !== undefined && !PARSED_LEVELS.has(level)) {
          this.reply = CONNACK_BAD_LEVEL;
          return `CONNECT with protocol level ${level}, answered 0x01 [MQTT-3.1.2-2]`;
        }
        return connectProblem(body);
      }
      case PUBLISH: {
        const why = topicsProblem(body, 0, 'PUBLISH topic', false);
        if (why) return why;
        const qos = (this.flags >> 1) & 3;
        const idAt = body.length >= 2 ? 2 + body.readUInt16BE(0) : body.length;
        if (qos > 0 && body.length >= idAt + 2 && body.readUInt16BE(idAt) === 0) return `a QoS ${qos} PUBLISH with packet id 0 [MQTT-2.3.1-1]`;
        return undefined;
      }
      case SUBSCRIBE:
      case UNSUBSCRIBE: {
        const what = this.type === SUBSCRIBE ? 'SUBSCRIBE' : 'UNSUBSCRIBE';
        if (body.length >= 2 && body.readUInt16BE(0) === 0) return `${what} with packet id 0 [MQTT-2.3.1-1]`;
        const why = topicsProblem(body, 2, `${what} topic filter`, true, this.type === SUBSCRIBE);
        if (why) return why;
        if (body.length <= 2)
          return this.type === SUBSCRIBE ? 'a SUBSCRIBE with no topic filter [MQTT-3.8.3-3]' : 'an UNSUBSCRIBE with no topic filter [MQTT-3.10.3-2]';
        return undefined;
      }
      default:
        return undefined;
    }
  }
}

/** A string at `at`, or undefined when the body ends first (mqtt-packet reports that). */
function stringAt(body: Buffer, at: number): { bytes: Buffer; next: number } | undefined {
  if (at + 2 > body.length) return undefined;
  const end = at + 2 + body.readUInt16BE(at);
  if (end > body.length) return undefined;
  return { bytes: body.subarray(at + 2, end), next: end };
}

/**
 * The topic of a PUBLISH (`list` false), or the list of a SUBSCRIBE (each filter followed by its
 * QoS byte) or an UNSUBSCRIBE, from `at` to the end of the body.
 */
function topicsProblem(body: Buffer, at: number, what: string, list: boolean, qosByte = false): string | undefined {
  for (let n = 1; at < body.length; n++) {
    const s = stringAt(body, at);
    if (!s) return undefined;
    const why = stringProblem(s.bytes) ?? (list ? filterSyntaxProblem(s.bytes.toString('utf8')) : undefined);
    if (why) return list ? `${what} ${n}: ${why}` : `${what}: ${why}`;
    if (!list) return undefined; // the rest is the packet id and the payload
    at = s.next + (qosByte ? 1 : 0);
  }
  return undefined;
}

/** The protocol level byte of a CONNECT, when the body reaches it. */
function connectLevel(body: Buffer): number | undefined {
  const protocol = stringAt(body, 0);
  if (!protocol || protocol.next >= body.length) return undefined;
  // Another protocol name is closed without CONNACK by mqtt-packet, as MQTT-3.1.2-1 allows.
  const name = protocol.bytes.toString('latin1');
  return name === 'MQTT' || name === 'MQIsdp' ? body[protocol.next] : undefined;
}

function connectProblem(body: Buffer): string | undefined {
  const protocol = stringAt(body, 0);
  if (!protocol || protocol.next + 4 > body.length) return undefined;
  const flags = body[protocol.next + 1]!;
  let at = protocol.next + 4;
  const will = (flags & 0x04) !== 0;
  const username = (flags & 0x80) !== 0;
  if (will && ((flags >> 3) & 3) === 3) return 'CONNECT with will QoS 3 [MQTT-3.1.2-14]';
  if (!username && (flags & 0x40) !== 0) return 'CONNECT with a password but no user name [MQTT-3.1.2-22]';
  const fields: Array<[string, boolean]> = [['client id', true]];
  if (will) fields.push(['will topic', true], ['will message', false]);
  if (username) fields.push(['user name', true]);
  for (const [name, isString] of fields) {
    const s = stringAt(body, at);
    if (!s) return undefined;
    if (isString) {
      const why = stringProblem(s.bytes);
      if (why) return `CONNECT ${name}: ${why}`;
    }
    at = s.next;
  }
  return undefined;
}
