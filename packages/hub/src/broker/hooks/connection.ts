// A new connection: the hub's guard (size limit, counters, protocol checks) between the socket
// and aedes, then aedes' client, then each connection step in order.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Aedes } from 'aedes';
import { GuardedConnection, type PeerInfo } from '../../listeners/guard.js';
import type { ConnectionStep, HubContext } from '../context.js';

export type Accept = (stream: Duplex, peer: PeerInfo, req?: IncomingMessage) => void;

export function acceptConnections(ctx: HubContext, broker: Aedes, steps: ReadonlyArray<ConnectionStep>): Accept {
  const maxPacket = ctx.config.message.length.max;
  return (stream, peer, req) => {
    if (ctx.stopping) {
      stream.destroy();
      return;
    }
    const guarded = new GuardedConnection(stream, peer, maxPacket, ctx.counters, (why) => {
      ctx.logger.warn(`connection closed: ${why}`, { remote: peer.remote });
    });
    guarded.on('error', () => undefined);
    const client = broker.handle(guarded, req);
    for (const step of steps) step(client);
  };
}
