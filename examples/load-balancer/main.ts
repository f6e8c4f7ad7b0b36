// A round-robin HTTP load balancer with TCP health checks (Pingora's announcement example).
//   node --import tsx examples/load-balancer/main.ts                 two embedded origins, :6188
//   ... main.ts --upstream 10.0.0.1:80 --upstream 10.0.0.2:80          your own backends
//   ... main.ts --listen 0.0.0.0:8080 --tls cert.pem key.pem           other address, plus TLS on 6189 (h2 by ALPN)
//   ... main.ts --h2c                                                  HTTP/2 prior knowledge beside HTTP/1.1
//   ... main.ts --metrics 127.0.0.1:9091 --access-log                  Prometheus metrics, access log lines on stdout
// Requests are traced with OpenTelemetry when the program registers a tracer provider (none: no cost).
// Core's flags pass through: -c conf.yaml (max_retries, upstream_keepalive_pool_size, ...), -t, -d, -u
// (SIGQUIT/SIGHUP start this program again with -u to take the listeners over).
import { parseArgs } from 'node:util';
import { Server, formatAddress } from '@sluice/core';
import { LoadBalancer, RoundRobin, TcpHealthCheck } from '@sluice/lb';
import { AccessLog, prometheusHttpService, ProxyObservability, RequestTracing, SluiceMetrics } from '@sluice/observability';
import { httpProxyService } from '@sluice/proxy';
import { TlsSettings } from '@sluice/tls';
import { RoundRobinProxy, startOrigins } from './app.js';

const { values, tokens } = parseArgs({
  options: {
    upstream: { type: 'string', multiple: true },
    listen: { type: 'string', default: '127.0.0.1:6188' },
    'tls-listen': { type: 'string' },
    tls: { type: 'string' },
    h2c: { type: 'boolean', default: false },
    metrics: { type: 'string' },
    'access-log': { type: 'boolean', default: false },
    conf: { type: 'string', short: 'c' },
    test: { type: 'boolean', short: 't' },
    daemon: { type: 'boolean', short: 'd' },
    upgrade: { type: 'boolean', short: 'u' },
  },
  allowPositionals: true,
  tokens: true,
});
// `--tls cert key`: the key file is the positional right after the certificate.
let tlsFiles: [string, string] | undefined;
if (values.tls !== undefined) {
  const at = tokens.findIndex((t) => t.kind === 'option' && t.name === 'tls');
  const key = tokens[at + 1];
  if (key?.kind !== 'positional') {
    console.error('usage: --tls <cert.pem> <key.pem>');
    process.exit(1);
  }
  tlsFiles = [values.tls, key.value];
}

const server = Server.fromArgs([...(values.conf ? ['-c', values.conf] : []), ...(values.test ? ['-t'] : []), ...(values.daemon ? ['-d'] : []), ...(values.upgrade ? ['-u'] : [])]);
server.bootstrap();

let upstreams = values.upstream ?? [];
if (upstreams.length === 0) {
  const origins = await startOrigins(2);
  upstreams = origins.addresses;
  server.shutdownSignal.addEventListener('abort', () => origins.servers.forEach((s) => s.close()));
  console.log(`embedded origins: ${upstreams.join(', ')}`);
}

const lb = LoadBalancer.fromAddresses(RoundRobin, upstreams, {
  healthCheck: new TcpHealthCheck({ connectionTimeoutMs: 500, consecutiveFailure: 1 }),
  healthCheckFrequencyMs: 1000,
});
const health = lb.asService('health checks');
// The proxy's built-in metrics (with backend health read from the load balancer at each scrape), one
// access log line per request (with the worker's pid), and a span per request when tracing is set up.
const metrics = new SluiceMetrics();
metrics.watchBackends(lb.backends);
const observe = new ProxyObservability({
  metrics,
  accessLog: values['access-log'] ? new AccessLog(undefined, { base: { pid: process.pid } }) : undefined,
  tracing: new RequestTracing(),
});
const proxy = httpProxyService(server.configuration, new RoundRobinProxy(lb), { name: 'load balancer', h2c: values.h2c, alpnH2: true, observe }).addTcp(values.listen);
if (tlsFiles) proxy.addTls(values['tls-listen'] ?? values.listen.replace(/:(\d+)$/, (_, p: string) => `:${p === '0' ? 0 : Number(p) + 1}`), TlsSettings.intermediate(...tlsFiles));
server.addService(health);
server.addService(proxy.dependsOn(health));
const metricsService = values.metrics === undefined ? undefined : prometheusHttpService(values.metrics, metrics.registry);
if (metricsService) server.addService(metricsService);

Promise.all([proxy.readiness.ready, metricsService?.readiness.ready]).then(() => {
  const [plain, secure] = proxy.addresses.map(formatAddress);
  console.log(`load balancer on http://${plain} over ${upstreams.length} upstreams (round robin, TCP health checks every 1 s)`);
  console.log('try:');
  console.log(`  curl -i http://${plain}/`);
  console.log(`  for i in 1 2 3 4; do curl -s http://${plain}/; done      # alternates between upstreams`);
  console.log(`  curl -s --data-binary 'echo me' http://${plain}/echo`);
  if (values.h2c) console.log(`  curl -si --http2-prior-knowledge http://${plain}/      # h2c`);
  if (secure) console.log(`  curl -sk --http2 https://${secure}/      # h2 by ALPN (HTTP/1.1 clients get HTTP/1.1)`);
  if (metricsService) console.log(`  curl -s http://${formatAddress(metricsService.addresses[0])}/metrics      # Prometheus`);
});
await server.runForever();
