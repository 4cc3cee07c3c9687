// A plain aedes 1.x broker with no configuration, in its own process like our hub: the baseline
// the hub is compared against. Usage: node plain-aedes.js <port>; prints "listening <port>".
import { createRequire } from 'node:module';
import { createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { REPO } from '@baetyl/test-support';

// aedes is the hub's dependency; load the very copy the hub uses.
const require = createRequire(join(REPO, 'packages/hub/package.json'));
interface Broker {
  handle(socket: Socket): void;
  close(cb: () => void): void;
}
const { Aedes } = (await import(pathToFileURL(require.resolve('aedes')).href)) as { Aedes: { createBroker(): Promise<Broker> } };

const port = Number(process.argv[2] ?? 0);
const broker = await Aedes.createBroker();
const server = createServer((socket) => broker.handle(socket));
server.listen(port, '127.0.0.1', () => {
  process.stdout.write(`listening ${(server.address() as { port: number }).port}\n`);
});
const stop = () => {
  server.close();
  broker.close(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
