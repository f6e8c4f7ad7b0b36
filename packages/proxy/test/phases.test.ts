// The order in which ProxyHttp phases run, sync and async, on success, on an early answer and on failure.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { HeaderMap, ResponseHeader, SluiceError } from '@sluice/core';
import type { ProxyHttp, Session } from '../src/index.js';
import { closedPort, peerOf, request, startOrigin, startProxy } from './helpers/net.js';
import type { Origin, RunningProxy } from './helpers/net.js';

interface Ctx {
  log: string[];
}

/** Records every phase; half of them answer through a Promise to show both kinds are awaited right. */
function recorder(port: () => number, seen: Ctx[], extra: Partial<ProxyHttp<Ctx>> = {}): ProxyHttp<Ctx> {
  const note = (c: Ctx, name: string) => {
    if (c.log[c.log.length - 1] !== name) c.log.push(name);
  };
  return {
    newCtx: () => {
      const c = { log: [] as string[] };
      seen.push(c);
      return c;
    },
    earlyRequestFilter: async (_s, c) => note(c, 'earlyRequestFilter'),
    requestFilter: (_s, c) => (note(c, 'requestFilter'), false),
    requestBodyFilter: async (_s, _chunk, _end, c) => note(c, 'requestBodyFilter'),
    proxyUpstreamFilter: async (_s, c) => (note(c, 'proxyUpstreamFilter'), true),
    upstreamPeer: async (_s, c) => (note(c, 'upstreamPeer'), peerOf(port())),
    connectedToUpstream: (_s, _reused, _peer, _digest, c) => note(c, 'connectedToUpstream'),
    failToConnect: (_s, _p, c, e) => (note(c, 'failToConnect'), e),
    upstreamRequestFilter: async (_s, req, c) => {
      note(c, 'upstreamRequestFilter');
      req.insertHeader('X-Phase', 'upstream');
    },
    upstreamResponseFilter: (_s, _res, c) => note(c, 'upstreamResponseFilter'),
    responseFilter: async (_s, res, c) => {
      note(c, 'responseFilter');
      res.insertHeader('X-Filtered', '1');
    },
    upstreamResponseBodyFilter: (_s, _chunk, _end, c) => note(c, 'upstreamResponseBodyFilter'),
    responseBodyFilter: (_s, _chunk, _end, c) => note(c, 'responseBodyFilter'),
    upstreamResponseTrailerFilter: (_s, _t, c) => note(c, 'upstreamResponseTrailerFilter'),
    responseTrailerFilter: async (_s, _t, c) => note(c, 'responseTrailerFilter'),
    errorWhileProxy: (_p, _s, e, c) => (note(c, 'errorWhileProxy'), e),
    failToProxy: async (_s, _e, c) => (note(c, 'failToProxy'), 502),
    suppressErrorLog: (_s, c) => (note(c, 'suppressErrorLog'), false),
    requestSummary: (_s, c) => (note(c, 'requestSummary'), 'summary'),
    logging: async (_s, e, c) => note(c, e ? `logging(${e.type})` : 'logging'),
    ...extra,
  };
}

const order = suite<{ origin: Origin; proxies: RunningProxy[] }>('phase order');
order.before(async (ctx) => {
  ctx.proxies = [];
  ctx.origin = await startOrigin((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { Trailer: 'X-T', 'X-Saw-Phase': String(req.headers['x-phase']) });
      res.write('a');
      res.addTrailers({ 'X-T': 'v' });
      res.end('b');
    });
  });
});
order.after(async (ctx) => {
  for (const p of ctx.proxies) await p.close();
  await ctx.origin.close();
});

order('a proxied request with a body and trailers runs every phase in order', async (ctx) => {
  const seen: Ctx[] = [];
  const p = await startProxy(recorder(() => ctx.origin.port, seen));
  ctx.proxies.push(p);
  const r = await request(p.port, { method: 'POST', body: 'hello' });
  assert.is(r.status, 200);
  assert.is(r.headers['x-saw-phase'], 'upstream');
  assert.is(r.headers['x-filtered'], '1');
  assert.is(r.trailers['x-t'], 'v');
  await new Promise((res) => setTimeout(res, 20));
  assert.equal(seen[0].log, [
    'earlyRequestFilter',
    'requestFilter',
    'proxyUpstreamFilter',
    'upstreamPeer',
    'connectedToUpstream',
    'upstreamRequestFilter',
    'requestBodyFilter',
    'upstreamResponseFilter',
    'responseFilter',
    'upstreamResponseBodyFilter',
    'responseBodyFilter',
    'upstreamResponseBodyFilter',
    'responseBodyFilter',
    'upstreamResponseBodyFilter',
    'responseBodyFilter',
    'upstreamResponseTrailerFilter',
    'responseTrailerFilter',
    'logging',
  ]);
});

order('requestFilter answering by itself skips upstream and goes to logging', async (ctx) => {
  const seen: Ctx[] = [];
  const p = await startProxy(
    recorder(() => ctx.origin.port, seen, {
      requestFilter: async (session: Session, c: Ctx) => {
        c.log.push('requestFilter');
        const res = ResponseHeader.build(403);
        res.insertHeader('Content-Length', 6);
        await session.writeResponseHeader(res);
        await session.writeResponseBody(Buffer.from('denied'), true);
        return true;
      },
    }),
  );
  ctx.proxies.push(p);
  const r = await request(p.port);
  assert.is(r.status, 403);
  assert.is(r.body.toString(), 'denied');
  await new Promise((res) => setTimeout(res, 20));
  assert.equal(seen[0].log, ['earlyRequestFilter', 'requestFilter', 'logging']);
});

order('a failed connect runs failToConnect, failToProxy, the error-log phases, then logging with the error', async (ctx) => {
  const dead = await closedPort();
  const seen: Ctx[] = [];
  const p = await startProxy(recorder(() => dead, seen, { failToConnect: (_s, _p, c, e) => (c.log.push('failToConnect'), e.setRetry(false)) }));
  ctx.proxies.push(p);
  assert.is((await request(p.port)).status, 502);
  await new Promise((res) => setTimeout(res, 20));
  assert.equal(seen[0].log, ['earlyRequestFilter', 'requestFilter', 'proxyUpstreamFilter', 'upstreamPeer', 'failToConnect', 'failToProxy', 'suppressErrorLog', 'requestSummary', 'logging(ConnectRefused)']);
});

order('a phase that throws fails the request with 500 and logging still runs', async (ctx) => {
  const seen: Ctx[] = [];
  const p = await startProxy(
    recorder(() => ctx.origin.port, seen, {
      upstreamRequestFilter: () => {
        throw new Error('boom');
      },
      failToProxy: undefined,
    }),
  );
  ctx.proxies.push(p);
  assert.is((await request(p.port)).status, 500);
  await new Promise((res) => setTimeout(res, 20));
  assert.is(seen[0].log[seen[0].log.length - 1], 'logging(InternalError)');
});

order('proxyUpstreamFilter returning false answers 502 without going upstream', async (ctx) => {
  const seen: Ctx[] = [];
  const p = await startProxy(recorder(() => ctx.origin.port, seen, { proxyUpstreamFilter: () => false }));
  ctx.proxies.push(p);
  assert.is((await request(p.port)).status, 502);
  await new Promise((res) => setTimeout(res, 20));
  assert.equal(seen[0].log, ['earlyRequestFilter', 'requestFilter', 'logging']);
});

order.run();

// ---------------------------------------------------------------------------------------------------
const facts = suite<{ origin: Origin; proxies: RunningProxy[] }>('session facts and filters');
facts.before(async (ctx) => {
  ctx.proxies = [];
  ctx.origin = await startOrigin((req, res) => {
    req.resume();
    req.on('end', () => {
      res.write('x'.repeat(100));
      setTimeout(() => res.write('y'.repeat(100)), 5);
      setTimeout(() => res.end('z'.repeat(100)), 10);
    });
  });
});
facts.after(async (ctx) => {
  for (const p of ctx.proxies) await p.close();
  await ctx.origin.close();
});

facts('logging sees byte counts, addresses, digest; isHttp2 false', async (ctx) => {
  const got: Array<Record<string, unknown>> = [];
  const p = await startProxy<null>({
    newCtx: () => null,
    upstreamPeer: () => peerOf(ctx.origin.port),
    logging: (s) => {
      got.push({ read: s.bodyBytesRead(), sent: s.bodyBytesSent(), client: s.clientAddr()?.address, server: s.serverAddr()?.port, h2: s.isHttp2(), established: typeof s.digest().establishedAt });
    },
  });
  ctx.proxies.push(p);
  const r = await request(p.port, { method: 'PUT', body: 'q'.repeat(777) });
  assert.is(r.body.length, 300);
  await new Promise((res) => setTimeout(res, 20));
  assert.equal(got[0], { read: 777, sent: 300, client: '127.0.0.1', server: p.port, h2: false, established: 'number' });
});

facts('body filters rewrite both ways; responseBodyFilter delays throttle the response', async (ctx) => {
  let seenUp = '';
  const upstream = await startOrigin((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (d: Buffer) => parts.push(d));
    req.on('end', () => {
      seenUp = Buffer.concat(parts).toString();
      res.end('abc');
    });
  });
  try {
    const p = await startProxy<{ chunks: number }>({
      newCtx: () => ({ chunks: 0 }),
      upstreamPeer: () => peerOf(upstream.port),
      upstreamRequestFilter: (_s, req) => void req.removeHeader('content-length'),
      requestBodyFilter: (_s, chunk) => {
        if (chunk.data) chunk.data = Buffer.from(chunk.data.toString().toUpperCase());
      },
      responseFilter: (_s, res) => void res.removeHeader('content-length'),
      responseBodyFilter: (_s, chunk, end, c) => {
        if (chunk.data) chunk.data = Buffer.from(`[${chunk.data}]`);
        if (end) chunk.data = Buffer.from('!');
        c.chunks++;
        return 150;
      },
    });
    ctx.proxies.push(p);
    const started = Date.now();
    const r = await request(p.port, { method: 'POST', body: 'shout' });
    assert.is(seenUp, 'SHOUT');
    assert.is(r.body.toString(), '[abc]!');
    assert.ok(Date.now() - started >= 250, 'two chunks each held 150 ms');
  } finally {
    await upstream.close();
  }
});

facts('setKeepalive(false) closes the downstream connection after the response', async (ctx) => {
  const p = await startProxy<null>({ newCtx: () => null, upstreamPeer: () => peerOf(ctx.origin.port), responseFilter: (s) => s.setKeepalive(false) });
  ctx.proxies.push(p);
  const r = await request(p.port);
  assert.is(r.headers.connection, 'close');
});

facts('keepaliveRequestLimit closes the connection after that many requests', async (ctx) => {
  const { Agent } = await import('node:http');
  const p = await startProxy<null>({ newCtx: () => null, upstreamPeer: () => peerOf(ctx.origin.port) }, { keepaliveRequestLimit: 2 });
  ctx.proxies.push(p);
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const a = await request(p.port, { agent });
  const b = await request(p.port, { agent });
  agent.destroy();
  assert.is.not(a.headers.connection, 'close');
  assert.is(b.headers.connection, 'close');
});

facts('newCtx throwing answers 500 and the proxy keeps serving', async (ctx) => {
  let calls = 0;
  const p = await startProxy<null>({
    newCtx: () => {
      if (calls++ === 0) throw new Error('no state today');
      return null;
    },
    upstreamPeer: () => peerOf(ctx.origin.port),
  });
  ctx.proxies.push(p);
  assert.is((await request(p.port)).status, 500);
  assert.is((await request(p.port)).status, 200);
});

facts('a filter answering with a chunked body and trailers through the Session API', async (ctx) => {
  const p = await startProxy<null>({
    newCtx: () => null,
    upstreamPeer: () => peerOf(ctx.origin.port),
    requestFilter: async (session) => {
      const res = ResponseHeader.build(200);
      res.insertHeader('Trailer', 'X-Checksum');
      await session.writeResponseHeader(res);
      await session.writeResponseBody(Buffer.from('part one, '), false);
      await session.writeResponseBody(Buffer.from('part two'), false);
      const trailers = new HeaderMap().append('X-Checksum', 'abc123');
      await session.writeResponseTrailers(trailers);
      return true;
    },
  });
  ctx.proxies.push(p);
  const r = await request(p.port);
  assert.is(r.headers['transfer-encoding'], 'chunked');
  assert.is(r.body.toString(), 'part one, part two');
  assert.is(r.trailers['x-checksum'], 'abc123');
});

facts('after a 502 the downstream connection serves the next request', async (ctx) => {
  const { Agent } = await import('node:http');
  const dead = await closedPort();
  let first = true;
  const p = await startProxy<null>({ newCtx: () => null, upstreamPeer: () => peerOf(first ? ((first = false), dead) : ctx.origin.port), failToConnect: (_s, _p, _c, e) => e.setRetry(false) });
  ctx.proxies.push(p);
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const a = await request(p.port, { agent });
  const b = await request(p.port, { agent });
  agent.destroy();
  assert.is(a.status, 502);
  assert.is.not(a.headers.connection, 'close', 'the 502 keeps the connection');
  assert.is(b.status, 200);
});

facts('an HTTPStatus error thrown by a filter is answered with its status', async (ctx) => {
  const p = await startProxy<null>({
    newCtx: () => null,
    upstreamPeer: () => peerOf(ctx.origin.port),
    requestFilter: () => {
      throw SluiceError.httpStatus(418, 'teapot');
    },
  });
  ctx.proxies.push(p);
  assert.is((await request(p.port)).status, 418);
});

facts.run();
