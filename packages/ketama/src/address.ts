// How a bucket's address becomes the bytes nginx hashes. nginx hashes the text of the `server`
// directive as written in the configuration (ngx_http_upstream_init_chash): "unix:" and the rest is a
// socket path with no port; otherwise the text after the last ':' is the port when it is all digits;
// otherwise the whole text is the host and the port is empty. The points of one server all start from
// CRC-32(host "\0" port), so that running register is what this module computes.
import { SocketAddress, isIP } from 'node:net';
import { CRC32_INITIAL, crc32UpdateByte, crc32UpdateString, type Crc32State } from './crc32.js';
import { KetamaError } from './errors.js';

/** An IP socket address as Node describes one: `net.SocketAddress`, `socket.address()`, `{ address, port }`. */
export interface SocketAddressLike {
  readonly address: string;
  readonly port: number;
}

/**
 * A backend address: the text of an nginx `server` directive (`"10.0.0.1:8080"`, `"[::1]:8080"`,
 * `"unix:/run/app.sock"`, `"backend.internal:80"`), or an IP socket address object.
 */
export type BucketAddress = string | SocketAddressLike;

// Whitespace, ';', '{', '}' and control characters cannot appear in an unquoted nginx server name.
const NOT_SERVER_TEXT = /[\s;{}\x00-\x1f\x7f]/;

/**
 * The nginx `server` text an address stands for: strings as given; objects as `ip:port`, IPv6 in
 * brackets and in RFC 5952 compressed form (`[2001:db8::1]:80`), as one would write them in nginx.
 * Throws `ERR_KETAMA_INVALID_ADDRESS` (naming the bucket index) for anything else.
 */
export function serverText(addr: BucketAddress, bucketIndex: number): string {
  if (typeof addr === 'string') {
    if (addr.length === 0 || NOT_SERVER_TEXT.test(addr)) {
      throw new KetamaError(
        'ERR_KETAMA_INVALID_ADDRESS',
        `bucket ${bucketIndex}: address ${JSON.stringify(addr)} is not an nginx server address ("ip:port", "[ipv6]:port", "unix:/path")`,
      );
    }
    return addr;
  }
  if (addr === null || typeof addr !== 'object' || typeof addr.address !== 'string') {
    throw new KetamaError(
      'ERR_KETAMA_INVALID_ADDRESS',
      `bucket ${bucketIndex}: address must be a string or a { address, port } object`,
    );
  }
  const { address, port } = addr;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new KetamaError('ERR_KETAMA_INVALID_ADDRESS', `bucket ${bucketIndex}: port ${String(port)} is not an integer in 0..65535`);
  }
  const version = isIP(address);
  if (version === 4) return `${address}:${port}`;
  if (version === 6) {
    // SocketAddress prints IPv6 through inet_ntop: lower case, longest zero run compressed.
    let compressed: string;
    try {
      compressed = new SocketAddress({ address, family: 'ipv6' }).address;
    } catch {
      compressed = address.toLowerCase();
    }
    return `[${compressed}]:${port}`;
  }
  throw new KetamaError('ERR_KETAMA_INVALID_ADDRESS', `bucket ${bucketIndex}: ${JSON.stringify(address)} is not an IP address`);
}

/** The CRC-32 register after `host "\0" port` of an nginx server text, before any point's bytes. */
export function serverHashBase(text: string): Crc32State {
  let host = text;
  let port = '';
  if (text.length >= 5 && text.slice(0, 5).toLowerCase() === 'unix:') {
    host = text.slice(5);
  } else {
    for (let i = text.length - 1; i >= 0; i--) {
      const c = text.charCodeAt(i);
      if (c === 0x3a /* ':' */) {
        host = text.slice(0, i);
        port = text.slice(i + 1);
        break;
      }
      if (c < 0x30 || c > 0x39) break;
    }
  }
  let state = crc32UpdateString(CRC32_INITIAL, host);
  state = crc32UpdateByte(state, 0);
  return crc32UpdateString(state, port);
}
