import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { request } from 'node:http';
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { silentLogger } from '@sluice/core';
import { AggregatorRegistry, Registry } from 'prom-client';
import { prometheusHttpService, SluiceMetrics, shareMetricsWithWorkers, workerMetricsText } from '../src/index.js';
import { checkHistogram, parseExposition, value } from './helpers/exposition.js';

function record(m: SluiceMetrics): void {
  m.recordRequest('GET', 200, 3);
  m.recordRequest('GET', 204, 30);
  m.recordRequest('POST', 503, 700);
  m.recordRequest('BREW', 418, 1);
  m.recordRequest('GET', 0, 2);
  m.recordUpstreamConnection(false, 0.4);
  m.recordUpstreamConnection(true);
  m.recordUpstreamConnection(true);
  m.recordUpstreamConnectError('ConnectRefused');
  m.recordUpstreamConnectError('ConnectTimedout');
  m.recordUpstreamConnectError('ConnectRefused');
  m.downstreamConnectionOpened();
  m.downstreamConnectionOpened();
  m.downstreamConnectionClosed();
  m.h2StreamOpened();
  m.recordTlsHandshake('downstream', true);
  m.recordTlsHandshake('upstream', false);
  m.setBackendHealth('10.0.0.1:80', true);
  m.setBackendHealth('10.0.0.2:80', false);
}

const Record = suite('SluiceMetrics record methods');

Record('each record call lands in its family and label set', async () => {
  const m = new SluiceMetrics();
  record(m);
  const e = parseExposition(await m.registry.metrics());
  assert.is(value(e, 'sluice_http_requests_total', { method: 'GET', status_class: '2xx' }), 2);
  assert.is(value(e, 'sluice_http_requests_total', { method: 'POST', status_class: '5xx' }), 1);
  assert.is(value(e, 'sluice_http_requests_total', { method: 'OTHER', status_class: '4xx' }), 1, 'unknown methods are OTHER');
  assert.is(value(e, 'sluice_http_requests_total', { method: 'GET', status_class: 'none' }), 1);
  assert.is(value(e, 'sluice_http_request_duration_seconds_count'), 5);
  assert.ok(Math.abs(value(e, 'sluice_http_request_duration_seconds_sum')! - 0.736) < 1e-9);
  assert.is(value(e, 'sluice_http_request_duration_seconds_bucket', { le: '0.005' }), 3);
  assert.is(value(e, 'sluice_upstream_connections_total', { reused: 'true' }), 2);
  assert.is(value(e, 'sluice_upstream_connections_total', { reused: 'false' }), 1);
  assert.is(value(e, 'sluice_upstream_connect_duration_seconds_count'), 1, 'connect time only for new connections');
  assert.is(value(e, 'sluice_upstream_connect_errors_total', { type: 'ConnectRefused' }), 2);
  assert.is(value(e, 'sluice_upstream_connect_errors_total', { type: 'ConnectTimedout' }), 1);
  assert.is(value(e, 'sluice_downstream_connections_open'), 1);
  assert.is(value(e, 'sluice_h2_streams_open'), 1);
  assert.is(value(e, 'sluice_tls_handshakes_total', { side: 'downstream' }), 1);
  assert.is(value(e, 'sluice_tls_handshakes_total', { side: 'upstream' }), 0, 'zero series exist up front');
  assert.is(value(e, 'sluice_tls_handshake_failures_total', { side: 'upstream' }), 1);
  assert.is(value(e, 'sluice_backend_healthy', { backend: '10.0.0.1:80' }), 1);
  assert.is(value(e, 'sluice_backend_healthy', { backend: '10.0.0.2:80' }), 0);
  checkHistogram(e, 'sluice_http_request_duration_seconds');
  checkHistogram(e, 'sluice_upstream_connect_duration_seconds');
  m.removeBackend('10.0.0.2:80');
  assert.is(value(parseExposition(await m.registry.metrics()), 'sluice_backend_healthy', { backend: '10.0.0.2:80' }), undefined);
});

Record('watchBackends: health read at each scrape; a backend that leaves stops being exported', async () => {
  const m = new SluiceMetrics();
  const health = new Map([['10.0.0.1:80', { healthy: true }], ['10.0.0.2:80', { healthy: false }]]);
  let items = [{ addr: '10.0.0.1:80' }, { addr: '10.0.0.2:80' }];
  m.watchBackends({ get items() { return items; }, health: (b: { addr: string }) => health.get(b.addr) });
  let e = parseExposition(await m.registry.metrics());
  assert.is(value(e, 'sluice_backend_healthy', { backend: '10.0.0.1:80' }), 1);
  assert.is(value(e, 'sluice_backend_healthy', { backend: '10.0.0.2:80' }), 0);
  health.get('10.0.0.2:80')!.healthy = true;
  items = [{ addr: '10.0.0.2:80' }];
  e = parseExposition(await m.registry.metrics());
  assert.is(value(e, 'sluice_backend_healthy', { backend: '10.0.0.1:80' }), undefined, 'removed by discovery');
  assert.is(value(e, 'sluice_backend_healthy', { backend: '10.0.0.2:80' }), 1, 'flipped back');
  // A second load balancer sharing a backend: healthy only if both say so.
  m.watchBackends({ items: [{ addr: '10.0.0.2:80' }], health: () => ({ healthy: false }) });
  e = parseExposition(await m.registry.metrics());
  assert.is(value(e, 'sluice_backend_healthy', { backend: '10.0.0.2:80' }), 0);
});

Record('bad options are typed errors', () => {
  for (const options of [{ prefix: '1x' }, { durationBuckets: [0.1, 0.1] }, { connectBuckets: [-1] }]) {
    try {
      new SluiceMetrics(options);
      assert.unreachable(`accepted ${JSON.stringify(options)}`);
    } catch (e) {
      assert.is((e as { code?: string }).code, 'ERR_METRICS_INVALID_OPTION');
    }
  }
});

const Workers = suite('aggregation across workers');

Workers('two workers’ registries sum; backend health is the minimum', async () => {
  const a = new SluiceMetrics();
  const b = new SluiceMetrics();
  record(a);
  record(b);
  b.setBackendHealth('10.0.0.1:80', false);
  const merged = AggregatorRegistry.aggregate([await a.registry.getMetricsAsJSON(), await b.registry.getMetricsAsJSON()]);
  const e = parseExposition(await merged.metrics());
  assert.is(value(e, 'sluice_http_requests_total', { method: 'GET', status_class: '2xx' }), 4);
  assert.is(value(e, 'sluice_http_request_duration_seconds_count'), 10);
  assert.is(value(e, 'sluice_downstream_connections_open'), 2);
  assert.is(value(e, 'sluice_backend_healthy', { backend: '10.0.0.1:80' }), 0);
  checkHistogram(e, 'sluice_http_request_duration_seconds');
});

Workers("one process: core's gather returns this process's registry; without a handler, the local registry", async () => {
  const m = new SluiceMetrics();
  m.recordRequest('GET', 200, 1);
  // A topic of its own: the metrics service below shares its registry on the default one.
  const topic = 'test.metrics';
  const before = await workerMetricsText(m.registry, topic);
  assert.is(before.gathered, false, 'nobody shares yet');
  assert.is(value(parseExposition(before.text), 'sluice_http_requests_total', { method: 'GET', status_class: '2xx' }), 1);
  const stop = shareMetricsWithWorkers(m.registry, topic);
  try {
    m.recordRequest('GET', 200, 1);
    const out = await workerMetricsText(m.registry, topic);
    assert.is(out.gathered, true);
    assert.is(out.workers, 1);
    assert.is(value(parseExposition(out.text), 'sluice_http_requests_total', { method: 'GET', status_class: '2xx' }), 2);
  } finally {
    stop();
  }
});

const Service = suite('prometheusHttpService scraped over HTTP');
const metrics = new SluiceMetrics();
const service = prometheusHttpService('127.0.0.1:0', metrics.registry);
const shutdown = new AbortController();
let running: Promise<void>;
let port = 0;

Service.before(async () => {
  running = service.start(shutdown.signal, silentLogger);
  await service.readiness.ready;
  port = service.addresses[0].port;
  record(metrics);
});
Service.after(async () => {
  shutdown.abort();
  service.stopNow();
  await running;
});

function get(path: string, method = 'GET', agent?: import('node:http').Agent, to = port): Promise<{ status: number; headers: import('node:http').IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: to, path, method, agent, timeout: 3000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('timeout', () => req.destroy(new Error('scrape timed out')));
    req.on('error', reject);
    req.end();
  });
}

Service('GET /metrics answers 200 with the text exposition format', async () => {
  const res = await get('/metrics');
  assert.is(res.status, 200);
  assert.is(res.headers['content-type'], 'text/plain; version=0.0.4; charset=utf-8');
  assert.is(Number(res.headers['content-length']), Buffer.byteLength(res.body));
  const e = parseExposition(res.body);
  assert.is(e.types.get('sluice_http_requests_total'), 'counter');
  assert.is(e.types.get('sluice_downstream_connections_open'), 'gauge');
  assert.is(value(e, 'sluice_http_requests_total', { method: 'GET', status_class: '2xx' }), 2);
  checkHistogram(e, 'sluice_http_request_duration_seconds');
  checkHistogram(e, 'sluice_upstream_connect_duration_seconds');
});

Service('scrapes on one keep-alive connection see new samples', async () => {
  const { Agent } = await import('node:http');
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  try {
    const before = value(parseExposition((await get('/metrics', 'GET', agent)).body), 'sluice_http_request_duration_seconds_count')!;
    metrics.recordRequest('PUT', 201, 4);
    const after = parseExposition((await get('/metrics', 'GET', agent)).body);
    assert.is(value(after, 'sluice_http_request_duration_seconds_count'), before + 1);
    assert.is(value(after, 'sluice_http_requests_total', { method: 'PUT', status_class: '2xx' }), 1);
  } finally {
    agent.destroy();
  }
});

Service('other paths are 404, other methods 405, HEAD has no body', async () => {
  assert.is((await get('/')).status, 404);
  const post = await get('/metrics', 'POST');
  assert.is(post.status, 405);
  assert.is(post.headers.allow, 'GET, HEAD');
  const head = await get('/metrics', 'HEAD');
  assert.is(head.status, 200);
  assert.is(head.body, '');
});

Service('curl scrapes it too', async () => {
  if (!existsSync('/usr/bin/curl')) {
    console.log('  (curl not installed: skipped)');
    return;
  }
  const body = await new Promise<string>((resolve, reject) =>
    execFile('curl', ['-sS', '--max-time', '3', '--fail', `http://127.0.0.1:${port}/metrics`], (e, out) => (e ? reject(e) : resolve(out))),
  );
  const e = parseExposition(body);
  assert.is(value(e, 'sluice_upstream_connect_errors_total', { type: 'ConnectRefused' }), 2);
});

Workers('threads: 2 — a scrape answered by either worker sums both workers', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-metrics-workers-'));
  const conf = join(dir, 'conf.yaml');
  writeFileSync(conf, 'version: 1\nthreads: 2\ngrace_period_seconds: 1\n');
  const fixture = fileURLToPath(new URL('./fixtures/metrics-server.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', fixture, '-c', conf], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  const waitFor = async (re: RegExp): Promise<RegExpExecArray> => {
    const end = Date.now() + 15_000;
    for (;;) {
      const m = re.exec(out);
      if (m) return m;
      if (Date.now() > end) throw new Error(`no ${re} in output:\n${out}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  try {
    await waitFor(/supervising 2 workers/);
    const workerPort = Number((await waitFor(/listening (\d+) pid/))[1]);
    // Both workers must be listening before a gather can reach them.
    const end = Date.now() + 15_000;
    while ([...out.matchAll(/listening \d+ pid/g)].length < 3 && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
    for (let i = 0; i < 4; i++) {
      const res = await get('/metrics', 'GET', undefined, workerPort);
      assert.is(res.status, 200);
      const e = parseExposition(res.body);
      assert.is(value(e, 'sluice_http_requests_total', { method: 'GET', status_class: '2xx' }), 6, 'two workers x 3 requests');
      assert.is(value(e, 'sluice_http_request_duration_seconds_count'), 6);
      assert.is(value(e, 'sluice_downstream_connections_open'), 2);
      assert.is(value(e, 'sluice_backend_healthy', { backend: '10.0.0.1:80' }), 1, 'min, not sum');
      checkHistogram(e, 'sluice_http_request_duration_seconds');
    }
  } finally {
    child.kill('SIGTERM');
    assert.is(await exited, 0);
    rmSync(dir, { recursive: true, force: true });
  }
});

Record.run();
Workers.run();
Service.run();
