import { ListeningService, TransportConnector } from '@sluice/core';
import type { ServerConf } from '@sluice/core';
import { HttpProxy, type HttpProxyOptions } from './http-proxy.js';
import type { ProxyHttp } from './proxy-http.js';

/** Options of {@link httpProxyService}: the proxy's, plus the service name. */
export interface HttpProxyServiceOptions extends HttpProxyOptions {
  /** The service's name in logs (default "http proxy"). */
  name?: string;
}

/**
 * A listening service that proxies HTTP with `proxy` (Pingora's `http_proxy_service`). Add endpoints
 * with `addTcp`/`addTls`/`addUds` and hand it to a core `Server`. `max_retries` and
 * `upstream_keepalive_pool_size` come from `conf` unless `options` says otherwise.
 */
export function httpProxyService<Ctx>(conf: Pick<ServerConf, 'max_retries' | 'upstream_keepalive_pool_size'>, proxy: ProxyHttp<Ctx>, options: HttpProxyServiceOptions = {}): ListeningService<HttpProxy<Ctx>> {
  const app = new HttpProxy(proxy, {
    ...options,
    maxRetries: options.maxRetries ?? conf.max_retries,
    connector: options.connector ?? new TransportConnector({ sizeLimit: conf.upstream_keepalive_pool_size }),
  });
  return new ListeningService(options.name ?? 'http proxy', app);
}
