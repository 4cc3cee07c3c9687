// Wills: those a past run left in the store are published at start; those of connected clients
// are discarded when the hub stops (wills are for clients that vanish, not for a hub that stops).
import type { Aedes } from 'aedes';
import type { HubContext } from '../context.js';
import { connectedClients, discardWill } from '../internals.js';

/** Wills stored by an earlier run that ended without a graceful stop (a crash, kill -9). */
export async function replayStoredWills(ctx: HubContext, broker: Aedes): Promise<void> {
  const { store, logger } = ctx;
  const wills = store.persistence.streamWill({ [broker.id]: Date.now() });
  let n = 0;
  for await (const will of wills as AsyncIterable<{ topic: string; payload: Buffer; qos: number; retain: boolean; clientId: string }>) {
    await new Promise<void>((ok) => {
      broker.publish(
        { cmd: 'publish', topic: will.topic, payload: Buffer.from(will.payload), qos: will.qos as 0 | 1 | 2, retain: will.retain, dup: false },
        (err) => {
          if (err) logger.warn(`cannot publish the will of ${will.clientId}: ${err.message}`);
          ok();
        },
      );
    });
    await store.persistence.delWill({ id: will.clientId });
    n++;
  }
  if (n > 0) logger.info(`published ${n} will(s) of clients connected when the hub last stopped abnormally`);
}

/** Forgets the will of every connected client, in aedes and in the store. */
export async function discardWills(ctx: HubContext, broker: Aedes): Promise<void> {
  const deletions: Array<Promise<unknown>> = [];
  for (const client of connectedClients(broker)) {
    if (discardWill(client)) deletions.push(ctx.store.persistence.delWill({ id: client.id }).catch(() => undefined));
  }
  await Promise.all(deletions);
}
