// One gRPC call on one HTTP/2 stream, server side: messages in, messages out, then the status in
// the trailers. A call that ends before any message was sent answers "trailers-only" (the status in
// the response headers), as gRPC servers do for errors.
import type { IncomingHttpHeaders, ServerHttp2Stream } from 'node:http2';
import { frameMessage, MessageDecoder, MessageError } from './message.js';
import { deadlineFrom, encodeGrpcMessage } from './metadata.js';
import { status } from './status.js';

const CONTENT_TYPE = 'application/grpc+proto';

export class ServerCall {
  /** When the caller's grpc-timeout runs out (epoch ms); Infinity for none. */
  readonly deadline: number;
  private readonly decoder: MessageDecoder;
  private headersSent = false;
  private finished = false;
  private trailers: Record<string, string> | undefined;
  private onCancelled: (() => void) | undefined;
  private onHalfClose: (() => void) | undefined;

  constructor(
    private readonly stream: ServerHttp2Stream,
    headers: IncomingHttpHeaders,
    private readonly maxMessage: number,
    onMessage: (message: Buffer) => void,
  ) {
    // deadline layer: runtime receives (@baetyl/core/function/deadlines.ts).
    this.deadline = deadlineFrom(headers['grpc-timeout'], Date.now());
    this.decoder = new MessageDecoder(maxMessage, onMessage);
    stream.on('data', (chunk: Buffer) => {
      if (this.finished) return;
      try {
        this.decoder.push(chunk);
      } catch (err) {
        if (!(err instanceof MessageError)) throw err;
        this.finish(err.code, err.message);
      }
    });
    stream.on('end', () => {
      if (this.finished) return;
      if (this.decoder.partial) this.finish(status.INTERNAL, 'the request ended inside a message');
      else this.onHalfClose?.();
    });
    // The caller cancelled (RST_STREAM) or the connection went away.
    stream.on('close', () => {
      if (!this.finished) {
        this.finished = true;
        this.onCancelled?.();
      }
    });
    // Write errors after a reset: 'close' follows and says what matters.
    stream.on('error', () => undefined);
    stream.on('wantTrailers', () => {
      if (this.trailers) stream.sendTrailers(this.trailers);
    });
  }

  /** False once the status was sent or the caller went away: nothing more can be sent. */
  get open(): boolean {
    return !this.finished;
  }

  /** The caller ended its side (no more messages). */
  onEnd(cb: () => void): void {
    this.onHalfClose = cb;
  }

  /** The call ended without a status from us (cancelled, connection lost). */
  onCancel(cb: () => void): void {
    this.onCancelled = cb;
  }

  /** Sends the response headers now (a stream's caller learns at once that the method exists). */
  sendHeaders(): void {
    if (this.headersSent || this.finished) return;
    this.headersSent = true;
    this.stream.respond({ ':status': 200, 'content-type': CONTENT_TYPE }, { waitForTrailers: true });
  }

  /** Sends one message; false (and the call fails with RESOURCE_EXHAUSTED) if it is too large. */
  write(message: Uint8Array): boolean {
    if (this.finished) return false;
    if (message.length > this.maxMessage) {
      this.finish(status.RESOURCE_EXHAUSTED, `Sent message larger than max (${message.length} vs. ${this.maxMessage})`);
      return false;
    }
    this.sendHeaders();
    this.stream.write(frameMessage(message));
    return true;
  }

  /** Ends the call with a status (0 = OK) and its text. */
  finish(code: number, details = ''): void {
    if (this.finished) return;
    this.finished = true;
    const text = encodeGrpcMessage(details);
    if (this.stream.destroyed || this.stream.closed) return;
    if (!this.headersSent) {
      this.headersSent = true;
      // Trailers-only: one HEADERS frame that ends the stream.
      this.stream.respond({ ':status': 200, 'content-type': CONTENT_TYPE, 'grpc-status': String(code), 'grpc-message': text }, { endStream: true });
      return;
    }
    this.trailers = { 'grpc-status': String(code), 'grpc-message': text };
    this.stream.end();
  }

  /** Sends one message and ends with OK: a unary call's answer. */
  reply(message: Uint8Array): void {
    if (this.write(message)) this.finish(status.OK);
  }
}
