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
  /** 1xx heads received before the final one. */
  readonly informational: ResponseHeader[] = [];
  private readonly readTimeoutMs: number | undefined;
  private bytesRead = 0;

  constructor(stream: Http2ClientStream, readTimeoutMs: number | undefined) {
    this.stream = stream;
    this.readTimeoutMs = readTimeoutMs;
  }

  writeBody(chunk: Buffer): Promise<void> | undefined {
    return this.stream.writeBody(chunk);
  }

  finishBody(trailers: HeaderMap | null): Promise<void> | undefined {
    if (this.stream.localEnded || this.stream.closed) return undefined;
    return this.stream.finishRequest(trailers);
  }

  async readResponse(): Promise<ResponseHeader> {
    let res: ResponseHeader;
    try {
      res = await this.bounded(this.stream.readResponseHeader(), 'the response head');
    } catch (e) {
      throw upstreamError(e, 'reading the response head');
    }
    const info = this.stream.informational;
    if (info !== null) {
      for (const fields of info) {
        const head = new ResponseHeader(Number(fields[1]), '2');
        for (let i = 2; i < fields.length; i += 2) head.headers.appendUnchecked(fields[i], fields[i + 1]);
        this.informational.push(head);
      }
    }
    return res;
  }

  async readBodyChunk(): Promise<Buffer | null> {
    let chunk: Buffer | null;
    try {
      chunk = await this.bounded(this.stream.readBodyChunk(), 'the response body');
    } catch (e) {
      throw upstreamError(e, 'reading the response body');
    }
    if (chunk !== null) this.bytesRead += chunk.length;
    return chunk;
  }

  /** The response trailers, once the body was read to its end (gRPC's status travels here). */
  get trailers(): HeaderMap | null {
    return this.stream.responseTrailers;
  }

  bodyBytesRead(): number {
    return this.bytesRead;
  }

  /** Resets the stream unless it already ended both ways (the connection stays for other streams). */
  close(): void {
    if (!this.stream.closed) this.stream.reset(ErrorCode.CANCEL);
  }

  /** The same as {@link close}: a pending read fails with the reset. */
  destroy(): void {
    this.close();
  }

  /** `read`, failed with ReadTimedout when nothing arrives within the peer's read timeout. */
  private bounded<T>(read: Promise<T>, what: string): Promise<T> {
    const ms = this.readTimeoutMs;
    if (ms === undefined || ms <= 0) return read;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.stream.reset(ErrorCode.CANCEL);
        reject(new SluiceError('ReadTimedout', { context: `no data for ${what} of stream ${this.stream.id} within ${ms} ms` }).intoUp());
      }, ms);
      read.then(
        (v) => {
          clearTimeout(timer);
          resolve(v);
        },
        (e: unknown) => {
          clearTimeout(timer);
          reject(e);
        },
      );
    });
  }
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
