import { Registry } from 'prom-client';
import { HistogramFamily, type Series, SeriesFamily } from './collectors.js';
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

/**
 * Where backend health is read from at each scrape: @sluice/lb's `Backends` (`loadBalancer.backends`)
 * fits as it is. `items` is the current set; `health(b)?.healthy` is what the health check last decided.
 */
export interface BackendHealthSource<B extends { readonly addr: string } = { readonly addr: string }> {
  readonly items: readonly B[];
  health(backend: NoInfer<B>): { readonly healthy: boolean } | undefined;
}

/**
 * The statistics of an HTTP cache, read at each scrape: @sluice/proxy's `HttpCache` fits as it is
 * (`metrics()`: counters since start, and the storage's entries and bytes when it reports them).
 */
export interface CacheStatsSource {
  metrics(): {
    readonly hits: number;
    readonly misses: number;
    readonly stale: number;
    readonly bypass: number;
    readonly revalidations: number;
    readonly revalidated: number;
    readonly lockWaits: number;
    readonly stored: number;
    readonly uncacheable: number;
    readonly purged: number;
    readonly invalidated: number;
    readonly evicted?: number;
    readonly entries: number | undefined;
    readonly bytes: number | undefined;
  };
}

/** How each cache counter is exported: the request results apart from the other events. */
const CACHE_RESULTS = ['hits', 'misses', 'stale', 'bypass'] as const;
const CACHE_RESULT_LABELS = ['hit', 'miss', 'stale', 'bypass'] as const;
const CACHE_EVENTS = ['revalidations', 'revalidated', 'lockWaits', 'stored', 'uncacheable', 'purged', 'invalidated', 'evicted'] as const;
const CACHE_EVENT_LABELS = ['revalidation', 'revalidated', 'lock_wait', 'stored', 'uncacheable', 'purged', 'invalidated', 'evicted'] as const;

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

/**
 * The proxy's built-in Prometheus metrics and the calls that record them. Series are made once up
 * front (see collectors.ts), so recording a request is a few field updates: no label lookups, no
 * allocation. The families live in a prom-client {@link Registry}, next to any metrics of your own.
 */
export class SluiceMetrics {
  readonly registry: Registry;
  readonly requests: SeriesFamily;
  readonly requestDuration: HistogramFamily;
  readonly upstreamConnectDuration: HistogramFamily;
  readonly upstreamConnectErrors: SeriesFamily;
  readonly upstreamConnections: SeriesFamily;
  readonly downstreamConnectionsOpen: Series;
  readonly h2StreamsOpen: Series;
  readonly tlsHandshakes: SeriesFamily;
  readonly tlsHandshakeFailures: SeriesFamily;
  readonly backendHealthy: SeriesFamily;
  readonly cacheRequests: SeriesFamily;
  readonly cacheEvents: SeriesFamily;
  readonly cacheEntries: SeriesFamily;
  readonly cacheBytes: SeriesFamily;
  private readonly cacheSources = new Map<string, CacheStatsSource>();
  private readonly requestSeries: Series[][];
  private readonly reused: Series;
  private readonly fresh: Series;
  private readonly backendSources: BackendHealthSource[] = [];
  /** Backends last exported from the sources, so one that left discovery stops being exported. */
  private watchedBackends = new Set<string>();

  /** @throws ObservabilityError `ERR_METRICS_INVALID_OPTION` for a bad prefix or bucket list. */
  constructor(options: SluiceMetricsOptions = {}) {
    const p = options.prefix ?? 'sluice_';
    if (!/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(p)) throw new ObservabilityError('ERR_METRICS_INVALID_OPTION', `metric prefix ${JSON.stringify(p)} is not a valid Prometheus name start`);
    const r = (this.registry = options.registry ?? new Registry());
    this.requests = new SeriesFamily('counter', `${p}http_requests_total`, 'Downstream HTTP requests by method and response status class.', ['method', 'status_class'], r);
    this.requestDuration = new HistogramFamily(`${p}http_request_duration_seconds`, 'Time from the request head to the end of the response.', buckets('durationBuckets', options.durationBuckets ?? DEFAULT_DURATION_BUCKETS), r);
    this.upstreamConnectDuration = new HistogramFamily(`${p}upstream_connect_duration_seconds`, 'Time to connect to an upstream peer (TCP and TLS), new connections only.', buckets('connectBuckets', options.connectBuckets ?? DEFAULT_CONNECT_BUCKETS), r);
    this.upstreamConnectErrors = new SeriesFamily('counter', `${p}upstream_connect_errors_total`, 'Failed upstream connects by error type (ConnectTimedout, ConnectRefused, TLSHandshakeFailure...).', ['type'], r);
    this.upstreamConnections = new SeriesFamily('counter', `${p}upstream_connections_total`, 'Upstream connections used for a request: reused="true" came from the pool. Reuse ratio = reused / all.', ['reused'], r);
    this.downstreamConnectionsOpen = new SeriesFamily('gauge', `${p}downstream_connections_open`, 'Downstream connections open now.', [], r).with();
    this.h2StreamsOpen = new SeriesFamily('gauge', `${p}h2_streams_open`, 'Downstream HTTP/2 streams open now.', [], r).with();
    this.tlsHandshakes = new SeriesFamily('counter', `${p}tls_handshakes_total`, 'Completed TLS handshakes by side.', ['side'], r);
    this.tlsHandshakeFailures = new SeriesFamily('counter', `${p}tls_handshake_failures_total`, 'Failed TLS handshakes by side.', ['side'], r);
    // Across workers a backend counts as healthy only when every worker's health check says so.
    this.backendHealthy = new SeriesFamily('gauge', `${p}backend_healthy`, '1 when the load balancer considers the backend healthy, else 0 (minimum over workers).', ['backend'], r, 'min');

    this.cacheRequests = new SeriesFamily('counter', `${p}cache_requests_total`, 'Requests with caching enabled, by cache and result (hit, miss, stale, bypass).', ['cache', 'result'], r);
    this.cacheEvents = new SeriesFamily('counter', `${p}cache_events_total`, 'Cache events by cache: revalidation, revalidated (a 304 reused the body), lock_wait, stored, uncacheable, purged, invalidated, evicted.', ['cache', 'event'], r);
    this.cacheEntries = new SeriesFamily('gauge', `${p}cache_entries`, 'Entries in the cache storage now (storages that report it).', ['cache'], r);
    this.cacheBytes = new SeriesFamily('gauge', `${p}cache_bytes`, 'Approximate bytes in the cache storage now (storages that report it).', ['cache'], r);

    // Request series appear on first use (no 60 zero series); the rest exist from the start, so
    // rates and the reuse ratio are defined before the first event.
    this.requestSeries = METHODS.map(() => STATUS_CLASSES.map(() => undefined as unknown as Series));
    this.reused = this.upstreamConnections.with('true');
    this.fresh = this.upstreamConnections.with('false');
    for (const side of ['downstream', 'upstream'] as const) {
      this.tlsHandshakes.with(side);
      this.tlsHandshakeFailures.with(side);
    }
  }

  /** A finished downstream request: `status` 0 if none was sent; `durationMs` head to last byte. */
  recordRequest(method: string, status: number, durationMs: number): void {
    const m = methodIndex(method);
    const cls = status >= 100 && status < 600 ? (status / 100) | 0 : 0;
    const series = this.requestSeries[m][cls] ?? (this.requestSeries[m][cls] = this.requests.with(METHODS[m], STATUS_CLASSES[cls]));
    series.value++;
    this.requestDuration.observe(durationMs / 1000);
  }

  /** An upstream connection taken for a request: from the pool (`reused`) or newly connected in `connectMs`. */
  recordUpstreamConnection(reused: boolean, connectMs?: number): void {
    if (reused) {
      this.reused.value++;
      return;
    }
    this.fresh.value++;
    if (connectMs !== undefined) this.upstreamConnectDuration.observe(connectMs / 1000);
  }

  /** A failed upstream connect; `type` is core's SluiceError type (e.g. `ConnectTimedout`). */
  recordUpstreamConnectError(type: string): void {
    this.upstreamConnectErrors.with(type).value++;
  }

  downstreamConnectionOpened(): void {
    this.downstreamConnectionsOpen.value++;
  }

  downstreamConnectionClosed(): void {
    this.downstreamConnectionsOpen.value--;
  }

  h2StreamOpened(): void {
    this.h2StreamsOpen.value++;
  }

  h2StreamClosed(): void {
    this.h2StreamsOpen.value--;
  }

  /** A TLS handshake finished (`ok`) or failed on `side`. */
  recordTlsHandshake(side: TlsSide, ok: boolean): void {
    (ok ? this.tlsHandshakes : this.tlsHandshakeFailures).with(side).value++;
  }

  /** The load balancer's view of `backend` (`host:port`). */
  setBackendHealth(backend: string, healthy: boolean): void {
    this.backendHealthy.with(backend).value = healthy ? 1 : 0;
  }

  /** Forgets a backend removed from discovery, so it stops being exported. */
  removeBackend(backend: string): void {
    this.backendHealthy.remove(backend);
  }

  /**
   * Exports the health of every backend of `source` (e.g. `loadBalancer.backends`) as read at each
   * scrape: backends added by discovery appear, removed ones disappear, flips show at once. Nothing is
   * done per request or per health check.
   */
  watchBackends<B extends { readonly addr: string }>(source: BackendHealthSource<B>): void {
    this.backendSources.push(source);
    this.backendHealthy.onCollect ??= () => this.collectBackendHealth();
  }

  /**
   * Exports the statistics of `cache` (e.g. an `HttpCache`) under the label `cache="name"`, read at
   * each scrape: nothing is done per request. Several caches need several names.
   * @throws ObservabilityError `ERR_METRICS_INVALID_OPTION` when `name` is empty or already watched.
   */
  watchCache(name: string, cache: CacheStatsSource): void {
    if (name.length === 0 || this.cacheSources.has(name)) throw new ObservabilityError('ERR_METRICS_INVALID_OPTION', `watchCache: the cache name ${JSON.stringify(name)} is empty or already watched`);
    this.cacheSources.set(name, cache);
    // Every family reads the snapshot, so any one of them scraped alone is current.
    if (this.cacheRequests.onCollect === undefined) {
      const collect = () => this.collectCaches();
      this.cacheRequests.onCollect = this.cacheEvents.onCollect = this.cacheEntries.onCollect = this.cacheBytes.onCollect = collect;
    }
  }

  private collectCaches(): void {
    for (const [name, source] of this.cacheSources) {
      const m = source.metrics();
      for (let i = 0; i < CACHE_RESULTS.length; i++) this.cacheRequests.with(name, CACHE_RESULT_LABELS[i]).value = m[CACHE_RESULTS[i]];
      for (let i = 0; i < CACHE_EVENTS.length; i++) this.cacheEvents.with(name, CACHE_EVENT_LABELS[i]).value = m[CACHE_EVENTS[i]] ?? 0;
      if (m.entries !== undefined) this.cacheEntries.with(name).value = m.entries;
      if (m.bytes !== undefined) this.cacheBytes.with(name).value = m.bytes;
    }
  }

  private collectBackendHealth(): void {
    const seen = new Set<string>();
    for (const source of this.backendSources) {
      for (const backend of source.items) {
        const healthy = source.health(backend)?.healthy ?? true;
        // The same backend in two sources (two load balancers): healthy only if both say so.
        if (seen.has(backend.addr)) {
          if (!healthy) this.setBackendHealth(backend.addr, false);
          continue;
        }
        seen.add(backend.addr);
        this.setBackendHealth(backend.addr, healthy);
      }
    }
    for (const addr of this.watchedBackends) if (!seen.has(addr)) this.removeBackend(addr);
    this.watchedBackends = seen;
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
