// examples/rate-limiter/proxy.ts: Pingora's rate limiter as a ProxyHttp, over real sockets, with a
// Rate on a clock the test moves.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Rate } from '@sluice/limits';
import { RateLimitProxy } from '../../../examples/rate-limiter/proxy.js';
import { peerOf, request, startOrigin, startProxy, type Origin, type RunningProxy } from './helpers/net.js';

const limiter = suite<{ origin: Origin; proxy: RunningProxy; clock: { now: number } }>('rate-limiting proxy');

limiter.before(async (ctx) => {
  ctx.clock = { now: 10_000 };
  ctx.origin = await startOrigin((_req, res) => res.end('from origin\n'));
  const rate = new Rate(1000, { now: () => ctx.clock.now });
  ctx.proxy = await startProxy(new RateLimitProxy(peerOf(ctx.origin.port), { limit: 2, rate }));
});
limiter.after(async (ctx) => {
  await ctx.proxy.close();
  await ctx.origin.close();
});

limiter('within the limit: proxied, with the limit headers; over it: 429 from the proxy, origin untouched', async ({ proxy, origin, clock }) => {
  clock.now = 20_250; // a quarter into an interval
  const first = await request(proxy.port, { agent: false, headers: { appid: 'a' } });
  assert.is(first.status, 200);
  assert.is(first.body.toString(), 'from origin\n');
  assert.is(first.headers['x-rate-limit-limit'], '2');
  assert.is(first.headers['x-rate-limit-remaining'], '1');
  assert.is(first.headers['x-rate-limit-reset'], '1');
  const second = await request(proxy.port, { agent: false, headers: { appid: 'a' } });
  assert.is(second.status, 200);
  assert.is(second.headers['x-rate-limit-remaining'], '0');
  const served = origin.connections;
  const third = await request(proxy.port, { agent: false, headers: { appid: 'a' } });
  assert.is(third.status, 429);
  assert.is(third.headers['x-rate-limit-remaining'], '0');
  assert.is(third.headers['x-rate-limit-limit'], '2');
  assert.is(third.headers['connection'], 'close');
  assert.is(origin.connections, served, 'a limited request never reaches the origin');
});

limiter('clients are counted apart, and the next interval starts from zero', async ({ proxy, clock }) => {
  clock.now = 30_100;
  for (let i = 0; i < 2; i++) assert.is((await request(proxy.port, { agent: false, headers: { appid: 'b' } })).status, 200);
  assert.is((await request(proxy.port, { agent: false, headers: { appid: 'b' } })).status, 429);
  assert.is((await request(proxy.port, { agent: false, headers: { appid: 'c' } })).status, 200, 'another appid has its own budget');
  assert.is((await request(proxy.port, { agent: false })).status, 200, 'no appid: keyed by address');
  clock.now = 31_100;
  assert.is((await request(proxy.port, { agent: false, headers: { appid: 'b' } })).status, 200, 'a new interval');
});

limiter.run();
