import { createSocket, type RemoteInfo, type Socket as UdpSocket } from 'node:dgram';
import { once } from 'node:events';
import { isIPv6 } from 'node:net';
import { SluiceError, errorTypeOfSystemError } from './error.js';
import type { SocketAddress } from './digest.js';
import type { Logger } from './logger.js';
import { parsePeerAddress } from './peer.js';
import { Readiness, type Service } from './service.js';

export type { RemoteInfo, UdpSocket };

/** The application behind a UDP service: one call per datagram; reply with `socket.send`. */
export interface UdpApp {
  processDatagram(message: Buffer, from: RemoteInfo, socket: UdpSocket): Promise<void> | void;
}

/** Socket options for a UDP endpoint. */
export interface UdpListenOptions {
  /** SO_RCVBUF in bytes. */
  recvBufferSize?: number;
  /** SO_SNDBUF in bytes. */
  sendBufferSize?: number;
  reuseAddr?: boolean;
  ipv6Only?: boolean;
}

/** A service for datagram protocols: binds any number of UDP endpoints and hands each datagram to its app. */
export class UdpService implements Service {
  readonly readiness = new Readiness();
  readonly dependencies: Service[] = [];
  private readonly binds: Array<{ addr: string; options: UdpListenOptions }> = [];
  private readonly sockets: UdpSocket[] = [];

  constructor(
    readonly name: string,
    readonly app: UdpApp,
  ) {}

  /** Binds UDP `addr` (`127.0.0.1:5353`, `[::1]:0`). */
  addUdp(addr: string, options: UdpListenOptions = {}): this {
    this.binds.push({ addr, options });
    return this;
  }

  get addresses(): SocketAddress[] {
    return this.sockets.map((s) => {
      const a = s.address();
      return { family: a.family === 'IPv6' ? 'IPv6' : 'IPv4', address: a.address, port: a.port };
    });
  }

  async start(shutdown: AbortSignal, log: Logger): Promise<void> {
    try {
      for (const { addr, options } of this.binds) this.sockets.push(await this.bind(addr, options, log));
    } catch (e) {
      this.stopNow();
      this.readiness.fail(e);
      throw e;
    }
    this.readiness.markReady();
    if (!shutdown.aborted) await once(shutdown, 'abort');
    this.stopNow();
  }

  stopNow(): void {
    for (const s of this.sockets.splice(0)) s.close();
  }

  private async bind(addr: string, options: UdpListenOptions, log: Logger): Promise<UdpSocket> {
    const a = parsePeerAddress(addr);
    if ('path' in a) throw new SluiceError('ConfigError', { context: `UDP address ${addr} must be host:port` });
    const socket = createSocket({ type: isIPv6(a.host) ? 'udp6' : 'udp4', reuseAddr: options.reuseAddr, ipv6Only: options.ipv6Only });
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once('error', reject);
        socket.bind(a.port, a.host, () => {
          socket.off('error', reject);
          resolve();
        });
      });
    } catch (e) {
      socket.close();
      throw SluiceError.because(errorTypeOfSystemError(e, 'BindError'), `binding udp ${addr}`, e);
    }
    if (options.recvBufferSize) socket.setRecvBufferSize(options.recvBufferSize);
    if (options.sendBufferSize) socket.setSendBufferSize(options.sendBufferSize);
    socket.on('error', (e) => log.error(`${this.name}: udp ${addr}`, e));
    socket.on('message', (message, from) => {
      try {
        const r = this.app.processDatagram(message, from, socket);
        if (r && typeof r.then === 'function') r.then(undefined, (e: unknown) => log.error(`${this.name}: datagram from ${from.address}:${from.port} failed`, e));
      } catch (e) {
        log.error(`${this.name}: datagram from ${from.address}:${from.port} failed`, e);
      }
    });
    return socket;
  }
}
