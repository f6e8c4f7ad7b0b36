// RFC 9113 §4 and §6: a push-based frame reader.
import { ErrorCode, Http2Error } from '../error.js';
import {
  CONNECTION_PREFACE,
  FRAME_HEADER_LENGTH,
  FrameFlag,
  FrameType,
  MAX_MAX_FRAME_SIZE,
  MIN_MAX_FRAME_SIZE,
} from './frame-types.js';
import { decodeSettings, type Settings } from './settings.js';

/**
 * What a {@link FrameReader} calls, one method per frame type, synchronously from `push()`.
 * Payload Buffers are views of the pushed chunks where a frame arrived whole (no copy), so a
 * handler that keeps one past the call must not expect the chunk's owner to leave it unchanged.
 */
export interface FrameHandler {
  /**
   * DATA, padding removed, always as views of the pushed chunks. A frame that arrived whole comes
   * in one call; a frame split across chunks comes in several, as its octets arrive, with
   * `endStream` only on the last. `flowControlledLength` counts the payload octets (pad length
   * and padding included) since the previous call, so the calls of one frame add up to its
   * length, which is what flow control counts (RFC 9113 §6.9.1). `data` may be empty.
   */
  onData(streamId: number, endStream: boolean, data: Buffer, flowControlledLength: number): void;
  /**
   * A complete field block: the HEADERS frame and its CONTINUATION frames joined, padding and
   * priority fields removed. `dependsOn` is the deprecated priority's stream dependency (0 when
   * absent); a stream depending on itself is a stream error the session reports (RFC 9113 §5.3.1)
   * after decoding the block, so the HPACK state stays in step.
   */
  onHeaders(streamId: number, endStream: boolean, fieldBlock: Buffer, dependsOn: number): void;
  onRstStream(streamId: number, errorCode: number): void;
  /** A validated SETTINGS frame; `settings` is empty for an ACK. */
  onSettings(ack: boolean, settings: Settings): void;
  /** A complete PUSH_PROMISE field block (CONTINUATIONs joined, padding removed). */
  onPushPromise(streamId: number, promisedStreamId: number, fieldBlock: Buffer): void;
  /** A PING; `opaqueData` is its 8 octets. */
  onPing(ack: boolean, opaqueData: Buffer): void;
  onGoaway(lastStreamId: number, errorCode: number, debugData: Buffer): void;
  /** A WINDOW_UPDATE with a non-zero increment (zero is reported as an error instead). */
  onWindowUpdate(streamId: number, increment: number): void;
  /**
   * A stream error found by framing alone (RFC 9113 §5.4.2): reset that stream and go on. The
   * stream may be idle or closed; the session decides if that makes it a connection error.
   */
  onStreamError(error: Http2Error): void;
  /** Optional: a frame of an extension type (RFC 9113 §5.5), otherwise ignored. */
  onUnknownFrame?(type: number, flags: number, streamId: number, payload: Buffer): void;
}

/** Options of {@link FrameReader}. */
export interface FrameReaderOptions {
  /**
   * Largest frame payload accepted: our SETTINGS_MAX_FRAME_SIZE. Default 16384; range
   * 16384..16777215. Larger frames are a FRAME_SIZE_ERROR before any of their payload is buffered.
   */
  maxFrameSize?: number;
  /**
   * Largest field block (HEADERS or PUSH_PROMISE plus CONTINUATIONs) gathered before it is
   * handed over; beyond it the connection fails with ENHANCE_YOUR_CALM, which bounds the memory a
   * CONTINUATION flood can take (CVE-2024-27316). Default 131072.
   */
  maxFieldBlockSize?: number;
  /**
   * Most CONTINUATION frames one field block may use; beyond it the connection fails with
   * ENHANCE_YOUR_CALM, so a flood of tiny or empty CONTINUATIONs cannot keep a block open
   * forever. Default 64 (a 128 KiB block at 16 KiB frames takes 8).
   */
  maxContinuationFrames?: number;
  /** Expect the client connection preface first (a server reading a client). Default false. */
  expectPreface?: boolean;
}

const PRIORITY_FIELDS_LENGTH = 5;
const EMPTY: Buffer = Buffer.alloc(0);

/**
 * Reads HTTP/2 frames from bytes as they arrive, in chunks split anywhere, and calls a
 * {@link FrameHandler} per frame. Checks everything RFC 9113 §4 and §6 decide from the frame
 * alone: sizes, stream-id rules, padding, SETTINGS values and CONTINUATION sequencing. Unknown
 * frame types and unknown flags are ignored; PRIORITY frames are checked and dropped.
 *
 * `push()` throws an {@link Http2Error} for a connection error (send GOAWAY with its
 * `errorCode`); the reader then refuses further input. Stream errors go to `onStreamError`.
 */
export class FrameReader {
  private readonly handler: FrameHandler;
  private maxFrameSize: number;
  private readonly maxFieldBlockSize: number;
  private readonly maxContinuationFrames: number;
  private prefaceMatched: number;
  private failure: Http2Error | null = null;

  // The frame being read when it spans chunks.
  private readonly header = Buffer.alloc(FRAME_HEADER_LENGTH);
  private headerFill = 0;
  private payload: Buffer | null = null;
  private payloadFill = 0;
  // A DATA frame being passed on piece by piece: payload octets still to come, its pad length
  // (-1 until read) and the flow-controlled octets read but not yet reported.
  private dataRemaining = 0;
  private dataPadding = 0;
  private dataUnreported = 0;
  private length = 0;
  private type = 0;
  private flags = 0;
  private streamId = 0;

  // The field block being gathered from HEADERS / PUSH_PROMISE and CONTINUATION frames.
  private blockStreamId = 0; // 0 when none is open
  private blockType = 0;
  private blockEndStream = false;
  private blockDependsOn = 0;
  private blockPromisedId = 0;
  private blockParts: Buffer[] = [];
  private blockLength = 0;
  private blockContinuations = 0;

  constructor(handler: FrameHandler, options: FrameReaderOptions = {}) {
    this.handler = handler;
    this.maxFrameSize = checkMaxFrameSize(options.maxFrameSize ?? MIN_MAX_FRAME_SIZE);
    this.maxFieldBlockSize = checkCount(options.maxFieldBlockSize ?? 131072, 'maxFieldBlockSize');
    this.maxContinuationFrames = checkCount(options.maxContinuationFrames ?? 64, 'maxContinuationFrames');
    this.prefaceMatched = options.expectPreface === true ? 0 : CONNECTION_PREFACE.length;
  }

  /** Applies a new SETTINGS_MAX_FRAME_SIZE of ours, once the peer has acknowledged it. */
  setMaxFrameSize(size: number): void {
    this.maxFrameSize = checkMaxFrameSize(size);
  }

  /** True while a HEADERS or PUSH_PROMISE awaits its CONTINUATION frames. */
  get inFieldBlock(): boolean {
    return this.blockStreamId !== 0;
  }

  /**
   * Reads `chunk`, calling the handler for every frame it completes.
   * @throws Http2Error on a connection error, and again on every later call.
   */
  push(chunk: Buffer): void {
    if (this.failure !== null) throw this.failure;
    try {
      this.read(chunk);
    } catch (error) {
      // Whatever threw, the rest of the chunk is lost: the reader cannot find the next frame.
      this.failure =
        error instanceof Http2Error && error.streamId === 0
          ? error
          : new Http2Error('ERR_H2_READER_FAILED', ErrorCode.INTERNAL_ERROR, `a frame handler threw: ${String(error)}`);
      throw error;
    }
  }

  private read(chunk: Buffer): void {
    const end = chunk.length;
    let at = 0;
    if (this.prefaceMatched < CONNECTION_PREFACE.length) at = this.matchPreface(chunk);
    while (at < end) {
      if (this.dataRemaining > 0) {
        at = this.dataPiece(chunk, at);
        continue;
      }
      if (this.payload !== null) {
        const n = Math.min(this.length - this.payloadFill, end - at);
        chunk.copy(this.payload, this.payloadFill, at, at + n);
        this.payloadFill += n;
        at += n;
        if (this.payloadFill === this.length) {
          const payload = this.payload;
          this.payload = null;
          this.frame(payload, 0, this.length);
        }
        continue;
      }
      if (this.headerFill > 0 || end - at < FRAME_HEADER_LENGTH) {
        const n = Math.min(FRAME_HEADER_LENGTH - this.headerFill, end - at);
        chunk.copy(this.header, this.headerFill, at, at + n);
        this.headerFill += n;
        at += n;
        if (this.headerFill < FRAME_HEADER_LENGTH) return;
        this.headerFill = 0;
        this.parseHeader(this.header, 0);
      } else {
        this.parseHeader(chunk, at);
        at += FRAME_HEADER_LENGTH;
      }
      if (this.length <= end - at) {
        // The whole payload is here: hand out views of the chunk.
        const start = at;
        at += this.length;
        this.frame(chunk, start, at);
      } else if (this.type === FrameType.DATA) {
        // Bodies are never copied: a DATA frame split across chunks goes out piece by piece.
        requireStream(FrameType.DATA, this.streamId);
        this.dataRemaining = this.length;
        this.dataPadding = (this.flags & FrameFlag.PADDED) !== 0 ? -1 : 0;
        this.dataUnreported = 0;
      } else {
        this.payload = Buffer.allocUnsafe(this.length);
        this.payloadFill = 0;
      }
    }
  }

  /** Reads what `chunk` holds of a DATA frame that spans chunks; returns the new offset. */
  private dataPiece(chunk: Buffer, at: number): number {
    const end = chunk.length;
    if (this.dataPadding < 0) {
      // RFC 9113 §6.1: the pad length octet comes first.
      const padLength = chunk[at];
      if (padLength > this.length - 1) {
        throw protocolError('ERR_H2_PADDING', `DATA pad length ${padLength} exceeds the ${this.length}-octet payload (RFC 9113 §6.1)`);
      }
      this.dataPadding = padLength;
      this.dataRemaining--;
      this.dataUnreported++;
      return at + 1;
    }
    const dataLeft = this.dataRemaining - this.dataPadding;
    let data: Buffer = EMPTY;
    let n: number;
    if (dataLeft > 0) {
      n = Math.min(dataLeft, end - at);
      data = chunk.subarray(at, at + n);
    } else {
      n = Math.min(this.dataRemaining, end - at); // padding
    }
    this.dataRemaining -= n;
    this.dataUnreported += n;
    const last = this.dataRemaining === 0;
    if (data.length > 0 || last) {
      const flowControlled = this.dataUnreported;
      this.dataUnreported = 0;
      this.handler.onData(this.streamId, last && (this.flags & FrameFlag.END_STREAM) !== 0, data, flowControlled);
    }
    return at + n;
  }

  private matchPreface(chunk: Buffer): number {
    let at = 0;
    while (at < chunk.length && this.prefaceMatched < CONNECTION_PREFACE.length) {
      if (chunk[at] !== CONNECTION_PREFACE[this.prefaceMatched]) {
        throw new Http2Error('ERR_H2_BAD_PREFACE', ErrorCode.PROTOCOL_ERROR, `invalid connection preface at octet ${this.prefaceMatched} (RFC 9113 §3.4)`);
      }
      at++;
      this.prefaceMatched++;
    }
    return at;
  }

  private parseHeader(source: Buffer, at: number): void {
    this.length = (source[at] << 16) | (source[at + 1] << 8) | source[at + 2];
    this.type = source[at + 3];
    this.flags = source[at + 4];
    this.streamId = ((source[at + 5] & 0x7f) << 24) | (source[at + 6] << 16) | (source[at + 7] << 8) | source[at + 8];
    if (this.length > this.maxFrameSize) {
      throw new Http2Error(
        'ERR_H2_FRAME_TOO_LARGE',
        ErrorCode.FRAME_SIZE_ERROR,
        `${typeName(this.type)} frame of ${this.length} octets exceeds SETTINGS_MAX_FRAME_SIZE ${this.maxFrameSize} (RFC 9113 §4.2)`,
      );
    }
    // RFC 9113 §6.10: nothing may come between a field block's frames.
    if (this.blockStreamId !== 0 && (this.type !== FrameType.CONTINUATION || this.streamId !== this.blockStreamId)) {
      throw protocolError(
        'ERR_H2_EXPECTED_CONTINUATION',
        `expected CONTINUATION on stream ${this.blockStreamId}, got ${typeName(this.type)} on stream ${this.streamId} (RFC 9113 §6.10)`,
      );
    }
  }

  /** Dispatches the frame whose header was parsed last and whose payload is source[start, end). */
  private frame(source: Buffer, start: number, end: number): void {
    const streamId = this.streamId;
    const flags = this.flags;
    const length = end - start;
    switch (this.type) {
      case FrameType.DATA: {
        requireStream(FrameType.DATA, streamId);
        let dataEnd = end;
        if ((flags & FrameFlag.PADDED) !== 0) {
          dataEnd = end - padding(source, start, length, 1, 'DATA');
          start++;
        }
        this.handler.onData(streamId, (flags & FrameFlag.END_STREAM) !== 0, source.subarray(start, dataEnd), length);
        return;
      }
      case FrameType.HEADERS: {
        requireStream(FrameType.HEADERS, streamId);
        const priority = (flags & FrameFlag.PRIORITY) !== 0;
        let blockStart = start;
        let blockEnd = end;
        if ((flags & FrameFlag.PADDED) !== 0) {
          blockEnd = end - padding(source, start, length, 1 + (priority ? PRIORITY_FIELDS_LENGTH : 0), 'HEADERS');
          blockStart++;
        } else if (priority && length < PRIORITY_FIELDS_LENGTH) {
          throw frameSizeError(`HEADERS with PRIORITY of ${length} octets is too short for the priority fields (RFC 9113 §6.2)`);
        }
        let dependsOn = 0;
        if (priority) {
          dependsOn = ((source[blockStart] & 0x7f) << 24) | (source[blockStart + 1] << 16) | (source[blockStart + 2] << 8) | source[blockStart + 3];
          blockStart += PRIORITY_FIELDS_LENGTH;
        }
        this.blockDependsOn = dependsOn;
        this.blockEndStream = (flags & FrameFlag.END_STREAM) !== 0;
        this.fieldBlock(FrameType.HEADERS, streamId, flags, source, blockStart, blockEnd);
        return;
      }
      case FrameType.PRIORITY:
        // RFC 9113 §5.3.2 / §6.3: checked, then ignored.
        requireStream(FrameType.PRIORITY, streamId);
        if (length !== PRIORITY_FIELDS_LENGTH) {
          this.handler.onStreamError(
            new Http2Error('ERR_H2_FRAME_SIZE', ErrorCode.FRAME_SIZE_ERROR, `PRIORITY of ${length} octets, not 5 (RFC 9113 §6.3)`, streamId),
          );
        } else if ((((source[start] & 0x7f) << 24) | (source[start + 1] << 16) | (source[start + 2] << 8) | source[start + 3]) === streamId) {
          this.handler.onStreamError(
            new Http2Error('ERR_H2_SELF_DEPENDENCY', ErrorCode.PROTOCOL_ERROR, `stream ${streamId} depends on itself (RFC 9113 §5.3.1)`, streamId),
          );
        }
        return;
      case FrameType.RST_STREAM:
        requireStream(FrameType.RST_STREAM, streamId);
        if (length !== 4) throw frameSizeError(`RST_STREAM of ${length} octets, not 4 (RFC 9113 §6.4)`);
        this.handler.onRstStream(streamId, source.readUInt32BE(start));
        return;
      case FrameType.SETTINGS: {
        requireConnection(FrameType.SETTINGS, streamId);
        const ack = (flags & FrameFlag.ACK) !== 0;
        if (ack && length !== 0) throw frameSizeError(`SETTINGS ACK with a ${length}-octet payload (RFC 9113 §6.5)`);
        if (length % 6 !== 0) throw frameSizeError(`SETTINGS of ${length} octets, not a multiple of 6 (RFC 9113 §6.5)`);
        this.handler.onSettings(ack, decodeSettings(source, start, end));
        return;
      }
      case FrameType.PUSH_PROMISE: {
        requireStream(FrameType.PUSH_PROMISE, streamId);
        let blockStart = start;
        let blockEnd = end;
        if ((flags & FrameFlag.PADDED) !== 0) {
          blockEnd = end - padding(source, start, length, 5, 'PUSH_PROMISE');
          blockStart++;
        } else if (length < 4) {
          throw frameSizeError(`PUSH_PROMISE of ${length} octets is too short for the promised stream id (RFC 9113 §6.6)`);
        }
        this.blockPromisedId = source.readUInt32BE(blockStart) & 0x7fffffff;
        this.blockEndStream = false;
        this.blockDependsOn = 0;
        this.fieldBlock(FrameType.PUSH_PROMISE, streamId, flags, source, blockStart + 4, blockEnd);
        return;
      }
      case FrameType.PING:
        requireConnection(FrameType.PING, streamId);
        if (length !== 8) throw frameSizeError(`PING of ${length} octets, not 8 (RFC 9113 §6.7)`);
        this.handler.onPing((flags & FrameFlag.ACK) !== 0, source.subarray(start, end));
        return;
      case FrameType.GOAWAY:
        requireConnection(FrameType.GOAWAY, streamId);
        if (length < 8) throw frameSizeError(`GOAWAY of ${length} octets, under 8 (RFC 9113 §6.8)`);
        this.handler.onGoaway(source.readUInt32BE(start) & 0x7fffffff, source.readUInt32BE(start + 4), source.subarray(start + 8, end));
        return;
      case FrameType.WINDOW_UPDATE: {
        if (length !== 4) throw frameSizeError(`WINDOW_UPDATE of ${length} octets, not 4 (RFC 9113 §6.9)`);
        const increment = source.readUInt32BE(start) & 0x7fffffff;
        if (increment === 0) {
          const what = `WINDOW_UPDATE with a zero increment on stream ${streamId} (RFC 9113 §6.9)`;
          if (streamId === 0) throw protocolError('ERR_H2_ZERO_WINDOW_INCREMENT', what);
          this.handler.onStreamError(new Http2Error('ERR_H2_ZERO_WINDOW_INCREMENT', ErrorCode.PROTOCOL_ERROR, what, streamId));
          return;
        }
        this.handler.onWindowUpdate(streamId, increment);
        return;
      }
      case FrameType.CONTINUATION:
        if (this.blockStreamId === 0) {
          throw protocolError('ERR_H2_UNEXPECTED_CONTINUATION', `CONTINUATION on stream ${streamId} without an open field block (RFC 9113 §6.10)`);
        }
        this.fieldBlock(FrameType.CONTINUATION, streamId, flags, source, start, end);
        return;
      default:
        // RFC 9113 §5.5: frames of unknown types are ignored.
        if (this.handler.onUnknownFrame !== undefined) this.handler.onUnknownFrame(this.type, flags, streamId, source.subarray(start, end));
    }
  }

  /** Gathers a field block fragment; hands the block over at END_HEADERS. */
  private fieldBlock(type: number, streamId: number, flags: number, source: Buffer, start: number, end: number): void {
    const endHeaders = (flags & FrameFlag.END_HEADERS) !== 0;
    if (type !== FrameType.CONTINUATION) {
      this.blockType = type;
      this.blockLength = 0;
      this.blockContinuations = 0;
    } else if (++this.blockContinuations > this.maxContinuationFrames) {
      throw new Http2Error(
        'ERR_H2_TOO_MANY_CONTINUATIONS',
        ErrorCode.ENHANCE_YOUR_CALM,
        `field block on stream ${streamId} passes maxContinuationFrames ${this.maxContinuationFrames}`,
      );
    }
    this.blockLength += end - start;
    if (this.blockLength > this.maxFieldBlockSize) {
      throw new Http2Error(
        'ERR_H2_FIELD_BLOCK_TOO_LARGE',
        ErrorCode.ENHANCE_YOUR_CALM,
        `field block on stream ${streamId} passes maxFieldBlockSize ${this.maxFieldBlockSize} octets`,
      );
    }
    if (type !== FrameType.CONTINUATION) {
      if (endHeaders) {
        this.deliverBlock(streamId, source.subarray(start, end));
        return;
      }
      this.blockStreamId = streamId;
    }
    // Copy: the fragment's chunk may be reused by its owner before the block completes.
    if (end > start) this.blockParts.push(Buffer.from(source.subarray(start, end)));
    if (!endHeaders) return;
    const block = this.blockParts.length === 1 ? this.blockParts[0] : Buffer.concat(this.blockParts, this.blockLength);
    this.blockParts = [];
    this.blockStreamId = 0;
    this.deliverBlock(streamId, block);
  }

  private deliverBlock(streamId: number, block: Buffer): void {
    if (this.blockType === FrameType.HEADERS) this.handler.onHeaders(streamId, this.blockEndStream, block, this.blockDependsOn);
    else this.handler.onPushPromise(streamId, this.blockPromisedId, block);
  }
}

/** RFC 9113 §6.1, §6.2, §6.6: the pad length octet, checked against what the frame holds. */
function padding(source: Buffer, start: number, length: number, fixed: number, type: string): number {
  if (length < fixed) throw frameSizeError(`padded ${type} of ${length} octets is too short for its fixed fields`);
  const padLength = source[start];
  if (padLength > length - fixed) {
    throw protocolError('ERR_H2_PADDING', `${type} pad length ${padLength} exceeds the ${length}-octet payload (RFC 9113 §6.1)`);
  }
  return padLength;
}

function requireStream(type: number, streamId: number): void {
  if (streamId === 0) throw protocolError('ERR_H2_STREAM_ID', `${typeName(type)} on stream 0 (RFC 9113 §6)`);
}

function requireConnection(type: number, streamId: number): void {
  if (streamId !== 0) throw protocolError('ERR_H2_STREAM_ID', `${typeName(type)} on stream ${streamId}, must be 0 (RFC 9113 §6)`);
}

function protocolError(code: string, message: string): Http2Error {
  return new Http2Error(code, ErrorCode.PROTOCOL_ERROR, message);
}

function frameSizeError(message: string): Http2Error {
  return new Http2Error('ERR_H2_FRAME_SIZE', ErrorCode.FRAME_SIZE_ERROR, message);
}

function checkCount(value: number, option: string): number {
  if (!Number.isInteger(value) || value < 0) {
    throw new Http2Error('ERR_H2_INVALID_ARGUMENT', ErrorCode.INTERNAL_ERROR, `${option} must be a non-negative integer, got ${value}`);
  }
  return value;
}

function checkMaxFrameSize(size: number): number {
  if (!Number.isInteger(size) || size < MIN_MAX_FRAME_SIZE || size > MAX_MAX_FRAME_SIZE) {
    throw new Http2Error('ERR_H2_INVALID_ARGUMENT', ErrorCode.INTERNAL_ERROR, `maxFrameSize must be an integer in ${MIN_MAX_FRAME_SIZE}..${MAX_MAX_FRAME_SIZE}, got ${size}`);
  }
  return size;
}

const TYPE_NAMES = ['DATA', 'HEADERS', 'PRIORITY', 'RST_STREAM', 'SETTINGS', 'PUSH_PROMISE', 'PING', 'GOAWAY', 'WINDOW_UPDATE', 'CONTINUATION'];

/** The RFC name of a frame type, or `type 0x..` for extensions. */
export function typeName(type: number): string {
  return TYPE_NAMES[type] ?? `type 0x${type.toString(16)}`;
}
