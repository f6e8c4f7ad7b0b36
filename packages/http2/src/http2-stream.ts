// One HTTP/2 stream (RFC 9113 §5): what was received on it and the calls that send on it. The
// connection owns the rules; a stream holds its state, windows and queues.
import type { Http2Error } from './error.js';
import { ReceiveWindow } from './flow-control.js';
import { StreamState, type StreamStateValue } from './stream-state.js';

/** What a stream needs from its connection (implemented by {@link Http2Connection}). */
export interface StreamOwner {
  sendHeaders(stream: Http2Stream, fields: string[], endStream: boolean): void;
  sendData(stream: Http2Stream, data: Buffer, endStream: boolean): Promise<void> | undefined;
  sendTrailers(stream: Http2Stream, fields: string[]): Promise<void> | undefined;
  resetStream(stream: Http2Stream, errorCode: number): void;
  consumed(stream: Http2Stream, length: number): void;
}

interface Waiter<T> {
  resolve: (value: T) => void;
  reject: (error: Error) => void;
}

const EMPTY: Buffer = Buffer.alloc(0);
function ignore(): void {}

/**
 * A stream of an {@link Http2Connection}. Request or response fields arrive as flat
 * `[name, value, …]` lists (`fields`, `trailers`); the body is read with {@link readBodyChunk},
 * which hands flow-control credit back to the peer as it is consumed (backpressure).
 */
export class Http2Stream {
  readonly id: number;
  state: StreamStateValue = StreamState.OPEN;
  /** The header section received (request on a server, final response on a client). */
  fields: string[] = [];
  /** Informational (1xx) header sections received before the final one (client). */
  informational: string[][] | null = null;
  /** The trailer section received, if any. */
  trailers: string[] | null = null;
  /** Why the stream ended abnormally: RST_STREAM from either side, or the connection's end. */
  error: Http2Error | Error | null = null;
  /** content-length of the received message, -1 when absent or not describing this message's body. */
  contentLength = -1;
  /** A HEAD request (client): the response's content-length describes a body that is not sent (RFC 9110 §8.6). */
  headRequest = false;
  /** DATA octets received (padding excluded). */
  bytesReceived = 0;
  /** DATA octets sent. */
  bytesSent = 0;

  /** Our window for the peer's DATA on this stream. */
  readonly receiveWindow: ReceiveWindow;
  /** The peer's window for our DATA on this stream; may go negative after a SETTINGS change (§6.9.2). */
  sendWindow: number;
  remoteEnded = false;
  localEnded = false;
  headersSent = false;
  headersReceived = false;

  // Received DATA not yet read, as views of the socket's chunks.
  private readonly chunks: Buffer[] = [];
  private chunksHead = 0;
  private bodyWaiter: Waiter<Buffer | null> | null = null;
  private headersWaiter: Waiter<string[]> | null = null;
  /** Informational sections already handed out by {@link readNextHeaders}. */
  private informationalRead = 0;
  /** The header waiter also takes an informational section (it came from {@link readNextHeaders}). */
  private waiterTakesInformational = false;

  // DATA waiting for window: the chunks, and END_STREAM / trailers to send after them.
  /** @internal */ readonly sendQueue: Buffer[] = [];
  /** @internal */ sendQueueEnd = false;
  /** @internal */ sendQueueTrailers: string[] | null = null;
  /** @internal */ sendQueued = false;
  /** @internal */ sendWaiter: Waiter<void> | null = null;
  /** @internal */ sendPromise: Promise<void> | null = null;

  private readonly owner: StreamOwner;

  constructor(owner: StreamOwner, id: number, receiveWindowSize: number, sendWindow: number) {
    this.owner = owner;
    this.id = id;
    this.receiveWindow = new ReceiveWindow(receiveWindowSize);
    this.sendWindow = sendWindow;
  }

  /** True once the stream is closed, normally or by a reset. */
  get closed(): boolean {
    return this.state === StreamState.CLOSED;
  }

  /**
   * The next body chunk, or null at the end of the body.
   * @throws (rejects) the stream's error when it was reset or its connection ended.
   */
  readBodyChunk(): Promise<Buffer | null> {
    if (this.chunksHead < this.chunks.length) return Promise.resolve(this.takeChunk());
    if (this.error !== null) return Promise.reject(this.error);
    if (this.remoteEnded) return Promise.resolve(null);
    return new Promise((resolve, reject) => {
      this.bodyWaiter = { resolve, reject };
    });
  }

  /** The received body octets buffered and not yet read. */
  get bufferedBodyLength(): number {
    let n = 0;
    for (let i = this.chunksHead; i < this.chunks.length; i++) n += this.chunks[i].length;
    return n;
  }

  /** Resolves with the header section once it has arrived (a client waiting for its response). */
  readHeaders(): Promise<string[]> {
    this.waiterTakesInformational = false;
    if (this.headersReceived) return Promise.resolve(this.fields);
    if (this.error !== null) return Promise.reject(this.error);
    return new Promise((resolve, reject) => {
      this.headersWaiter = { resolve, reject };
    });
  }

  /**
   * Resolves with the next header section as it arrives, informational (1xx) ones included, each
   * once: a client forwarding 103 Early Hints hands each on before the final response exists.
   */
  readNextHeaders(): Promise<string[]> {
    const info = this.informational;
    if (info !== null && this.informationalRead < info.length) return Promise.resolve(info[this.informationalRead++]);
    const next = this.readHeaders();
    this.waiterTakesInformational = true;
    return next;
  }

  /**
   * Sends a header section. Fields must be lowercase and valid (the sessions check them).
   * @throws Http2Error when the stream can no longer send.
   */
  writeHeaders(fields: string[], endStream = false): void {
    this.owner.sendHeaders(this, fields, endStream);
  }

  /**
   * Sends body octets as DATA frames within the peer's windows; returns a Promise when they
   * could not all leave now (flow control or socket backpressure), undefined otherwise.
   */
  writeData(data: Buffer, endStream = false): Promise<void> | undefined {
    return this.owner.sendData(this, data, endStream);
  }

  /** Ends the stream: with trailers when given, else with an empty DATA frame carrying END_STREAM. */
  end(trailers?: string[] | null): Promise<void> | undefined {
    if (trailers != null && trailers.length > 0) return this.owner.sendTrailers(this, trailers);
    return this.owner.sendData(this, EMPTY, true);
  }

  /** Resets the stream with RST_STREAM `errorCode` (default CANCEL). */
  reset(errorCode = 0x8): void {
    this.owner.resetStream(this, errorCode);
  }

  /** @internal Received DATA (a view; kept until read). */
  deliver(data: Buffer): void {
    const waiter = this.bodyWaiter;
    if (waiter !== null) {
      this.bodyWaiter = null;
      this.owner.consumed(this, data.length);
      waiter.resolve(data);
      return;
    }
    this.chunks.push(data);
  }

  /** @internal The peer ended its side. */
  deliverEnd(): void {
    const waiter = this.bodyWaiter;
    if (waiter !== null && this.chunksHead === this.chunks.length) {
      this.bodyWaiter = null;
      waiter.resolve(null);
    }
  }

  /** @internal An informational (1xx) header section arrived before the final one. */
  deliverInformational(fields: string[]): void {
    (this.informational ??= []).push(fields);
    const waiter = this.headersWaiter;
    if (waiter !== null && this.waiterTakesInformational) {
      this.headersWaiter = null;
      this.informationalRead++;
      waiter.resolve(fields);
    }
  }

  /** @internal A header section arrived. */
  deliverHeaders(fields: string[]): void {
    this.fields = fields;
    this.headersReceived = true;
    const waiter = this.headersWaiter;
    if (waiter !== null) {
      this.headersWaiter = null;
      waiter.resolve(fields);
    }
  }

  /** @internal The stream ended abnormally; pending reads and writes fail with `error`. */
  fail(error: Http2Error | Error): void {
    if (this.error === null) this.error = error;
    this.state = StreamState.CLOSED;
    this.chunks.length = 0;
    this.chunksHead = 0;
    this.sendQueue.length = 0;
    const body = this.bodyWaiter;
    const headers = this.headersWaiter;
    const send = this.sendWaiter;
    this.bodyWaiter = null;
    this.headersWaiter = null;
    this.sendWaiter = null;
    this.sendPromise = null;
    if (body !== null) body.reject(error);
    if (headers !== null) headers.reject(error);
    if (send !== null) send.reject(error);
  }

  /** @internal A Promise settled when the send queue has drained. */
  waitForSend(): Promise<void> {
    if (this.sendPromise === null) {
      this.sendPromise = new Promise((resolve, reject) => {
        this.sendWaiter = { resolve, reject };
      });
      // A caller that drops the Promise must not crash the process when the stream is reset.
      this.sendPromise.catch(ignore);
    }
    return this.sendPromise;
  }

  /** @internal The send queue drained. */
  sendDrained(): void {
    const waiter = this.sendWaiter;
    this.sendWaiter = null;
    this.sendPromise = null;
    if (waiter !== null) waiter.resolve();
  }

  private takeChunk(): Buffer {
    const chunk = this.chunks[this.chunksHead++];
    if (this.chunksHead === this.chunks.length) {
      this.chunks.length = 0;
      this.chunksHead = 0;
    }
    this.owner.consumed(this, chunk.length);
    return chunk;
  }
}
