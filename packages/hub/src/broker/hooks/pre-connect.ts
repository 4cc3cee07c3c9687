// aedes' preConnect: the first look at a CONNECT, before authentication.
import { topicNameProblem } from '@baetyl/core/topic';
import type { HubContext, PreConnect } from '../context.js';

export function preConnect(ctx: HubContext): PreConnect {
  return (client, packet, cb) => {
    const will = packet.will;
    if (will) {
      const why = topicNameProblem(will.topic);
      // As Baetyl: an invalid will topic closes the connection without CONNACK.
      if (why) {
        ctx.logger.warn('connection refused: invalid will topic', { client: packet.clientId, topic: will.topic, reason: why });
        ctx.refused('invalid_will_topic');
        return cb(new Error(`invalid will topic: ${why}`), false);
      }
    }
    ctx.clients.begin(client, packet.clientId);
    cb(null, true);
  };
}
