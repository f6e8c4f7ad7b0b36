// The rate limiter as a proxy: one request per second per client (the `appid` header, else the
// address), in front of an embedded origin (or UPSTREAM=host:port).
//   node --import tsx examples/rate-limiter/proxy-main.ts        (LISTEN, default 127.0.0.1:6193)
//   for i in 1 2 3; do curl -si localhost:6193/ | head -1; done  # 200, then 429s
//   curl -si -H 'appid: 2' localhost:6193/                        # another client: 200
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HttpPeer, Server, formatAddress } from '@sluice/core';
import { httpProxyService } from '@sluice/proxy';
import { RateLimitProxy } from './proxy.js';

async function embeddedOrigin(): Promise<string> {
  const origin = createServer((req, res) => res.end(`origin got ${req.method} ${req.url}\n`));
  await new Promise<void>((r) => origin.listen(0, '127.0.0.1', r));
  origin.unref();
  return `127.0.0.1:${(origin.address() as AddressInfo).port}`;
}

const server = Server.fromArgs([]);
server.bootstrap();
const upstream = new HttpPeer(process.env.UPSTREAM ?? (await embeddedOrigin()), false, '', { connectionTimeoutMs: 1000 });
const limit = Number(process.env.LIMIT ?? 1);
const service = httpProxyService(server.configuration, new RateLimitProxy(upstream, { limit }), { name: 'rate limiter' }).addTcp(process.env.LISTEN ?? '127.0.0.1:6193');
server.addService(service);
service.readiness.ready.then(() => console.log(`rate-limiting proxy on http://${formatAddress(service.addresses[0])} (${limit} request/s per client) -> ${upstream}`));
await server.runForever();
