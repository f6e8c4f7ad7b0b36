// An API gateway: requests under /api need `Authorization: Bearer <GATEWAY_TOKEN>` (default
// "letmein") and go, without the /api prefix, round robin to the API pool; everything else goes to the
// web pool. Both pools are embedded origins on loopback.
//   node --import tsx examples/gateway/main.ts                      (LISTEN, default 127.0.0.1:6191)
//   curl -i localhost:6191/api/users                                 # 401
//   curl -i -H 'Authorization: Bearer letmein' localhost:6191/api/users
//   curl -i localhost:6191/index.html                                # web pool, no auth needed
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HttpPeer, ResponseHeader, Server, SluiceError, formatAddress } from '@sluice/core';
import { LoadBalancer, RoundRobin } from '@sluice/lb';
import { httpProxyService, type ProxyHttp, type Session } from '@sluice/proxy';

const token = process.env.GATEWAY_TOKEN ?? 'letmein';

async function origin(name: string): Promise<string> {
  const s = createServer((req, res) => res.end(`${name} got ${req.method} ${req.url}\n`));
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  s.unref();
  return `127.0.0.1:${(s.address() as AddressInfo).port}`;
}

interface Route {
  api: boolean;
}

class Gateway implements ProxyHttp<Route> {
  private readonly peers = new Map<string, HttpPeer>();
  constructor(
    private readonly api: LoadBalancer<RoundRobin>,
    private readonly web: LoadBalancer<RoundRobin>,
  ) {}

  newCtx(): Route {
    return { api: false };
  }

  async requestFilter(session: Session, route: Route): Promise<boolean> {
    const path = session.request.path;
    route.api = path === '/api' || path.startsWith('/api/');
    if (!route.api || session.request.header('authorization') === `Bearer ${token}`) return false;
    const res = ResponseHeader.build(401);
    res.insertHeader('WWW-Authenticate', 'Bearer').insertHeader('Content-Length', 0);
    await session.writeResponseHeader(res);
    await session.writeResponseBody(null, true);
    return true; // answered here; nothing goes upstream
  }

  upstreamPeer(_session: Session, route: Route): HttpPeer {
    const backend = (route.api ? this.api : this.web).select('');
    if (!backend) throw SluiceError.httpStatus(503, 'pool empty', 'Upstream');
    let peer = this.peers.get(backend.addr);
    if (!peer) this.peers.set(backend.addr, (peer = new HttpPeer(backend.address, false, '', { connectionTimeoutMs: 1000 })));
    return peer;
  }

  upstreamRequestFilter(session: Session, upstreamRequest: import('@sluice/core').RequestHeader, route: Route): void {
    if (route.api) upstreamRequest.uri = upstreamRequest.uri.slice(4) || '/';
    upstreamRequest.removeHeader('authorization'); // the token is for the gateway, not the origins
  }
}

const server = Server.fromArgs([]);
server.bootstrap();
const api = LoadBalancer.fromAddresses(RoundRobin, [await origin('api-1'), await origin('api-2')]);
const web = LoadBalancer.fromAddresses(RoundRobin, [await origin('web-1')]);
const gateway = httpProxyService(server.configuration, new Gateway(api, web), { name: 'gateway' }).addTcp(process.env.LISTEN ?? '127.0.0.1:6191');
server.addService(gateway);
gateway.readiness.ready.then(() => console.log(`gateway on http://${gateway.addresses.map(formatAddress)[0]}`));
await server.runForever();
