import { connect } from 'node:tls';

/** Connects, reads until the server closes, and resolves with the last session the server issued. */
export function tlsConnect(port: number, options: object): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    let session: Buffer | undefined;
    const socket = connect({ host: '127.0.0.1', port, ...options });
    socket.on('session', (s: Buffer) => (session = s));
    socket.on('error', reject);
    socket.resume();
    socket.on('close', () => (session ? resolve(session) : reject(new Error('no session issued'))));
  });
}
