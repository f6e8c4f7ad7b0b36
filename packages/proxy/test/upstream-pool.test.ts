// The proxy's upstream pool under more concurrent connections than it may keep idle: once the load
// is over the origin holds exactly as many open connections as the pool keeps; the connections the
// full pool could not keep were closed (the oldest idle ones evicted, as Pingora's pool does), not
// dropped and left open.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Agent, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { TransportConnector } from '@sluice/core';
import { peerOf, request, startOrigin, startProxy } from './helpers/net.js';

const pool = suite('upstream connections beyond the pool size are closed');

async function until(check: () => boolean, what: string, ms = 5000): Promise<void> {
  const started = Date.now();
  while (!check()) {
    if (Date.now() - started > ms) throw new Error(`${what} not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

pool('8 concurrent requests, pool of 2: the origin ends with 2 open connections, all reused afterwards', async () => {
  const sockets: Socket[] = [];
  // No answer before all 8 requests arrived: they overlap, so the proxy needs 8 upstream connections.
  const held: ServerResponse[] = [];
  let released = false;
  const origin = await startOrigin((_req, res) => {
    if (released) return void res.end('ok');
    held.push(res);
    if (held.length < 8) return;
    released = true;
    for (const r of held.splice(0)) r.end('ok');
  });
  // Bound on a hang: if fewer than 8 ever arrive, answer them anyway (the connection count then fails).
  const fallback = setTimeout(() => {
    released = true;
    for (const r of held.splice(0)) r.end('ok');
  }, 5000);
  origin.server.on('connection', (s: Socket) => sockets.push(s));
  const open = () => sockets.filter((s) => !s.destroyed).length;
  const connector = new TransportConnector({ sizeLimit: 2 });
  const proxy = await startProxy({ newCtx: () => null, upstreamPeer: () => peerOf(origin.port) }, { connector });
  const agent = new Agent({ keepAlive: true, maxSockets: 8 });
  try {
    const replies = await Promise.all(Array.from({ length: 8 }, () => request(proxy.port, { agent })));
    assert.equal(replies.map((r) => r.status), Array(8).fill(200));
    assert.is(origin.connections, 8);
    await until(() => open() === 2, 'the origin down to 2 open connections');
    assert.is(connector.pool.size, 2);
    // The two kept are the ones used next: no new upstream connection for two sequential requests.
    for (let i = 0; i < 2; i++) assert.is((await request(proxy.port, { agent })).status, 200);
    assert.is(origin.connections, 8);
  } finally {
    clearTimeout(fallback);
    agent.destroy();
    await proxy.close();
    await origin.close();
  }
});

pool.run();
