import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { ObservabilityError } from './error.js';

/** Methods counted by name; anything else is `OTHER`, so a client cannot grow the label set. */
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH', 'OTHER'] as const;
const OTHER_METHOD = METHODS.length - 1;
/** `none`: the request ended before any status was sent (status 0). */
const STATUS_CLASSES = ['none', '1xx', '2xx', '3xx', '4xx', '5xx'] as const;

/** Seconds; from 1 ms to 10 s, roughly doubling (proxies mostly answer within tens of ms). */
export const DEFAULT_DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** Seconds; connects on a LAN take well under a millisecond, across regions up to hundreds. */
export const DEFAULT_CONNECT_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 3];

/** Which side of the proxy a TLS handshake was on. */
export type TlsSide = 'downstream' | 'upstream';

export interface SluiceMetricsOptions {
  /** Registry the families are registered in (default a new one, not prom-client's global). */
  registry?: Registry;
  /** Metric name prefix (default `sluice_`). */
  prefix?: string;
  /** Request duration histogram buckets in seconds (default {@link DEFAULT_DURATION_BUCKETS}). */
  durationBuckets?: number[];
  /** Upstream connect time buckets in seconds (default {@link DEFAULT_CONNECT_BUCKETS}). */
  connectBuckets?: number[];
}

type CounterChild = ReturnType<Counter<string>['labels']>;

/**
 * The proxy's built-in Prometheus metrics and the calls that record them. Label children are made
 * once up front, so recording a request is two increments and a histogram observe, with no label
 * lookups or allocations.
 */
export class SluiceMetrics {
  readonly registry: Registry;
  readonly requests: Counter<'method' | 'status_class'>;
  readonly requestDuration: Histogram<string>;
  readonly upstreamConnectDuration: Histogram<string>;
  readonly upstreamConnectErrors: Counter<'type'>;
  readonly upstreamConnections: Counter<'reused'>;
  readonly downstreamConnectionsOpen: Gauge<string>;
  readonly h2StreamsOpen: Gauge<string>;
  readonly tlsHandshakes: Counter<'side'>;
  readonly tlsHandshakeFailures: Counter<'side'>;
  readonly backendHealthy: Gauge<'backend'>;
  private readonly requestChildren: CounterChild[][];
  private readonly reusedChild: CounterChild;
  private readonly newChild: CounterChild;
  private readonly connectErrorChildren = new Map<string, CounterChild>();

  /** @throws ObservabilityError `ERR_METRICS_INVALID_OPTION` for a bad prefix or bucket list. */
  constructor(options: SluiceMetricsOptions = {}) {
    const p = options.prefix ?? 'sluice_';
    if (!/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(p)) throw new ObservabilityError('ERR_METRICS_INVALID_OPTION', `metric prefix ${JSON.stringify(p)} is not a valid Prometheus name start`);
    const registry = (this.registry = options.registry ?? new Registry());
    const registers = [registry];
    this.requests = new Counter({ name: `${p}http_requests_total`, help: 'Downstream HTTP requests by method and response status class.', labelNames: ['method', 'status_class'], registers });
    this.requestDuration = new Histogram({ name: `${p}http_request_duration_seconds`, help: 'Time from the request head to the end of the response.', buckets: buckets('durationBuckets', options.durationBuckets ?? DEFAULT_DURATION_BUCKETS), registers });
    this.upstreamConnectDuration = new Histogram({ name: `${p}upstream_connect_duration_seconds`, help: 'Time to connect to an upstream peer (TCP and TLS), new connections only.', buckets: buckets('connectBuckets', options.connectBuckets ?? DEFAULT_CONNECT_BUCKETS), registers });
    this.upstreamConnectErrors = new Counter({ name: `${p}upstream_connect_errors_total`, help: 'Failed upstream connects by error type (ConnectTimedout, ConnectRefused, TLSHandshakeFailure...).', labelNames: ['type'], registers });
    this.upstreamConnections = new Counter({ name: `${p}upstream_connections_total`, help: 'Upstream connections used for a request: reused="true" came from the pool. Reuse ratio = reused / all.', labelNames: ['reused'], registers });
    this.downstreamConnectionsOpen = new Gauge({ name: `${p}downstream_connections_open`, help: 'Downstream connections open now.', registers });
    this.h2StreamsOpen = new Gauge({ name: `${p}h2_streams_open`, help: 'Downstream HTTP/2 streams open now.', registers });
    this.tlsHandshakes = new Counter({ name: `${p}tls_handshakes_total`, help: 'Completed TLS handshakes by side.', labelNames: ['side'], registers });
    this.tlsHandshakeFailures = new Counter({ name: `${p}tls_handshake_failures_total`, help: 'Failed TLS handshakes by side.', labelNames: ['side'], registers });
    // Across workers a backend counts as healthy only when every worker's health check says so.
    this.backendHealthy = new Gauge({ name: `${p}backend_healthy`, help: '1 when the load balancer considers the backend healthy, else 0 (minimum over workers).', labelNames: ['backend'], registers, aggregator: 'min' });

    this.requestChildren = METHODS.map((m) => STATUS_CLASSES.map((c) => this.requests.labels(m, c)));
    this.reusedChild = this.upstreamConnections.labels('true');
    this.newChild = this.upstreamConnections.labels('false');
    // Zero-valued series exported from the start, so rates and the reuse ratio exist before the first event.
    this.reusedChild.inc(0);
    this.newChild.inc(0);
    for (const side of ['downstream', 'upstream'] as const) {
      this.tlsHandshakes.labels(side).inc(0);
      this.tlsHandshakeFailures.labels(side).inc(0);
    }
  }

  /** A finished downstream request: `status` 0 if none was sent; `durationMs` head to last byte. */
  recordRequest(method: string, status: number, durationMs: number): void {
    const row = this.requestChildren[methodIndex(method)];
    const cls = status >= 100 && status < 600 ? (status / 100) | 0 : 0;
    row[cls].inc();
    this.requestDuration.observe(durationMs / 1000);
  }

  /** An upstream connection taken for a request: from the pool (`reused`) or newly connected in `connectMs`. */
  recordUpstreamConnection(reused: boolean, connectMs?: number): void {
    if (reused) {
      this.reusedChild.inc();
      return;
    }
    this.newChild.inc();
    if (connectMs !== undefined) this.upstreamConnectDuration.observe(connectMs / 1000);
  }

  /** A failed upstream connect; `type` is core's SluiceError type (e.g. `ConnectTimedout`). */
  recordUpstreamConnectError(type: string): void {
    let child = this.connectErrorChildren.get(type);
    if (child === undefined) {
      child = this.upstreamConnectErrors.labels(type);
      this.connectErrorChildren.set(type, child);
    }
    child.inc();
  }

  downstreamConnectionOpened(): void {
    this.downstreamConnectionsOpen.inc();
  }

  downstreamConnectionClosed(): void {
    this.downstreamConnectionsOpen.dec();
  }

  h2StreamOpened(): void {
    this.h2StreamsOpen.inc();
  }

  h2StreamClosed(): void {
    this.h2StreamsOpen.dec();
  }

  /** A TLS handshake finished (`ok`) or failed on `side`. */
  recordTlsHandshake(side: TlsSide, ok: boolean): void {
    (ok ? this.tlsHandshakes : this.tlsHandshakeFailures).labels(side).inc();
  }

  /** The load balancer's view of `backend` (`host:port`). */
  setBackendHealth(backend: string, healthy: boolean): void {
    this.backendHealthy.labels(backend).set(healthy ? 1 : 0);
  }

  /** Forgets a backend removed from discovery, so it stops being exported. */
  removeBackend(backend: string): void {
    this.backendHealthy.remove(backend);
  }
}

function methodIndex(method: string): number {
  switch (method) {
    case 'GET': return 0;
    case 'HEAD': return 1;
    case 'POST': return 2;
    case 'PUT': return 3;
    case 'DELETE': return 4;
    case 'CONNECT': return 5;
    case 'OPTIONS': return 6;
    case 'TRACE': return 7;
    case 'PATCH': return 8;
    default: return OTHER_METHOD;
  }
}

function buckets(name: string, list: number[]): number[] {
  for (let i = 0; i < list.length; i++) {
    if (!Number.isFinite(list[i]) || list[i] <= 0 || (i > 0 && list[i] <= list[i - 1])) {
      throw new ObservabilityError('ERR_METRICS_INVALID_OPTION', `${name} must be positive, finite and strictly increasing; item ${i} is ${list[i]}`);
    }
  }
  return list;
}
