import { parsePeerAddress, type PeerAddress } from '@sluice/core';
import { LbError } from './errors.js';
import { fnv1a32 } from './fnv.js';

/** Largest weight of one backend. */
export const MAX_BACKEND_WEIGHT = 65_535;

/**
 * A server traffic can go to (pingora's `Backend`): an address, a weight, and `ext`, a map for the
 * user's own data (a label, an SNI, an `HttpPeer`) that selection and health checks carry along.
 * Two backends are the same backend when address and weight match; `ext` is not part of identity.
 */
export class Backend {
  /** `host:port`, `[ipv6]:port` or `unix:/path`, as given. */
  readonly addr: string;
  /** Relative share of traffic, an integer in 1..65535. Default 1. */
  readonly weight: number;
  /** The user's extra data. */
  readonly ext: Map<unknown, unknown>;
  /** The stable identity `addr#weight`: equal for equal backends, in every process. */
  readonly id: string;
  /** `addr` parsed. */
  readonly address: PeerAddress;

  /**
   * @throws LbError `ERR_LB_INVALID_ADDRESS` for an address that is not `host:port`, `[ipv6]:port` or
   *   `unix:/path`; `ERR_LB_INVALID_WEIGHT` for a weight that is not an integer in 1..65535.
   */
  constructor(addr: string, weight = 1, ext: Map<unknown, unknown> = new Map()) {
    if (typeof addr !== 'string') throw new LbError('ConfigError', 'ERR_LB_INVALID_ADDRESS', `backend address must be a string, got ${typeof addr}`);
    try {
      this.address = parsePeerAddress(addr);
    } catch (e) {
      throw new LbError('ConfigError', 'ERR_LB_INVALID_ADDRESS', `backend address ${JSON.stringify(addr)} is not host:port, [ipv6]:port or unix:/path`, { cause: e });
    }
    if (!Number.isInteger(weight) || weight < 1 || weight > MAX_BACKEND_WEIGHT) {
      throw new LbError('ConfigError', 'ERR_LB_INVALID_WEIGHT', `backend ${addr}: weight must be an integer in 1..${MAX_BACKEND_WEIGHT}, got ${String(weight)}`);
    }
    this.addr = addr;
    this.weight = weight;
    this.ext = ext;
    this.id = `${addr}#${weight}`;
  }

  /** A stable 32-bit hash of {@link Backend.id} (FNV-1a). */
  get hashKey(): number {
    return fnv1a32(this.id);
  }

  /** Orders backends by address, then weight: the order selections are built in. */
  static compare(a: Backend, b: Backend): number {
    if (a.addr !== b.addr) return a.addr < b.addr ? -1 : 1;
    return a.weight - b.weight;
  }

  toString(): string {
    return this.id;
  }
}
