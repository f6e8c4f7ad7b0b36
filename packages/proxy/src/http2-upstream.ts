import { HeaderMap, ResponseHeader, SluiceError } from '@sluice/core';
import { ErrorCode, Http2Error, type Http2ClientStream } from '@sluice/http2';

/**
 * One request to an HTTP/2 upstream, seen through the same calls the engine makes on an HTTP/1
 * client session: write the body, read the response head, body and trailers. Errors become
 * upstream `SluiceError`s; a stream the server never processed (GOAWAY past it, REFUSED_STREAM) is
 * marked retryable on any connection (RFC 9113 §8.7).
 */
export class Http2Upstream {
  readonly stream: Http2ClientStream;
  private readonly readTimeoutMs: number;
  private bytesRead = 0;
  // One timer per exchange, refreshed per read: it fires only while a read is waiting.
  private timer: NodeJS.Timeout | undefined;
  private reading = false;
  private timedOut = false;

  constructor(stream: Http2ClientStream, readTimeoutMs: number | undefined) {
    this.stream = stream;
    this.readTimeoutMs = readTimeoutMs ?? 0;
  }

  writeBody(chunk: Buffer): Promise<void> | undefined {
    return this.stream.writeBody(chunk);
  }

  finishBody(trailers: HeaderMap | null): Promise<void> | undefined {
    if (this.stream.localEnded || this.stream.closed) return undefined;
    return this.stream.finishRequest(trailers);
  }

  /** The next response head as it arrives, 1xx included (each once). */
  async readResponseHead(): Promise<ResponseHeader> {
    this.arm();
    try {
      return await this.stream.readNextResponseHeader();
    } catch (e) {
      throw this.readError(e, 'the response head');
    } finally {
      this.reading = false;
    }
  }

  async readBodyChunk(): Promise<Buffer | null> {
    let chunk: Buffer | null;
    this.arm();
    try {
      chunk = await this.stream.readBodyChunk();
    } catch (e) {
      throw this.readError(e, 'the response body');
    } finally {
      this.reading = false;
    }
    if (chunk !== null) this.bytesRead += chunk.length;
    else this.stopTimer();
    return chunk;
  }

  /** The response trailers, once the body was read to its end (gRPC's status travels here). */
  get trailers(): HeaderMap | null {
    return this.stream.responseTrailers;
  }

  bodyBytesRead(): number {
    return this.bytesRead;
  }

  /** Resets the stream unless it already ended both ways (the connection stays for other streams); a pending read fails. */
  close(): void {
    this.stopTimer();
    if (!this.stream.closed) this.stream.reset(ErrorCode.CANCEL);
  }

  private arm(): void {
    if (this.readTimeoutMs <= 0) return;
    this.reading = true;
    if (this.timer === undefined) this.timer = setTimeout(onReadTimeout, this.readTimeoutMs, this);
    else this.timer.refresh();
  }

  private stopTimer(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** @internal The read timeout passed: a waiting read fails (the stream is reset, CANCEL). */
  expire(): void {
    if (!this.reading) return;
    this.timedOut = true;
    this.stream.reset(ErrorCode.CANCEL);
  }

  private readError(e: unknown, what: string): SluiceError {
    if (this.timedOut) return new SluiceError('ReadTimedout', { context: `no data for ${what} of upstream stream ${this.stream.id} within ${this.readTimeoutMs} ms` }).intoUp();
    return upstreamError(e, `reading ${what}`);
  }
}

function onReadTimeout(upstream: Http2Upstream): void {
  upstream.expire();
}

/** Types an HTTP/2 client failure as the upstream's; unprocessed streams may be retried anywhere. */
export function upstreamError(e: unknown, what: string): SluiceError {
  if (e instanceof SluiceError) {
    if (e.source === 'Unset') e.intoUp();
    return e;
  }
  const error = SluiceError.because('ReadError', what, e).intoUp();
  // REFUSED_STREAM and a GOAWAY whose last stream id is below ours both say "not processed".
  if (e instanceof Http2Error && (e.code === 'ERR_H2_GOAWAY' || e.code === 'ERR_H2_NO_STREAMS' || e.errorCode === ErrorCode.REFUSED_STREAM)) error.setRetry(true);
  return error;
}
