// A request the proxy makes on its own behalf, with no client waiting (Pingora's subrequest): the
// background refresh of stale-while-revalidate runs through the same phases as the request that
// triggered it, and whatever it would answer is dropped (the cache keeps the response).
import type { Socket } from 'node:net';
import { SluiceError } from '@sluice/core';
import type { Digest, HeaderMap, RequestHeader, ResponseHeader, SocketAddress } from '@sluice/core';
import type { DownstreamSession } from './session.js';

/** A downstream session without a client: a copy of the parent's request, no body, answers discarded. */
export class SubrequestSession implements DownstreamSession {
  readonly request: RequestHeader;
  readonly hasRequestBody = false;
  readonly isUpgradeRequest = false;
  readonly requestTrailers: HeaderMap | null = null;
  readonly requestBodyDone = true;
  readonly keepalive = false;
  private readonly parent: DownstreamSession;
  private headSent = false;
  private sent = 0;
  responseStatus = 0;

  /** @param request the subrequest's head (a copy: the parent's stays as it is). */
  constructor(parent: DownstreamSession, request: RequestHeader) {
    this.parent = parent;
    this.request = request;
  }

  get responseWritten(): boolean {
    return this.headSent;
  }

  readRequestBody(): Promise<Buffer | null> {
    return Promise.resolve(null);
  }

  readBodyChunk(): Promise<Buffer | null> {
    return Promise.resolve(null);
  }

  respondError(status: number): Promise<void> {
    this.headSent = true;
    this.responseStatus = status;
    return Promise.resolve();
  }

  writeResponseHeader(response: ResponseHeader): undefined {
    if (response.status >= 200) {
      this.headSent = true;
      this.responseStatus = response.status;
    }
    return undefined;
  }

  writeResponseBody(data: Buffer | null): undefined {
    if (data !== null) this.sent += data.length;
    return undefined;
  }

  writeResponseTrailers(_trailers: HeaderMap): undefined {
    return undefined;
  }

  finishResponse(_trailers: HeaderMap | null): undefined {
    return undefined;
  }

  corkResponse(): void {}

  abort(): void {}

  setKeepalive(_enabled: boolean): void {}

  takeOver(): { socket: Socket; head: Buffer } {
    throw new SluiceError('InternalError', { code: 'ERR_PROXY_SUBREQUEST_UPGRADE', context: 'a subrequest cannot switch protocols' });
  }

  bodyBytesRead(): number {
    return 0;
  }

  bodyBytesSent(): number {
    return this.sent;
  }

  clientAddr(): SocketAddress | undefined {
    return this.parent.clientAddr();
  }

  serverAddr(): SocketAddress | undefined {
    return this.parent.serverAddr();
  }

  digest(): Digest {
    return this.parent.digest();
  }

  isHttp2(): boolean {
    return false;
  }
}
