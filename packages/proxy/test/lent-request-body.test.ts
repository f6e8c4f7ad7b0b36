// Request bodies passed on in the downstream connection's own read buffers (no copy): every byte of an
// upload must reach the origin as the client sent it, with many uploads in flight, origins that read
// slowly (so the proxy's writes upstream are taken in part while the client's next bytes are read into
// other buffers), retries that replay the first bytes, early answers and clients that leave.
import { createHash } from 'node:crypto';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Agent, request } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { connect } from 'node:net';
import { HttpPeer, Stream } from '@sluice/core';
import { bodyOf, collect, sha } from './helpers/bodies.js';
import { startH2Origin } from './helpers/h2.js';
import { peerOf, startOrigin, startProxy, startRawOrigin, type Origin, type RunningProxy } from './helpers/net.js';

// Larger than the kernel's socket buffers can hold while the origin waits, so writes back up.
const SIZE = 8 * 1024 * 1024 + 12345;

interface Ctx {
  origin: Origin;
  proxy: RunningProxy;
  agent: Agent;
}

const upload = suite<Ctx>('request bodies lent from the downstream read buffers');
upload.before(async (ctx) => {
  // Answers with the SHA-256 and length of the body it read; `/slow` reads in fits and starts, `/early`
  // answers 413 after the first bytes without reading the rest.
  ctx.origin = await startOrigin((req, res) => {
    if (req.url === '/early') {
      req.once('data', () => res.writeHead(413, { 'content-length': '0' }).end());
      return;
    }
    collect(req, req.url === '/slow', { firstMs: 150, everyMs: 10 }).then(
      (body) => res.writeHead(200, { 'content-type': 'text/plain' }).end(`${body.length} ${sha(body)}`),
      () => {}, // the client left mid-upload: nobody to answer
    );
  });
  const peer = new HttpPeer(`127.0.0.1:${ctx.origin.port}`);
  ctx.proxy = await startProxy({ newCtx: () => null, upstreamPeer: () => peer });
  ctx.agent = new Agent({ keepAlive: true, maxSockets: 12 });
});
upload.after(async (ctx) => {
  ctx.agent.destroy();
  await ctx.proxy.close();
  await ctx.origin.close();
});

/**
 * POSTs `body` to `port` in pieces of changing sizes (so reads at the proxy end at changing places) or
 * of `pieceSize`, `gapMs` apart if set, framed by Content-Length or chunked; resolves with the status
 * and the answer's text.
 */
function post(port: number, path: string, body: Buffer, options: { agent: Agent | false; chunked?: boolean; gapMs?: number; pieceSize?: number }): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = options.chunked ? {} : { 'content-length': String(body.length) };
    const req = request({ host: '127.0.0.1', port, path, method: 'POST', agent: options.agent, headers }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (d: Buffer) => parts.push(d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(parts).toString() }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.setTimeout(30_000, () => req.destroy(new Error('timed out')));
    let at = 0;
    let step = 0;
    const pump = async (): Promise<void> => {
      while (at < body.length) {
        const size = options.pieceSize ?? [1000, 70_000, 5_555, 131_072, 64 * 1024][step++ % 5];
        const piece = body.subarray(at, at + size);
        at += piece.length;
        if (options.gapMs !== undefined) await sleep(options.gapMs);
        if (!req.write(piece)) await new Promise((r) => req.once('drain', r));
      }
      req.end();
    };
    pump().catch(reject);
  });
}

const expected = (body: Buffer): string => `${body.length} ${sha(body)}`;

for (const chunked of [false, true]) {
  const framing = chunked ? 'chunked' : 'length';
  upload(`12 uploads of 8 MiB at once (${framing}), half to slow origins, twice over kept-alive connections: all intact`, async (ctx) => {
    const bodies = Array.from({ length: 12 }, (_, i) => bodyOf(i + 1 + (chunked ? 50 : 0), SIZE));
    for (let round = 0; round < 2; round++) {
      const results = await Promise.all(bodies.map((body, i) => post(ctx.proxy.port, i % 2 === 0 ? '/slow' : '/', body, { agent: ctx.agent, chunked })));
      results.forEach((r, i) => {
        assert.is(r.status, 200);
        assert.is(r.text, expected(bodies[i]), `upload ${i + 1} (${framing}, round ${round + 1}) arrived as sent`);
      });
    }
  });
}

upload('one kept-alive connection, large and small uploads in turn: all intact', async (ctx) => {
  const one = new Agent({ keepAlive: true, maxSockets: 1 });
  try {
    const sizes = [SIZE, 1000, 40_000, 2 * 1024 * 1024, 10, 300_000, 5, SIZE];
    for (const [i, size] of sizes.entries()) {
      const body = bodyOf(200 + i, size);
      const r = await post(ctx.proxy.port, i % 3 === 0 ? '/slow' : '/', body, { agent: one, chunked: i % 2 === 1 });
      assert.is(r.text, expected(body), `upload ${i} (${size} bytes) arrived as sent`);
    }
  } finally {
    one.destroy();
  }
});

upload('early answers to large uploads and clients that leave mid-upload: the proxy goes on, later uploads intact', async (ctx) => {
  // The origin answers 413 after the first bytes: the client gets the 413 (or, still sending, a closed connection).
  const early = await Promise.allSettled([1, 2, 3, 4].map((i) => post(ctx.proxy.port, '/early', bodyOf(300 + i, SIZE), { agent: false })));
  for (const r of early) if (r.status === 'fulfilled') assert.is(r.value.status, 413);
  // Clients that reset their connection after sending 1 MiB of an 8 MiB body.
  await Promise.all(
    [5, 6, 7, 8].map(
      (i) =>
        new Promise<void>((resolve) => {
          const req = request({ host: '127.0.0.1', port: ctx.proxy.port, path: i % 2 ? '/slow' : '/', method: 'POST', agent: false, headers: { 'content-length': String(SIZE) } });
          req.on('error', () => {});
          req.on('close', () => resolve());
          req.write(bodyOf(300 + i, 1024 * 1024), () => setTimeout(() => req.destroy(), 20));
        }),
    ),
  );
  const bodies = [9, 10, 11, 12].map((i) => bodyOf(300 + i, SIZE));
  const results = await Promise.all(bodies.map((body, i) => post(ctx.proxy.port, i % 2 ? '/slow' : '/', body, { agent: ctx.agent, chunked: i > 1 })));
  results.forEach((r, i) => assert.is(r.text, expected(bodies[i]), `upload ${i + 9} after the early answers and aborts`));
});

upload.run();

// ---------------------------------------------------------------------------------------------------
// Each case below runs a proxy of its own in front of an origin of its own.
const own = suite<{ proxies: RunningProxy[] }>('uploads through proxies of their own');
own.before((ctx) => void (ctx.proxies = []));
own.after(async (ctx) => {
  for (const p of ctx.proxies) await p.close();
});

own('a reused connection that dies after taking a body sent in pieces: the retry replays it intact', async (ctx) => {
  // Answers the first request on each connection; on the second, reads the whole body, then drops
  // the connection without a word. By then the body's lent pieces were given back and their buffers
  // read into again: the replay must come from copies.
  const flaky = await startRawOrigin(
    (socket, n) => {
      if (n === 0) socket.write('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfirst');
      else socket.destroy();
    },
    { afterBody: true },
  );
  const fresh = await startOrigin((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (d: Buffer) => parts.push(d));
    req.on('end', () => res.writeHead(200, { connection: 'close' }).end(expected(Buffer.concat(parts))));
  });
  try {
    let pick = 0;
    let reusedSeen = 0;
    const p = await startProxy({
      newCtx: () => null,
      upstreamPeer: () => (pick++ < 2 ? peerOf(flaky.port) : peerOf(fresh.port, { readTimeoutMs: 5000 })),
      connectedToUpstream: (_s, reused) => void (reusedSeen += reused ? 1 : 0),
    });
    ctx.proxies.push(p);
    const one = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const warm = await post(p.port, '/', Buffer.from('hi'), { agent: one });
      assert.is(warm.text, 'first');
      // Under the 64 KiB retry buffer, in pieces far apart: each is its own read at the proxy.
      const body = bodyOf(400, 60 * 1024);
      const r = await post(p.port, '/', body, { agent: one, gapMs: 15, pieceSize: 8 * 1024 });
      assert.is(r.status, 200);
      assert.is(r.text, expected(body), 'the whole body, replayed as sent');
      assert.is(reusedSeen, 1, 'the upload went out on the pooled connection first');
    } finally {
      one.destroy();
    }
  } finally {
    await flaky.close();
    await fresh.close();
  }
});

own('an origin that fails mid-upload: the 502 keeps the connection, and the drained body gives every lent piece back', async (ctx) => {
  // Counts the pieces lent from own read buffers and those given back, in this process (the proxy's).
  let lent = 0;
  let givenBack = 0;
  const retain = Stream.prototype.retain;
  const release = Stream.prototype.release;
  Stream.prototype.retain = function (this: Stream, view: Buffer): Buffer {
    const kept = retain.call(this, view);
    if (this.owns(kept)) lent++;
    return kept;
  };
  Stream.prototype.release = function (this: Stream, view: Buffer): void {
    if (this.owns(view)) givenBack++;
    release.call(this, view);
  };
  const failing = await startRawOrigin((socket) => void setTimeout(() => socket.destroy(), 30));
  try {
    const p = await startProxy({ newCtx: () => null, upstreamPeer: () => peerOf(failing.port) });
    ctx.proxies.push(p);
    const client = connect(p.port, '127.0.0.1');
    client.on('error', () => {});
    let seen = '';
    client.on('data', (d: Buffer) => (seen += d.toString('latin1')));
    await new Promise((r) => client.once('connect', r));
    const chunk = (size: number): string => `${size.toString(16)}\r\n${'x'.repeat(size)}\r\n`;
    for (let i = 1; i <= 3; i++) {
      client.write('POST /up HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n');
      for (let k = 0; k < 3; k++) {
        await sleep(20);
        client.write(chunk(1000));
      }
      for (let t = 0; t < 100 && (seen.match(/ 502 /g)?.length ?? 0) < i; t++) await sleep(10);
      assert.is(seen.match(/ 502 /g)?.length, i, 'the failed upload is answered 502');
      assert.not.match(seen, /connection: close/i, 'and the connection is kept');
      // The rest of the body comes in one read: twenty chunks and the last-chunk.
      client.write(Array.from({ length: 20 }, () => chunk(100)).join('') + '0\r\n\r\n');
      await sleep(50);
    }
    assert.ok(lent > 0, 'pieces were lent');
    assert.ok(!client.destroyed, 'the connection lives on');
    assert.is(givenBack, lent, `every lent piece was given back while the connection lives (${givenBack} of ${lent})`);
    client.destroy();
  } finally {
    Stream.prototype.retain = retain;
    Stream.prototype.release = release;
    await failing.close();
  }
});

own('an origin that stops reading an upload: the write timeout ends it (no read timeout set), the client gets an answer', async (ctx) => {
  // Takes the head, then never reads nor answers: the proxy's writes upstream back up for good.
  const deaf = await startRawOrigin((socket) => void socket.pause());
  try {
    const p = await startProxy({ newCtx: () => null, upstreamPeer: () => peerOf(deaf.port, { writeTimeoutMs: 300 }) });
    ctx.proxies.push(p);
    const bound = sleep(15_000).then(() => ({ status: -1, text: 'no answer within 15 s' }));
    const r = await Promise.race([post(p.port, '/', bodyOf(500, 4 * SIZE), { agent: false, pieceSize: 8192, gapMs: 1 }).catch((e: Error) => ({ status: 0, text: e.message })), bound]);
    assert.ok(r.status >= 500 || r.status === 0, `answered (or closed) once the write timed out: ${r.status} ${r.text}`);
  } finally {
    await deaf.close();
  }
});

own('an 8 MiB upload over HTTP/1 to an h2c origin (sent as copies) arrives intact, twice on one connection', async (ctx) => {
  const origin = await startH2Origin((req, res) => {
    const hash = createHash('sha256');
    let length = 0;
    req.on('data', (d: Buffer) => {
      hash.update(d);
      length += d.length;
    });
    req.on('end', () => res.end(`${length} ${hash.digest('hex')}`));
  });
  const one = new Agent({ keepAlive: true, maxSockets: 1 });
  try {
    const p = await startProxy({ newCtx: () => null, upstreamPeer: () => peerOf(origin.port, { alpn: 'h2' }) });
    ctx.proxies.push(p);
    for (const [i, chunked] of [false, true].entries()) {
      const body = bodyOf(600 + i, SIZE);
      const r = await post(p.port, '/', body, { agent: one, chunked });
      assert.is(r.text, expected(body), `upload ${i} arrived as sent`);
    }
  } finally {
    one.destroy();
    await origin.close();
  }
});

own.run();
