// The proxy's errorReporter: phase crashes, newCtx, failToProxy and logging failures are reported with
// the request's summary; ordinary client and upstream failures, and statuses a phase chose, are not.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Server, SluiceError, silentLogger, TransportConnector, type ErrorReport, type HttpPeer } from '@sluice/core';
import { defaultFailStatus, httpProxyService, type ProxyHttp, type Session } from '../src/index.js';
import { closedPort, peerOf, rawExchange, request, startOrigin, startProxy, type Origin, type RunningProxy } from './helpers/net.js';

interface Reported {
  error: unknown;
  report: ErrorReport;
}

let failNewCtx = false;
let failLogging = false;
let failFailToProxy = false;

/** Behaves by path: `/crash` throws in requestFilter, `/forbidden` throws a chosen 403, `/dead` goes to a closed port. */
class Misbehaving implements ProxyHttp<{ path: string }> {
  constructor(
    private readonly origin: HttpPeer,
    private readonly dead: HttpPeer,
  ) {}
  newCtx(): { path: string } {
    if (failNewCtx) throw new RangeError('ctx bug');
    return { path: '' };
  }
  requestFilter(session: Session): boolean {
    const path = session.request.path;
    if (path === '/crash') throw new TypeError('filter bug');
    if (path === '/forbidden') throw SluiceError.httpStatus(403, 'not for you');
    return false;
  }
  upstreamPeer(session: Session): HttpPeer {
    return session.request.path === '/dead' ? this.dead : this.origin;
  }
  failToProxy(_session: Session, error: SluiceError): number {
    if (failFailToProxy) throw new Error('failToProxy bug');
    return defaultFailStatus(error);
  }
  logging(): void {
    if (failLogging) throw new Error('logging bug');
  }
  requestSummary(session: Session): string {
    return `summary of ${session.request.method} ${session.request.uri}`;
  }
}

let origin: Origin;
let proxy: RunningProxy;
const reports: Reported[] = [];

const Reports = suite('proxy errorReporter');

Reports.before(async () => {
  origin = await startOrigin((_req, res) => res.end('ok'));
  const dead = peerOf(await closedPort());
  proxy = await startProxy(new Misbehaving(peerOf(origin.port), dead), { maxRetries: 0, errorReporter: (error, report) => reports.push({ error, report }) });
});

Reports.after(async () => {
  await proxy.close();
  await origin.close();
});

Reports.before.each(() => {
  reports.length = 0;
  failNewCtx = failLogging = failFailToProxy = false;
});

Reports('a phase that throws: 500, reported with the request summary and client', async () => {
  assert.is((await request(proxy.port, { path: '/crash' })).status, 500);
  assert.is(reports.length, 1);
  const { error, report } = reports[0];
  assert.is((error as SluiceError).type, 'InternalError');
  assert.is(((error as SluiceError).rootCause() as Error).message, 'filter bug');
  assert.is(report.where, 'proxy phase');
  assert.is(report.request, 'summary of GET /crash');
  assert.match(report.client ?? '', /^127\.0\.0\.1:\d+$/);
});

Reports('newCtx that throws: 500, reported (default summary: no ctx for requestSummary)', async () => {
  failNewCtx = true;
  assert.is((await request(proxy.port, { path: '/x?y=1', headers: { host: 'example.test' } })).status, 500);
  assert.is(reports.length, 1);
  assert.is((reports[0].error as Error).message, 'ctx bug');
  assert.is(reports[0].report.where, 'proxy newCtx');
  assert.is(reports[0].report.request, 'GET /x?y=1, Host: example.test');
});

Reports('logging and failToProxy that throw are reported; the response still goes out', async () => {
  failLogging = true;
  assert.is((await request(proxy.port, { path: '/fine' })).status, 200);
  assert.equal(reports.map((r) => r.report.where), ['proxy logging']);
  reports.length = 0;
  failLogging = false;
  failFailToProxy = true;
  assert.is((await request(proxy.port, { path: '/dead' })).status, 502, 'the default status when failToProxy fails');
  assert.equal(reports.map((r) => r.report.where), ['proxy failToProxy'], 'the upstream failure itself is not reported');
});

Reports('ordinary failures are not reported: upstream refused, a chosen 403, a malformed request, a client that leaves', async () => {
  assert.is((await request(proxy.port, { path: '/dead' })).status, 502);
  assert.is((await request(proxy.port, { path: '/forbidden' })).status, 403);
  assert.match(await rawExchange(proxy.port, 'GET / HTTP/1.1\r\nHost: a\r\nContent-Length: x\r\n\r\n'), /^HTTP\/1\.1 400 /);
  await rawExchange(proxy.port, 'GET /fine HTTP/1.1\r\nHost: a\r\n', 100);
  assert.is((await request(proxy.port, { path: '/fine' })).status, 200);
  assert.equal(reports, []);
});

Reports('the server’s errorReporter reaches a proxy service that has none of its own', async () => {
  const serverReports: Reported[] = [];
  const server = new Server({ handleSignals: false, log: silentLogger, errorReporter: (error, report) => serverReports.push({ error, report }) });
  const service = httpProxyService({ max_retries: 0, upstream_keepalive_pool_size: 4 }, new Misbehaving(peerOf(origin.port), peerOf(origin.port)), { logger: silentLogger, connector: new TransportConnector() }).addTcp('127.0.0.1:0');
  server.addService(service);
  const running = server.run();
  try {
    await service.readiness.ready;
    assert.is((await request(service.addresses[0].port, { path: '/crash' })).status, 500);
    assert.equal(serverReports.map((r) => r.report.where), ['proxy phase']);
  } finally {
    server.shutdown('fast');
    await running;
  }
});

Reports.run();
