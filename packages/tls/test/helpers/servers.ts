import { once } from 'node:events';
import type { X509Certificate } from 'node:crypto';
import { createServer, connect as tlsConnect, type ConnectionOptions, type Server, type TLSSocket, type TlsOptions } from 'node:tls';
import type { TlsSettings } from '../../src/settings.js';

export interface TestTlsServer {
  server: Server;
  port: number;
  /** Sockets that finished a handshake, in order. */
  accepted: TLSSocket[];
  close: () => Promise<void>;
}

/** A TLS server on 127.0.0.1:0 built as core will build it: createServer(serverOptions()), attach(). Answers `hello` and closes. */
export async function serveTls(settings: TlsSettings | TlsOptions, reply = 'hello\n'): Promise<TestTlsServer> {
  const isSettings = typeof (settings as TlsSettings).serverOptions === 'function';
  const server = createServer(isSettings ? (settings as TlsSettings).serverOptions() : (settings as TlsOptions));
  if (isSettings) (settings as TlsSettings).attach(server);
  const accepted: TLSSocket[] = [];
  server.on('secureConnection', (socket) => {
    accepted.push(socket);
    socket.on('error', () => {});
    socket.end(reply);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  return {
    server,
    port,
    accepted,
    close: () => {
      for (const s of accepted) s.destroy();
      return new Promise((r) => server.close(() => r()));
    },
  };
}

/** What a client saw of a handshake, read before the socket closed. */
export interface ClientView {
  reply: string;
  protocol: string | null;
  cipher: string;
  alpn: string | false | null;
  reused: boolean;
  peerCertificate: X509Certificate | undefined;
  groupName: string | undefined;
  socket: TLSSocket;
}

/** Connects with node:tls, resolves with what it saw of the handshake and the reply text. */
export async function tlsClient(port: number, options: ConnectionOptions): Promise<ClientView> {
  const socket = tlsConnect({ host: '127.0.0.1', port, ...options });
  const [secure] = await Promise.race([once(socket, 'secureConnect').then(() => [true]), once(socket, 'error').then(([e]) => Promise.reject(e))]);
  void secure;
  const view: ClientView = {
    reply: '',
    protocol: socket.getProtocol(),
    cipher: socket.getCipher().name,
    alpn: socket.alpnProtocol,
    reused: socket.isSessionReused(),
    peerCertificate: socket.getPeerX509Certificate(),
    groupName: (socket.getEphemeralKeyInfo() as { name?: string } | null)?.name,
    socket,
  };
  socket.setEncoding('utf8');
  socket.on('data', (d: string) => (view.reply += d));
  await new Promise<void>((resolve, reject) => {
    socket.on('end', resolve);
    socket.on('close', resolve);
    socket.on('error', reject);
  });
  socket.destroy();
  return view;
}

/** Resolves when `promise` rejects (with the error), fails when it resolves. */
export async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (e) {
    return e;
  }
  throw new Error('expected a rejection');
}
