/** Stable codes of the errors this package throws or reports. */
export type TlsErrorCode =
  | 'ERR_TLS_INVALID_CONFIG'
  | 'ERR_TLS_INVALID_SERVER_NAME'
  | 'ERR_TLS_DUPLICATE_SERVER_NAME'
  | 'ERR_TLS_HANDSHAKE_FAILURE'
  | TlsCertificateErrorCode;

/** Codes of a peer certificate that was refused, or missing where one was required. */
export type TlsCertificateErrorCode =
  | 'ERR_TLS_CERT_HOSTNAME'
  | 'ERR_TLS_CERT_EXPIRED'
  | 'ERR_TLS_CERT_NOT_YET_VALID'
  | 'ERR_TLS_UNKNOWN_CA'
  | 'ERR_TLS_CERT_INVALID'
  | 'ERR_TLS_CLIENT_CERT_REQUIRED';

/** Which end of the connection saw the failure: our acceptor (downstream) or our connector (upstream). */
export type TlsSide = 'acceptor' | 'connector';

/** Bad settings: a certificate that does not load, an unknown option value, a malformed server name. */
export class TlsConfigError extends Error {
  override name = 'TlsConfigError';
  readonly code: 'ERR_TLS_INVALID_CONFIG' | 'ERR_TLS_INVALID_SERVER_NAME' | 'ERR_TLS_DUPLICATE_SERVER_NAME';

  constructor(code: TlsConfigError['code'], message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/**
 * A TLS handshake that failed (Pingora's `TLSHandshakeFailure`). `reason` is OpenSSL's reason
 * (`no shared cipher`, `wrong version number`, ...), `opensslCode` Node's code for it, `cause` the
 * original error. Certificate problems are the subclass {@link TlsCertificateError}.
 */
export class TlsHandshakeError extends Error {
  override name = 'TlsHandshakeError';
  readonly code: 'ERR_TLS_HANDSHAKE_FAILURE' | TlsCertificateErrorCode = 'ERR_TLS_HANDSHAKE_FAILURE';
  readonly side: TlsSide;
  /** `host:port` of the other end, when known. */
  readonly peerAddress: string | undefined;
  readonly reason: string;
  readonly opensslCode: string | undefined;

  constructor(side: TlsSide, peerAddress: string | undefined, reason: string, opensslCode: string | undefined, cause?: unknown) {
    super(`TLS handshake ${side === 'acceptor' ? 'from' : 'with'} ${peerAddress ?? 'unknown peer'} failed: ${reason}`, { cause });
    this.side = side;
    this.peerAddress = peerAddress;
    this.reason = reason;
    this.opensslCode = opensslCode;
  }
}

/**
 * A peer certificate that was refused (wrong hostname, expired, unknown CA) or a client certificate
 * that was required and not sent. `code` says which; still a {@link TlsHandshakeError}.
 */
export class TlsCertificateError extends TlsHandshakeError {
  override name = 'TlsCertificateError';
  override readonly code: TlsCertificateErrorCode;

  constructor(code: TlsCertificateErrorCode, side: TlsSide, peerAddress: string | undefined, reason: string, opensslCode: string | undefined, cause?: unknown) {
    super(side, peerAddress, reason, opensslCode, cause);
    this.code = code;
  }
}

// OpenSSL's X509_V_ERR_* names as Node reports them (error.code), by what they mean to a user.
const CERTIFICATE_CODES: Record<string, TlsCertificateErrorCode> = {
  ERR_TLS_CERT_ALTNAME_INVALID: 'ERR_TLS_CERT_HOSTNAME',
  HOSTNAME_MISMATCH: 'ERR_TLS_CERT_HOSTNAME',
  IP_ADDRESS_MISMATCH: 'ERR_TLS_CERT_HOSTNAME',
  CERT_HAS_EXPIRED: 'ERR_TLS_CERT_EXPIRED',
  CERT_NOT_YET_VALID: 'ERR_TLS_CERT_NOT_YET_VALID',
  UNABLE_TO_GET_ISSUER_CERT: 'ERR_TLS_UNKNOWN_CA',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'ERR_TLS_UNKNOWN_CA',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'ERR_TLS_UNKNOWN_CA',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'ERR_TLS_UNKNOWN_CA',
  SELF_SIGNED_CERT_IN_CHAIN: 'ERR_TLS_UNKNOWN_CA',
  CERT_UNTRUSTED: 'ERR_TLS_UNKNOWN_CA',
  CERT_REJECTED: 'ERR_TLS_CERT_INVALID',
  CERT_REVOKED: 'ERR_TLS_CERT_INVALID',
  CERT_SIGNATURE_FAILURE: 'ERR_TLS_CERT_INVALID',
  INVALID_CA: 'ERR_TLS_CERT_INVALID',
  INVALID_PURPOSE: 'ERR_TLS_CERT_INVALID',
  PATH_LENGTH_EXCEEDED: 'ERR_TLS_CERT_INVALID',
  // The server asked for a client certificate and got none (server side), or said so by alert
  // (client side, TLS 1.3's certificate_required, RFC 8446 §6.2).
  ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE: 'ERR_TLS_CLIENT_CERT_REQUIRED',
  ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED: 'ERR_TLS_CLIENT_CERT_REQUIRED',
  // The client's certificate did not verify at the server; the alert names the cause.
  ERR_SSL_TLSV1_ALERT_UNKNOWN_CA: 'ERR_TLS_UNKNOWN_CA',
  ERR_SSL_SSLV3_ALERT_CERTIFICATE_EXPIRED: 'ERR_TLS_CERT_EXPIRED',
};

/** OpenSSL's reason from a Node TLS error: `reason` when set, else the message after the last `:`. */
function reasonOf(e: { message?: string; reason?: string }): string {
  if (typeof e.reason === 'string' && e.reason) return e.reason;
  const m = String(e.message ?? 'unknown error');
  const tail = /error:[0-9A-F]+:[^:]*:[^:]*:([^:]+)$/i.exec(m.trim());
  return tail ? tail[1] : m;
}

/**
 * Turns an error from a TLS handshake (node:tls or OpenSSL) into a {@link TlsHandshakeError}, or the
 * more precise {@link TlsCertificateError} for certificate verdicts. An error that already is one is
 * returned as is.
 */
export function tlsErrorOf(error: unknown, side: TlsSide, peerAddress?: string): TlsHandshakeError {
  if (error instanceof TlsHandshakeError) return error;
  const e = (typeof error === 'object' && error !== null ? error : { message: String(error) }) as { message?: string; reason?: string; code?: unknown };
  const opensslCode = typeof e.code === 'string' ? e.code : undefined;
  const reason = reasonOf(e);
  const certificateCode = opensslCode === undefined ? undefined : CERTIFICATE_CODES[opensslCode];
  if (certificateCode) return new TlsCertificateError(certificateCode, side, peerAddress, reason, opensslCode, error);
  return new TlsHandshakeError(side, peerAddress, reason, opensslCode, error);
}
