import type { Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import type { X509Certificate } from 'node:crypto';

/** An address a socket is bound or connected to. `port` is 0 for Unix domain sockets. */
export interface SocketAddress {
  family: 'IPv4' | 'IPv6' | 'unix';
  address: string;
  port: number;
}

/** `127.0.0.1:80`, `[::1]:80` or `unix:/path`. */
export function formatAddress(a: SocketAddress): string {
  if (a.family === 'unix') return `unix:${a.address}`;
  return a.family === 'IPv6' ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`;
}

/** What was negotiated on a TLS connection (filled for TLS streams). */
export interface TlsDigest {
  version: string | null;
  cipher: string | undefined;
  alpn: string | undefined;
  /** The server name the client asked for (SNI). */
  sni: string | undefined;
  resumed: boolean;
  /** The peer's certificate, when it sent one. */
  peerCertificate: X509Certificate | undefined;
}

/**
 * Facts about a connection (pingora's `Digest`): addresses, when it was established, how long the
 * connect took, and the TLS facts when it is a TLS connection.
 */
export interface Digest {
  peerAddr: SocketAddress | undefined;
  localAddr: SocketAddress | undefined;
  /** `Date.now()` when the connection was accepted or connected. */
  establishedAt: number;
  /** Upstream only: milliseconds from starting the connect to the stream being ready (TLS included). */
  connectMs: number | undefined;
  /** Upstream TLS only: milliseconds the TLS handshake took (part of `connectMs`). */
  tlsHandshakeMs?: number;
  tls: TlsDigest | undefined;
}

function familyOf(f: string | undefined): 'IPv4' | 'IPv6' {
  return f === 'IPv6' ? 'IPv6' : 'IPv4';
}

/** Reads the digest of a connected socket. `unixPath` names the socket file for UDS streams. */
export function digestOf(socket: Socket, establishedAt: number, connectMs?: number, unixPath?: string, tlsHandshakeMs?: number): Digest {
  let peerAddr: SocketAddress | undefined;
  let localAddr: SocketAddress | undefined;
  if (unixPath !== undefined) {
    peerAddr = localAddr = { family: 'unix', address: unixPath, port: 0 };
  } else {
    if (socket.remoteAddress) peerAddr = { family: familyOf(socket.remoteFamily), address: socket.remoteAddress, port: socket.remotePort ?? 0 };
    if (socket.localAddress) localAddr = { family: familyOf(socket.localFamily), address: socket.localAddress, port: socket.localPort ?? 0 };
  }
  return { peerAddr, localAddr, establishedAt, connectMs, tlsHandshakeMs, tls: socket instanceof TLSSocket ? tlsDigestOf(socket) : undefined };
}

/** Reads the negotiated TLS facts of a connected TLS socket. */
export function tlsDigestOf(socket: TLSSocket): TlsDigest {
  const sni = (socket as TLSSocket & { servername?: string | false }).servername;
  return {
    version: socket.getProtocol(),
    cipher: socket.getCipher()?.name,
    alpn: socket.alpnProtocol || undefined,
    sni: typeof sni === 'string' ? sni : undefined,
    resumed: socket.isSessionReused(),
    peerCertificate: socket.getPeerX509Certificate(),
  };
}
