// The load-balancer demo's built-in observability with `threads: 2`: requests on new connections
// until both workers served some (told apart by the pid on their access log lines), then one scrape
// of `--metrics` must count every request of both workers, and show the backends' health.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkHistogram, parseExposition, value } from '../../packages/observability/test/helpers/exposition.js';
import { get } from '../../packages/observability/test/helpers/http.js';
import { alive, run, until, waitFor } from './helpers/child.js';

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'sluice-lb-observability-'));
const origins: Server[] = [];
let lb: ReturnType<typeof run> | undefined;

/** The access log lines printed so far (JSON lines with `msg: "access"`). */
function accessLines(output: string): Array<{ pid: number; uri: string; status: number; upstream: string }> {
  return output
    .split('\n')
    .filter((l) => l.startsWith('{') && l.includes('"msg":"access"'))
    .map((l) => JSON.parse(l) as { pid: number; uri: string; status: number; upstream: string });
}

const Observed = suite('load-balancer demo: --metrics and --access-log with threads: 2');

Observed.before(async () => {
  for (let i = 0; i < 2; i++) {
    const server = createServer((req, res) => res.end(`origin ${i} ${req.url}`));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    origins.push(server);
  }
});

Observed.after(async () => {
  if (lb?.child.pid !== undefined && alive(lb.child.pid)) {
    lb.child.kill('SIGTERM');
    await until('the demo to exit', () => lb!.child.exitCode !== null || lb!.child.signalCode !== null, 15_000).catch(() => lb!.child.kill('SIGKILL'));
  }
  for (const o of origins) o.close();
  rmSync(dir, { recursive: true, force: true });
});

Observed('one scrape sums both workers’ requests; every request has its access log line', async () => {
  const conf = join(dir, 'conf.yaml');
  writeFileSync(conf, 'version: 1\nthreads: 2\ngrace_period_seconds: 1\n');
  const upstreams = origins.map((o) => `127.0.0.1:${(o.address() as AddressInfo).port}`);
  lb = run(process.execPath, ['--import', 'tsx', here('../load-balancer/main.ts'), '--listen', '127.0.0.1:0', '--metrics', '127.0.0.1:0', '--access-log', ...upstreams.flatMap((u) => ['--upstream', u]), '-c', conf]);
  const output = lb.output;
  // Three processes compile TypeScript at start: bounds for a busy machine.
  await waitFor(output, /supervising 2 workers/, 90_000);
  // The supervisor and both workers each print the addresses once ready.
  await until('both workers ready', () => (output().match(/load balancer on http/g) ?? []).length >= 3, 90_000);
  const port = Number((await waitFor(output, /load balancer on http:\/\/127\.0\.0\.1:(\d+)/))[1]);
  const metricsPort = Number((await waitFor(output, /curl -s http:\/\/127\.0\.0\.1:(\d+)\/metrics/))[1]);
  assert.is.not(metricsPort, port, 'the metrics endpoint has its own socket');

  // New connections until both workers answered (the kernel spreads accepts between them).
  let sent = 0;
  while (new Set(accessLines(output()).map((l) => l.pid)).size < 2) {
    if (sent >= 400) throw new Error(`after ${sent} requests only one worker served:\n${output().slice(-2000)}`);
    const res = await get(port, `/r${sent}`);
    assert.is(res.status, 200);
    assert.match(res.body, /^origin [01] \/r\d+$/);
    sent++;
  }
  await until('an access log line for every request', () => accessLines(output()).length === sent, 5000);
  const lines = accessLines(output());
  assert.equal(lines.map((l) => l.uri).sort(), Array.from({ length: sent }, (_, i) => `/r${i}`).sort());
  for (const l of lines) {
    assert.is(l.status, 200);
    assert.ok(upstreams.includes(l.upstream), `upstream ${l.upstream}`);
  }

  const scrape = await get(metricsPort, '/metrics');
  assert.is(scrape.status, 200);
  const e = parseExposition(scrape.body);
  assert.is(value(e, 'sluice_http_requests_total', { method: 'GET', status_class: '2xx' }), sent, `both workers’ ${sent} requests`);
  assert.is(value(e, 'sluice_http_request_duration_seconds_count'), sent);
  checkHistogram(e, 'sluice_http_request_duration_seconds');
  const connections = value(e, 'sluice_upstream_connections_total', { reused: 'true' })! + value(e, 'sluice_upstream_connections_total', { reused: 'false' })!;
  assert.is(connections, sent, 'one upstream connection taken per request');
  for (const u of upstreams) assert.is(value(e, 'sluice_backend_healthy', { backend: u }), 1, `${u} healthy in both workers`);
});

Observed.run();
