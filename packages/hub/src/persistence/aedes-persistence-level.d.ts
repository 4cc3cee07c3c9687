// The promise-based persistence class inside aedes-persistence-level 9, which is what aedes 1.x
// calls (its package main wraps it in the callback API of aedes 0.x).
declare module 'aedes-persistence-level/asyncPersistence.js' {
  import type { Readable } from 'node:stream';

  export interface StoredPacket {
    cmd?: string;
    topic: string;
    payload: Buffer;
    qos: number;
    retain: boolean;
    clientId?: string;
    brokerId?: string;
  }

  export default class AsyncLevelPersistence {
    constructor(db: unknown);
    setup(broker: unknown): Promise<void>;
    streamWill(brokers?: Record<string, number>): Readable;
    delWill(client: { id: string }): Promise<StoredPacket | undefined>;
    createRetainedStream(pattern: string): Readable;
    outgoingClearMessageId(client: { id: string; clean?: boolean }, packet: { messageId?: number }): Promise<StoredPacket | undefined>;
    outgoingStream(client: { id: string }): Readable;
    outgoingEnqueueCombi(subs: Array<{ clientId: string }>, packet: object): Promise<unknown>;
    outgoingUpdate(client: { id: string }, packet: object): Promise<void>;
    addSubscriptions(client: { id: string }, subs: Array<{ topic: string; qos: number }>): Promise<void>;
    removeSubscriptions(client: { id: string }, topics: string[]): Promise<void>;
    subscriptionsByClient(client: { id: string }): Promise<Array<{ topic: string; qos: number }>>;
    subscriptionsByTopic(pattern: string): Promise<Array<{ clientId: string; topic: string; qos: number }>>;
    destroy(): Promise<void>;
  }
}
