// RFC 9113 §4.1 and §6: encoding frames.
import { ErrorCode, Http2Error } from '../error.js';
import {
  FRAME_HEADER_LENGTH,
  FrameFlag,
  FrameType,
  MAX_MAX_FRAME_SIZE,
  MAX_STREAM_ID,
  MAX_WINDOW_SIZE,
  MIN_MAX_FRAME_SIZE,
} from './frame-types.js';
import { settingsPayloadLength, writeSettings, type Settings } from './settings.js';

/** Zero octets to write after a padded frame's data (padding is at most 255 octets). */
export const PADDING: Buffer = Buffer.alloc(255);

/** The deprecated priority fields of HEADERS and PRIORITY frames (RFC 9113 §5.3.2). */
export interface Priority {
  dependsOn: number;
  /** 1..256 (sent as weight - 1). */
  weight: number;
  exclusive?: boolean;
}

/** Options of {@link encodeHeaders} and {@link encodePushPromise}. */
export interface FieldBlockFrameOptions {
  /** HEADERS only: set END_STREAM (a request or response without body, or trailers). */
  endStream?: boolean;
  /** The peer's SETTINGS_MAX_FRAME_SIZE; the block is split into CONTINUATIONs to fit. Default 16384. */
  maxFrameSize?: number;
  /** Octets of padding on the first frame, 0..255; default none. */
  padLength?: number;
  /** HEADERS only: priority fields (deprecated by RFC 9113, still valid on the wire). */
  priority?: Priority;
}

/** Writes a 9-octet frame header at `offset`; returns the offset after it. */
export function writeFrameHeader(target: Uint8Array, offset: number, length: number, type: number, flags: number, streamId: number): number {
  target[offset] = length >>> 16;
  target[offset + 1] = (length >>> 8) & 0xff;
  target[offset + 2] = length & 0xff;
  target[offset + 3] = type;
  target[offset + 4] = flags;
  target[offset + 5] = (streamId >>> 24) & 0x7f;
  target[offset + 6] = (streamId >>> 16) & 0xff;
  target[offset + 7] = (streamId >>> 8) & 0xff;
  target[offset + 8] = streamId & 0xff;
  return offset + FRAME_HEADER_LENGTH;
}

/**
 * Encodes any frame from its parts, unchecked beyond field ranges: for extension frames and for
 * tests that must send what a correct peer never would.
 */
export function encodeFrame(type: number, flags: number, streamId: number, payload: Uint8Array = PADDING.subarray(0, 0)): Buffer {
  checkRange(type, 0, 0xff, 'type');
  checkRange(flags, 0, 0xff, 'flags');
  checkRange(streamId, 0, MAX_STREAM_ID, 'streamId');
  checkRange(payload.length, 0, MAX_MAX_FRAME_SIZE, 'payload length');
  const frame = Buffer.allocUnsafe(FRAME_HEADER_LENGTH + payload.length);
  writeFrameHeader(frame, 0, payload.length, type, flags, streamId);
  frame.set(payload, FRAME_HEADER_LENGTH);
  return frame;
}

/**
 * The header of a DATA frame carrying `dataLength` octets (plus the pad length octet when
 * padded): write it, then the data as it is, then `PADDING.subarray(0, padLength)`, so bodies are
 * never copied. The frame's flow-controlled length is `dataLength + (padLength ? padLength + 1 : 0)`;
 * the caller keeps it within the peer's SETTINGS_MAX_FRAME_SIZE and flow-control windows.
 */
export function encodeDataHeader(streamId: number, dataLength: number, endStream: boolean, padLength = 0): Buffer {
  checkStream(streamId);
  checkRange(padLength, 0, 255, 'padLength');
  const padded = padLength > 0;
  const length = dataLength + (padded ? padLength + 1 : 0);
  checkRange(length, 0, MAX_MAX_FRAME_SIZE, 'DATA payload length');
  const header = Buffer.allocUnsafe(FRAME_HEADER_LENGTH + (padded ? 1 : 0));
  const flags = (endStream ? FrameFlag.END_STREAM : 0) | (padded ? FrameFlag.PADDED : 0);
  writeFrameHeader(header, 0, length, FrameType.DATA, flags, streamId);
  if (padded) header[FRAME_HEADER_LENGTH] = padLength;
  return header;
}

/** A whole DATA frame in one Buffer (copies `data`; prefer {@link encodeDataHeader} for bodies). */
export function encodeData(streamId: number, data: Uint8Array, endStream: boolean, padLength = 0): Buffer {
  const header = encodeDataHeader(streamId, data.length, endStream, padLength);
  const frame = Buffer.alloc(header.length + data.length + padLength);
  header.copy(frame, 0);
  frame.set(data, header.length);
  return frame;
}

/**
 * A HEADERS frame, followed by as many CONTINUATION frames as `fieldBlock` needs at the peer's
 * max frame size, in one Buffer so the whole block goes out in one write (RFC 9113 §4.3: nothing
 * may come between them).
 */
export function encodeHeaders(streamId: number, fieldBlock: Uint8Array, options: FieldBlockFrameOptions = {}): Buffer {
  checkStream(streamId);
  const priority = options.priority;
  let flags = options.endStream === true ? FrameFlag.END_STREAM : 0;
  let fixed = 0;
  if (priority !== undefined) {
    checkRange(priority.dependsOn, 0, MAX_STREAM_ID, 'priority.dependsOn');
    checkRange(priority.weight, 1, 256, 'priority.weight');
    flags |= FrameFlag.PRIORITY;
    fixed = 5;
  }
  const frame = fieldBlockFrames(FrameType.HEADERS, flags, streamId, fieldBlock, options, fixed);
  if (priority !== undefined) {
    const at = fixedFieldsOffset(options);
    frame.writeUInt32BE(((priority.exclusive === true ? 0x80000000 : 0) | priority.dependsOn) >>> 0, at);
    frame[at + 4] = priority.weight - 1;
  }
  return frame;
}

/** A PUSH_PROMISE frame and its CONTINUATIONs, like {@link encodeHeaders}. */
export function encodePushPromise(
  streamId: number,
  promisedStreamId: number,
  fieldBlock: Uint8Array,
  options: FieldBlockFrameOptions = {},
): Buffer {
  checkStream(streamId);
  checkRange(promisedStreamId, 1, MAX_STREAM_ID, 'promisedStreamId');
  const frame = fieldBlockFrames(FrameType.PUSH_PROMISE, 0, streamId, fieldBlock, options, 4);
  frame.writeUInt32BE(promisedStreamId, fixedFieldsOffset(options));
  return frame;
}

/** A CONTINUATION frame (normally produced by {@link encodeHeaders}). */
export function encodeContinuation(streamId: number, fragment: Uint8Array, endHeaders: boolean): Buffer {
  checkStream(streamId);
  return encodeFrame(FrameType.CONTINUATION, endHeaders ? FrameFlag.END_HEADERS : 0, streamId, fragment);
}

/** A PRIORITY frame (RFC 9113 §6.3). */
export function encodePriority(streamId: number, priority: Priority): Buffer {
  checkStream(streamId);
  checkRange(priority.dependsOn, 0, MAX_STREAM_ID, 'priority.dependsOn');
  checkRange(priority.weight, 1, 256, 'priority.weight');
  const frame = Buffer.allocUnsafe(FRAME_HEADER_LENGTH + 5);
  writeFrameHeader(frame, 0, 5, FrameType.PRIORITY, 0, streamId);
  frame.writeUInt32BE(((priority.exclusive === true ? 0x80000000 : 0) | priority.dependsOn) >>> 0, FRAME_HEADER_LENGTH);
  frame[FRAME_HEADER_LENGTH + 4] = priority.weight - 1;
  return frame;
}

/** An RST_STREAM frame (RFC 9113 §6.4). */
export function encodeRstStream(streamId: number, errorCode: number): Buffer {
  checkStream(streamId);
  checkRange(errorCode, 0, 0xffffffff, 'errorCode');
  const frame = Buffer.allocUnsafe(FRAME_HEADER_LENGTH + 4);
  writeFrameHeader(frame, 0, 4, FrameType.RST_STREAM, 0, streamId);
  frame.writeUInt32BE(errorCode, FRAME_HEADER_LENGTH);
  return frame;
}

/** A SETTINGS frame with the parameters present in `settings` (RFC 9113 §6.5). */
export function encodeSettings(settings: Settings): Buffer {
  const length = settingsPayloadLength(settings);
  const frame = Buffer.allocUnsafe(FRAME_HEADER_LENGTH + length);
  writeFrameHeader(frame, 0, length, FrameType.SETTINGS, 0, 0);
  writeSettings(settings, frame, FRAME_HEADER_LENGTH);
  return frame;
}

const SETTINGS_ACK = Buffer.from([0, 0, 0, FrameType.SETTINGS, FrameFlag.ACK, 0, 0, 0, 0]);

/** The SETTINGS acknowledgement (a new copy each call, so callers may keep it). */
export function encodeSettingsAck(): Buffer {
  return Buffer.from(SETTINGS_ACK);
}

/** A PING (RFC 9113 §6.7) with 8 octets of opaque data; an ACK echoes the PING's data. */
export function encodePing(opaqueData: Uint8Array, ack = false): Buffer {
  checkRange(opaqueData.length, 8, 8, 'PING opaque data length');
  const frame = Buffer.allocUnsafe(FRAME_HEADER_LENGTH + 8);
  writeFrameHeader(frame, 0, 8, FrameType.PING, ack ? FrameFlag.ACK : 0, 0);
  frame.set(opaqueData, FRAME_HEADER_LENGTH);
  return frame;
}

/** A GOAWAY (RFC 9113 §6.8): the last stream we processed, why, and optional debug data. */
export function encodeGoaway(lastStreamId: number, errorCode: number, debugData?: Uint8Array): Buffer {
  checkRange(lastStreamId, 0, MAX_STREAM_ID, 'lastStreamId');
  checkRange(errorCode, 0, 0xffffffff, 'errorCode');
  const debugLength = debugData === undefined ? 0 : debugData.length;
  checkRange(8 + debugLength, 8, MIN_MAX_FRAME_SIZE, 'GOAWAY payload length');
  const frame = Buffer.allocUnsafe(FRAME_HEADER_LENGTH + 8 + debugLength);
  writeFrameHeader(frame, 0, 8 + debugLength, FrameType.GOAWAY, 0, 0);
  frame.writeUInt32BE(lastStreamId, FRAME_HEADER_LENGTH);
  frame.writeUInt32BE(errorCode, FRAME_HEADER_LENGTH + 4);
  if (debugData !== undefined) frame.set(debugData, FRAME_HEADER_LENGTH + 8);
  return frame;
}

/** A WINDOW_UPDATE (RFC 9113 §6.9); stream 0 updates the connection window. */
export function encodeWindowUpdate(streamId: number, increment: number): Buffer {
  checkRange(streamId, 0, MAX_STREAM_ID, 'streamId');
  checkRange(increment, 1, MAX_WINDOW_SIZE, 'increment');
  const frame = Buffer.allocUnsafe(FRAME_HEADER_LENGTH + 4);
  writeFrameHeader(frame, 0, 4, FrameType.WINDOW_UPDATE, 0, streamId);
  frame.writeUInt32BE(increment, FRAME_HEADER_LENGTH);
  return frame;
}

/** Where the fixed fields (priority, promised stream id) of the first frame start. */
function fixedFieldsOffset(options: FieldBlockFrameOptions): number {
  return FRAME_HEADER_LENGTH + ((options.padLength ?? 0) > 0 ? 1 : 0);
}

/**
 * Lays out the first frame (pad length, room for `fixed` octets of fixed fields, fragment,
 * padding) and its CONTINUATIONs; the caller fills the fixed fields.
 */
function fieldBlockFrames(
  type: number,
  flags: number,
  streamId: number,
  fieldBlock: Uint8Array,
  options: FieldBlockFrameOptions,
  fixed: number,
): Buffer {
  const maxFrameSize = options.maxFrameSize ?? MIN_MAX_FRAME_SIZE;
  checkRange(maxFrameSize, MIN_MAX_FRAME_SIZE, MAX_MAX_FRAME_SIZE, 'maxFrameSize');
  const padLength = options.padLength ?? 0;
  checkRange(padLength, 0, 255, 'padLength');
  const padded = padLength > 0;
  const overhead = fixed + (padded ? padLength + 1 : 0);
  const firstFragment = Math.min(fieldBlock.length, maxFrameSize - overhead);
  const rest = fieldBlock.length - firstFragment;
  const continuations = Math.ceil(rest / maxFrameSize);
  const frame = Buffer.allocUnsafe(FRAME_HEADER_LENGTH * (1 + continuations) + overhead + fieldBlock.length);
  const firstFlags = flags | (continuations === 0 ? FrameFlag.END_HEADERS : 0) | (padded ? FrameFlag.PADDED : 0);
  let at = writeFrameHeader(frame, 0, overhead + firstFragment, type, firstFlags, streamId);
  if (padded) frame[at++] = padLength;
  at += fixed;
  frame.set(fieldBlock.subarray(0, firstFragment), at);
  at += firstFragment;
  if (padded) {
    frame.fill(0, at, at + padLength);
    at += padLength;
  }
  for (let from = firstFragment; from < fieldBlock.length; from += maxFrameSize) {
    const length = Math.min(maxFrameSize, fieldBlock.length - from);
    const last = from + length === fieldBlock.length;
    at = writeFrameHeader(frame, at, length, FrameType.CONTINUATION, last ? FrameFlag.END_HEADERS : 0, streamId);
    frame.set(fieldBlock.subarray(from, from + length), at);
    at += length;
  }
  return frame;
}

function checkStream(streamId: number): void {
  checkRange(streamId, 1, MAX_STREAM_ID, 'streamId');
}

function checkRange(value: number, min: number, max: number, name: string): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Http2Error('ERR_H2_INVALID_ARGUMENT', ErrorCode.INTERNAL_ERROR, `${name} must be an integer in ${min}..${max}, got ${value}`);
  }
}
