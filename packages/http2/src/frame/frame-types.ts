// RFC 9113 §4.1 and §6: frame layout, types and flags.

/** Every frame starts with a 9-octet header: length (24), type (8), flags (8), R + stream id (1 + 31). */
export const FRAME_HEADER_LENGTH = 9;

/** RFC 9113 §3.4: the client connection preface that precedes the client's first SETTINGS. */
export const CONNECTION_PREFACE: Buffer = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

/** Frame types (RFC 9113 §6); others are extensions a receiver ignores (§5.5). */
export const FrameType = {
  DATA: 0x0,
  HEADERS: 0x1,
  PRIORITY: 0x2,
  RST_STREAM: 0x3,
  SETTINGS: 0x4,
  PUSH_PROMISE: 0x5,
  PING: 0x6,
  GOAWAY: 0x7,
  WINDOW_UPDATE: 0x8,
  CONTINUATION: 0x9,
} as const;

/** Frame flags; each applies only to the frame types named in RFC 9113 §6, others are ignored. */
export const FrameFlag = {
  /** DATA, HEADERS */
  END_STREAM: 0x1,
  /** SETTINGS, PING */
  ACK: 0x1,
  /** HEADERS, PUSH_PROMISE, CONTINUATION */
  END_HEADERS: 0x4,
  /** DATA, HEADERS, PUSH_PROMISE */
  PADDED: 0x8,
  /** HEADERS */
  PRIORITY: 0x20,
} as const;

/** The smallest and largest allowed SETTINGS_MAX_FRAME_SIZE (RFC 9113 §6.5.2); the initial value is the smallest. */
export const MIN_MAX_FRAME_SIZE = 16384;
export const MAX_MAX_FRAME_SIZE = 16777215;

/** Largest flow-control window and WINDOW_UPDATE increment (RFC 9113 §6.9.1). */
export const MAX_WINDOW_SIZE = 0x7fffffff;

/** Stream identifiers are 31 bits (RFC 9113 §5.1.1). */
export const MAX_STREAM_ID = 0x7fffffff;
