// What the hub knows about each connection, beyond aedes' own client object.
import type { Principal } from '../config/schema.js';
import type { SessionAcl } from '../auth/acl.js';

export interface ClientState {
  /** The client id as sent in CONNECT (aedes invents one for an empty id). */
  sentClientId: string;
  principal?: Principal;
  acl?: SessionAcl;
}
