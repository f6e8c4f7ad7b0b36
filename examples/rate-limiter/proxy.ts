// Per-client rate limiting in a proxy, Pingora's rate limiter example on ProxyHttp: `requestFilter`
// counts the request under its client's key in a `Rate`; over the limit it answers 429 itself with
// the X-Rate-Limit-* headers, and nothing goes upstream. Requests let through carry the same headers.
import { type HttpPeer, ResponseHeader } from '@sluice/core';
import { Rate } from '@sluice/limits';
import type { ProxyHttp, Session } from '@sluice/proxy';

/** What the filter decided for a request, kept for `responseFilter`. */
export interface LimitCtx {
  remaining: number;
  resetSeconds: number;
}

export interface RateLimitProxyOptions {
  /** Requests a client may make per interval; default 1, as Pingora's example. */
  limit?: number;
  /** The counting intervals; default a `Rate` of 1 s. Pass one with a fake clock in tests. */
  rate?: Rate;
}

/** The client's key: its `appid` header as in Pingora's example, else its address. */
export function sessionClientKey(session: Session): string {
  const appid = session.request.header('appid');
  if (appid !== undefined && appid !== '') return `appid:${appid}`;
  const addr = session.clientAddr();
  return `addr:${addr ? addr.address : 'unknown'}`;
}

/** A proxy to `upstream` that limits each client to `limit` requests per interval. */
export class RateLimitProxy implements ProxyHttp<LimitCtx> {
  readonly limit: number;
  readonly rate: Rate;

  constructor(
    private readonly upstream: HttpPeer,
    options: RateLimitProxyOptions = {},
  ) {
    this.limit = options.limit ?? 1;
    this.rate = options.rate ?? new Rate(1000);
  }

  newCtx(): LimitCtx {
    return { remaining: 0, resetSeconds: 0 };
  }

  async requestFilter(session: Session, ctx: LimitCtx): Promise<boolean> {
    const seen = this.rate.observe(sessionClientKey(session), 1);
    ctx.remaining = Math.max(0, this.limit - seen);
    // Seconds until the interval ends and the count starts again from zero.
    ctx.resetSeconds = Math.ceil(this.rate.msUntilNextInterval() / 1000);
    if (seen <= this.limit) return false;
    const res = ResponseHeader.build(429);
    this.addLimitHeaders(res, ctx);
    res.insertHeader('Content-Length', 0).insertHeader('Connection', 'close');
    session.setKeepalive(false);
    await session.writeResponseHeader(res);
    await session.writeResponseBody(null, true);
    return true; // answered here; nothing goes upstream
  }

  upstreamPeer(): HttpPeer {
    return this.upstream;
  }

  responseFilter(_session: Session, response: ResponseHeader, ctx: LimitCtx): void {
    this.addLimitHeaders(response, ctx);
  }

  private addLimitHeaders(res: ResponseHeader, ctx: LimitCtx): void {
    res.insertHeader('X-Rate-Limit-Limit', this.limit);
    res.insertHeader('X-Rate-Limit-Remaining', ctx.remaining);
    res.insertHeader('X-Rate-Limit-Reset', ctx.resetSeconds);
  }
}

