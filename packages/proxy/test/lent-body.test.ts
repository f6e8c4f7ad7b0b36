// Response bodies passed on in the upstream connection's own read buffers (no copy): every byte must
// arrive as the origin sent it, with many responses in flight at once and clients that read slowly
// (so writes to them are taken in part and a lent buffer stays in use while others are read into).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Agent, get, request } from 'node:http';
import { HttpPeer } from '@sluice/core';
import { bodyOf, collect, sha } from './helpers/bodies.js';
import { startOrigin, startProxy, type Origin, type RunningProxy } from './helpers/net.js';

// Larger than the kernel's socket buffers can hold for a client that waits, so writes back up.
const SIZE = 8 * 1024 * 1024 + 12345;

interface Ctx {
  origin: Origin;
  proxy: RunningProxy;
  bodies: Map<number, Buffer>;
  agent: Agent;
}

const lent = suite<Ctx>('response bodies lent from the upstream read buffers');
lent.before(async (ctx) => {
  ctx.bodies = new Map();
  for (let seed = 1; seed <= 12; seed++) ctx.bodies.set(seed, bodyOf(seed, SIZE));
  ctx.origin = await startOrigin((req, res) => {
    const [, seedText, framing, extra] = (req.url ?? '').split('/');
    if (seedText === 'status') return void res.writeHead(Number(framing), { ETag: '"e"' }).end();
    const body = ctx.bodies.get(Number(seedText)) as Buffer;
    if (extra === 'hints') res.writeEarlyHints({ link: '</style.css>; rel=preload; as=style' });
    if (framing === 'length') res.setHeader('Content-Length', String(body.length));
    if (req.method === 'HEAD') return void res.end();
    // Pieces of changing sizes, so reads at the proxy end at changing places (and chunk boundaries).
    let at = 0;
    let step = 0;
    const pump = (): void => {
      while (at < body.length) {
        const size = [1000, 70_000, 5_555, 131_072, 64 * 1024][step++ % 5];
        const piece = body.subarray(at, at + size);
        at += piece.length;
        if (!res.write(piece)) return void res.once('drain', pump);
      }
      res.end();
    };
    pump();
  });
  const peer = new HttpPeer(`127.0.0.1:${ctx.origin.port}`);
  ctx.proxy = await startProxy({ newCtx: () => null, upstreamPeer: () => peer });
  ctx.agent = new Agent({ keepAlive: true, maxSockets: 12 });
});
lent.after(async (ctx) => {
  ctx.agent.destroy();
  await ctx.proxy.close();
  await ctx.origin.close();
});

/**
 * One request through the proxy (on `agent`, by default the suite's kept-alive one): its status,
 * Content-Length and body, read slowly when `slow` (then the proxy's writes to it back up).
 */
function fetchBody(ctx: Ctx, path: string, options: { slow?: boolean; agent?: Agent; method?: string } = {}): Promise<{ status: number; body: Buffer; length: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: ctx.proxy.port, path, method: options.method ?? 'GET', agent: options.agent ?? ctx.agent }, (res) => {
      collect(res, options.slow === true).then((body) => resolve({ status: res.statusCode ?? 0, body, length: res.headers['content-length'] }), reject);
    });
    req.on('error', reject);
    req.setTimeout(30_000, () => req.destroy(new Error('timed out')));
    req.end();
  });
}

for (const framing of ['length', 'chunked']) {
  lent(`12 bodies of 8 MiB at once (${framing}), half to slow readers, twice over kept-alive connections: all intact`, async (ctx) => {
    for (let round = 0; round < 2; round++) {
      const results = await Promise.all([...ctx.bodies.keys()].map((seed) => fetchBody(ctx, `/${seed}/${framing}`, { slow: seed % 2 === 0 })));
      results.forEach((r, i) => {
        const seed = i + 1;
        assert.is(r.status, 200);
        assert.is(r.body.length, SIZE, `body ${seed} length`);
        assert.is(sha(r.body), sha(ctx.bodies.get(seed) as Buffer), `body ${seed} (${framing}, round ${round + 1}) arrived as sent`);
      });
    }
  });
}

lent('one kept-alive connection, large and small responses in turn (the small ones arrive whole in a lent buffer): all intact', async (ctx) => {
  const one = new Agent({ keepAlive: true, maxSockets: 1 });
  try {
    const sizes = [SIZE, 1000, 40_000, 2 * 1024 * 1024, 10, 0, 300_000, 5];
    for (const [i, size] of sizes.entries()) {
      const seed = 100 + i;
      ctx.bodies.set(seed, bodyOf(seed, size));
      const r = await fetchBody(ctx, `/${seed}/${i % 2 === 0 ? 'length' : 'chunked'}`, { agent: one });
      assert.is(r.status, 200);
      assert.is(sha(r.body), sha(ctx.bodies.get(seed) as Buffer), `response ${i} (${size} bytes) arrived as sent`);
    }
  } finally {
    one.destroy();
  }
});

lent('after a large body, a 103, HEAD, 204 and 304 on the same connection, then large bodies again: all as sent', async (ctx) => {
  const one = new Agent({ keepAlive: true, maxSockets: 1 });
  try {
    const big = ctx.bodies.get(1) as Buffer;
    assert.is(sha((await fetchBody(ctx, '/1/length', { agent: one })).body), sha(big));
    // A 103 before a large body: the body still arrives whole.
    assert.is(sha((await fetchBody(ctx, '/2/chunked/hints', { agent: one })).body), sha(ctx.bodies.get(2) as Buffer));
    const head = await fetchBody(ctx, '/3/length', { agent: one, method: 'HEAD' });
    assert.is(head.status, 200);
    assert.is(head.body.length, 0);
    assert.is(head.length, String(SIZE));
    assert.is((await fetchBody(ctx, '/status/204', { agent: one })).status, 204);
    assert.is((await fetchBody(ctx, '/status/304', { agent: one })).status, 304);
    assert.is(sha((await fetchBody(ctx, '/4/length', { agent: one })).body), sha(ctx.bodies.get(4) as Buffer));
    assert.is(sha((await fetchBody(ctx, '/5/chunked', { agent: one })).body), sha(ctx.bodies.get(5) as Buffer));
  } finally {
    one.destroy();
  }
});

lent('clients that leave in the middle of lent bodies: the proxy goes on, later bodies intact', async (ctx) => {
  // Each client reads a little, then resets its connection while the body is still streaming.
  await Promise.all(
    [6, 7, 8, 9].map(
      (seed) =>
        new Promise<void>((resolve) => {
          const req = get({ host: '127.0.0.1', port: ctx.proxy.port, path: `/${seed}/${seed % 2 ? 'length' : 'chunked'}`, agent: false }, (res) => {
            let n = 0;
            res.on('data', (d: Buffer) => {
              n += d.length;
              if (n > 512 * 1024) req.destroy();
            });
            res.on('error', () => {});
          });
          req.on('error', () => {});
          req.on('close', () => resolve());
        }),
    ),
  );
  const results = await Promise.all([6, 7, 8, 9].map((seed) => fetchBody(ctx, `/${seed}/length`, { slow: seed % 2 === 0 })));
  results.forEach((r, i) => assert.is(sha(r.body), sha(ctx.bodies.get(6 + i) as Buffer), `body ${6 + i} after the aborts`));
});

lent.run();
