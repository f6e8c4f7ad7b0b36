// Per-request state in ctx: requests carrying `beta-flag` go to the beta origin, every request is
// timed from its first phase to logging, and a shared counter (state outside ctx) numbers them.
//   node --import tsx examples/ctx/main.ts                           (LISTEN, default 127.0.0.1:6193)
//   curl -i localhost:6193/                      # stable origin
//   curl -i -H 'beta-flag: 1' localhost:6193/    # beta origin
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HttpPeer, Server, formatAddress } from '@sluice/core';
import type { ResponseHeader, SluiceError } from '@sluice/core';
import { httpProxyService, type ProxyHttp, type Session } from '@sluice/proxy';

async function origin(name: string): Promise<HttpPeer> {
  const s = createServer((_req, res) => res.end(`${name}\n`));
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  s.unref();
  return new HttpPeer(`127.0.0.1:${(s.address() as AddressInfo).port}`);
}

interface RequestState {
  beta: boolean;
  startedAt: number;
  number: number;
}

class BetaRouting implements ProxyHttp<RequestState> {
  private served = 0; // shared by all requests; ctx holds what belongs to one

  constructor(
    private readonly stable: HttpPeer,
    private readonly beta: HttpPeer,
  ) {}

  newCtx(): RequestState {
    return { beta: false, startedAt: performance.now(), number: ++this.served };
  }

  requestFilter(session: Session, ctx: RequestState): boolean {
    ctx.beta = session.request.header('beta-flag') !== undefined;
    return false;
  }

  upstreamPeer(_session: Session, ctx: RequestState): HttpPeer {
    return ctx.beta ? this.beta : this.stable;
  }

  responseFilter(_session: Session, res: ResponseHeader, ctx: RequestState): void {
    res.insertHeader('X-Request-Number', ctx.number);
  }

  logging(session: Session, error: SluiceError | undefined, ctx: RequestState): void {
    const ms = (performance.now() - ctx.startedAt).toFixed(2);
    console.log(`#${ctx.number} ${session.request.method} ${session.request.uri} -> ${ctx.beta ? 'beta' : 'stable'} in ${ms} ms${error ? ` (${error.message})` : ''}`);
  }
}

const server = Server.fromArgs([]);
server.bootstrap();
const service = httpProxyService(server.configuration, new BetaRouting(await origin('stable origin'), await origin('beta origin')), { name: 'ctx' }).addTcp(process.env.LISTEN ?? '127.0.0.1:6193');
server.addService(service);
service.readiness.ready.then(() => console.log(`ctx example on http://${service.addresses.map(formatAddress)[0]}`));
await server.runForever();
