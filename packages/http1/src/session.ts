import type { Socket } from 'node:net';
import type { HeaderMap, RequestHeader, ResponseHeader, Stream } from '@sluice/core';
import { CHUNK_END, chunkSizeLine } from './chunked.js';
import { MessageReader } from './message-reader.js';
import type { Http1ParserOptions } from './parser.js';

/** Options both sessions share. */
export interface Http1SessionOptions extends Http1ParserOptions {
  /** Longest wait for the next body bytes, in milliseconds. Default 60000. */
  bodyTimeoutMs?: number;
}

function flushSession(session: Http1Session<RequestHeader | ResponseHeader>): void {
  session.flush();
}

/**
 * What the server and client sessions share: reading the peer's message through a
 * {@link MessageReader}, body accounting, and writes that are corked until the current tick's work is
 * done, so a head and its body (or the responses to pipelined requests) leave in one write.
 */
export abstract class Http1Session<Head extends RequestHeader | ResponseHeader> {
  readonly stream: Stream;
  protected readonly reader: MessageReader<Head>;
  protected readonly bodyTimeoutMs: number;
  protected bytesRead = 0;
  protected bytesSent = 0;
  protected corked = false;

  protected constructor(stream: Stream, kind: Head extends RequestHeader ? 'request' : 'response', options: Http1SessionOptions) {
    this.stream = stream;
    this.reader = new MessageReader<Head>(stream, kind, options);
    this.bodyTimeoutMs = options.bodyTimeoutMs ?? 60_000;
  }

  /** The next piece of the peer's body, or null at its end. */
  abstract readBodyChunk(): Promise<Buffer | null>;

  /** The peer's whole body in one Buffer (copies; prefer `readBodyChunk`). */
  async readBody(): Promise<Buffer> {
    const parts: Buffer[] = [];
    for (let c = await this.readBodyChunk(); c !== null; c = await this.readBodyChunk()) parts.push(c);
    return parts.length === 1 ? parts[0] : Buffer.concat(parts);
  }

  /** The trailer fields of the peer's message, once its body was read to the end. */
  get trailers(): HeaderMap | null {
    return this.reader.trailers;
  }

  /** Body bytes read from the peer for the current exchange (Pingora's `body_bytes_read`). */
  bodyBytesRead(): number {
    return this.bytesRead;
  }

  /** Body bytes sent to the peer for the current exchange (Pingora's `body_bytes_sent`). */
  bodyBytesSent(): number {
    return this.bytesSent;
  }

  /**
   * For the current message (until `reuse()` moves on to the next one), the peer's body pieces are
   * lent from the connection's own read buffers instead of copied, where the connection can (a plain
   * TCP or Unix socket): each piece, a whole body of `takeWholeBody` included, must then be given back
   * with {@link Http1Session.releaseBody} once nothing refers to its bytes. A large body is passed on
   * without copying or allocating per read. Returns whether pieces are lent.
   */
  retainBody(): boolean {
    return this.reader.retainBody();
  }

  /** Whether `piece` is lent from the connection's buffers (see retainBody) rather than a copy. */
  isLent(piece: Buffer): boolean {
    return this.stream.owns(piece);
  }

  /** Gives back a body piece once nothing refers to its bytes (see retainBody); each piece at most once. */
  releaseBody(piece: Buffer): void {
    this.reader.releaseBody(piece);
  }

  /**
   * Undefined when every byte written so far was handed to the operating system (the Buffers written,
   * lent body pieces included, are free to reuse), else a Promise settled once they were.
   */
  flushed(): Promise<void> | undefined {
    return this.stream.flushed();
  }

  /** Reads the next body piece with the body timeout and counts it. */
  protected async nextBodyChunk(): Promise<Buffer | null> {
    const chunk = await this.reader.readBodyChunk(this.bodyTimeoutMs);
    if (chunk !== null) this.bytesRead += chunk.length;
    return chunk;
  }

  /** Writes one chunk of a chunked body: size line, the data itself (not copied), CRLF. */
  protected writeChunk(chunk: Buffer): Promise<void> | undefined {
    this.write(chunkSizeLine(chunk.length));
    this.write(chunk);
    return this.write(CHUNK_END);
  }

  /** Writes through a cork held until the current tick's work is done. */
  protected write(chunk: Buffer): Promise<void> | undefined {
    if (!this.corked && !this.stream.socket.destroyed) {
      this.corked = true;
      this.stream.socket.cork();
      process.nextTick(flushSession, this);
    }
    return this.stream.write(chunk);
  }

  /** Sends what the cork holds now. */
  flush(): void {
    if (!this.corked) return;
    this.corked = false;
    this.stream.socket.uncork();
  }

  /**
   * Hands the connection over (after a 101 or a CONNECT 2xx): the socket and the bytes the peer
   * already sent past the head. The session reads nothing more.
   */
  takeOver(): { socket: Socket; head: Buffer } {
    this.flush();
    this.reader.detach();
    return { socket: this.stream.socket, head: this.reader.takeLeftover() ?? Buffer.alloc(0) };
  }
}
