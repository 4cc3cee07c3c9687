// A SUBSCRIBE entry the hub refuses gets 0x80 for that entry, whatever the reason: an invalid
// filter, no sub permission, or a store that cannot keep a persistent session's subscription.
// Two steps: refuseInvalidFilters (on each connection) sees the packet before aedes validates it,
// and aedes' authorizeSubscribe answers.
import { topicFilterProblem } from '@baetyl/core/topic';
import type { AuthorizeSubscribe, ConnectionStep, HubContext } from '../context.js';
import { beforeEachPacket, subscriptionsOf } from '../internals.js';

/** SUBSCRIBE entries whose filter Baetyl's topic rules refuse, renamed by refuseInvalidFilters. */
const invalidFilters = new WeakSet<object>();

/** aedes would close the connection on an invalid filter: it is renamed to a valid one and marked, for authorizeSubscribe to refuse. */
export function refuseInvalidFilters(ctx: HubContext): ConnectionStep {
  return (client) =>
    beforeEachPacket(client, (packet) => {
      if (packet.cmd !== 'subscribe' || !packet.subscriptions) return;
      packet.subscriptions.forEach((sub, i) => {
        if (topicFilterProblem(sub.topic)) {
          ctx.logger.warn('subscription refused: invalid filter', { ...ctx.clients.logFields(client), topic: sub.topic });
          ctx.counters.refusedSubscribes.invalid_filter++;
          sub.topic = `invalid/${i}`;
          invalidFilters.add(sub);
        }
      });
    });
}

export function authorizeSubscribe(ctx: HubContext): AuthorizeSubscribe {
  const { logger, counters } = ctx;
  return (client, sub, cb) => {
    if (invalidFilters.has(sub)) return cb(null, null);
    const why = topicFilterProblem(sub.topic);
    if (why) {
      logger.warn('subscription refused: invalid filter', { ...ctx.clients.logFields(client), topic: sub.topic, reason: why });
      counters.refusedSubscribes.invalid_filter++;
      return cb(null, null);
    }
    const acl = ctx.clients.of(client)?.acl;
    if (!acl || !acl.canSubscribe(sub.topic)) {
      logger.warn('subscription refused: not permitted', { ...ctx.clients.logFields(client), topic: sub.topic });
      counters.refusedSubscribes.not_permitted++;
      return cb(null, null);
    }
    // A persistent session's subscription is granted only once stored (0x80 if it cannot be).
    ctx.store.persistence.storeBeforeGrant(client, sub, subscriptionsOf(client)).then(
      () => cb(null, sub),
      (err: Error) => {
        logger.error('subscription refused: the store cannot keep it', { ...ctx.clients.logFields(client), topic: sub.topic, error: err.message });
        counters.refusedSubscribes.store_failed++;
        cb(null, null);
      },
    );
  };
}
