// Child of the `connections` scenario: opens N MQTT connections to a hub (CONNECT with a
// password, then one QoS 1 SUBSCRIBE each, every client on its own topic), reports "open N" on
// stdout once every SUBACK came, and keeps them idle until killed.
// Usage: node connections-opener.js <port> <count> <username> <password>
import net from 'node:net';

const [port, count, username, password] = [Number(process.argv[2]), Number(process.argv[3]), process.argv[4]!, process.argv[5]!];

function str(s: string): Buffer {
  const b = Buffer.from(s);
  const len = Buffer.alloc(2);
  len.writeUInt16BE(b.length);
  return Buffer.concat([len, b]);
}

function packet(type: number, flags: number, body: Buffer): Buffer {
  const len: number[] = [];
  let n = body.length;
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n) b |= 0x80;
    len.push(b);
  } while (n);
  return Buffer.concat([Buffer.from([(type << 4) | flags, ...len]), body]);
}

const sockets: net.Socket[] = [];
let failed = 0;
function open(i: number): Promise<void> {
  return new Promise((ok) => {
    const s = net.connect(port, '127.0.0.1', () => {
      // CONNECT: MQTT 3.1.1, username + password + clean session, keep-alive 0 (never times out).
      s.write(packet(1, 0, Buffer.concat([str('MQTT'), Buffer.from([4, 0xc2, 0, 0]), str(`idle-${i}`), str(username), str(password)])));
      s.write(packet(8, 2, Buffer.concat([Buffer.from([0, 1]), str(`bench/idle/${i}`), Buffer.from([1])])));
    });
    let got = 0;
    // CONNACK (4 bytes) + SUBACK (5 bytes).
    s.on('data', (c: Buffer) => {
      got += c.length;
      if (got >= 9) ok();
    });
    s.on('error', () => {
      failed++;
      ok();
    });
    sockets.push(s);
  });
}

for (let i = 0; i < count; i += 250) {
  await Promise.all(Array.from({ length: Math.min(250, count - i) }, (_, j) => open(i + j)));
}
process.stdout.write(`open ${count - failed} failed ${failed}\n`);
setInterval(() => undefined, 60_000);
