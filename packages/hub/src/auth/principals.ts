// Who may connect. A principal with a password authenticates with it; a principal without one
// is a certificate principal: the client must present a TLS client certificate that verifies
// against certificate.ca AND names the principal (its CN or a subjectAltName equals the
// username). Baetyl v1 only checked that some verified certificate was presented.
import { timingSafeEqual } from 'node:crypto';
import type { Principal } from '../config/schema.js';
import type { PeerInfo } from '../listeners/guard.js';
import { Acl } from './acl.js';

/** CONNACK return codes of MQTT 3.1.1 that authentication uses. */
export const CONNACK = {
  unacceptableProtocol: 1,
  identifierRejected: 2,
  badUsernameOrPassword: 4,
  notAuthorized: 5,
} as const;

export type AuthResult = { ok: true; principal: Principal; acl: Acl; how: 'password' | 'certificate' } | { ok: false; code: 4 | 5; reason: string };

export class Principals {
  private readonly byName = new Map<string, { principal: Principal; acl: Acl }>();

  constructor(principals: ReadonlyArray<Principal>) {
    for (const p of principals) this.byName.set(p.username, { principal: p, acl: new Acl(p.permissions) });
  }

  authenticate(username: string | undefined, password: Buffer | undefined, peer: PeerInfo): AuthResult {
    if (!username) return { ok: false, code: 4, reason: 'no username' };
    const entry = this.byName.get(username);
    if (!entry) return { ok: false, code: 4, reason: `no principal "${username}"` };
    const { principal, acl } = entry;
    if (password && password.length > 0) {
      if (!principal.password)
        return { ok: false, code: 4, reason: `principal "${username}" is a certificate principal; connect with its client certificate and no password` };
      const given = password;
      const want = Buffer.from(principal.password, 'utf8');
      if (given.length !== want.length || !timingSafeEqual(given, want)) return { ok: false, code: 4, reason: `wrong password for "${username}"` };
      return { ok: true, principal, acl, how: 'password' };
    }
    if (principal.password) return { ok: false, code: 4, reason: `no password for "${username}"` };
    const cert = peer.certificate;
    if (!cert)
      return { ok: false, code: 4, reason: `"${username}" is a certificate principal but the client presented no certificate (over ${peer.transport})` };
    if (!cert.verified) return { ok: false, code: 5, reason: 'the client certificate did not verify against certificate.ca' };
    if (cert.commonName !== username && !cert.altNames.includes(username)) {
      return { ok: false, code: 5, reason: `the client certificate names ${JSON.stringify(cert.commonName ?? '')}, not the principal "${username}"` };
    }
    return { ok: true, principal, acl, how: 'certificate' };
  }
}
