// aedes' events the hub logs: connections that end with an error, keep-alive timeouts, and the
// broker's own errors (a failing store).
import type { Aedes } from 'aedes';
import { peerOf, type HubContext } from '../context.js';
import { onBrokerError } from '../internals.js';

export function logBrokerEvents(ctx: HubContext, broker: Aedes): void {
  const { logger, closings, clients } = ctx;
  broker.on('clientError', (client, err) => closings.log('info', `client closed: ${err.message}`, clients.logFields(client), `client\u0000${client.id}`));
  broker.on('connectionError', (client, err) => closings.log('info', `connection closed: ${err.message}`, { remote: peerOf(client)?.remote }));
  broker.on('keepaliveTimeout', (client) => logger.info('client timed out: nothing received within 1.5 x keep-alive', clients.logFields(client)));
  onBrokerError(broker, (err) => logger.error(`broker error: ${err.message}`));
}
