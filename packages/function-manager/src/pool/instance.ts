// One running function runtime instance, as the pool sees it: its gRPC channel, how busy it is
// and whether it is still worth calling.
import * as grpc from '@grpc/grpc-js';
import { createFunctionClient, type FunctionClient, type FunctionMessage } from '@baetyl/core/function';
import { InstanceCaller } from '../call/caller.js';

export interface DialOptions {
  /** How long to wait for the channel to be ready, ms. */
  timeout: number;
  /** gRPC message size limit both ways, bytes. */
  messageLengthMax: number;
  /** Cap of the channel's reconnect backoff, ms. */
  backoffMax: number;
}

/** Opens a channel to a runtime and waits until it is ready (Baetyl's blocking dial). */
export async function dialFunction(address: string, opts: DialOptions): Promise<FunctionClient> {
  const backoffMax = Math.max(1, Math.round(opts.backoffMax));
  const client = createFunctionClient(address, grpc.credentials.createInsecure(), {
    'grpc.max_receive_message_length': opts.messageLengthMax,
    'grpc.max_send_message_length': opts.messageLengthMax,
    // A fresh runtime takes 50-200 ms to listen. grpc's backoff (1 s first, x1.6) would add most
    // of a cold start on top of that, and a 50 ms cap still added 25 ms on average (the attempt
    // after the port opens); a refused local connect every 20 ms costs nothing.
    'grpc.initial_reconnect_backoff_ms': Math.min(10, backoffMax),
    'grpc.max_reconnect_backoff_ms': Math.min(20, backoffMax),
    // The pool retries calls itself, on another instance if need be, and nobody reads channelz:
    // both cost grpc-js work on every call.
    'grpc.enable_retries': 0,
    'grpc.enable_channelz': 0,
  });
  try {
    await new Promise<void>((resolve, reject) => {
      // deadline layer: instance start (@baetyl/core/function/deadlines.ts).
      client.waitForReady(Date.now() + opts.timeout, (err) => (err ? reject(err) : resolve()));
    });
    return client;
  } catch (err) {
    client.close();
    throw err;
  }
}

export class FunctionInstance {
  /** Calls running on it now. */
  inflight = 0;
  /** When it last finished a call (or was started), for LIFO picking and idle eviction. */
  lastUsed = Date.now();
  /** When it last answered a call, or got one while idle: how long a busy instance has been silent (the pool's stall check). */
  activeAt = Date.now();
  /** Deadline failures in a row: a runtime that keeps timing out is probably hung as a whole. */
  timeoutsInARow = 0;
  /** Set when it must not get new calls; it is stopped once its running calls end. */
  retiring = false;
  /** Set once its stop has been asked for. */
  stopping = false;

  constructor(
    readonly id: number,
    readonly name: string,
    readonly address: string,
    private readonly client: FunctionClient,
    /** Told of every answer how long the call ran in the runtime (InstanceCaller's onAnswer). */
    onAnswer?: (us: number | undefined) => void,
  ) {
    this.caller = new InstanceCaller(client, onAnswer);
  }

  private readonly caller: InstanceCaller;

  /** One call with a deadline (on the instance's call stream, or a unary Call; see call/caller.ts). */
  call(msg: FunctionMessage, timeout: number): Promise<FunctionMessage> {
    return this.caller.call(msg, timeout);
  }

  /** False when its channel has failed (the runtime died or stopped listening). */
  channelAlive(): boolean {
    const state = this.client.getChannel().getConnectivityState(false);
    return state !== grpc.connectivityState.TRANSIENT_FAILURE && state !== grpc.connectivityState.SHUTDOWN;
  }

  close(): void {
    this.caller.close();
    this.client.close();
  }
}
