// A plain aedes 1.x broker with no configuration, in its own process like our hub: the baseline
// the hub is compared against. Usage: node plain-aedes.js <port> [<leveldb dir>]; prints
// "listening <port>". With a directory, aedes keeps its sessions in aedes-persistence-level on
// LevelDB there, the store the hub uses (its own persistence, unchanged), so that figures with
// persistent sessions compare like with like; without, aedes' in-memory default.
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
const { Aedes } = (await import(pathToFileURL(require.resolve('aedes')).href)) as {
  Aedes: { createBroker(opts?: { persistence?: unknown }): Promise<Broker> };
};

const port = Number(process.argv[2] ?? 0);
const levelDir = process.argv[3];
const broker = await Aedes.createBroker(levelDir ? { persistence: await levelPersistence(levelDir) } : {});
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

/** aedes-persistence-level 9's promise API (what aedes 1.x calls) on a LevelDB in `dir`. */
async function levelPersistence(dir: string): Promise<unknown> {
  const load = async (name: string) => ((await import(pathToFileURL(require.resolve(name)).href)) as { default: unknown }).default;
  const Persistence = (await load('aedes-persistence-level/asyncPersistence.js')) as new (db: unknown) => unknown;
  const { Level } = (await import(pathToFileURL(require.resolve('level')).href)) as { Level: new (dir: string, o: object) => { open(): Promise<void> } };
  const db = new Level(dir, { valueEncoding: 'buffer' });
  await db.open();
  return new Persistence(db);
}
