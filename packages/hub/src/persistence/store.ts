// The hub's embedded store: aedes-persistence-level on LevelDB (level 10) under storage.dir.
// Sessions, their subscriptions, queued QoS 1 messages, retained messages and wills live here.
// LevelDB appends every write to its log with write(2) before the promise resolves, so what
// the hub has acknowledged survives the process being killed (kill -9).
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import AsyncLevelPersistence from 'aedes-persistence-level/asyncPersistence.js';
import { Level } from 'level';

export interface Store {
  dir: string;
  persistence: AsyncLevelPersistence;
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
  const persistence = new AsyncLevelPersistence(db);
  return {
    dir,
    persistence,
    async close() {
      await db.close();
    },
  };
}
