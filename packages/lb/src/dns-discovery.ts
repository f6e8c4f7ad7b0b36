import { promises as dns } from 'node:dns';
import { isIP } from 'node:net';
import { Backend } from './backend.js';
import type { ServiceDiscovery } from './discovery.js';
import { LbError, checkInteger } from './errors.js';

/** One name to resolve and the port and weight its addresses get. */
export interface DnsTarget {
  host: string;
  port: number;
  /** Weight of each resolved address. Default 1. */
  weight?: number;
}

/** Options of {@link DnsDiscovery}. */
export interface DnsDiscoveryOptions {
  /** Resolver addresses (`"10.0.0.2"`, `"127.0.0.1:5353"`, `"[::1]:53"`). Default: the system's. */
  servers?: readonly string[];
  /** Which records: 4 (A), 6 (AAAA) or 0 (both). Default 4. */
  family?: 0 | 4 | 6;
  /** Time to wait for one DNS answer. Default 2000 ms. */
  timeoutMs?: number;
  /** Attempts per query. Default 2. */
  tries?: number;
  /** Told when a name could not be resolved and its last known addresses were kept. */
  onError?: (error: LbError) => void;
}

// The name does not exist or has no record of that type: an answer, so the name has no addresses.
const NO_ADDRESSES = new Set(['ENOTFOUND', 'ENODATA']);

/**
 * Discovers backends by resolving host names (A and/or AAAA records) through node:dns each time
 * `discover()` is called, which the load balancer does every `updateFrequencyMs`. Each resolved
 * address becomes a backend `ip:port` whose `ext` holds `'host'` (the name it came from, handy for a
 * Host field or SNI). A name whose lookup fails (timeout, SERVFAIL, refused) keeps its last known
 * addresses; a name that no longer exists (NXDOMAIN, no records) has none.
 */
export class DnsDiscovery implements ServiceDiscovery {
  readonly targets: readonly DnsTarget[];
  readonly #resolver: dns.Resolver;
  readonly #family: 0 | 4 | 6;
  readonly #onError: ((error: LbError) => void) | undefined;
  readonly #lastKnown = new Map<string, string[]>();

  /** @throws LbError `ERR_LB_INVALID_OPTION` for a bad target, family, timeout or server address. */
  constructor(targets: readonly DnsTarget[], options: DnsDiscoveryOptions = {}) {
    if (!Array.isArray(targets)) throw new LbError('ConfigError', 'ERR_LB_INVALID_OPTION', 'DnsDiscovery targets must be an array of { host, port, weight? }');
    targets.forEach((t, i) => {
      if (typeof t?.host !== 'string' || t.host.length === 0) throw new LbError('ConfigError', 'ERR_LB_INVALID_OPTION', `DnsDiscovery target ${i}: host must be a non-empty string`);
      checkInteger(t.port, `DnsDiscovery target ${i} (${t.host}) port`, 0, 65535);
      if (t.port === undefined) throw new LbError('ConfigError', 'ERR_LB_INVALID_OPTION', `DnsDiscovery target ${i} (${t.host}): port is required`);
      checkInteger(t.weight, `DnsDiscovery target ${i} (${t.host}) weight`, 1, 65535);
    });
    if (options.family !== undefined && options.family !== 0 && options.family !== 4 && options.family !== 6) {
      throw new LbError('ConfigError', 'ERR_LB_INVALID_OPTION', `family must be 0, 4 or 6, got ${String(options.family)}`);
    }
    checkInteger(options.timeoutMs, 'timeoutMs', 1);
    checkInteger(options.tries, 'tries', 1, 100);
    this.targets = targets.map((t) => ({ ...t }));
    this.#resolver = new dns.Resolver({ timeout: options.timeoutMs ?? 2000, tries: options.tries ?? 2 });
    if (options.servers !== undefined) {
      try {
        this.#resolver.setServers(options.servers as string[]);
      } catch (e) {
        throw new LbError('ConfigError', 'ERR_LB_INVALID_OPTION', `DNS servers ${JSON.stringify(options.servers)} are not ip or ip:port addresses`, { cause: e });
      }
    }
    this.#family = options.family ?? 4;
    this.#onError = options.onError;
  }

  /**
   * Resolves every name (in parallel).
   * @throws LbError `ERR_LB_DNS_FAILURE` when a name fails and was never resolved before.
   */
  async discover(): Promise<Backend[]> {
    const lists = await Promise.all(this.targets.map((t) => this.#addressesOf(t.host)));
    const out: Backend[] = [];
    this.targets.forEach((t, i) => {
      for (const ip of lists[i]) {
        out.push(new Backend(isIP(ip) === 6 ? `[${ip}]:${t.port}` : `${ip}:${t.port}`, t.weight ?? 1, new Map([['host', t.host]])));
      }
    });
    return out;
  }

  async #addressesOf(host: string): Promise<string[]> {
    if (isIP(host) !== 0) return [host];
    try {
      const v4 = this.#family === 6 ? [] : await this.#query(host, 4);
      const v6 = this.#family === 4 ? [] : await this.#query(host, 6);
      const all = v4.concat(v6).sort();
      this.#lastKnown.set(host, all);
      return all;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? 'unknown';
      const known = this.#lastKnown.get(host);
      const error = new LbError('ConnectError', 'ERR_LB_DNS_FAILURE', `resolving ${host} failed (${code})${known ? `; keeping its ${known.length} last known addresses` : ''}`, { cause: e });
      if (known === undefined) throw error;
      this.#onError?.(error);
      return known;
    }
  }

  async #query(host: string, family: 4 | 6): Promise<string[]> {
    try {
      return family === 4 ? await this.#resolver.resolve4(host) : await this.#resolver.resolve6(host);
    } catch (e) {
      if (NO_ADDRESSES.has((e as NodeJS.ErrnoException).code ?? '')) return [];
      throw e;
    }
  }
}
