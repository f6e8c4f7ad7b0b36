/**
 * HTTP/2 error codes (RFC 9113 §7), the values carried by RST_STREAM and GOAWAY.
 */
export const ErrorCode = {
  NO_ERROR: 0x0,
  PROTOCOL_ERROR: 0x1,
  INTERNAL_ERROR: 0x2,
  FLOW_CONTROL_ERROR: 0x3,
  SETTINGS_TIMEOUT: 0x4,
  STREAM_CLOSED: 0x5,
  FRAME_SIZE_ERROR: 0x6,
  REFUSED_STREAM: 0x7,
  CANCEL: 0x8,
  COMPRESSION_ERROR: 0x9,
  CONNECT_ERROR: 0xa,
  ENHANCE_YOUR_CALM: 0xb,
  INADEQUATE_SECURITY: 0xc,
  HTTP_1_1_REQUIRED: 0xd,
} as const;

/** One of the numeric HTTP/2 error codes; peers may send values outside {@link ErrorCode}. */
export type ErrorCodeValue = (typeof ErrorCode)[keyof typeof ErrorCode];

/**
 * An HTTP/2 protocol error: `code` is a stable string for programs (`ERR_HPACK_…`, `ERR_H2_…`),
 * `errorCode` the RFC 9113 §7 code to put on the wire, and `streamId` says the scope: 0 for a
 * connection error (answer with GOAWAY), otherwise a stream error on that stream (answer with
 * RST_STREAM).
 */
export class Http2Error extends Error {
  readonly code: string;
  readonly errorCode: number;
  readonly streamId: number;

  constructor(code: string, errorCode: number, message: string, streamId = 0) {
    super(message);
    this.name = 'Http2Error';
    this.code = code;
    this.errorCode = errorCode;
    this.streamId = streamId;
  }

  /** True when the whole connection must end (GOAWAY), false for a stream error (RST_STREAM). */
  get isConnectionError(): boolean {
    return this.streamId === 0;
  }
}
