import { createSocket, type Socket as DgramSocket } from 'node:dgram';
import { connect, type Socket } from 'node:net';
import { isIPv6 } from 'node:net';
import { ObservabilityError } from './error.js';
import { formatSyslogMessage, SyslogHeader, SyslogSeverity, type SyslogHeaderOptions, type SyslogMessageOptions } from './syslog-format.js';

/**
 * Where syslog messages go. Node's dgram has no AF_UNIX datagram sockets (only udp4/udp6) and native
 * addons are out, so the local-socket transport is a Unix STREAM socket with RFC 6587 §3.4.1
 * octet-counting framing (`LEN SP MSG`), which rsyslog (imuxsock/imptcp) and syslog-ng accept.
 */
export type SyslogTarget =
  | { transport: 'udp'; host: string; port: number }
  | { transport: 'unix'; path: string }
  | { transport: 'tcp'; host: string; port: number };

export interface SyslogDestinationOptions extends SyslogHeaderOptions {
  target: SyslogTarget;
  /** MSGID on every message (e.g. `access`, `error`); default none (`-`). */
  msgId?: string;
  /**
   * Longest message in bytes; longer ones are cut at a character boundary. Default 2048 over UDP
   * (RFC 5426 §3.2: receivers SHOULD accept 2048), 65536 on stream transports.
   */
  maxMessageBytes?: number;
  /** Messages kept while the transport (re)connects or resolves its host; more are dropped and counted (default 1000). */
  maxQueuedMessages?: number;
  /** Bytes buffered in a slow stream socket before messages are dropped (default 1 MiB). */
  maxBufferedBytes?: number;
  /**
   * Wait before reconnecting a failed stream transport, resolving a UDP host that failed to resolve,
   * and between UDP re-resolutions after send errors (default 1000 ms).
   */
  reconnectDelayMs?: number;
  /** Told about send and connection failures (default: ignored; see `errors` and `dropped`). */
  onError?: (error: Error) => void;
}

/**
 * Sends RFC 5424 messages to a syslog receiver. As a pino destination (`pino(options, dest)`), each
 * JSON line becomes one message whose severity follows the line's pino level. A logger must never take
 * the server down: failures are counted (`errors`, `dropped`) and reported to `onError`, not thrown.
 */
export class SyslogDestination {
  readonly header: SyslogHeader;
  /** Messages not delivered (queue full, socket backed up, closed). */
  dropped = 0;
  /** Send or connection errors seen. */
  errors = 0;
  private readonly target: SyslogTarget;
  private readonly msgId: string | undefined;
  private readonly maxBytes: number;
  private readonly maxQueued: number;
  private readonly maxBuffered: number;
  private readonly reconnectDelayMs: number;
  private readonly onError: ((error: Error) => void) | undefined;
  private udp: DgramSocket | undefined;
  private udpConnecting = false;
  private udpConnected = false;
  private udpConnectDone: (() => void) | undefined;
  private udpPending = 0;
  private udpIdle: (() => void) | undefined;
  private stream: Socket | undefined;
  private streamConnected = false;
  private retryAt = 0;
  private queue: Buffer[] = [];
  private reconnectTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly messageOptions: SyslogMessageOptions = { severity: SyslogSeverity.informational };

  /** @throws ObservabilityError `ERR_SYSLOG_INVALID_TARGET` or `ERR_SYSLOG_INVALID_FIELD`. */
  constructor(options: SyslogDestinationOptions) {
    this.header = new SyslogHeader(options);
    this.target = validTarget(options.target);
    this.msgId = options.msgId;
    this.messageOptions.msgId = options.msgId;
    this.maxBytes = positive('maxMessageBytes', options.maxMessageBytes ?? (this.target.transport === 'udp' ? 2048 : 65536));
    this.maxQueued = positive('maxQueuedMessages', options.maxQueuedMessages ?? 1000);
    this.maxBuffered = positive('maxBufferedBytes', options.maxBufferedBytes ?? 1 << 20);
    this.reconnectDelayMs = options.reconnectDelayMs ?? 1000;
    this.onError = options.onError;
  }

  /** Whether a stream transport is connected now (always true for UDP, which has no connection). */
  get connected(): boolean {
    return this.target.transport === 'udp' || this.streamConnected;
  }

  /** Pino's destination interface: one serialized line (JSON with a trailing newline). */
  write(line: string): boolean {
    const end = line.charCodeAt(line.length - 1) === 10 ? line.length - 1 : line.length;
    this.messageOptions.severity = severityOfPinoLine(line);
    this.messageOptions.timestamp = undefined;
    this.deliver(formatSyslogMessage(this.header, end === line.length ? line : line.slice(0, end), this.messageOptions));
    return true;
  }

  /** Sends one message with `severity` (0-7; see {@link SyslogSeverity}). */
  send(severity: number, message: string, options: Omit<SyslogMessageOptions, 'severity'> = {}): void {
    this.deliver(formatSyslogMessage(this.header, message, { msgId: this.msgId, ...options, severity }));
  }

  /** Sends what is queued and closes the socket. Later writes are dropped. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.reconnectTimer !== undefined) clearTimeout(this.reconnectTimer);
    if (this.target.transport === 'udp') {
      // A resolution in flight delivers the queue when it succeeds; what is left then is dropped.
      if (this.udpConnecting) await new Promise<void>((r) => (this.udpConnectDone = r));
      this.dropped += this.queue.length;
      this.queue = [];
      const udp = this.udp;
      if (!udp) return;
      if (this.udpPending > 0) await new Promise<void>((r) => (this.udpIdle = r));
      await new Promise<void>((r) => udp.close(() => r()));
      return;
    }
    const stream = this.stream;
    if (!stream || stream.destroyed) {
      this.dropped += this.queue.length;
      this.queue = [];
      return;
    }
    if (!this.streamConnected) {
      // Give a connect in flight its chance to deliver the queue.
      await new Promise<void>((r) => {
        stream.once('connect', () => r());
        stream.once('close', () => r());
      });
    }
    if (stream.destroyed) return;
    // Resolves when flushed, or when the receiver went away first.
    await new Promise<void>((r) => {
      stream.once('close', () => r());
      stream.end(() => r());
    });
  }

  private deliver(message: string): void {
    if (this.closed) {
      this.dropped++;
      return;
    }
    let bytes: Buffer = Buffer.from(message, 'utf8');
    if (bytes.length > this.maxBytes) bytes = truncateUtf8(bytes, this.maxBytes);
    if (this.target.transport !== 'udp') this.sendFrame(bytes);
    else if (this.udpConnected) this.sendDatagram(bytes);
    else this.enqueue(bytes);
  }

  private sendDatagram(bytes: Buffer): void {
    this.udpPending++;
    this.udp!.send(bytes, this.datagramSent);
  }

  private readonly datagramSent = (e: Error | null): void => {
    if (e) {
      this.dropped++;
      this.failed(e);
    }
    if (--this.udpPending === 0) this.udpIdle?.();
  };

  /**
   * Resolves the UDP host once and connects the socket to it (dgram `connect`), so sends read no DNS.
   * After an error (the receiver gone: ICMP port unreachable comes back on a connected socket) it is
   * done again, at most once per `reconnectDelayMs`, since the name may point elsewhere now.
   */
  private connectUdp(): void {
    const { host, port } = this.target as { host: string; port: number };
    let udp = this.udp;
    if (udp === undefined) {
      const socket = createSocket(isIPv6(host) ? 'udp6' : 'udp4');
      socket.on('error', (e) => this.udpFailed(socket, e));
      socket.unref();
      udp = this.udp = socket;
    } else if (this.udpConnected) {
      udp.disconnect();
    }
    this.udpConnected = false;
    this.udpConnecting = true;
    this.retryAt = Date.now() + this.reconnectDelayMs;
    udp.connect(port, host, (e?: Error) => {
      this.udpConnecting = false;
      if (e) this.failed(e);
      else {
        this.udpConnected = true;
        const queued = this.queue;
        this.queue = [];
        for (const bytes of queued) this.sendDatagram(bytes);
      }
      this.udpConnectDone?.();
      if (this.queue.length > 0) this.scheduleConnect();
    });
  }

  private udpFailed(udp: DgramSocket, e: Error): void {
    this.failed(e);
    if (udp !== this.udp || !this.udpConnected || this.closed || Date.now() < this.retryAt) return;
    this.connectUdp();
  }

  private sendFrame(bytes: Buffer): void {
    // RFC 6587 §3.4.1: MSG-LEN SP SYSLOG-MSG, the length in octets.
    const frame = Buffer.concat([Buffer.from(`${bytes.length} `, 'latin1'), bytes]);
    if (this.streamConnected && this.stream) {
      if (this.stream.writableLength > this.maxBuffered) {
        this.dropped++;
        return;
      }
      this.stream.write(frame);
      return;
    }
    this.enqueue(frame);
  }

  /** Keeps `bytes` until the transport is up (dropped past `maxQueuedMessages`), and sets it up. */
  private enqueue(bytes: Buffer): void {
    if (this.queue.length >= this.maxQueued) {
      this.dropped++;
      return;
    }
    this.queue.push(bytes);
    this.scheduleConnect();
  }

  /** Whether a connection is up or on its way (a stream socket, or a UDP resolution). */
  private get opening(): boolean {
    return this.target.transport === 'udp' ? this.udpConnecting || this.udpConnected : this.stream !== undefined;
  }

  /** Connects now, or once `reconnectDelayMs` has passed since the last failure. */
  private scheduleConnect(): void {
    if (this.reconnectTimer !== undefined || this.closed || this.opening) return;
    const wait = this.retryAt - Date.now();
    if (wait <= 0) {
      this.connect();
      return;
    }
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      if (!this.opening && !this.closed && this.queue.length > 0) this.connect();
    }, wait);
    this.reconnectTimer.unref();
  }

  private connect(): void {
    if (this.target.transport === 'udp') this.connectUdp();
    else this.connectStream();
  }

  private connectStream(): void {
    const t = this.target;
    const socket = t.transport === 'unix' ? connect({ path: t.path }) : connect({ host: (t as { host: string }).host, port: (t as { port: number }).port });
    this.stream = socket;
    socket.unref();
    socket.on('connect', () => {
      this.streamConnected = true;
      const queued = this.queue;
      this.queue = [];
      if (queued.length > 0) socket.write(queued.length === 1 ? queued[0] : Buffer.concat(queued));
    });
    socket.on('error', (e) => this.failed(e));
    socket.on('close', () => {
      this.streamConnected = false;
      this.stream = undefined;
      this.retryAt = Date.now() + this.reconnectDelayMs;
      if (this.queue.length > 0) this.scheduleConnect();
    });
  }

  private failed(e: Error): void {
    this.errors++;
    this.onError?.(e);
  }
}

/** Pino level → syslog severity: trace/debug → debug, info, warn → warning, error, fatal → critical. */
export function severityOfPinoLevel(level: number): number {
  if (level >= 60) return SyslogSeverity.critical;
  if (level >= 50) return SyslogSeverity.error;
  if (level >= 40) return SyslogSeverity.warning;
  if (level >= 30) return SyslogSeverity.informational;
  return SyslogSeverity.debug;
}

function severityOfPinoLine(line: string): number {
  // Pino writes the level first (`{"level":30,`); read it without parsing the JSON.
  if (line.startsWith('{"level":')) {
    let level = 0;
    for (let i = 9; i < line.length; i++) {
      const c = line.charCodeAt(i) - 48;
      if (c < 0 || c > 9) break;
      level = level * 10 + c;
    }
    return severityOfPinoLevel(level);
  }
  const m = /"level":(\d+)/.exec(line);
  return m ? severityOfPinoLevel(Number(m[1])) : SyslogSeverity.informational;
}

function truncateUtf8(bytes: Buffer, max: number): Buffer {
  let end = max;
  // Back off continuation bytes (10xxxxxx) so a character is never cut in two.
  while (end > 0 && (bytes[end] & 0xc0) === 0x80) end--;
  return bytes.subarray(0, end);
}

function validTarget(t: SyslogTarget): SyslogTarget {
  if (t.transport === 'unix') {
    if (typeof t.path !== 'string' || t.path.length === 0) throw new ObservabilityError('ERR_SYSLOG_INVALID_TARGET', 'syslog unix target needs a socket path');
    return t;
  }
  if (t.transport === 'udp' || t.transport === 'tcp') {
    if (typeof t.host !== 'string' || t.host.length === 0 || !Number.isInteger(t.port) || t.port < 1 || t.port > 65535) {
      throw new ObservabilityError('ERR_SYSLOG_INVALID_TARGET', `syslog ${t.transport} target needs a host and a port 1-65535, got ${JSON.stringify(t)}`);
    }
    return t;
  }
  throw new ObservabilityError('ERR_SYSLOG_INVALID_TARGET', `syslog transport must be udp, tcp or unix, got ${JSON.stringify((t as { transport?: unknown }).transport)}`);
}

function positive(name: string, n: number): number {
  if (!Number.isInteger(n) || n < 1) throw new ObservabilityError('ERR_SYSLOG_INVALID_TARGET', `syslog ${name} must be a positive integer, got ${n}`);
  return n;
}
