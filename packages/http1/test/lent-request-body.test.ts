// ServerSession.retainBody: request-body pieces lent from the connection's own read buffers instead of
// copied. Every byte must read as sent while pieces are held; a body left unread and drained gives its
// pieces back; the next request's body is copied again unless it is lent too.
import { createHash, randomBytes } from 'node:crypto';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ResponseHeader, type RequestHeader } from '@sluice/core';
import { exchange, startServer, type TestServer } from './helpers/net.js';
import type { ServerSession } from '../src/index.js';

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/** What the handler saw of one request. */
interface Seen {
  path: string;
  sha: string;
  pieces: number;
  lent: number;
}

interface Ctx {
  srv: TestServer;
  seen: Seen[];
}

/**
 * `/keep`: lends, holds every piece until the body ended. `/release`: lends, gives each piece back once
 * hashed. `/drain`: lends, reads one piece and answers (the rest is drained). `/copy`: does not lend.
 */
async function handler(this: Ctx, session: ServerSession, request: RequestHeader): Promise<void> {
  const path = request.uri;
  if (path !== '/copy') assert.ok(session.retainBody(), 'a plain socket lends');
  const held: Buffer[] = [];
  const hash = createHash('sha256');
  let pieces = 0;
  let lent = 0;
  for (let c = await session.readBodyChunk(); c !== null; c = path === '/drain' ? null : await session.readBodyChunk()) {
    pieces++;
    if (session.isLent(c)) lent++;
    hash.update(c);
    if (path === '/keep') held.push(c);
    else session.releaseBody(c);
  }
  // Held pieces still read as they arrived, all of them together.
  const digest = path === '/keep' ? sha(Buffer.concat(held)) : hash.digest('hex');
  for (const c of held) session.releaseBody(c);
  this.seen.push({ path, sha: digest, pieces, lent });
  await session.respond(ResponseHeader.build(200), 'ok');
}

const lend = suite<Ctx>('server session lends request bodies');
lend.before(async (ctx) => {
  ctx.seen = [];
  ctx.srv = await startServer(handler.bind(ctx));
});
lend.before.each((ctx) => void (ctx.seen = []));
lend.after(async (ctx) => ctx.srv.close());

/** A request with `body` as pieces of `size` bytes (each its own read, with gaps between). */
function requestPieces(path: string, body: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [Buffer.from(`POST ${path} HTTP/1.1\r\nHost: t\r\nContent-Length: ${body.length}\r\n\r\n`)];
  for (let at = 0; at < body.length; at += size) out.push(body.subarray(at, at + size));
  return out;
}

lend('pieces held until the body ended read as sent; pieces given back as read are lent', async (ctx) => {
  const a = randomBytes(400_000);
  const b = randomBytes(400_000);
  const r = await exchange(ctx.srv.port, [...requestPieces('/keep', a, 40_000), ...requestPieces('/release', b, 40_000)], { gapMs: 5, boundMs: 1500 });
  assert.is(r.data.match(/HTTP\/1\.1 200/g)?.length, 2);
  const [keep, release] = ctx.seen;
  assert.is(keep.sha, sha(a), 'held pieces were not read into');
  assert.ok(keep.lent >= 1 && keep.lent < keep.pieces, `some pieces lent, the rest copied once every own buffer was held (${keep.lent} of ${keep.pieces})`);
  assert.is(release.sha, sha(b));
  assert.ok(release.lent > release.pieces / 2, `most pieces lent when given back (${release.lent} of ${release.pieces})`);
});

lend('a lent body left unread is drained and its pieces given back: the next body on the connection is lent', async (ctx) => {
  const a = randomBytes(60 * 1024);
  const b = randomBytes(400_000);
  const r = await exchange(ctx.srv.port, [...requestPieces('/drain', a, 6_000), ...requestPieces('/release', b, 40_000)], { gapMs: 5, boundMs: 1500 });
  assert.is(r.data.match(/HTTP\/1\.1 200/g)?.length, 2, 'the connection carried both requests');
  const [, release] = ctx.seen;
  assert.is(release.sha, sha(b));
  assert.ok(release.lent > 0, `the drained pieces freed their buffers (${release.lent} of ${release.pieces} lent)`);
});

lend('after a lent body, the next request that does not lend gets copies', async (ctx) => {
  const a = randomBytes(400_000);
  const b = randomBytes(400_000);
  await exchange(ctx.srv.port, [...requestPieces('/release', a, 40_000), ...requestPieces('/copy', b, 40_000)], { gapMs: 5, boundMs: 1500 });
  const [release, copy] = ctx.seen;
  assert.ok(release.lent > 0);
  assert.is(copy.sha, sha(b));
  assert.is(copy.lent, 0, 'no piece of the second body is lent');
});

/** A chunked request whose body comes in three reads; the last holds `n` small chunks and the last-chunk. */
function chunkedRequest(path: string, n: number): Buffer[] {
  const chunk = (b: Buffer): Buffer => Buffer.concat([Buffer.from(`${b.length.toString(16)}\r\n`), b, Buffer.from('\r\n')]);
  const last: Buffer[] = [];
  for (let i = 0; i < n; i++) last.push(chunk(randomBytes(100)));
  last.push(Buffer.from('0\r\n\r\n'));
  return [
    Buffer.from(`POST ${path} HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n`),
    chunk(randomBytes(1000)),
    chunk(randomBytes(1000)),
    Buffer.concat(last),
  ];
}

lend('a drained body whose last read held several pieces gives every one back: later bodies are still lent', async (ctx) => {
  // Each /drain strands the queued pieces of its last read (one own buffer each) if reuse drops them.
  const drains = Array.from({ length: 3 }, () => chunkedRequest('/drain', 20)).flat();
  const b = randomBytes(400_000);
  const r = await exchange(ctx.srv.port, [...drains, ...requestPieces('/release', b, 40_000)], { gapMs: 20, boundMs: 3000 });
  assert.is(r.data.match(/HTTP\/1\.1 200/g)?.length, 4, 'the connection carried every request');
  const release = ctx.seen[3];
  assert.is(release.sha, sha(b));
  assert.ok(release.lent > release.pieces / 2, `own buffers came back after the drains (${release.lent} of ${release.pieces} lent)`);
});

lend.run();
