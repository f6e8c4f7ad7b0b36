// The proxy's built-in observability end to end: real clients (node:http, node:http2, node:tls, raw
// TCP) through a real proxy to real origins (HTTP and HTTPS), then the metrics scraped over HTTP and
// parsed, the access log lines read back, and the spans taken from the OpenTelemetry SDK's exporter.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Agent, createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { connect as http2Connect, createServer as createH2cServer } from 'node:http2';
import { connect as netConnect, createServer as createNetServer, type AddressInfo, type Server as NetServer } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { HttpPeer, silentLogger, TransportConnector } from '@sluice/core';
import { LoadBalancer, RoundRobin, TcpHealthCheck } from '@sluice/lb';
import { httpProxyService, type ProxyHttp, type Session } from '@sluice/proxy';
import { createSelfSignedCertificate } from '@sluice/tls';
import { AccessLog, prometheusHttpService, ProxyObservability, RequestTracing, SluiceMetrics } from '../src/index.js';
import { checkHistogram, parseExposition, value, type Exposition } from './helpers/exposition.js';
import { get } from './helpers/http.js';

const CLIENT_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const CLIENT_SPAN = '00f067aa0ba902b7';

/** What the plain origin saw: path → traceparent field. */
const seenTraceparent = new Map<string, string | undefined>();
let releaseSlow: (() => void) | undefined;
let slowArrived: (() => void) | undefined;

function originHandler(req: IncomingMessage, res: ServerResponse): void {
  seenTraceparent.set(req.url!, req.headers.traceparent as string | undefined);
  if (req.url === '/slow') {
    releaseSlow = () => res.end('slow done');
    slowArrived?.();
    return;
  }
  if (req.method === 'POST') {
    req.pipe(res);
    return;
  }
  res.end(`origin ${req.url}`);
}

const certified = createSelfSignedCertificate({ dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'], keyBits: 2048 });
const origin = createServer(originHandler);
const tlsOrigin = createHttpsServer({ cert: certified.cert, key: certified.key }, originHandler);
const h2cOrigin = createH2cServer((req, res) => {
  seenTraceparent.set(req.url, req.headers.traceparent as string | undefined);
  res.end(`h2c origin ${req.url}`);
});
let h2cOriginAddr = '';
let deadAddr = '';
let originAddr = '';
let tlsOriginAddr = '';

/** Routes by path: `/dead` to a port nobody listens on, `/tls-up*` to the HTTPS origin, `/h2-up` to the h2c origin, the rest to the plain one. */
class Router implements ProxyHttp<null> {
  newCtx(): null {
    return null;
  }
  upstreamPeer(session: Session): HttpPeer {
    const path = session.request.path;
    if (path === '/dead') return new HttpPeer(deadAddr);
    if (path.startsWith('/tls-up')) return new HttpPeer(tlsOriginAddr, true, 'localhost', { verifyCert: false });
    if (path === '/h2-up') return new HttpPeer(h2cOriginAddr, false, '', { alpn: 'h2' });
    // TLS to a plain-HTTP origin: the handshake fails.
    if (path === '/tls-bad') return new HttpPeer(originAddr, true, 'localhost', { verifyCert: false });
    return plainPeer;
  }
}
let plainPeer: HttpPeer;

const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
const metrics = new SluiceMetrics();
const accessLines: string[] = [];
const accessLog = new AccessLog({ write: (line: string) => void accessLines.push(line) });
const observability = new ProxyObservability({ metrics, accessLog, tracing: new RequestTracing({ tracer: provider.getTracer('test') }) });
const connector = new TransportConnector();
const proxyService = httpProxyService({ max_retries: 0, upstream_keepalive_pool_size: 16 }, new Router(), { logger: silentLogger, connector, h2c: true, observe: observability })
  .addTcp('127.0.0.1:0')
  .addTls('127.0.0.1:0', { serverOptions: () => ({ cert: certified.cert, key: certified.key }) });
const metricsService = prometheusHttpService('127.0.0.1:0', metrics.registry);
const shutdown = new AbortController();
let running: Promise<unknown>;
let plainPort = 0;
let tlsPort = 0;
let metricsPort = 0;
let lb: LoadBalancer<RoundRobin>;

async function listen(server: NetServer): Promise<string> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function scrape(): Promise<Exposition> {
  const res = await get(metricsPort, '/metrics');
  assert.is(res.status, 200);
  return parseExposition(res.body);
}

/** Polls the scrape until `check` holds (bounded), for gauges that follow a close event. */
async function scrapeUntil(check: (e: Exposition) => boolean, what: string): Promise<Exposition> {
  const end = Date.now() + 5000;
  for (;;) {
    const e = await scrape();
    if (check(e)) return e;
    if (Date.now() > end) throw new Error(`metrics never showed ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function spansNamed(name: string): ReadableSpan[] {
  return exporter.getFinishedSpans().filter((s) => s.name === name);
}

function serverSpanOf(path: string): ReadableSpan {
  const s = exporter.getFinishedSpans().find((x) => x.kind === SpanKind.SERVER && x.attributes['url.path'] === path);
  assert.ok(s, `a SERVER span for ${path}`);
  return s;
}

function childrenOf(parent: ReadableSpan): ReadableSpan[] {
  return exporter.getFinishedSpans().filter((s) => s.parentSpanContext?.spanId === parent.spanContext().spanId);
}

function accessEntries(): Array<Record<string, unknown>> {
  return accessLines.map((l) => JSON.parse(l) as Record<string, unknown>);
}

const Built = suite('the proxy’s built-in metrics, access log and traces');

Built.before(async () => {
  originAddr = await listen(origin);
  tlsOriginAddr = await listen(tlsOrigin);
  h2cOriginAddr = await listen(h2cOrigin);
  const dead = createNetServer();
  deadAddr = await listen(dead);
  await new Promise((r) => dead.close(r));
  plainPeer = new HttpPeer(originAddr);
  running = Promise.all([proxyService.start(shutdown.signal, silentLogger), metricsService.start(shutdown.signal, silentLogger)]);
  await proxyService.readiness.ready;
  await metricsService.readiness.ready;
  [plainPort, tlsPort] = proxyService.addresses.map((a) => a.port);
  metricsPort = metricsService.addresses[0].port;
  lb = LoadBalancer.fromAddresses(RoundRobin, [originAddr, deadAddr], { healthCheck: new TcpHealthCheck({ connectionTimeoutMs: 1000 }) });
  metrics.watchBackends(lb.backends);
});

Built.after(async () => {
  shutdown.abort();
  proxyService.stopNow();
  metricsService.stopNow();
  await running;
  origin.closeAllConnections();
  tlsOrigin.closeAllConnections();
  await new Promise((r) => origin.close(r));
  await new Promise((r) => tlsOrigin.close(r));
  await new Promise((r) => h2cOrigin.close(r));
  await provider.shutdown();
});

Built('h1 with a pooled reuse, a POST, an upstream failure, h2c, TLS both ways: counted, logged, traced', async () => {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  try {
    const a = await get(plainPort, '/a', { agent, headers: { traceparent: `00-${CLIENT_TRACE}-${CLIENT_SPAN}-01` } });
    assert.is(a.body, 'origin /a');
    assert.is((await get(plainPort, '/b', { agent })).status, 200);
    const post = await get(plainPort, '/echo', { agent, method: 'POST', body: 'hello' });
    assert.is(post.body, 'hello');
    assert.is((await get(plainPort, '/dead', { agent })).status, 502);
    assert.is((await get(plainPort, '/h2-up', { agent })).body, 'h2c origin /h2-up');
    assert.is((await get(plainPort, '/tls-bad', { agent })).status, 502);
  } finally {
    agent.destroy();
  }
  // HTTP/2 with prior knowledge, one stream held open at the origin while the metrics are read.
  const h2 = http2Connect(`http://127.0.0.1:${plainPort}`);
  try {
    const arrived = new Promise<void>((r) => (slowArrived = r));
    const stream = h2.request({ ':path': '/slow' });
    let body = '';
    stream.setEncoding('utf8');
    stream.on('data', (d: string) => (body += d));
    const ended = new Promise<void>((resolve, reject) => {
      stream.on('end', resolve);
      stream.on('error', reject);
    });
    await arrived;
    const during = await scrape();
    assert.is(value(during, 'sluice_h2_streams_open'), 1, 'the h2 stream in progress');
    assert.ok(value(during, 'sluice_downstream_connections_open')! >= 1, 'the h2 connection is open');
    releaseSlow!();
    await ended;
    assert.is(body, 'slow done');
  } finally {
    h2.close();
  }
  // HTTPS downstream to an HTTPS upstream.
  const tlsBody = await new Promise<string>((resolve, reject) => {
    const socket = tlsConnect({ host: '127.0.0.1', port: tlsPort, rejectUnauthorized: false }, () => {
      socket.write('GET /tls-up HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n');
    });
    let out = '';
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => (out += d));
    socket.on('end', () => resolve(out));
    socket.on('error', reject);
  });
  assert.match(tlsBody, /^HTTP\/1\.1 200 [^]*origin \/tls-up$/);
  // Bytes that are no TLS ClientHello: a failed downstream handshake.
  await new Promise<void>((resolve) => {
    const raw = netConnect(tlsPort, '127.0.0.1', () => raw.write('GET / HTTP/1.1\r\n\r\n'));
    raw.on('close', () => resolve());
    raw.on('error', () => {});
    raw.resume();
  });
  await lb.runHealthCheck();

  const e = await scrapeUntil(
    (x) => value(x, 'sluice_downstream_connections_open') === 0 && value(x, 'sluice_tls_handshake_failures_total', { side: 'downstream' }) === 1,
    'every connection closed and the failed handshake',
  );
  // Requests by method and status class; one duration sample each.
  assert.is(value(e, 'sluice_http_requests_total', { method: 'GET', status_class: '2xx' }), 5, '/a /b /h2-up /slow /tls-up');
  assert.is(value(e, 'sluice_http_requests_total', { method: 'POST', status_class: '2xx' }), 1);
  assert.is(value(e, 'sluice_http_requests_total', { method: 'GET', status_class: '5xx' }), 2, '/dead /tls-bad');
  assert.is(value(e, 'sluice_http_request_duration_seconds_count'), 8);
  checkHistogram(e, 'sluice_http_request_duration_seconds');
  // Upstream connects: one refused; the plain origin's connection pooled and reused.
  assert.is(value(e, 'sluice_upstream_connect_errors_total', { type: 'ConnectRefused' }), 1);
  assert.is(value(e, 'sluice_upstream_connect_errors_total', { type: 'TLSHandshakeFailure' }), 1);
  const reused = value(e, 'sluice_upstream_connections_total', { reused: 'true' })!;
  const fresh = value(e, 'sluice_upstream_connections_total', { reused: 'false' })!;
  assert.ok(reused >= 1, `a pooled connection was reused (${reused})`);
  assert.is(reused + fresh, 6, 'every request that reached an upstream');
  assert.is(value(e, 'sluice_upstream_connect_duration_seconds_count'), fresh, 'connect time of new connections only');
  checkHistogram(e, 'sluice_upstream_connect_duration_seconds');
  // Open connections and streams are back to zero; TLS handshakes on both sides.
  assert.is(value(e, 'sluice_h2_streams_open'), 0);
  assert.is(value(e, 'sluice_tls_handshakes_total', { side: 'downstream' }), 1);
  assert.is(value(e, 'sluice_tls_handshakes_total', { side: 'upstream' }), 1);
  assert.is(value(e, 'sluice_tls_handshake_failures_total', { side: 'upstream' }), 1, '/tls-bad');
  // The load balancer's health check: the live origin healthy, the closed port not.
  assert.is(value(e, 'sluice_backend_healthy', { backend: originAddr }), 1);
  assert.is(value(e, 'sluice_backend_healthy', { backend: deadAddr }), 0);

  // One access log line per request, with what was sent and where it went.
  const entries = accessEntries();
  assert.equal(entries.map((x) => x.uri), ['/a', '/b', '/echo', '/dead', '/h2-up', '/tls-bad', '/slow', '/tls-up']);
  const byUri = new Map(entries.map((x) => [x.uri as string, x]));
  assert.is(byUri.get('/a')!.status, 200);
  assert.is(byUri.get('/a')!.upstream, originAddr);
  assert.is(byUri.get('/a')!.bytes_out, 'origin /a'.length);
  assert.match(byUri.get('/a')!.client as string, /^127\.0\.0\.1:\d+$/);
  assert.is(byUri.get('/echo')!.method, 'POST');
  assert.is(byUri.get('/echo')!.bytes_in, 5);
  assert.is(byUri.get('/echo')!.bytes_out, 5);
  const dead = byUri.get('/dead')!;
  assert.is(dead.status, 502);
  assert.is(dead.upstream, deadAddr);
  assert.is((dead.error as { type: string }).type, 'ConnectRefused');
  assert.is(dead.level, 40, 'a failed request is a warning');
  assert.is(byUri.get('/tls-up')!.upstream, tlsOriginAddr);
  assert.is((byUri.get('/tls-bad')!.error as { type: string }).type, 'TLSHandshakeFailure');
  for (const x of entries) assert.ok(typeof x.duration_ms === 'number' && x.duration_ms >= 0);

  // Spans: the client's trace continued, children under the request span, traceparent upstream.
  const a = serverSpanOf('/a');
  assert.is(a.spanContext().traceId, CLIENT_TRACE);
  assert.is(a.parentSpanContext?.spanId, CLIENT_SPAN);
  assert.is(a.attributes['http.response.status_code'], 200);
  const aChildren = childrenOf(a);
  assert.equal(aChildren.map((s) => s.name).sort(), ['upstream.connect', 'upstream.response']);
  const upstreamResponse = aChildren.find((s) => s.name === 'upstream.response')!;
  assert.is(upstreamResponse.kind, SpanKind.CLIENT);
  assert.is(seenTraceparent.get('/a'), `00-${CLIENT_TRACE}-${upstreamResponse.spanContext().spanId}-01`, 'the origin saw the upstream span as its parent');
  for (const child of aChildren) assert.ok(child.startTime[0] * 1e9 + child.startTime[1] >= a.startTime[0] * 1e9 + a.startTime[1] - 2e6, `${child.name} starts within the request (1 ms clock granularity)`);
  // A reused connection has no connect span; a new trace starts for a request without traceparent.
  const b = serverSpanOf('/b');
  assert.not.equal(b.spanContext().traceId, CLIENT_TRACE);
  assert.equal(childrenOf(b).map((s) => s.name), ['upstream.response']);
  // The failed connect: an errored connect span, and the request span errored with 502.
  const d = serverSpanOf('/dead');
  assert.is(d.status.code, SpanStatusCode.ERROR);
  assert.is(d.attributes['http.response.status_code'], 502);
  const deadConnect = childrenOf(d).find((s) => s.name === 'upstream.connect')!;
  assert.is(deadConnect.status.code, SpanStatusCode.ERROR);
  assert.is(deadConnect.attributes['error.type'], 'ConnectRefused');
  // The TLS upstream: connect and handshake spans.
  assert.equal(childrenOf(serverSpanOf('/tls-up')).map((s) => s.name).sort(), ['tls.handshake', 'upstream.connect', 'upstream.response']);
  assert.ok(spansNamed('tls.handshake')[0].attributes['tls.protocol.version'] !== undefined);
  // An HTTP/2 upstream gets the traceparent too.
  const h2Up = childrenOf(serverSpanOf('/h2-up')).find((s) => s.name === 'upstream.response')!;
  assert.is(seenTraceparent.get('/h2-up'), `00-${h2Up.spanContext().traceId}-${h2Up.spanContext().spanId}-01`);
  assert.is(byUri.get('/h2-up')!.upstream, h2cOriginAddr);
  // The downstream HTTP/2 request too.
  assert.is(serverSpanOf('/slow').attributes['http.response.status_code'], 200);
});

Built.run();
