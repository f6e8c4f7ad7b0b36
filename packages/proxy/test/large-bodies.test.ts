// 100 MB streamed each way through a proxy in its own process; its peak RSS stays bounded.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { fork, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { once } from 'node:events';
import { startOrigin } from './helpers/net.js';
import type { Origin } from './helpers/net.js';

const SIZE = 100 * 1024 * 1024;
const PIECE = Buffer.alloc(64 * 1024, 'S');

interface Ctx {
  origin: Origin;
  child: ChildProcess;
  port: number;
  baseline: number;
}

function ask<T>(child: ChildProcess, message: string): Promise<T> {
  const reply = once(child, 'message') as Promise<[T]>;
  child.send(message);
  return reply.then(([m]) => m);
}

const big = suite<Ctx>('100 MB bodies with bounded memory');
big.before(async (ctx) => {
  ctx.origin = await startOrigin((req, res) => {
    if (req.method === 'POST') {
      const hash = createHash('sha256');
      let n = 0;
      req.on('data', (d: Buffer) => {
        n += d.length;
        hash.update(d);
      });
      req.on('end', () => res.end(JSON.stringify({ n, sha: hash.digest('hex') })));
      return;
    }
    // Download: 100 MB written with backpressure, unknown length (chunked).
    let sent = 0;
    const pump = () => {
      while (sent < SIZE) {
        sent += PIECE.length;
        if (!res.write(PIECE)) return void res.once('drain', pump);
      }
      res.end();
    };
    pump();
  });
  ctx.child = fork(new URL('./helpers/proxy-child.ts', import.meta.url).pathname, [String(ctx.origin.port)], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const [hello] = (await once(ctx.child, 'message')) as [{ port: number; baseline: number }];
  ctx.port = hello.port;
  ctx.baseline = hello.baseline;
});
big.after(async (ctx) => {
  if (ctx.child.connected) {
    ctx.child.send('stop');
    await once(ctx.child, 'exit');
  }
  await ctx.origin.close();
});

big('upload 100 MB: every byte arrives, in order', async (ctx) => {
  const expected = createHash('sha256');
  const reply = await new Promise<string>((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port: ctx.port, method: 'POST', path: '/up', headers: { 'Content-Length': String(SIZE) } }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve(body));
    });
    req.on('error', reject);
    let sent = 0;
    const pump = () => {
      while (sent < SIZE) {
        sent += PIECE.length;
        expected.update(PIECE);
        if (!req.write(PIECE)) return void req.once('drain', pump);
      }
      req.end();
    };
    pump();
  });
  assert.equal(JSON.parse(reply), { n: SIZE, sha: expected.digest('hex') });
});

big('download 100 MB: every byte arrives', async (ctx) => {
  const n = await new Promise<number>((resolve, reject) => {
    httpRequest({ host: '127.0.0.1', port: ctx.port, path: '/down' }, (res) => {
      let got = 0;
      res.on('data', (d: Buffer) => (got += d.length));
      res.on('end', () => resolve(res.complete ? got : -1));
    })
      .on('error', reject)
      .end();
  });
  assert.is(n, SIZE);
});

big('the proxy process grew by far less than a body', async (ctx) => {
  const { peak, baseline } = await ask<{ peak: number; baseline: number }>(ctx.child, 'rss');
  const grownMb = (peak - baseline) / 1048576;
  console.log(`NOTICE proxy RSS: baseline ${(baseline / 1048576).toFixed(1)} MB, peak ${(peak / 1048576).toFixed(1)} MB over 2 x 100 MB streamed`);
  assert.ok(grownMb < 64, `peak RSS grew ${grownMb.toFixed(1)} MB`);
});

big.run();
