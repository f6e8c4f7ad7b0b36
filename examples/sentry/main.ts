// Unexpected errors to Sentry (Pingora's Sentry integration): the server's errorReporter is
// @sentry/node through sentryErrorReporter, so a crashing phase is reported with the request it was
// serving, while ordinary failures (an upstream that refuses, a client that leaves) are not.
//   SENTRY_DSN=https://key@o0.ingest.sentry.io/0 node --import tsx examples/sentry/main.ts
//   ... main.ts --dsn http://public@127.0.0.1:9000/1 --listen 127.0.0.1:6194 --upstream 127.0.0.1:8000
//   curl -i localhost:6194/          # proxied to the origin
//   curl -i localhost:6194/crash     # 500, and an event in Sentry (the phase threw a TypeError)
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import * as Sentry from '@sentry/node';
import { HttpPeer, Server, formatAddress } from '@sluice/core';
import { sentryErrorReporter } from '@sluice/observability';
import { httpProxyService, type ProxyHttp, type Session } from '@sluice/proxy';

const { values } = parseArgs({
  options: {
    dsn: { type: 'string', default: process.env.SENTRY_DSN },
    listen: { type: 'string', default: '127.0.0.1:6194' },
    upstream: { type: 'string' },
  },
});

// Errors only: no performance tracing, no default PII.
Sentry.init({ dsn: values.dsn, tracesSampleRate: 0, sendDefaultPii: false, release: 'sluice-example' });

/** Proxies everything to one origin, except `/crash`, where a bug in a filter throws. */
class CrashOnDemand implements ProxyHttp<null> {
  constructor(private readonly origin: HttpPeer) {}

  newCtx(): null {
    return null;
  }

  requestFilter(session: Session): boolean {
    if (session.request.path === '/crash') {
      const settings = undefined as unknown as { retries: number };
      return settings.retries > 0; // TypeError: the kind of bug Sentry is for
    }
    return false;
  }

  upstreamPeer(): HttpPeer {
    return this.origin;
  }
}

let upstream = values.upstream;
if (upstream === undefined) {
  const origin = createServer((req, res) => res.end(`origin saw ${req.url}\n`));
  await new Promise<void>((r) => origin.listen(0, '127.0.0.1', r));
  origin.unref();
  upstream = `127.0.0.1:${(origin.address() as AddressInfo).port}`;
}

const server = Server.fromArgs([], { errorReporter: sentryErrorReporter(Sentry) });
server.bootstrap();
const service = httpProxyService(server.configuration, new CrashOnDemand(new HttpPeer(upstream)), { name: 'sentry example' }).addTcp(values.listen);
server.addService(service);
service.readiness.ready.then(() => console.log(`sentry example on http://${service.addresses.map(formatAddress)[0]} (origin ${upstream}, DSN ${values.dsn ?? 'unset: events dropped'})`));
// Events go out in the background; let them leave before the process ends.
server.shutdownSignal.addEventListener('abort', () => void Sentry.flush(2000));
await server.runForever();
