// Follows MQTT packet boundaries in a byte stream by reading only each fixed header, so the hub
// can refuse a packet over message.length.max before buffering it, and count PUBLISH packets
// without decoding them.
export const PUBLISH = 3;

export class PacketScanner {
  private state: 'type' | 'length' | 'body' = 'type';
  private type = 0;
  private flags = 0;
  private length = 0;
  private multiplier = 1;
  private lengthBytes = 0;
  private left = 0;

  /** `max` is the largest packet in bytes (header included); `onPacket` gets each packet's type and flags. */
  constructor(
    private readonly max: number,
    private readonly onPacket: (type: number, flags: number) => void,
  ) {}

  /** Feeds bytes; returns why the stream must be closed, or undefined. */
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
        this.state = this.left > 0 ? 'body' : 'type';
      } else {
        const take = Math.min(this.left, chunk.length - i);
        this.left -= take;
        i += take;
        if (this.left === 0) this.state = 'type';
      }
    }
    return undefined;
  }
}
