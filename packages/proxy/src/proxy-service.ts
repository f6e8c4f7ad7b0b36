import { ListeningService, TransportConnector } from '@sluice/core';
import type { ServerConf, TcpListenOptions, TlsAcceptorSettings } from '@sluice/core';
import { HttpProxy, type HttpProxyOptions } from './http-proxy.js';
import type { ProxyHttp } from './proxy-http.js';

/** Options of {@link httpProxyService}: the proxy's, plus the service name and ALPN. */
export interface HttpProxyServiceOptions extends HttpProxyOptions {
  /** The service's name in logs (default "http proxy"). */
  name?: string;
  /**
   * TLS endpoints offer `h2` before `http/1.1` by ALPN, so HTTP/2 clients get HTTP/2 and the rest
   * HTTP/1.1 (default false: the TLS settings' own ALPN list, e.g. `TlsSettings.enableH2()`).
   */
  alpnH2?: boolean;
}

/** The proxy's listening service: core's, with TLS endpoints offering h2 by ALPN when asked. */
export class HttpProxyService<Ctx> extends ListeningService<HttpProxy<Ctx>> {
  private readonly alpnH2: boolean;

  constructor(name: string, app: HttpProxy<Ctx>, alpnH2: boolean) {
    super(name, app);
    this.alpnH2 = alpnH2;
  }

  override addTls(addr: string, settings: TlsAcceptorSettings, options?: TcpListenOptions): this {
    return super.addTls(addr, this.alpnH2 ? offeringH2(settings) : settings, options);
  }
}

/** `settings` with ALPN `h2, http/1.1` (RFC 7301; RFC 9113 §3.2). */
function offeringH2(settings: TlsAcceptorSettings): TlsAcceptorSettings {
  return {
    serverOptions: () => ({ ...settings.serverOptions(), ALPNProtocols: ['h2', 'http/1.1'] }),
    attach: settings.attach === undefined ? undefined : (server) => settings.attach!(server),
  };
}

/**
 * A listening service that proxies HTTP with `proxy` (Pingora's `http_proxy_service`). Add endpoints
 * with `addTcp`/`addTls`/`addUds` and hand it to a core `Server`. `max_retries` and
 * `upstream_keepalive_pool_size` come from `conf` unless `options` says otherwise. HTTP/2 downstream:
 * `h2c` for cleartext prior knowledge, `alpnH2` (or `TlsSettings.enableH2()`) for TLS.
 */
export function httpProxyService<Ctx>(conf: Pick<ServerConf, 'max_retries' | 'upstream_keepalive_pool_size'>, proxy: ProxyHttp<Ctx>, options: HttpProxyServiceOptions = {}): HttpProxyService<Ctx> {
  const app = new HttpProxy(proxy, {
    ...options,
    maxRetries: options.maxRetries ?? conf.max_retries,
    connector: options.connector ?? new TransportConnector({ sizeLimit: conf.upstream_keepalive_pool_size }),
  });
  return new HttpProxyService(options.name ?? 'http proxy', app, options.alpnH2 ?? false);
}
