// @sluice/observability: what observing one proxied request costs, in the same process run.
//  - SluiceMetrics.recordRequest + recordUpstreamConnection (precomputed label children) against
//    prom-client used the usual way (inc({ method, status_class }) with a label object per call), and
//    against a no-op function taking the same arguments (the floor: a call and nothing else);
//  - RequestTracing start/end with no tracer provider registered (must cost ~nothing);
//  - AccessLog.log into a destination that drops the line (pino's serialization) against
//    JSON.stringify of the same fields;
//  - ProxyObservability: every call the proxy makes for one request (requestStarted,
//    upstreamConnected, upstreamRequest, upstreamDone, requestDone), metrics only and with tracing
//    present but no provider, against SluiceMetrics recorded directly (what a hand-wired proxy pays).
//    bench/proxy-observability.bench.ts measures the whole proxy with and without it.
// Each task records BATCH requests; figures are ns per request from tinybench's p50 (rme is its relative
// margin of error). Other helpers share this machine's 2 cores: absolute numbers are noisy, read ratios.
// Run: cd bench && node --expose-gc --import tsx observability.bench.ts  (build the package first)
import { Bench, type Task } from 'tinybench';
import { HttpPeer, RequestHeader, type Digest } from '@sluice/core';
import type { Session } from '@sluice/proxy';
import { Counter, Histogram, Registry } from 'prom-client';
import { AccessLog, accessLogEntry, ProxyObservability, RequestTracing, SluiceMetrics } from '@sluice/observability';

const BATCH = 1000;
const METHODS = ['GET', 'GET', 'GET', 'POST', 'HEAD', 'GET', 'PUT', 'GET'];
const STATUSES = [200, 200, 304, 201, 200, 404, 200, 502];
const durations = Array.from({ length: BATCH }, (_, i) => 0.3 + ((i * 7919) % 500) / 10);

let sink = 0;
function noop(method: string, status: number, durationMs: number, reused: boolean): void {
  sink ^= method.length ^ status ^ (durationMs > 1 ? 1 : 0) ^ (reused ? 1 : 0);
}

const ours = new SluiceMetrics();

const naiveRegistry = new Registry();
const naiveRequests = new Counter({ name: 'naive_requests_total', help: 'x', labelNames: ['method', 'status_class'], registers: [naiveRegistry] });
const naiveDuration = new Histogram({ name: 'naive_duration_seconds', help: 'x', buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], registers: [naiveRegistry] });
const naiveConnections = new Counter({ name: 'naive_connections_total', help: 'x', labelNames: ['reused'], registers: [naiveRegistry] });
const CLASSES = ['none', '1xx', '2xx', '3xx', '4xx', '5xx'];

const tracing = new RequestTracing();
const request = RequestHeader.build('GET', '/items?page=2');
request.headers.append('Host', 'example.org');

const access = new AccessLog({ write: (line: string) => void (sink ^= line.length) });
const summary = { method: 'GET', uri: '/items?page=2', status: 200, bytesIn: 0, bytesOut: 5120, durationMs: 1.7, upstream: '10.0.0.2:80', client: '127.0.0.1:51234' };

// What ProxyObservability reads of a request: its head, the status sent, the byte counts.
const session = { request, responseStatus: 200, bodyBytesRead: () => 0, bodyBytesSent: () => 5120, clientAddr: () => undefined } as unknown as Session;
const peer = new HttpPeer('10.0.0.2:80');
const digest: Digest = { peerAddr: undefined, localAddr: undefined, establishedAt: 0, connectMs: 0.4, tls: undefined };
const observeMetrics = new ProxyObservability({ metrics: new SluiceMetrics() });
const observeTracing = new ProxyObservability({ metrics: new SluiceMetrics(), tracing });
const direct = new SluiceMetrics();

function observeOne(o: ProxyObservability, i: number): void {
  const state = o.requestStarted(session);
  o.upstreamConnected(session, peer, (i & 3) !== 0, digest, state);
  o.upstreamRequest(session, request, state);
  o.upstreamDone(session, undefined, state);
  o.requestDone(session, undefined, durations[i], state);
}

const bench = new Bench({ name: 'observability', time: 1500, warmup: true });
bench
  .add('no-op call', () => {
    for (let i = 0; i < BATCH; i++) noop(METHODS[i & 7], STATUSES[i & 7], durations[i], (i & 3) !== 0);
  })
  .add('SluiceMetrics record', () => {
    for (let i = 0; i < BATCH; i++) {
      ours.recordRequest(METHODS[i & 7], STATUSES[i & 7], durations[i]);
      ours.recordUpstreamConnection((i & 3) !== 0, 0.4);
    }
  })
  .add('prom-client label objects', () => {
    for (let i = 0; i < BATCH; i++) {
      const status = STATUSES[i & 7];
      naiveRequests.inc({ method: METHODS[i & 7], status_class: CLASSES[(status / 100) | 0] });
      naiveDuration.observe(durations[i] / 1000);
      naiveConnections.inc({ reused: (i & 3) !== 0 ? 'true' : 'false' });
    }
  })
  .add('tracing, no provider', () => {
    for (let i = 0; i < BATCH; i++) {
      const span = tracing.startRequest(request);
      tracing.endPhase(tracing.startPhase(span, 'upstream.response'));
      tracing.endRequest(span, 200);
    }
  })
  .add('AccessLog.log (pino)', () => {
    for (let i = 0; i < BATCH; i++) access.log(summary);
  })
  .add('ProxyObservability, metrics', () => {
    for (let i = 0; i < BATCH; i++) observeOne(observeMetrics, i);
  })
  .add('ProxyObservability, metrics + tracing (no provider)', () => {
    for (let i = 0; i < BATCH; i++) observeOne(observeTracing, i);
  })
  .add('SluiceMetrics direct (same records)', () => {
    for (let i = 0; i < BATCH; i++) {
      direct.recordUpstreamConnection((i & 3) !== 0, 0.4);
      direct.recordRequest('GET', 200, durations[i]);
    }
  })
  .add('JSON.stringify entry', () => {
    for (let i = 0; i < BATCH; i++) sink ^= JSON.stringify(accessLogEntry(summary)).length;
  });

await bench.run();

const stats = (name: string) => {
  const r = (bench.getTask(name) as Task | undefined)?.result;
  if (!r || !('latency' in r)) throw new Error(`${name}: ${r?.state}`);
  return r;
};
const perRequestNs = (name: string) => (stats(name).latency.p50 * 1e6) / BATCH;
const row = (task: string, peer: string) => ({
  task,
  'ns/request (p50)': perRequestNs(task).toFixed(1),
  'rme %': stats(task).latency.rme.toFixed(1),
  peer,
  'peer ns/request': perRequestNs(peer).toFixed(1),
  'peer rme %': stats(peer).latency.rme.toFixed(1),
  'ratio (ours / peer)': (perRequestNs(task) / perRequestNs(peer)).toFixed(2) + 'x',
});
console.table([
  row('SluiceMetrics record', 'no-op call'),
  row('SluiceMetrics record', 'prom-client label objects'),
  row('tracing, no provider', 'no-op call'),
  row('AccessLog.log (pino)', 'JSON.stringify entry'),
  row('ProxyObservability, metrics', 'SluiceMetrics direct (same records)'),
  row('ProxyObservability, metrics + tracing (no provider)', 'SluiceMetrics direct (same records)'),
]);
console.log(`sink ${sink & 1}`);
