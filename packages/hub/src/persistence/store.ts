// The hub's embedded store: aedes-persistence-level on LevelDB (level 10) under storage.dir.
// Sessions, their subscriptions, queued QoS 1 messages, retained messages and wills live here.
// LevelDB appends every write to its log with write(2) before the promise resolves, so what
// the hub has acknowledged survives the process being killed (kill -9).
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import AsyncLevelPersistence from 'aedes-persistence-level/asyncPersistence.js';
import { Level } from 'level';

/**
 * aedes looks up every PUBACK in the store (a LevelDB read) to clear the in-flight message, even
 * for clean sessions, whose in-flight messages it never stores: at QoS 1 that read cost more than
 * the rest of the hub's work. A clean session's PUBACK only needs the store if messages queued by
 * an earlier persistent session with the same client id are still there, so that is checked once
 * per connection, and the reads are skipped while there are none.
 */
export class HubPersistence extends AsyncLevelPersistence {
  private readonly cleanAndEmpty = new WeakSet<object>();

  override async outgoingClearMessageId(client: { id: string; clean?: boolean }, packet: { messageId?: number }) {
    if (client.clean && this.cleanAndEmpty.has(client)) return undefined;
    const found = await super.outgoingClearMessageId(client, packet);
    if (client.clean && found === undefined && !(await this.hasOutgoing(client))) this.cleanAndEmpty.add(client);
    return found;
  }

  private async hasOutgoing(client: { id: string }): Promise<boolean> {
    const stream = this.outgoingStream(client);
    try {
      for await (const _ of stream) return true;
      return false;
    } finally {
      stream.destroy();
    }
  }
}

export interface Store {
  dir: string;
  persistence: HubPersistence;
  close(): Promise<void>;
}

export async function openStore(storageDir: string, cwd: string): Promise<Store> {
  const dir = join(resolve(cwd, storageDir), 'hub');
  try {
    mkdirSync(dir, { recursive: true });
  } catch (err) {
    throw new Error(`storage.dir: cannot create ${dir}: ${(err as Error).message}`);
  }
  const db = new Level<string, Buffer>(dir, { valueEncoding: 'buffer' });
  try {
    await db.open();
  } catch (err) {
    const cause = (err as { cause?: Error }).cause?.message ?? (err as Error).message;
    const locked = /lock/i.test(cause);
    throw new Error(`storage.dir: cannot open the store in ${dir}: ${cause}${locked ? ' (is another hub using this storage.dir?)' : ''}`);
  }
  const persistence = new HubPersistence(db);
  return {
    dir,
    persistence,
    async close() {
      await db.close();
    },
  };
}
