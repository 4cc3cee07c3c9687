// No loops. MQTT 3.1.1 has no "no local" subscription option: a broker sends a client's own
// publication back to it when one of its subscriptions matches, so a message forwarded to `a` on
// a side where the bridge also subscribes `a` comes back and would be forwarded again, forever.
//
// The bridge cannot mark its copies (3.1.1 has no properties, and payload and topic are the
// user's), so it remembers them: before publishing a copy on a broker, it records the copy's topic
// and payload hash as an expected echo for each of its connections to that broker whose granted
// subscriptions match the topic (a broker delivers a publication once to each matching session).
// A message a connection receives that matches an expected echo consumes it, is acknowledged and
// not forwarded. Counting copies keeps this exact when someone else publishes the same bytes: of
// two identical messages, one is forwarded and one dropped, so the other side still gets it once.
//
// An expected echo is forgotten when its session is (a clean start drops what the broker had
// queued), and ECHO_TTL after the copy was published or its connection came back with its
// session, whichever is later: a broker may drop a copy
// (QoS 0 under load, a publish its ACL refuses silently), and a stale entry would swallow a later
// identical message. An echo arriving after that is forwarded once, and comes back as an echo of
// that copy on the other side, so the worst case is one duplicate, never a loop.
import { createHash } from 'node:crypto';
import { topicMatches } from '@baetyl/core/topic';

/** How long an expected echo is kept while its connection is up. */
export const ECHO_TTL = 60_000;

function echoKey(topic: string, payload: Buffer | Uint8Array | string): string {
  return `${topic}\0${createHash('sha1').update(payload).digest('base64')}`;
}

/** The echoes one connection is waiting for. */
export class Echoes {
  /** Key -> expiry time of each copy. */
  private readonly expected = new Map<string, number[]>();
  /** The topic filters the broker granted this connection. */
  filters: string[] = [];

  constructor(private readonly now: () => number = Date.now) {}

  get size(): number {
    let n = 0;
    for (const times of this.expected.values()) n += times.length;
    return n;
  }

  matches(topic: string): boolean {
    return this.filters.some((f) => topicMatches(f, topic));
  }

  expect(key: string): void {
    const times = this.expected.get(key) ?? [];
    times.push(this.now() + ECHO_TTL);
    this.expected.set(key, times);
  }

  /** True (and the echo consumed) when this message is the bridge's own copy coming back. */
  take(topic: string, payload: Buffer | Uint8Array | string): boolean {
    if (this.expected.size === 0) return false;
    const key = echoKey(topic, payload);
    const times = this.expected.get(key);
    if (!times) return false;
    const now = this.now();
    while (times.length > 0 && times[0]! < now) times.shift();
    const found = times.length > 0;
    if (found) times.shift();
    if (times.length === 0) this.expected.delete(key);
    return found;
  }

  /** Connected again with the session kept: what the broker queued arrives now; the clock restarts. */
  resumed(): void {
    const until = this.now() + ECHO_TTL;
    for (const times of this.expected.values()) times.fill(until);
  }

  /** The session is gone: nothing queued for it will come. */
  clear(): void {
    this.expected.clear();
  }
}

/** The bridge's connections to one broker, and the echoes each of them waits for. */
export class BrokerEchoes {
  private readonly connections = new Set<Echoes>();

  add(echoes: Echoes): void {
    this.connections.add(echoes);
  }

  /** Called before the bridge publishes a copy on this broker. */
  published(topic: string, payload: Buffer | Uint8Array | string): void {
    let key: string | undefined;
    for (const c of this.connections) {
      if (!c.matches(topic)) continue;
      key ??= echoKey(topic, payload);
      c.expect(key);
    }
  }
}
