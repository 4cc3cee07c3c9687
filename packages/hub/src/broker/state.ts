// What the hub knows about each connection, beyond aedes' own client object.
import type { Client } from 'aedes';
import type { Principal } from '../config/schema.js';
import type { SessionAcl } from '../auth/acl.js';

export interface ClientState {
  /** The client id as sent in CONNECT (aedes invents one for an empty id). */
  sentClientId: string;
  principal?: Principal;
  acl?: SessionAcl;
}

export class ClientStates {
  private readonly states = new WeakMap<Client, ClientState>();

  /** A CONNECT arrived (hooks/pre-connect.ts). */
  begin(client: Client, sentClientId: string): ClientState {
    const state: ClientState = { sentClientId };
    this.states.set(client, state);
    return state;
  }

  of(client: Client): ClientState | undefined {
    return this.states.get(client);
  }

  /** The log field that names a client: its id as it sent it. */
  logFields(client: Client | null): { client?: string } {
    return client ? { client: this.states.get(client)?.sentClientId || client.id } : {};
  }
}
