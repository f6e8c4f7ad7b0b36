import { SluiceError } from '@sluice/core';

/** Why the parser rejected a message: a stable code, the status a server answers with, and where. */
export interface H1ErrorKind {
  readonly code: string;
  /** The status a server session answers a bad request with (RFC 9110 §15). */
  readonly status: number;
}

/** Every way the HTTP/1 parser can reject input, with the status a server answers it with. */
export const H1_ERRORS = {
  INVALID_METHOD: { code: 'ERR_H1_INVALID_METHOD', status: 400 },
  INVALID_URL: { code: 'ERR_H1_INVALID_URL', status: 400 },
  INVALID_CONSTANT: { code: 'ERR_H1_INVALID_CONSTANT', status: 400 },
  INVALID_VERSION: { code: 'ERR_H1_INVALID_VERSION', status: 400 },
  UNSUPPORTED_VERSION: { code: 'ERR_H1_UNSUPPORTED_VERSION', status: 505 },
  INVALID_STATUS: { code: 'ERR_H1_INVALID_STATUS', status: 502 },
  INVALID_HEADER_TOKEN: { code: 'ERR_H1_INVALID_HEADER_TOKEN', status: 400 },
  INVALID_HEADER_VALUE: { code: 'ERR_H1_INVALID_HEADER_VALUE', status: 400 },
  OBS_FOLD: { code: 'ERR_H1_OBS_FOLD', status: 400 },
  UNEXPECTED_SPACE: { code: 'ERR_H1_UNEXPECTED_SPACE', status: 400 },
  CR_EXPECTED: { code: 'ERR_H1_CR_EXPECTED', status: 400 },
  LF_EXPECTED: { code: 'ERR_H1_LF_EXPECTED', status: 400 },
  INVALID_CONTENT_LENGTH: { code: 'ERR_H1_INVALID_CONTENT_LENGTH', status: 400 },
  DUPLICATE_CONTENT_LENGTH: { code: 'ERR_H1_DUPLICATE_CONTENT_LENGTH', status: 400 },
  CONTENT_LENGTH_WITH_TRANSFER_ENCODING: { code: 'ERR_H1_CONTENT_LENGTH_WITH_TRANSFER_ENCODING', status: 400 },
  INVALID_TRANSFER_ENCODING: { code: 'ERR_H1_INVALID_TRANSFER_ENCODING', status: 400 },
  UNKNOWN_TRANSFER_CODING: { code: 'ERR_H1_UNKNOWN_TRANSFER_CODING', status: 501 },
  INVALID_CHUNK_SIZE: { code: 'ERR_H1_INVALID_CHUNK_SIZE', status: 400 },
  INVALID_CHUNK_EXTENSION: { code: 'ERR_H1_INVALID_CHUNK_EXTENSION', status: 400 },
  DATA_AFTER_CLOSE: { code: 'ERR_H1_DATA_AFTER_CLOSE', status: 400 },
  INCOMPLETE_MESSAGE: { code: 'ERR_H1_INCOMPLETE_MESSAGE', status: 400 },
  START_LINE_TOO_LONG: { code: 'ERR_H1_START_LINE_TOO_LONG', status: 414 },
  HEADERS_TOO_LARGE: { code: 'ERR_H1_HEADERS_TOO_LARGE', status: 431 },
  TOO_MANY_HEADERS: { code: 'ERR_H1_TOO_MANY_HEADERS', status: 431 },
  CHUNK_LINE_TOO_LONG: { code: 'ERR_H1_CHUNK_LINE_TOO_LONG', status: 413 },
  BODY_TOO_LARGE: { code: 'ERR_H1_BODY_TOO_LARGE', status: 413 },
  INVALID_HOST: { code: 'ERR_H1_INVALID_HOST', status: 400 },
} as const satisfies Record<string, H1ErrorKind>;

/**
 * A message the HTTP/1 parser rejected. `code` is stable, `offset` is the byte of the stream (counted
 * from the first byte the parser was given) where the fault was found, `status` is what a server
 * answers with before closing the connection.
 */
export class H1ParseError extends SluiceError {
  /** Byte offset in the stream where the parser found the fault. */
  readonly offset: number;
  /** A short explanation, e.g. "invalid character in Content-Length". */
  readonly reason: string;

  constructor(kind: H1ErrorKind, reason: string, offset: number) {
    super('H1Error', { code: kind.code, status: kind.status, context: `${reason} at byte ${offset}` });
    this.name = 'H1ParseError';
    this.offset = offset;
    this.reason = reason;
  }
}
