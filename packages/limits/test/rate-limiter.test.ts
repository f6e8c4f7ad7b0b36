import { request as httpRequest, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createRateLimitedServer } from '../../../examples/rate-limiter/app.js';
// The example imports the built package; so does this test (a package may import itself by name).
import { Rate } from '@sluice/limits';

// The example of examples/rate-limiter, served over a real socket, with a clock the test moves.
const clock = { ms: 10_000 };
const limiter = suite('rate limiter example (429 with X-Rate-Limit-* headers)');
let server: Server;
let port = 0;

interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

function get(headers: Record<string, string> = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path: '/', headers, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.setTimeout(5000, () => req.destroy(new Error('no answer within 5 s')));
    req.on('error', reject);
    req.end();
  });
}

limiter.before(async () => {
  server = createRateLimitedServer({ limit: 3, rate: new Rate(1000, { now: () => clock.ms }) });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});

limiter.after(async () => {
  await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
});

limiter('requests within the limit pass with the remaining count', async () => {
  for (let i = 1; i <= 3; i++) {
    const reply = await get({ appid: 'alpha' });
    assert.is(reply.status, 200);
    assert.is(reply.body, 'ok\n');
    assert.is(reply.headers['x-rate-limit-limit'], '3');
    assert.is(reply.headers['x-rate-limit-remaining'], String(3 - i));
    assert.is(reply.headers['x-rate-limit-reset'], '1');
  }
});

limiter('over the limit: 429, Remaining 0, Reset in seconds, connection closed', async () => {
  clock.ms = 10_400;
  const reply = await get({ appid: 'alpha' });
  assert.is(reply.status, 429);
  assert.is(reply.headers['x-rate-limit-limit'], '3');
  assert.is(reply.headers['x-rate-limit-remaining'], '0');
  assert.is(reply.headers['x-rate-limit-reset'], '1');
  assert.is(reply.headers.connection, 'close');
  assert.is(reply.body, 'too many requests\n');
});

limiter('other clients have their own budget; no appid falls back to the address', async () => {
  const other = await get({ appid: 'beta' });
  assert.is(other.status, 200);
  assert.is(other.headers['x-rate-limit-remaining'], '2');
  for (let i = 0; i < 3; i++) assert.is((await get()).status, 200);
  assert.is((await get()).status, 429);
  assert.is((await get({ appid: 'alpha' })).status, 429);
});

limiter('the next interval lets the client through again', async () => {
  clock.ms = 11_000;
  const reply = await get({ appid: 'alpha' });
  assert.is(reply.status, 200);
  assert.is(reply.headers['x-rate-limit-remaining'], '2');
});

limiter('a long interval announces its reset in whole seconds', async () => {
  const slow = createRateLimitedServer({ limit: 1, rate: new Rate(60_000, { now: () => clock.ms }) });
  await new Promise<void>((resolve) => slow.listen(0, '127.0.0.1', resolve));
  const saved = port;
  port = (slow.address() as AddressInfo).port;
  try {
    clock.ms = 20_500; // the Rate started at 11 000; its interval ends at 71 000, 50.5 s away
    assert.is((await get({ appid: 'x' })).status, 200);
    const reply = await get({ appid: 'x' });
    assert.is(reply.status, 429);
    assert.is(reply.headers['x-rate-limit-reset'], '51');
  } finally {
    port = saved;
    await new Promise<void>((resolve) => slow.close(() => resolve()));
  }
});

limiter.run();
