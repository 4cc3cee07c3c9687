// aedes' authenticate: the client id rules, the principal (password or certificate), and the
// will's topic against the principal's permissions; a refusal answers with its CONNACK code.
import { SessionAcl } from '../../auth/acl.js';
import { CONNACK } from '../../auth/principals.js';
import type { ConnectRefusal } from '../../metrics/stats.js';
import { peerOf, type Authenticate, type HubContext } from '../context.js';
import { pendingWill } from '../internals.js';

/** Baetyl's client ids: up to 128 characters of [0-9A-Za-z_-]. */
const CLIENT_ID = /^[0-9A-Za-z_-]{1,128}$/;

const REFUSAL_OF: Record<number, ConnectRefusal> = {
  [CONNACK.identifierRejected]: 'identifier_rejected',
  3: 'server_unavailable',
  [CONNACK.badUsernameOrPassword]: 'bad_username_or_password',
  [CONNACK.notAuthorized]: 'not_authorized',
};

/** aedes sends the CONNACK with `returnCode` of the error (docs/Aedes.md, authenticate). */
function connackError(code: number, message: string): Error & { returnCode: number } {
  return Object.assign(new Error(message), { returnCode: code });
}

export function authenticate(ctx: HubContext): Authenticate {
  const { logger } = ctx;
  return (client, username, password, cb) => {
    const refuse = (code: number, message: string) => {
      ctx.refused(REFUSAL_OF[code] ?? 'not_authorized');
      cb(connackError(code, message), false);
    };
    if (ctx.stopping) return refuse(3, 'the hub is stopping');
    const state = ctx.clients.of(client);
    const sent = state?.sentClientId ?? '';
    if (sent === '' && !client.clean) {
      // MQTT-3.1.3-8 (Baetyl v1 forced a clean session instead).
      logger.warn('connection refused: an empty client id needs CleanSession 1', { code: CONNACK.identifierRejected });
      return refuse(CONNACK.identifierRejected, 'an empty client id needs CleanSession 1');
    }
    if (sent !== '' && !CLIENT_ID.test(sent)) {
      logger.warn('connection refused: bad client id', { client: sent.slice(0, 140), code: CONNACK.identifierRejected });
      return refuse(CONNACK.identifierRejected, 'client id must be 1 to 128 of 0-9 A-Z a-z _ -');
    }
    const peer = peerOf(client);
    const result = ctx.principals.authenticate(username, password, peer);
    if (!result.ok) {
      logger.warn(`connection refused: ${result.reason}`, { client: sent, username: username ?? '', remote: peer.remote, code: result.code });
      return refuse(result.code, result.reason);
    }
    const acl = new SessionAcl(result.acl);
    const will = pendingWill(client);
    if (will && !acl.canPublish(will.topic)) {
      logger.warn('connection refused: will topic not permitted', { client: sent, username, topic: will.topic, code: CONNACK.notAuthorized });
      return refuse(CONNACK.notAuthorized, `not permitted to publish the will to ${will.topic}`);
    }
    if (state) {
      state.principal = result.principal;
      state.acl = acl;
    }
    logger.debug('client connected', { client: client.id, username, by: result.how, remote: peer.remote });
    cb(null, true);
  };
}
