// Per-client rate limiting with @sluice/limits, the pattern of Pingora's rate limiter example:
// count each request in a `Rate` under the client's key; over the limit, answer 429 with the
// X-Rate-Limit-* headers instead of doing the work.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { Rate } from '@sluice/limits';

export interface RateLimiterOptions {
  /** Requests a client may make per interval; default 1, as Pingora's example. */
  limit?: number;
  /** The counting intervals; default a `Rate` of 1 s. Pass one with a fake clock in tests. */
  rate?: Rate;
  /** What a request that is let through gets; default 200 "ok". */
  handle?: (request: IncomingMessage, response: ServerResponse) => void;
}

/** The client's key: its `appid` header as in Pingora's example, else its address. */
export function clientKey(request: IncomingMessage): string {
  const appid = request.headers['appid'];
  if (typeof appid === 'string' && appid !== '') return `appid:${appid}`;
  return `addr:${request.socket.remoteAddress ?? 'unknown'}`;
}

/**
 * Counts the request under its client's key and, if that client is over `limit` in the current
 * interval, answers 429 itself and returns true; otherwise sets the headers and returns false.
 */
export function limitRequest(rate: Rate, limit: number, request: IncomingMessage, response: ServerResponse): boolean {
  const seen = rate.observe(clientKey(request), 1);
  // Seconds until the interval ends and the count starts again from zero.
  const reset = Math.ceil(rate.msUntilNextInterval() / 1000);
  response.setHeader('X-Rate-Limit-Limit', limit);
  response.setHeader('X-Rate-Limit-Remaining', Math.max(0, limit - seen));
  response.setHeader('X-Rate-Limit-Reset', reset);
  if (seen <= limit) return false;
  response.writeHead(429, { 'Content-Type': 'text/plain', Connection: 'close' });
  response.end('too many requests\n');
  return true;
}

/** A plain node:http server that rate-limits every request per client before answering it. */
export function createRateLimitedServer(options: RateLimiterOptions = {}): Server {
  const limit = options.limit ?? 1;
  const rate = options.rate ?? new Rate(1000);
  const handle =
    options.handle ??
    ((_request: IncomingMessage, response: ServerResponse) => {
      response.writeHead(200, { 'Content-Type': 'text/plain' });
      response.end('ok\n');
    });
  return createServer((request, response) => {
    if (!limitRequest(rate, limit, request, response)) handle(request, response);
  });
}
