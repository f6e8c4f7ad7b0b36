import { ListeningService, ResponseHeader, type ServerApp, type Stream } from '@sluice/core';
import { serveHttp1, type ServerSession } from '@sluice/http1';
import type { RequestHeader } from '@sluice/core';
import type { Registry } from 'prom-client';
import { METRICS_GATHER_TOPIC, shareMetricsWithWorkers, workerMetricsText } from './worker-metrics.js';

export interface PrometheusServiceOptions {
  /** The path scraped (default `/metrics`). */
  path?: string;
  /** Gather topic shared with the workers (default `sluice.metrics`). */
  topic?: string;
}

/**
 * Serves Prometheus scrapes (`GET /metrics`, text exposition format 0.0.4) over HTTP/1.1 with
 * @sluice/http1, summed over every worker process. Other paths get 404, other methods 405.
 */
export class PrometheusApp implements ServerApp {
  readonly path: string;
  private readonly topic: string;
  private readonly stopSharing: () => void;

  constructor(
    readonly registry: Registry,
    options: PrometheusServiceOptions = {},
  ) {
    this.path = options.path ?? '/metrics';
    this.topic = options.topic ?? METRICS_GATHER_TOPIC;
    this.stopSharing = shareMetricsWithWorkers(registry, this.topic);
  }

  processNewConnection(stream: Stream): Promise<void> {
    return serveHttp1(stream, (session, request) => this.serve(session, request));
  }

  cleanup(): void {
    this.stopSharing();
  }

  private async serve(session: ServerSession, request: RequestHeader): Promise<void> {
    if (request.path !== this.path) {
      await session.respond(ResponseHeader.build(404).insertHeader('Content-Type', 'text/plain'), 'not found\n');
      return;
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      await session.respond(ResponseHeader.build(405).insertHeader('Allow', 'GET, HEAD').insertHeader('Content-Type', 'text/plain'), 'method not allowed\n');
      return;
    }
    let body: { text: string; contentType: string };
    try {
      body = await workerMetricsText(this.registry, this.topic);
    } catch (e) {
      await session.respond(ResponseHeader.build(500).insertHeader('Content-Type', 'text/plain'), `collecting metrics failed: ${e instanceof Error ? e.message : String(e)}\n`);
      return;
    }
    const res = ResponseHeader.build(200).insertHeader('Content-Type', body.contentType).insertHeader('Cache-Control', 'no-store');
    await session.respond(res, body.text);
  }
}

/**
 * A listening service that exports `registry` on `addr` (`127.0.0.1:9091`), pingora-prometheus's
 * `prometheus_http_service`. Add it to a core `Server` like any service.
 */
export function prometheusHttpService(addr: string, registry: Registry, options: PrometheusServiceOptions = {}): ListeningService<PrometheusApp> {
  return new ListeningService('prometheus', new PrometheusApp(registry, options)).addTcp(addr);
}
