// RFC 9113 §3–§6: one HTTP/2 connection over a core Stream, for either role. It owns the frame
// reader, both HPACK contexts, SETTINGS, the stream table and state machine, flow control, PING,
// GOAWAY and the flood protections; the server and client sessions build messages on top.
import type { Socket } from 'node:net';
import type { Stream } from '@sluice/core';
import { ErrorCode, Http2Error } from './error.js';
import { FloodGuard } from './flood-guard.js';
import { ReceiveWindow, fitsWindow } from './flow-control.js';
import { FrameReader, type FrameHandler } from './frame/frame-reader.js';
import { CONNECTION_PREFACE, MAX_STREAM_ID, MAX_WINDOW_SIZE, MIN_MAX_FRAME_SIZE, MAX_MAX_FRAME_SIZE } from './frame/frame-types.js';
import {
  encodeDataHeader,
  encodeGoaway,
  encodeHeaders,
  encodePing,
  encodeRstStream,
  encodeSettings,
  encodeSettingsAck,
  encodeWindowUpdate,
} from './frame/frame-writer.js';
import { DEFAULT_SETTINGS, type Settings } from './frame/settings.js';
import { HpackDecoder } from './hpack/decoder.js';
import { HpackEncoder } from './hpack/encoder.js';
import { Http2Stream, type StreamOwner } from './http2-stream.js';
import { checkRequestFields, checkResponseFields, checkTrailerFields, type RequestControl } from './message.js';
import { ClosedReason, ClosedStreams, StreamState, afterLocalEnd, afterRemoteEnd } from './stream-state.js';

/** Options of an {@link Http2Connection}; every limit has a safe default. */
export interface Http2ConnectionOptions {
  /** SETTINGS_MAX_CONCURRENT_STREAMS we advertise; streams past it are refused (REFUSED_STREAM). Default 100. */
  maxConcurrentStreams?: number;
  /** SETTINGS_INITIAL_WINDOW_SIZE we advertise: how much body each stream may buffer unread. Default 262144. */
  initialWindowSize?: number;
  /** Our connection-level receive window, opened by WINDOW_UPDATE after the preface. Default 1048576. */
  connectionWindowSize?: number;
  /** SETTINGS_MAX_FRAME_SIZE we advertise. Default 16384. */
  maxFrameSize?: number;
  /** SETTINGS_HEADER_TABLE_SIZE we advertise (our HPACK decoder's table). Default 4096. */
  headerTableSize?: number;
  /** SETTINGS_MAX_HEADER_LIST_SIZE we advertise and enforce on decoding. Default 65536. */
  maxHeaderListSize?: number;
  /** Largest field block (HEADERS + CONTINUATIONs) in octets; CONTINUATION flood guard. Default 131072. */
  maxFieldBlockSize?: number;
  /** Most CONTINUATION frames per field block. Default 64. */
  maxContinuationFrames?: number;
  /** Ends the connection with SETTINGS_TIMEOUT when our SETTINGS is not ACKed in time. Default 10000. */
  settingsTimeoutMs?: number;
  /** Sends a PING this often to keep the connection alive and check the peer; 0 disables. Default 0. */
  pingIntervalMs?: number;
  /** Closes the connection when a keepalive PING is not answered within this. Default 20000. */
  pingTimeoutMs?: number;
  /** The window over which the flood budgets below are counted. Default 10000. */
  floodWindowMs?: number;
  /** Streams reset by the peer or refused by us per window before GOAWAY ENHANCE_YOUR_CALM (CVE-2023-44487). Default 1000. */
  maxResetsPerWindow?: number;
  /** SETTINGS and PING frames (non-ACK) per window before GOAWAY ENHANCE_YOUR_CALM. Default 1000. */
  maxControlFramesPerWindow?: number;
  /** Empty DATA frames without END_STREAM per window before GOAWAY ENHANCE_YOUR_CALM. Default 100. */
  maxEmptyDataFramesPerWindow?: number;
  /** Octets queued on the socket above which answering the peer's control frames ends the connection (ENHANCE_YOUR_CALM). Default 1048576. */
  maxOutboundBufferSize?: number;
  /** How many closed stream ids are remembered to tell late frames apart (§5.1). Default 256. */
  closedStreamMemory?: number;
  /** Graceful shutdown: wait this long for the PING between the two GOAWAYs. Default 1000. */
  shutdownPingTimeoutMs?: number;
  /** Closes the connection (GOAWAY NO_ERROR) after this long without any stream; 0 disables. Default 300000. */
  idleTimeoutMs?: number;
}

/** What a connection tells its session. */
export interface ConnectionHandler {
  /** A server received a new request stream, its fields checked. */
  onStream?(stream: Http2Stream, control: RequestControl): void;
  /** The peer sent GOAWAY. */
  onGoaway?(lastStreamId: number, errorCode: number, debugData: Buffer): void;
  /** The connection ended; `error` when it ended by a connection error or a transport failure. */
  onClose?(error: Error | null): void;
  /** Builds a stream object (sessions subclass {@link Http2Stream}). */
  createStream?(owner: StreamOwner, id: number, receiveWindow: number, sendWindow: number): Http2Stream;
}

export type ConnectionRole = 'server' | 'client';

const GOAWAY_PING = Buffer.from('goaway!!', 'latin1');
const KEEPALIVE_PING = Buffer.from('keepaliv', 'latin1');
const NO_FIELDS: string[] = [];

function option(value: number | undefined, fallback: number, name: string, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < min || v > max) {
    throw new Http2Error('ERR_H2_INVALID_OPTION', ErrorCode.INTERNAL_ERROR, `${name} must be an integer in ${min}..${max}, got ${value}`);
  }
  return v;
}

/**
 * An HTTP/2 connection over a core {@link Stream}: reads frames as they arrive, enforces RFC 9113,
 * and answers protocol violations with RST_STREAM or GOAWAY carrying the right error code.
 * Call {@link start} once; {@link closed} resolves when the transport has closed.
 */
export class Http2Connection implements StreamOwner, FrameHandler {
  readonly role: ConnectionRole;
  readonly transport: Stream;
  readonly socket: Socket;
  /** Resolves when the transport has closed. */
  readonly closed: Promise<void>;
  /** The peer's settings as last received (defaults until then). */
  readonly peerSettings: Required<Settings>;
  /** The connection error that ended the connection, if one did. */
  error: Error | null = null;
  /** Resolves when the peer's first SETTINGS has arrived (its limits are known); rejects if the connection ends first. */
  readonly ready: Promise<void>;
  private resolveReady!: () => void;
  private rejectReady!: (error: Error) => void;
  private peerSettingsReceived = false;

  private readonly handler: ConnectionHandler;
  private readonly reader: FrameReader;
  private readonly decoder: HpackDecoder;
  private readonly encoder: HpackEncoder;
  private readonly streams = new Map<number, Http2Stream>();
  private readonly closedStreams: ClosedStreams;
  private readonly localSettings: Required<Settings>;
  private pendingSettings: Settings[] = [];
  /** The initial stream window the peer assumes for us: the default until it ACKs ours (§6.9.2). */
  private receiveInitialWindow = 65535;

  // Flow control.
  private readonly connectionReceive: ReceiveWindow;
  private connectionSendWindow = 65535;
  private readonly blocked: Http2Stream[] = [];

  // Stream ids.
  /** Highest stream id the peer opened (or tried to). */
  lastPeerStreamId = 0;
  private nextLocalStreamId: number;
  private peerStreamCount = 0;
  private localStreamCount = 0;

  // GOAWAY.
  private goawaySent = false;
  private goawayLastStreamId = MAX_STREAM_ID;
  /** The last stream id of the peer's GOAWAY, or -1. */
  goawayReceived = -1;
  private shuttingDown = false;
  private ended = false;
  private resolveClosed!: () => void;

  // Protections.
  private readonly resets: FloodGuard;
  private readonly controlFrames: FloodGuard;
  private readonly emptyData: FloodGuard;
  private readonly maxOutboundBufferSize: number;

  // Timers.
  private readonly settingsTimeoutMs: number;
  private settingsTimer: NodeJS.Timeout | undefined;
  private readonly pingIntervalMs: number;
  private readonly pingTimeoutMs: number;
  private pingTimer: NodeJS.Timeout | undefined;
  private pingSentAt = 0;
  private readonly shutdownPingTimeoutMs: number;
  private shutdownTimer: NodeJS.Timeout | undefined;
  private readonly idleTimeoutMs: number;
  private idleTimer: NodeJS.Timeout | undefined;
  /** When the last stream closed (0 while streams are open). */
  private idleSince = 0;

  private corked = false;
  private drainPromise: Promise<void> | null = null;
  private readonly lengthOut = [-1];
  private readonly control: RequestControl = { method: '', scheme: undefined, authority: undefined, path: undefined, protocol: undefined, contentLength: -1 };

  constructor(transport: Stream, role: ConnectionRole, handler: ConnectionHandler = {}, options: Http2ConnectionOptions = {}) {
    this.transport = transport;
    this.socket = transport.socket;
    this.role = role;
    this.handler = handler;
    this.localSettings = {
      headerTableSize: option(options.headerTableSize, 4096, 'headerTableSize', 0, 0xffffffff),
      enablePush: false,
      maxConcurrentStreams: option(options.maxConcurrentStreams, 100, 'maxConcurrentStreams', 0, 0xffffffff),
      initialWindowSize: option(options.initialWindowSize, 262144, 'initialWindowSize', 0, MAX_WINDOW_SIZE),
      maxFrameSize: option(options.maxFrameSize, MIN_MAX_FRAME_SIZE, 'maxFrameSize', MIN_MAX_FRAME_SIZE, MAX_MAX_FRAME_SIZE),
      maxHeaderListSize: option(options.maxHeaderListSize, 65536, 'maxHeaderListSize', 0, 0xffffffff),
      enableConnectProtocol: false,
      noRfc7540Priorities: false,
    };
    this.peerSettings = { ...DEFAULT_SETTINGS };
    // Until the peer ACKs our SETTINGS, it may use the defaults: accept the larger of both.
    this.reader = new FrameReader(this, {
      maxFrameSize: MIN_MAX_FRAME_SIZE,
      maxFieldBlockSize: options.maxFieldBlockSize,
      maxContinuationFrames: options.maxContinuationFrames,
      expectPreface: role === 'server',
    });
    this.decoder = new HpackDecoder({ maxTableSize: 4096, maxHeaderListSize: this.localSettings.maxHeaderListSize });
    this.encoder = new HpackEncoder();
    this.connectionReceive = new ReceiveWindow(65535, option(options.connectionWindowSize, 1048576, 'connectionWindowSize', 65535, MAX_WINDOW_SIZE));
    this.closedStreams = new ClosedStreams(option(options.closedStreamMemory, 256, 'closedStreamMemory', 1, 1 << 20));
    this.nextLocalStreamId = role === 'client' ? 1 : 2;
    const floodWindowMs = option(options.floodWindowMs, 10000, 'floodWindowMs', 1);
    this.resets = new FloodGuard(option(options.maxResetsPerWindow, 1000, 'maxResetsPerWindow'), floodWindowMs);
    this.controlFrames = new FloodGuard(option(options.maxControlFramesPerWindow, 1000, 'maxControlFramesPerWindow'), floodWindowMs);
    this.emptyData = new FloodGuard(option(options.maxEmptyDataFramesPerWindow, 100, 'maxEmptyDataFramesPerWindow'), floodWindowMs);
    this.maxOutboundBufferSize = option(options.maxOutboundBufferSize, 1048576, 'maxOutboundBufferSize', 1);
    this.settingsTimeoutMs = option(options.settingsTimeoutMs, 10000, 'settingsTimeoutMs', 1);
    this.pingIntervalMs = option(options.pingIntervalMs, 0, 'pingIntervalMs');
    this.pingTimeoutMs = option(options.pingTimeoutMs, 20000, 'pingTimeoutMs', 1);
    this.shutdownPingTimeoutMs = option(options.shutdownPingTimeoutMs, 1000, 'shutdownPingTimeoutMs', 1);
    this.idleTimeoutMs = option(options.idleTimeoutMs, 300000, 'idleTimeoutMs');
    this.closed = new Promise((resolve) => {
      this.resolveClosed = resolve;
    });
    this.ready = new Promise((resolve, reject) => {
      this.resolveReady = resolve;
      this.rejectReady = reject;
    });
    this.ready.catch(() => {}); // a caller that never waits must not see an unhandled rejection
  }

  /** Active streams (open or half-closed). */
  get streamCount(): number {
    return this.streams.size;
  }

  /** How many more streams we may open now under the peer's MAX_CONCURRENT_STREAMS (client). */
  get availableStreams(): number {
    if (this.ended || this.goawaySent || this.goawayReceived >= 0 || this.nextLocalStreamId > MAX_STREAM_ID) return 0;
    return Math.max(0, this.peerSettings.maxConcurrentStreams - this.localStreamCount);
  }

  /** True while the connection can carry new streams. */
  get isOpen(): boolean {
    return !this.ended && !this.goawaySent && this.goawayReceived < 0;
  }

  /** Sends the preface (client) and our SETTINGS, then reads frames as they arrive. */
  start(): void {
    const socket = this.socket;
    const buffered = this.transport.detachReader();
    socket.on('data', this.onSocketData);
    socket.on('close', this.onSocketClose);
    socket.on('end', this.onSocketEnd);
    socket.on('error', this.onSocketError);
    if (this.role === 'client') this.write(CONNECTION_PREFACE);
    const local = this.localSettings;
    const settings: Settings = {
      maxConcurrentStreams: local.maxConcurrentStreams,
      initialWindowSize: local.initialWindowSize,
      maxHeaderListSize: local.maxHeaderListSize,
    };
    if (local.headerTableSize !== 4096) settings.headerTableSize = local.headerTableSize;
    if (local.maxFrameSize !== MIN_MAX_FRAME_SIZE) settings.maxFrameSize = local.maxFrameSize;
    if (this.role === 'client') settings.enablePush = false;
    this.sendSettings(settings);
    const extra = this.connectionReceive.target - this.connectionReceive.available;
    if (extra > 0) {
      this.connectionReceive.available += extra;
      this.write(encodeWindowUpdate(0, extra));
    }
    if (this.pingIntervalMs > 0) {
      this.pingTimer = setInterval(this.onPingInterval, this.pingIntervalMs);
      this.pingTimer.unref();
    }
    if (this.idleTimeoutMs > 0) {
      this.idleSince = Date.now();
      this.idleTimer = setTimeout(this.onIdleTimer, this.idleTimeoutMs);
      this.idleTimer.unref();
    }
    if (socket.destroyed) {
      this.onSocketClose();
      return;
    }
    for (const chunk of buffered) this.onSocketData(chunk);
    socket.resume();
  }

  /** Sends SETTINGS; they apply to our side once the peer ACKs (timed by settingsTimeoutMs). */
  sendSettings(settings: Settings): void {
    this.pendingSettings.push(settings);
    this.write(encodeSettings(settings));
    if (this.settingsTimer === undefined) {
      this.settingsTimer = setTimeout(this.onSettingsTimeout, this.settingsTimeoutMs);
      this.settingsTimer.unref();
    }
  }

  /** Sends a PING; the ACK resets the keepalive clock. */
  ping(): void {
    this.pingSentAt = Date.now();
    this.write(encodePing(KEEPALIVE_PING));
  }

  /**
   * Opens a stream we initiate (client) with its header section.
   * @throws Http2Error ERR_H2_NO_STREAMS when the peer's limit or a GOAWAY forbids new streams.
   */
  openStream(fields: string[], endStream: boolean): Http2Stream {
    if (this.availableStreams === 0) {
      throw new Http2Error('ERR_H2_NO_STREAMS', ErrorCode.REFUSED_STREAM, 'no stream available on this connection (closed, GOAWAY or MAX_CONCURRENT_STREAMS reached)');
    }
    const id = this.nextLocalStreamId;
    this.nextLocalStreamId += 2;
    const stream = this.newStream(id);
    stream.headRequest = fields[1] === 'HEAD' && fields[0] === ':method';
    this.localStreamCount++;
    this.streams.set(id, stream);
    this.idleSince = 0;
    this.sendHeaders(stream, fields, endStream);
    return stream;
  }

  /**
   * Graceful shutdown (RFC 9113 §6.8): a GOAWAY with the largest stream id and a PING; once the
   * PING comes back, a second GOAWAY with the last stream id really processed. Streams in
   * progress finish; the connection closes when none is left.
   */
  shutdown(): void {
    if (this.ended || this.shuttingDown) return;
    this.shuttingDown = true;
    if (this.role === 'client') {
      this.sendGoaway(this.lastPeerStreamId, ErrorCode.NO_ERROR);
      this.closeIfIdle();
      return;
    }
    this.write(encodeGoaway(MAX_STREAM_ID, ErrorCode.NO_ERROR));
    this.write(encodePing(GOAWAY_PING));
    this.shutdownTimer = setTimeout(this.finishShutdown, this.shutdownPingTimeoutMs);
    this.shutdownTimer.unref();
  }

  /** Ends the connection now with GOAWAY `errorCode` (default NO_ERROR), failing open streams. */
  close(errorCode: number = ErrorCode.NO_ERROR, message = 'connection closed'): void {
    if (this.ended) return;
    this.connectionError(new Http2Error('ERR_H2_CLOSED', errorCode, message));
  }

  // ---- writing -------------------------------------------------------------------------------

  private write(data: Buffer): void {
    const socket = this.socket;
    if (socket.destroyed || socket.writableEnded) return;
    if (!this.corked) {
      // Frames written in one turn of the event loop leave in one writev.
      this.corked = true;
      socket.cork();
      setImmediate(this.uncork);
    }
    socket.write(data);
  }

  private readonly uncork = (): void => {
    this.corked = false;
    this.socket.uncork();
  };

  /** Writes an answer the peer asked for (SETTINGS ACK, PING ACK, RST_STREAM); refuses to queue without bound. */
  private writeReply(data: Buffer): void {
    if (this.socket.writableLength > this.maxOutboundBufferSize) {
      throw new Http2Error('ERR_H2_OUTBOUND_FLOOD', ErrorCode.ENHANCE_YOUR_CALM, `peer does not read: over ${this.maxOutboundBufferSize} octets queued`);
    }
    this.write(data);
  }

  sendHeaders(stream: Http2Stream, fields: string[], endStream: boolean): void {
    if (stream.localEnded || stream.state === StreamState.CLOSED) {
      throw new Http2Error('ERR_H2_STREAM_CLOSED', ErrorCode.STREAM_CLOSED, `stream ${stream.id} can no longer send`, stream.id);
    }
    if (this.ended) throw stream.error ?? new Http2Error('ERR_H2_CLOSED', ErrorCode.CANCEL, 'connection closed', stream.id);
    let block: Buffer;
    try {
      block = this.encoder.encode(fields);
    } catch (error) {
      // A refusal before the table changed stays a stream error; a poisoned encoder ends the connection.
      if (error instanceof Http2Error && error.code === 'ERR_HPACK_ENCODER_FAILED') this.connectionError(error);
      throw error;
    }
    this.write(encodeHeaders(stream.id, block, { endStream, maxFrameSize: this.peerSettings.maxFrameSize }));
    stream.headersSent = true;
    if (endStream) this.localEnd(stream);
  }

  sendData(stream: Http2Stream, data: Buffer, endStream: boolean): Promise<void> | undefined {
    if (stream.localEnded || stream.state === StreamState.CLOSED) {
      if (stream.error !== null) return Promise.reject(stream.error);
      return Promise.reject(new Http2Error('ERR_H2_STREAM_CLOSED', ErrorCode.STREAM_CLOSED, `stream ${stream.id} can no longer send`, stream.id));
    }
    if (!stream.headersSent) {
      return Promise.reject(new Http2Error('ERR_H2_NO_HEADERS', ErrorCode.INTERNAL_ERROR, `DATA before HEADERS on stream ${stream.id}`, stream.id));
    }
    if (stream.sendQueue.length > 0 || stream.sendQueued) {
      stream.sendQueue.push(data);
      if (endStream) stream.sendQueueEnd = true;
      return stream.waitForSend();
    }
    if (!this.sendNow(stream, data, endStream)) {
      stream.sendQueueEnd = endStream;
      this.block(stream);
      return stream.waitForSend();
    }
    if (this.socket.writableNeedDrain) return this.drain();
    return undefined;
  }

  /** One wait for the socket's drain, shared by every stream that hit its backpressure. */
  private drain(): Promise<void> {
    if (this.drainPromise === null) {
      const clear = (): void => {
        this.drainPromise = null;
      };
      this.drainPromise = this.transport.drain();
      this.drainPromise.then(clear, clear);
    }
    return this.drainPromise;
  }

  sendTrailers(stream: Http2Stream, fields: string[]): Promise<void> | undefined {
    if (stream.sendQueue.length > 0 || stream.sendQueued) {
      stream.sendQueueTrailers = fields;
      return stream.waitForSend();
    }
    this.sendHeaders(stream, fields, true);
    return undefined;
  }

  /**
   * Writes as much of `data` as the windows allow (never past the peer's, §6.9.1), in frames of at
   * most the peer's max frame size; true when all of it left, else the rest is queued on the stream.
   */
  private sendNow(stream: Http2Stream, data: Buffer, endStream: boolean): boolean {
    const maxFrame = this.peerSettings.maxFrameSize;
    let at = 0;
    const length = data.length;
    if (length === 0) {
      if (endStream) {
        this.write(encodeDataHeader(stream.id, 0, true));
        this.localEnd(stream);
      }
      return true;
    }
    while (at < length) {
      const room = Math.min(stream.sendWindow, this.connectionSendWindow, maxFrame);
      if (room <= 0) {
        stream.sendQueue.push(at === 0 ? data : data.subarray(at));
        return false;
      }
      const n = Math.min(room, length - at);
      const last = at + n === length;
      this.write(encodeDataHeader(stream.id, n, last && endStream));
      this.write(at === 0 && n === length ? data : data.subarray(at, at + n));
      at += n;
      stream.sendWindow -= n;
      this.connectionSendWindow -= n;
      stream.bytesSent += n;
    }
    if (endStream) this.localEnd(stream);
    return true;
  }

  private block(stream: Http2Stream): void {
    if (!stream.sendQueued) {
      stream.sendQueued = true;
      this.blocked.push(stream);
    }
  }

  /** Sends what blocked streams can now send, in order. */
  private flushBlocked(): void {
    if (this.blocked.length === 0) return;
    const blocked = this.blocked.splice(0);
    for (let i = 0; i < blocked.length; i++) {
      const stream = blocked[i];
      stream.sendQueued = false;
      if (stream.state === StreamState.CLOSED) continue;
      if (this.connectionSendWindow <= 0) {
        this.block(stream);
        continue;
      }
      this.flushStream(stream);
    }
  }

  private flushStream(stream: Http2Stream): void {
    const queue = stream.sendQueue;
    while (queue.length > 0) {
      const chunk = queue.shift()!;
      const last = queue.length === 0;
      if (!this.sendNow(stream, chunk, last && stream.sendQueueEnd && stream.sendQueueTrailers === null)) {
        // sendNow queued the rest at the end; move it to the front.
        queue.unshift(queue.pop()!);
        this.block(stream);
        return;
      }
    }
    const trailers = stream.sendQueueTrailers;
    if (trailers !== null) {
      stream.sendQueueTrailers = null;
      try {
        this.sendHeaders(stream, trailers, true);
      } catch (error) {
        stream.fail(error as Error);
        return;
      }
    }
    stream.sendDrained();
  }

  private sendGoaway(lastStreamId: number, errorCode: number, debug?: string): void {
    this.goawaySent = true;
    this.goawayLastStreamId = lastStreamId;
    this.write(encodeGoaway(lastStreamId, errorCode, debug === undefined ? undefined : Buffer.from(debug.slice(0, 256), 'utf8')));
  }

  // ---- stream lifecycle ----------------------------------------------------------------------

  private newStream(id: number): Http2Stream {
    const local = this.receiveInitialWindow;
    const send = this.peerSettings.initialWindowSize;
    const stream = this.handler.createStream !== undefined ? this.handler.createStream(this, id, local, send) : new Http2Stream(this, id, local, send);
    stream.receiveWindow.target = this.localSettings.initialWindowSize;
    return stream;
  }

  private isLocalId(id: number): boolean {
    return (id & 1) === (this.role === 'client' ? 1 : 0);
  }

  private localEnd(stream: Http2Stream): void {
    stream.localEnded = true;
    stream.state = afterLocalEnd(stream.state);
    if (stream.state === StreamState.CLOSED) this.removeStream(stream, ClosedReason.ENDED);
  }

  private remoteEnd(stream: Http2Stream): void {
    stream.remoteEnded = true;
    stream.state = afterRemoteEnd(stream.state);
    stream.deliverEnd();
    if (stream.state === StreamState.CLOSED) this.removeStream(stream, ClosedReason.ENDED);
  }

  private removeStream(stream: Http2Stream, reason: number): void {
    stream.state = StreamState.CLOSED;
    if (this.streams.get(stream.id) !== stream) return;
    this.streams.delete(stream.id);
    if (this.isLocalId(stream.id)) this.localStreamCount--;
    else this.peerStreamCount--;
    this.closedStreams.add(stream.id, reason);
    if (this.streams.size === 0) this.idleSince = Date.now();
    if (this.shuttingDown || this.goawaySent || this.goawayReceived >= 0) this.closeIfIdle();
  }

  resetStream(stream: Http2Stream, errorCode: number): void {
    if (stream.state === StreamState.CLOSED) return;
    this.write(encodeRstStream(stream.id, errorCode));
    stream.fail(new Http2Error('ERR_H2_STREAM_RESET', errorCode, `stream ${stream.id} reset by us with code ${errorCode}`, stream.id));
    this.removeStream(stream, ClosedReason.RESET_BY_US);
  }

  /** A stream error (RFC 9113 §5.4.2): RST_STREAM, and it counts against the reset budget. */
  private streamError(streamId: number, error: Http2Error): void {
    const stream = this.streams.get(streamId);
    if (stream !== undefined) {
      this.writeReply(encodeRstStream(streamId, error.errorCode));
      stream.fail(error);
      this.removeStream(stream, ClosedReason.RESET_BY_US);
    } else {
      this.writeReply(encodeRstStream(streamId, error.errorCode));
      this.closedStreams.add(streamId, ClosedReason.RESET_BY_US);
    }
    this.countReset();
  }

  private countReset(): void {
    if (this.resets.hit()) {
      throw new Http2Error('ERR_H2_RESET_FLOOD', ErrorCode.ENHANCE_YOUR_CALM, `more than ${this.resets.limit} stream resets within ${this.resets.windowMs} ms (CVE-2023-44487)`);
    }
  }

  consumed(stream: Http2Stream, length: number): void {
    if (stream.remoteEnded || stream.state === StreamState.CLOSED) return;
    const increment = stream.receiveWindow.release(length);
    if (increment > 0) this.write(encodeWindowUpdate(stream.id, increment));
  }

  /** Ends the connection with GOAWAY for a connection error (RFC 9113 §5.4.1). */
  private connectionError(error: Http2Error): void {
    if (this.ended) return;
    this.error = error;
    this.sendGoaway(this.lastPeerStreamId, error.errorCode, error.message);
    this.finish(error);
  }

  private closeIfIdle(): void {
    if (this.streams.size > 0 || this.ended) return;
    if (this.goawaySent || this.role === 'client') return this.finish(null);
    // A server told by the client's GOAWAY that no stream will come closes once the last one is done
    // (as nghttp2 does; h2load waits for this close), saying GOAWAY itself first (RFC 9113 §6.8).
    if (this.goawayReceived >= 0) {
      this.sendGoaway(this.lastPeerStreamId, ErrorCode.NO_ERROR);
      this.finish(null);
    }
  }

  /** Fails every stream, stops timers, flushes and closes the transport. */
  private finish(error: Error | null): void {
    if (this.ended) return;
    this.ended = true;
    this.clearTimers();
    const failure = error ?? new Http2Error('ERR_H2_CLOSED', ErrorCode.CANCEL, 'connection closed');
    for (const stream of this.streams.values()) stream.fail(failure);
    this.streams.clear();
    this.blocked.length = 0;
    const socket = this.socket;
    if (this.corked) this.uncork();
    if (!socket.destroyed) {
      socket.end();
      // A peer that never reads nor closes must not hold the socket.
      setTimeout(() => socket.destroy(), 2000).unref();
    }
    if (!this.peerSettingsReceived) this.rejectReady(failure);
    this.handler.onClose?.(error);
  }

  private clearTimers(): void {
    if (this.settingsTimer !== undefined) clearTimeout(this.settingsTimer);
    if (this.pingTimer !== undefined) clearInterval(this.pingTimer);
    if (this.shutdownTimer !== undefined) clearTimeout(this.shutdownTimer);
    if (this.idleTimer !== undefined) clearTimeout(this.idleTimer);
    this.settingsTimer = this.pingTimer = this.shutdownTimer = this.idleTimer = undefined;
  }

  private readonly finishShutdown = (): void => {
    this.shutdownTimer = undefined;
    if (this.ended || this.goawaySent) return;
    this.sendGoaway(this.lastPeerStreamId, ErrorCode.NO_ERROR);
    this.closeIfIdle();
  };

  /** One timer, re-armed for the time left, rather than one per idle period: streams come and go often. */
  private readonly onIdleTimer = (): void => {
    this.idleTimer = undefined;
    if (this.ended) return;
    const idleFor = this.idleSince === 0 ? 0 : Date.now() - this.idleSince;
    if (this.idleSince !== 0 && idleFor >= this.idleTimeoutMs) {
      this.sendGoaway(this.lastPeerStreamId, ErrorCode.NO_ERROR, 'idle timeout');
      this.finish(null);
      return;
    }
    this.idleTimer = setTimeout(this.onIdleTimer, this.idleTimeoutMs - idleFor);
    this.idleTimer.unref();
  };

  private readonly onSettingsTimeout = (): void => {
    this.settingsTimer = undefined;
    this.connectionError(new Http2Error('ERR_H2_SETTINGS_TIMEOUT', ErrorCode.SETTINGS_TIMEOUT, `SETTINGS not acknowledged within ${this.settingsTimeoutMs} ms (RFC 9113 §6.5.3)`));
  };

  private readonly onPingInterval = (): void => {
    if (this.pingSentAt !== 0 && Date.now() - this.pingSentAt > this.pingTimeoutMs) {
      this.connectionError(new Http2Error('ERR_H2_PING_TIMEOUT', ErrorCode.NO_ERROR, `keepalive PING not answered within ${this.pingTimeoutMs} ms`));
      return;
    }
    if (this.pingSentAt === 0) this.ping();
  };

  // ---- reading -------------------------------------------------------------------------------

  private readonly onSocketData = (chunk: Buffer): void => {
    if (this.ended) return;
    try {
      this.reader.push(chunk);
    } catch (error) {
      this.connectionError(
        error instanceof Http2Error ? error : new Http2Error('ERR_H2_INTERNAL', ErrorCode.INTERNAL_ERROR, `internal error: ${(error as Error)?.message ?? String(error)}`),
      );
    }
  };

  private readonly onSocketEnd = (): void => {
    // The peer closed its side: nothing more will arrive (RFC 9113 §5.4.1 allows a plain close).
    if (!this.ended) this.finish(new Http2Error('ERR_H2_PEER_CLOSED', ErrorCode.CANCEL, `${this.transport.peer} closed the connection`));
  };

  private readonly onSocketError = (error: Error): void => {
    if (!this.ended) this.finish(error);
  };

  private readonly onSocketClose = (): void => {
    if (!this.ended) this.finish(new Http2Error('ERR_H2_PEER_CLOSED', ErrorCode.CANCEL, `connection to ${this.transport.peer} closed`));
    this.resolveClosed();
  };

  onData(streamId: number, endStream: boolean, data: Buffer, flowControlledLength: number): void {
    // §6.9: the connection window counts every DATA octet, whatever becomes of its stream.
    if (!this.connectionReceive.receive(flowControlledLength)) {
      throw new Http2Error('ERR_H2_FLOW_CONTROL', ErrorCode.FLOW_CONTROL_ERROR, `DATA on stream ${streamId} passes the connection window (RFC 9113 §6.9.1)`);
    }
    // The connection window is handed back on receipt; the stream windows bound what is buffered.
    const increment = this.connectionReceive.release(flowControlledLength);
    if (increment > 0) this.write(encodeWindowUpdate(0, increment));
    const stream = this.streams.get(streamId);
    if (stream === undefined) {
      this.frameOnMissingStream(streamId, 'DATA');
      return;
    }
    if (stream.remoteEnded) {
      this.streamError(streamId, new Http2Error('ERR_H2_STREAM_CLOSED', ErrorCode.STREAM_CLOSED, `DATA on stream ${streamId} after END_STREAM (RFC 9113 §5.1)`, streamId));
      return;
    }
    if (!stream.receiveWindow.receive(flowControlledLength)) {
      this.streamError(streamId, new Http2Error('ERR_H2_FLOW_CONTROL', ErrorCode.FLOW_CONTROL_ERROR, `DATA on stream ${streamId} passes its window (RFC 9113 §6.9.1)`, streamId));
      return;
    }
    if (flowControlledLength === 0 && !endStream && this.emptyData.hit()) {
      throw new Http2Error('ERR_H2_EMPTY_DATA_FLOOD', ErrorCode.ENHANCE_YOUR_CALM, `more than ${this.emptyData.limit} empty DATA frames within ${this.emptyData.windowMs} ms`);
    }
    const length = data.length;
    stream.bytesReceived += length;
    // §8.1.1: content-length must match the DATA received.
    if (stream.contentLength >= 0 && (stream.bytesReceived > stream.contentLength || (endStream && stream.bytesReceived !== stream.contentLength))) {
      this.streamError(
        streamId,
        new Http2Error('ERR_H2_CONTENT_LENGTH', ErrorCode.PROTOCOL_ERROR, `stream ${streamId}: ${stream.bytesReceived} DATA octets against content-length ${stream.contentLength} (RFC 9113 §8.1.1)`, streamId),
      );
      return;
    }
    // Padding is handed back at once: only data waits for the reader.
    if (flowControlledLength > length) this.consumed(stream, flowControlledLength - length);
    // Marked before delivery so a reader's credit is not returned for a stream the peer has ended.
    if (endStream) stream.remoteEnded = true;
    if (length > 0) stream.deliver(data);
    if (endStream) this.remoteEnd(stream);
  }

  /** A DATA frame on a stream not in the table: idle, or closed for one of three reasons (§5.1). */
  private frameOnMissingStream(streamId: number, type: string): void {
    if (this.isIdle(streamId)) {
      throw new Http2Error('ERR_H2_IDLE_STREAM', ErrorCode.PROTOCOL_ERROR, `${type} on idle stream ${streamId} (RFC 9113 §5.1)`);
    }
    const reason = this.closedStreams.reasonOf(streamId);
    if (reason === ClosedReason.RESET_BY_US) return; // in flight when we reset it: ignored
    if (reason === ClosedReason.RESET_BY_PEER) {
      this.streamError(streamId, new Http2Error('ERR_H2_STREAM_CLOSED', ErrorCode.STREAM_CLOSED, `${type} on stream ${streamId} after its RST_STREAM (RFC 9113 §5.1)`, streamId));
      return;
    }
    if (this.goawaySent && streamId > this.goawayLastStreamId) return; // after our GOAWAY: ignored (§6.8)
    throw new Http2Error('ERR_H2_STREAM_CLOSED', ErrorCode.STREAM_CLOSED, `${type} on closed stream ${streamId} (RFC 9113 §5.1)`);
  }

  private isIdle(streamId: number): boolean {
    return this.isLocalId(streamId) ? streamId >= this.nextLocalStreamId : streamId > this.lastPeerStreamId;
  }

  onHeaders(streamId: number, endStream: boolean, fieldBlock: Buffer, dependsOn: number): void {
    // Decode first, always: the HPACK context must stay in step whatever becomes of the stream.
    const fields = this.decoder.decode(fieldBlock, []);
    const stream = this.streams.get(streamId);
    if (stream !== undefined) {
      this.headersOnStream(stream, fields, endStream, dependsOn);
      return;
    }
    if (this.isLocalId(streamId)) {
      // A server never receives HEADERS on its own (push) ids, nor a client on an idle one.
      if (this.isIdle(streamId) || this.role === 'server') {
        throw new Http2Error('ERR_H2_STREAM_ID', ErrorCode.PROTOCOL_ERROR, `HEADERS on stream ${streamId}, which the peer may not open (RFC 9113 §5.1.1)`);
      }
      this.frameOnMissingStream(streamId, 'HEADERS');
      return;
    }
    if (!this.isIdle(streamId)) {
      const reason = this.closedStreams.reasonOf(streamId);
      if (reason === 0) {
        throw new Http2Error('ERR_H2_STREAM_ID', ErrorCode.PROTOCOL_ERROR, `HEADERS on stream ${streamId}, not above the last stream ${this.lastPeerStreamId} (RFC 9113 §5.1.1)`);
      }
      this.frameOnMissingStream(streamId, 'HEADERS');
      return;
    }
    // A new stream from the peer.
    if (this.role === 'client') {
      throw new Http2Error('ERR_H2_STREAM_ID', ErrorCode.PROTOCOL_ERROR, `server opened stream ${streamId} (RFC 9113 §8.4: push is disabled)`);
    }
    this.lastPeerStreamId = streamId;
    if (this.goawaySent) return; // §6.8: streams after GOAWAY are ignored
    if (dependsOn === streamId) {
      this.streamError(streamId, new Http2Error('ERR_H2_SELF_DEPENDENCY', ErrorCode.PROTOCOL_ERROR, `stream ${streamId} depends on itself (RFC 9113 §5.3.1)`, streamId));
      return;
    }
    if (this.peerStreamCount >= this.localSettings.maxConcurrentStreams) {
      this.streamError(streamId, new Http2Error('ERR_H2_REFUSED_STREAM', ErrorCode.REFUSED_STREAM, `stream ${streamId} passes MAX_CONCURRENT_STREAMS ${this.localSettings.maxConcurrentStreams} (RFC 9113 §5.1.2)`, streamId));
      return;
    }
    let control: RequestControl;
    try {
      control = checkRequestFields(streamId, fields, this.control);
    } catch (error) {
      this.streamError(streamId, error as Http2Error);
      return;
    }
    const created = this.newStream(streamId);
    created.contentLength = control.contentLength;
    created.deliverHeaders(fields);
    this.streams.set(streamId, created);
    this.peerStreamCount++;
    this.idleSince = 0;
    if (endStream) {
      if (control.contentLength > 0) {
        this.streamError(streamId, new Http2Error('ERR_H2_CONTENT_LENGTH', ErrorCode.PROTOCOL_ERROR, `stream ${streamId}: no DATA against content-length ${control.contentLength} (RFC 9113 §8.1.1)`, streamId));
        return;
      }
      this.remoteEnd(created);
    }
    this.handler.onStream?.(created, control);
  }

  /** HEADERS on a stream in the table: a client's response, or trailers (§8.1). */
  private headersOnStream(stream: Http2Stream, fields: string[], endStream: boolean, dependsOn: number): void {
    const streamId = stream.id;
    if (stream.remoteEnded) {
      this.streamError(streamId, new Http2Error('ERR_H2_STREAM_CLOSED', ErrorCode.STREAM_CLOSED, `HEADERS on stream ${streamId} after END_STREAM (RFC 9113 §5.1)`, streamId));
      return;
    }
    if (dependsOn === streamId) {
      this.streamError(streamId, new Http2Error('ERR_H2_SELF_DEPENDENCY', ErrorCode.PROTOCOL_ERROR, `stream ${streamId} depends on itself (RFC 9113 §5.3.1)`, streamId));
      return;
    }
    try {
      if (this.role === 'client' && !stream.headersReceived) {
        const status = checkResponseFields(streamId, fields, this.lengthOut);
        if (status < 200) {
          if (endStream) throw new Http2Error('ERR_H2_MALFORMED_MESSAGE', ErrorCode.PROTOCOL_ERROR, `stream ${streamId}: informational response with END_STREAM (RFC 9113 §8.1)`, streamId);
          stream.deliverInformational(fields);
          return;
        }
        // RFC 9110 §8.6: after HEAD or a 304, content-length describes a body that is not sent.
        stream.contentLength = stream.headRequest || status === 304 ? -1 : this.lengthOut[0];
        stream.deliverHeaders(fields);
        if (endStream) {
          if (stream.contentLength > 0) {
            throw new Http2Error('ERR_H2_CONTENT_LENGTH', ErrorCode.PROTOCOL_ERROR, `stream ${streamId}: no DATA against content-length ${stream.contentLength}`, streamId);
          }
          this.remoteEnd(stream);
        }
        return;
      }
      // §8.1: a second field section is trailers and must end the stream.
      if (!endStream) throw new Http2Error('ERR_H2_MALFORMED_MESSAGE', ErrorCode.PROTOCOL_ERROR, `stream ${streamId}: trailers without END_STREAM (RFC 9113 §8.1)`, streamId);
      checkTrailerFields(streamId, fields);
      if (stream.contentLength >= 0 && stream.bytesReceived !== stream.contentLength) {
        throw new Http2Error('ERR_H2_CONTENT_LENGTH', ErrorCode.PROTOCOL_ERROR, `stream ${streamId}: ${stream.bytesReceived} DATA octets against content-length ${stream.contentLength}`, streamId);
      }
    } catch (error) {
      this.streamError(streamId, error as Http2Error);
      return;
    }
    stream.trailers = fields.length === 0 ? NO_FIELDS : fields;
    this.remoteEnd(stream);
  }

  onRstStream(streamId: number, errorCode: number): void {
    const stream = this.streams.get(streamId);
    if (stream === undefined) {
      if (this.isIdle(streamId)) throw new Http2Error('ERR_H2_IDLE_STREAM', ErrorCode.PROTOCOL_ERROR, `RST_STREAM on idle stream ${streamId} (RFC 9113 §6.4)`);
      return;
    }
    stream.fail(new Http2Error('ERR_H2_STREAM_RESET', errorCode, `stream ${streamId} reset by the peer with code ${errorCode}`, streamId));
    this.removeStream(stream, ClosedReason.RESET_BY_PEER);
    this.countReset();
  }

  onSettings(ack: boolean, settings: Settings): void {
    if (ack) {
      const applied = this.pendingSettings.shift();
      if (applied === undefined) return; // an unsolicited ACK carries nothing to apply
      if (applied.initialWindowSize !== undefined) {
        // §6.9.2: the peer has moved every stream window by the difference; so do we.
        const delta = applied.initialWindowSize - this.receiveInitialWindow;
        this.receiveInitialWindow = applied.initialWindowSize;
        for (const stream of this.streams.values()) stream.receiveWindow.available += delta;
      }
      if (applied.headerTableSize !== undefined) this.decoder.setMaxTableSize(applied.headerTableSize);
      if (applied.maxFrameSize !== undefined) this.reader.setMaxFrameSize(applied.maxFrameSize);
      if (this.pendingSettings.length === 0 && this.settingsTimer !== undefined) {
        clearTimeout(this.settingsTimer);
        this.settingsTimer = undefined;
      }
      return;
    }
    if (this.controlFrames.hit()) {
      throw new Http2Error('ERR_H2_SETTINGS_FLOOD', ErrorCode.ENHANCE_YOUR_CALM, `more than ${this.controlFrames.limit} SETTINGS/PING frames within ${this.controlFrames.windowMs} ms`);
    }
    const peer = this.peerSettings;
    if (settings.initialWindowSize !== undefined) {
      // §6.9.2: the change applies to every stream's send window, which may go negative.
      const delta = settings.initialWindowSize - peer.initialWindowSize;
      for (const stream of this.streams.values()) {
        if (!fitsWindow(stream.sendWindow, delta)) {
          throw new Http2Error('ERR_H2_FLOW_CONTROL', ErrorCode.FLOW_CONTROL_ERROR, `SETTINGS_INITIAL_WINDOW_SIZE makes stream ${stream.id}'s window pass 2^31-1 (RFC 9113 §6.9.2)`);
        }
        stream.sendWindow += delta;
      }
      peer.initialWindowSize = settings.initialWindowSize;
    }
    if (settings.headerTableSize !== undefined) {
      peer.headerTableSize = settings.headerTableSize;
      this.encoder.setMaxTableSize(settings.headerTableSize);
    }
    if (settings.maxFrameSize !== undefined) peer.maxFrameSize = settings.maxFrameSize;
    if (settings.maxConcurrentStreams !== undefined) peer.maxConcurrentStreams = settings.maxConcurrentStreams;
    if (settings.maxHeaderListSize !== undefined) peer.maxHeaderListSize = settings.maxHeaderListSize;
    if (settings.enablePush !== undefined) {
      // §6.5.2: a server must not send ENABLE_PUSH = 1.
      if (this.role === 'client' && settings.enablePush) throw new Http2Error('ERR_H2_INVALID_SETTING', ErrorCode.PROTOCOL_ERROR, 'server sent SETTINGS_ENABLE_PUSH = 1 (RFC 9113 §6.5.2)');
      peer.enablePush = settings.enablePush;
    }
    if (settings.enableConnectProtocol !== undefined) peer.enableConnectProtocol = settings.enableConnectProtocol;
    if (settings.noRfc7540Priorities !== undefined) peer.noRfc7540Priorities = settings.noRfc7540Priorities;
    this.writeReply(encodeSettingsAck());
    if (!this.peerSettingsReceived) {
      this.peerSettingsReceived = true;
      this.resolveReady();
    }
    if (settings.initialWindowSize !== undefined) this.flushBlocked();
  }

  onPushPromise(streamId: number): void {
    // §8.4: we never enable push, and a client cannot push.
    throw new Http2Error('ERR_H2_PUSH_PROMISE', ErrorCode.PROTOCOL_ERROR, `PUSH_PROMISE on stream ${streamId}, push is disabled (RFC 9113 §8.4)`);
  }

  onPing(ack: boolean, opaqueData: Buffer): void {
    if (ack) {
      if (opaqueData.equals(GOAWAY_PING)) this.finishShutdown();
      else this.pingSentAt = 0;
      return;
    }
    if (this.controlFrames.hit()) {
      throw new Http2Error('ERR_H2_PING_FLOOD', ErrorCode.ENHANCE_YOUR_CALM, `more than ${this.controlFrames.limit} SETTINGS/PING frames within ${this.controlFrames.windowMs} ms`);
    }
    this.writeReply(encodePing(opaqueData, true));
  }

  onGoaway(lastStreamId: number, errorCode: number, debugData: Buffer): void {
    this.goawayReceived = lastStreamId;
    if (this.role === 'client') {
      // §6.8: our streams above lastStreamId were not processed and may be retried elsewhere.
      for (const stream of [...this.streams.values()]) {
        if (stream.id > lastStreamId) {
          stream.fail(new Http2Error('ERR_H2_GOAWAY', ErrorCode.REFUSED_STREAM, `stream ${stream.id} not processed: GOAWAY with last stream ${lastStreamId}, code ${errorCode}`, stream.id));
          this.removeStream(stream, ClosedReason.RESET_BY_PEER);
        }
      }
      this.handler.onGoaway?.(lastStreamId, errorCode, debugData);
      this.closeIfIdle();
      return;
    }
    this.handler.onGoaway?.(lastStreamId, errorCode, debugData);
    // Not at once: frames that came with the GOAWAY (a PING, say) are answered first, as nghttp2 does.
    setImmediate(this.closeIfIdleNow);
  }

  private readonly closeIfIdleNow = (): void => this.closeIfIdle();

  onWindowUpdate(streamId: number, increment: number): void {
    if (streamId === 0) {
      if (!fitsWindow(this.connectionSendWindow, increment)) {
        throw new Http2Error('ERR_H2_FLOW_CONTROL', ErrorCode.FLOW_CONTROL_ERROR, 'WINDOW_UPDATE makes the connection window pass 2^31-1 (RFC 9113 §6.9.1)');
      }
      this.connectionSendWindow += increment;
      this.flushBlocked();
      return;
    }
    const stream = this.streams.get(streamId);
    if (stream === undefined) {
      if (this.isIdle(streamId)) throw new Http2Error('ERR_H2_IDLE_STREAM', ErrorCode.PROTOCOL_ERROR, `WINDOW_UPDATE on idle stream ${streamId} (RFC 9113 §5.1)`);
      return;
    }
    if (!fitsWindow(stream.sendWindow, increment)) {
      this.streamError(streamId, new Http2Error('ERR_H2_FLOW_CONTROL', ErrorCode.FLOW_CONTROL_ERROR, `WINDOW_UPDATE makes stream ${streamId}'s window pass 2^31-1 (RFC 9113 §6.9.1)`, streamId));
      return;
    }
    stream.sendWindow += increment;
    if (stream.sendQueued && stream.sendWindow > 0 && this.connectionSendWindow > 0) this.flushBlocked();
  }

  onStreamError(error: Http2Error): void {
    const streamId = error.streamId;
    if (this.isIdle(streamId) && error.code === 'ERR_H2_ZERO_WINDOW_INCREMENT') {
      throw new Http2Error('ERR_H2_IDLE_STREAM', ErrorCode.PROTOCOL_ERROR, `WINDOW_UPDATE on idle stream ${streamId} (RFC 9113 §5.1)`);
    }
    this.streamError(streamId, error);
  }
}
