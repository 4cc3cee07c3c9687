// aedes' authorizePublish: the topic rules and the principal's pub permissions (a refusal closes
// the connection, as MQTT 3.1.1 has no way to refuse a PUBLISH); a QoS 1 message is stored and
// routed here, before aedes sends its PUBACK.
import { topicNameProblem } from '@baetyl/core/topic';
import type { AuthorizePublish, HubContext } from '../context.js';
import { isClientPublish } from '../internals.js';
import type { PublishWithRoutes } from './publish-with-routes.js';

export function authorizePublish(ctx: HubContext, routed: PublishWithRoutes): AuthorizePublish {
  const { logger, counters } = ctx;
  return (client, packet, cb) => {
    if (!client) return cb(null); // the hub's own publishes (routes, wills of a past run)
    const topic = packet.topic;
    const why = topicNameProblem(topic);
    if (why) {
      logger.warn('publish refused, closing the connection: invalid topic', { ...ctx.clients.logFields(client), topic, reason: why });
      counters.refusedPublishes.invalid_topic++;
      return cb(new Error(`invalid topic ${JSON.stringify(topic)}: ${why}`));
    }
    const acl = ctx.clients.of(client)?.acl;
    if (!acl || !acl.canPublish(topic)) {
      logger.warn('publish refused, closing the connection: not permitted', { ...ctx.clients.logFields(client), topic });
      counters.refusedPublishes.not_permitted++;
      return cb(new Error(`not permitted to publish to ${topic}`));
    }
    // The incoming DUP says nothing to subscribers; aedes would pass it on [MQTT-3.3.1-3].
    packet.dup = false;
    // aedes sends PUBACK before it stores the message. Store and route it first, so a PUBACK
    // means the message (and its routed copies) is on disk, even if the hub is killed next.
    if (isClientPublish(packet) && packet.qos === 1) {
      routed.beforeAck(packet, client, (err) => {
        if (err) logger.error('cannot store a QoS 1 message; no PUBACK sent', { ...ctx.clients.logFields(client), topic, error: err.message });
        cb(err ?? null);
      });
      return;
    }
    cb(null);
  };
}
