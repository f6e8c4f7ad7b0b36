// The round-robin load balancer of Pingora's announcement, as a ProxyHttp: each request goes to the
// next healthy backend; a backend that refuses connections, or drops an idempotent request before
// answering, is skipped and the request tried on the next one.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HttpPeer, SluiceError } from '@sluice/core';
import type { PeerOptions } from '@sluice/core';
import type { Backend, LoadBalancer, RoundRobin } from '@sluice/lb';
import type { ProxyHttp, Session } from '@sluice/proxy';

/** Connection options for every backend: fail over quickly, give slow answers time. */
const PEER_OPTIONS: PeerOptions = { connectionTimeoutMs: 1000, totalConnectionTimeoutMs: 2000, readTimeoutMs: 30_000, idleTimeoutMs: 60_000 };

export class RoundRobinProxy implements ProxyHttp<null> {
  // One peer object per backend, so pooled connections are found without building keys per request.
  private readonly peers = new Map<Backend, HttpPeer>();

  constructor(readonly lb: LoadBalancer<RoundRobin>) {}

  newCtx(): null {
    return null;
  }

  upstreamPeer(_session: Session): HttpPeer {
    const backend = this.lb.select('');
    if (backend === undefined) throw SluiceError.httpStatus(503, 'no healthy backend', 'Upstream');
    let peer = this.peers.get(backend);
    if (peer === undefined) this.peers.set(backend, (peer = new HttpPeer(backend.address, false, '', PEER_OPTIONS)));
    return peer;
  }

  failToConnect(_session: Session, _peer: HttpPeer, _ctx: null, error: SluiceError): SluiceError {
    return error.setRetry(true); // nothing was sent: the next backend gets the request
  }

  errorWhileProxy(_peer: HttpPeer, session: Session, error: SluiceError): SluiceError {
    const method = session.request.method;
    // A GET or HEAD that got no answer yet can be sent again safely (RFC 9110 §9.2.2).
    if (!session.responseWritten && (method === 'GET' || method === 'HEAD')) error.setRetry(true);
    return error;
  }
}

/** Two stand-in origins on loopback: each says who it is and echoes POST bodies. */
export async function startOrigins(count = 2): Promise<{ servers: Server[]; addresses: string[] }> {
  const servers: Server[] = [];
  for (let i = 1; i <= count; i++) {
    const server = createServer((req, res) => {
      if (req.method === 'POST') {
        res.setHeader('Content-Type', req.headers['content-type'] ?? 'application/octet-stream');
        req.pipe(res);
        return;
      }
      res.setHeader('Content-Type', 'text/plain');
      res.end(`hello from origin ${i} (${req.method} ${req.url})\n`);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    servers.push(server);
  }
  return { servers, addresses: servers.map((s) => `127.0.0.1:${(s.address() as AddressInfo).port}`) };
}
