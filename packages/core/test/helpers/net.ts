import { createServer, type Server, type Socket } from 'node:net';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';

/** A TCP server on 127.0.0.1:0 that records its connections. */
export async function tcpServer(onConnection: (socket: Socket) => void = () => {}): Promise<{ server: Server; port: number; sockets: Socket[]; close: () => Promise<void> }> {
  const sockets: Socket[] = [];
  const server = createServer((s) => {
    sockets.push(s);
    s.on('error', () => {});
    onConnection(s);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  return {
    server,
    port,
    sockets,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise((r) => server.close(() => r()));
    },
  };
}

/**
 * A listener whose accept queue is full, so a further connect hangs in SYN-SENT (Linux drops SYNs to
 * a full queue): the loopback way to test connect timeouts. Python holds a socket that listens with
 * backlog 0 and never accepts; two connections fill the queue.
 */
export async function blackholeListener(): Promise<{ port: number; stop: () => void }> {
  const py: ChildProcess = spawn('python3', ['-c', [
    'import socket,sys,time',
    's=socket.socket(); s.bind(("127.0.0.1",0)); s.listen(0)',
    'print(s.getsockname()[1], flush=True)',
    'fill=[]',
    'for i in range(4):',
    '  c=socket.socket(); c.setblocking(False)',
    '  try: c.connect(("127.0.0.1", s.getsockname()[1]))',
    '  except BlockingIOError: pass',
    '  fill.append(c)',
    'time.sleep(1); print("ready", flush=True)',
    'sys.stdin.read()',
  ].join('\n')], { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  await new Promise<void>((resolve, reject) => {
    py.stdout!.on('data', (d) => {
      out += d;
      if (out.includes('ready')) resolve();
    });
    py.once('exit', () => reject(new Error('python helper exited: ' + out)));
  });
  return { port: Number(out.split('\n')[0]), stop: () => py.kill() };
}
