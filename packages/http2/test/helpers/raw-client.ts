// A raw-frame HTTP/2 client for tests: sends exactly the frames a test writes (valid or not) and
// reports what the server sent back, frame by frame, with a small independent frame parser.
import { connect, type Socket } from 'node:net';
import {
  CONNECTION_PREFACE,
  encodeFrame,
  encodeSettings,
  ErrorCode,
  FrameFlag,
  FrameType,
  HpackDecoder,
  HpackEncoder,
  type Settings,
} from '../../src/index.js';

export interface Frame {
  type: number;
  flags: number;
  streamId: number;
  payload: Buffer;
}

export type Event = Frame | 'closed' | 'timeout';

export const CODE_NAMES = Object.fromEntries(Object.entries(ErrorCode).map(([k, v]) => [v, k])) as Record<number, string>;

export function describe(event: Event): string {
  if (typeof event === 'string') return event;
  const names = ['DATA', 'HEADERS', 'PRIORITY', 'RST_STREAM', 'SETTINGS', 'PUSH_PROMISE', 'PING', 'GOAWAY', 'WINDOW_UPDATE', 'CONTINUATION'];
  let text = `${names[event.type] ?? `type ${event.type}`} stream ${event.streamId} flags 0x${event.flags.toString(16)} length ${event.payload.length}`;
  if (event.type === FrameType.GOAWAY) text += ` code ${CODE_NAMES[event.payload.readUInt32BE(4)]} "${event.payload.subarray(8).toString()}"`;
  if (event.type === FrameType.RST_STREAM) text += ` code ${CODE_NAMES[event.payload.readUInt32BE(0)]}`;
  return text;
}

export interface Response {
  fields: string[];
  status: number;
  body: Buffer;
  trailers: string[] | null;
  dataFrames: number[];
}

export class RawClient {
  readonly socket: Socket;
  readonly encoder = new HpackEncoder();
  readonly decoder = new HpackDecoder();
  serverSettings: Settings = {};
  private buffer: Buffer = Buffer.alloc(0);
  private readonly events: Event[] = [];
  private waiter: ((event: Event) => void) | null = null;
  private closed = false;

  private prefaceToSkip: number;

  private constructor(socket: Socket, prefaceToSkip = 0) {
    this.socket = socket;
    this.prefaceToSkip = prefaceToSkip;
    socket.on('data', (chunk: Buffer) => {
      this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
      if (this.prefaceToSkip > 0) {
        const n = Math.min(this.prefaceToSkip, this.buffer.length);
        this.buffer = this.buffer.subarray(n);
        this.prefaceToSkip -= n;
      }
      while (this.buffer.length >= 9) {
        const length = this.buffer.readUIntBE(0, 3);
        if (this.buffer.length < 9 + length) break;
        const frame: Frame = {
          type: this.buffer[3],
          flags: this.buffer[4],
          streamId: this.buffer.readUInt32BE(5) & 0x7fffffff,
          payload: Buffer.from(this.buffer.subarray(9, 9 + length)),
        };
        this.buffer = this.buffer.subarray(9 + length);
        this.push(frame);
      }
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      this.closed = true;
      this.push('closed');
    });
  }

  /** The server side of an accepted socket: skips the client preface, then reads frames. */
  static accept(socket: Socket): RawClient {
    return new RawClient(socket, CONNECTION_PREFACE.length);
  }

  static connect(port: number): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = connect({ port, host: '127.0.0.1', noDelay: true }, () => resolve(new RawClient(socket)));
      socket.once('error', reject);
    });
  }

  private push(event: Event): void {
    const waiter = this.waiter;
    if (waiter !== null) {
      this.waiter = null;
      waiter(event);
    } else this.events.push(event);
  }

  /** The next frame, 'closed' once the server closed, or 'timeout'. */
  next(timeoutMs = 3000): Promise<Event> {
    const queued = this.events.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    if (this.closed) return Promise.resolve('closed');
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiter = null;
        resolve('timeout');
      }, timeoutMs);
      this.waiter = (event) => {
        clearTimeout(timer);
        resolve(event);
      };
    });
  }

  send(...parts: Buffer[]): void {
    if (!this.socket.destroyed) this.socket.write(parts.length === 1 ? parts[0] : Buffer.concat(parts));
  }

  /** Preface and SETTINGS, ACKs the server's SETTINGS and waits for the ACK of ours. */
  async handshake(settings: Settings = {}): Promise<void> {
    this.send(CONNECTION_PREFACE, encodeSettings(settings));
    let gotSettings = false;
    let gotAck = false;
    while (!gotSettings || !gotAck) {
      const event = await this.next();
      if (typeof event === 'string') throw new Error(`handshake: ${event}`);
      if (event.type !== FrameType.SETTINGS) continue;
      if ((event.flags & FrameFlag.ACK) !== 0) gotAck = true;
      else {
        gotSettings = true;
        for (let at = 0; at < event.payload.length; at += 6) {
          const id = event.payload.readUInt16BE(at);
          const value = event.payload.readUInt32BE(at + 2);
          if (id === 3) this.serverSettings.maxConcurrentStreams = value;
          if (id === 4) this.serverSettings.initialWindowSize = value;
        }
        this.send(frame(FrameType.SETTINGS, FrameFlag.ACK, 0));
      }
    }
  }

  /** A field block for a request: the four pseudo-headers (unless `fields` replaces them) then `extra`. */
  block(extra: string[] = [], fields?: string[]): Buffer {
    return this.encoder.encode(fields ?? [':method', 'GET', ':scheme', 'http', ':path', '/', ':authority', '127.0.0.1', ...extra]);
  }

  /** A HEADERS frame with END_HEADERS. */
  headers(streamId: number, block: Buffer, endStream: boolean, extraFlags = 0): Buffer {
    return frame(FrameType.HEADERS, FrameFlag.END_HEADERS | (endStream ? FrameFlag.END_STREAM : 0) | extraFlags, streamId, block);
  }

  /** A GET request on `streamId`, ended. */
  get(streamId: number, extra: string[] = []): Buffer {
    return this.headers(streamId, this.block(extra), true);
  }

  /** Waits for the whole response on `streamId`; throws on RST_STREAM, GOAWAY, close or timeout. */
  async response(streamId: number, timeoutMs = 3000): Promise<Response> {
    const response: Response = { fields: [], status: 0, body: Buffer.alloc(0), trailers: null, dataFrames: [] };
    const parts: Buffer[] = [];
    for (;;) {
      const event = await this.next(timeoutMs);
      if (typeof event === 'string' || event.type === FrameType.GOAWAY || (event.type === FrameType.RST_STREAM && event.streamId === streamId)) {
        throw new Error(`expected a response on stream ${streamId}, got ${describe(event)}`);
      }
      if (event.streamId !== streamId) continue;
      if (event.type === FrameType.HEADERS) {
        const fields = this.decoder.decode(event.payload, []);
        if (response.status === 0) {
          response.fields = fields;
          response.status = Number(fields[1]);
        } else response.trailers = fields;
      } else if (event.type === FrameType.DATA) {
        parts.push(event.payload);
        response.dataFrames.push(event.payload.length);
      }
      if ((event.type === FrameType.HEADERS || event.type === FrameType.DATA) && (event.flags & FrameFlag.END_STREAM) !== 0) break;
    }
    response.body = Buffer.concat(parts);
    return response;
  }

  /** Sends a PING and waits for its ACK: proof that the connection is still healthy. */
  async alive(): Promise<void> {
    const data = Buffer.from('alive?!!');
    this.send(frame(FrameType.PING, 0, 0, data));
    for (;;) {
      const event = await this.next();
      if (typeof event === 'string' || event.type === FrameType.GOAWAY || event.type === FrameType.RST_STREAM) {
        throw new Error(`expected a PING ACK, got ${describe(event)}`);
      }
      if (event.type === FrameType.PING && (event.flags & FrameFlag.ACK) !== 0 && event.payload.equals(data)) return;
    }
  }

  /** Expects GOAWAY with one of `codes`, then the connection's close. Returns the GOAWAY. */
  async connectionError(...codes: number[]): Promise<Frame> {
    for (;;) {
      const event = await this.next();
      if (typeof event === 'string') throw new Error(`expected GOAWAY ${codes.map((c) => CODE_NAMES[c]).join('/')}, got ${event}`);
      if (event.type === FrameType.RST_STREAM) throw new Error(`expected GOAWAY ${codes.map((c) => CODE_NAMES[c]).join('/')}, got ${describe(event)}`);
      if (event.type !== FrameType.GOAWAY) continue;
      const code = event.payload.readUInt32BE(4);
      if (!codes.includes(code)) throw new Error(`expected GOAWAY ${codes.map((c) => CODE_NAMES[c]).join('/')}, got ${describe(event)}`);
      await this.closedByServer();
      return event;
    }
  }

  /** Expects RST_STREAM on `streamId` with one of `codes` (or a connection error with one of them). */
  async streamError(streamId: number, ...codes: number[]): Promise<'rst' | 'goaway'> {
    for (;;) {
      const event = await this.next();
      if (typeof event === 'string') throw new Error(`expected RST_STREAM ${codes.map((c) => CODE_NAMES[c]).join('/')} on stream ${streamId}, got ${event}`);
      if (event.type === FrameType.RST_STREAM && event.streamId === streamId) {
        const code = event.payload.readUInt32BE(0);
        if (!codes.includes(code)) throw new Error(`expected RST_STREAM ${codes.map((c) => CODE_NAMES[c]).join('/')}, got ${describe(event)}`);
        return 'rst';
      }
      if (event.type === FrameType.GOAWAY) {
        const code = event.payload.readUInt32BE(4);
        if (!codes.includes(code)) throw new Error(`expected RST_STREAM ${codes.map((c) => CODE_NAMES[c]).join('/')}, got ${describe(event)}`);
        await this.closedByServer();
        return 'goaway';
      }
    }
  }

  /** Waits until the server has closed the connection. */
  async closedByServer(): Promise<void> {
    for (;;) {
      const event = await this.next();
      if (event === 'closed') return;
      if (event === 'timeout') throw new Error('expected the connection to close, it stayed open');
    }
  }

  close(): void {
    this.socket.destroy();
  }
}

/** Any frame, unchecked (tests must be able to misbehave). */
export function frame(type: number, flags: number, streamId: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  return encodeFrame(type, flags, streamId, payload);
}

export function u32(...values: number[]): Buffer {
  const out = Buffer.alloc(values.length * 4);
  values.forEach((v, i) => out.writeUInt32BE(v >>> 0, i * 4));
  return out;
}

export function setting(id: number, value: number): Buffer {
  const out = Buffer.alloc(6);
  out.writeUInt16BE(id, 0);
  out.writeUInt32BE(value >>> 0, 2);
  return out;
}
