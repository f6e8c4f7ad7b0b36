import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect, type ConnectionOptions } from 'node:tls';
import { connect as netConnect } from 'node:net';
import { TlsSettings } from '../src/settings.js';
import { TlsConnector } from '../src/connector.js';
import { testCa, testKey, tempDir, run } from './helpers/pki.js';
import { serveTls } from './helpers/servers.js';

const ca = testCa();
const key = testKey();
const cert = ca.issue({ dnsNames: ['keylog.test'], key });
const tsharkPresent = spawnSync('tshark', ['--version']).status === 0;
if (!tsharkPresent) console.log('SKIPPED tshark decryption of a capture with our key log (tshark missing: apt-get install tshark); key log lines are still checked against node:tls keylog events');

const LINE = /^(CLIENT_RANDOM|CLIENT_HANDSHAKE_TRAFFIC_SECRET|SERVER_HANDSHAKE_TRAFFIC_SECRET|CLIENT_TRAFFIC_SECRET_0|SERVER_TRAFFIC_SECRET_0|EXPORTER_SECRET) [0-9a-f]{64} [0-9a-f]{64,96}$/;

/** Talks one HTTP/1.1 exchange over TLS, recording the client's own keylog lines. */
async function exchange(port: number, options: ConnectionOptions, path: string): Promise<string[]> {
  const lines: string[] = [];
  const socket = connect({ host: '127.0.0.1', port, servername: 'keylog.test', ca: ca.cert, ALPNProtocols: ['http/1.1'], ...options });
  socket.on('keylog', (line: Buffer) => lines.push(line.toString().trimEnd()));
  await once(socket, 'secureConnect');
  socket.end(`GET ${path} HTTP/1.1\r\nHost: keylog.test\r\n\r\n`);
  socket.resume();
  await once(socket, 'close');
  return lines;
}

/** Captures loopback traffic on `port` with tshark while `work` runs; resolves with the pcap path. */
async function capture(dir: string, port: number, work: () => Promise<void>): Promise<string> {
  const file = join(dir, 'capture.pcapng');
  const tshark = spawn('tshark', ['-i', 'lo', '-f', `tcp port ${port}`, '-w', file], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  tshark.stderr.on('data', (d) => (err += d));
  for (let i = 0; i < 200 && !err.includes('Capturing on'); i++) await new Promise((r) => setTimeout(r, 25));
  assert.match(err, 'Capturing on', 'tshark started');
  await new Promise((r) => setTimeout(r, 200));
  try {
    await work();
    await new Promise((r) => setTimeout(r, 300));
  } finally {
    tshark.kill('SIGINT');
    await once(tshark, 'close');
  }
  return file;
}

async function decryptedUris(pcap: string, port: number, keyLog: string | undefined): Promise<string[]> {
  const args = ['-r', pcap, '-d', `tcp.port==${port},tls`, '-Y', 'http.request', '-T', 'fields', '-e', 'http.request.uri'];
  if (keyLog) args.push('-o', `tls.keylog_file:${keyLog}`);
  const r = await run('tshark', args, '', 20_000);
  return r.stdout.split('\n').filter(Boolean);
}

const acceptor = suite('acceptor key log');
for (const maxVersion of ['TLSv1.3', 'TLSv1.2'] as const) {
  acceptor(`${maxVersion}: our key log matches node's keylog events and decrypts a tshark capture`, async () => {
    const dir = tempDir();
    const keyLog = join(dir.path, 'keys.log');
    const settings = new TlsSettings({ cert: cert.chain, key, keyLog, maxVersion });
    const server = await serveTls(settings, 'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n');
    try {
      let clientLines: string[] = [];
      const path = `/secret-${maxVersion}`;
      const talk = async () => {
        clientLines = await exchange(server.port, {}, path);
      };
      const pcap = tsharkPresent ? await capture(dir.path, server.port, talk) : (await talk(), '');
      await settings.keyLog!.flush();
      const written = readFileSync(keyLog, 'utf8').trimEnd().split('\n');
      for (const line of written) assert.match(line, LINE);
      assert.ok(clientLines.length >= 1);
      assert.equal([...written].sort(), [...clientLines].sort(), 'the server wrote exactly the secrets the client saw');
      if (tsharkPresent) {
        assert.equal(await decryptedUris(pcap, server.port, undefined), [], 'nothing readable without the key log');
        assert.equal(await decryptedUris(pcap, server.port, keyLog), [path]);
      }
    } finally {
      await settings.close();
      await server.close();
      dir.remove();
    }
  });
}

const connector = suite('connector key log');
connector('TlsConnector keyLog matches the server side and decrypts a tshark capture', async () => {
  const dir = tempDir();
  const keyLog = join(dir.path, 'upstream-keys.log');
  const serverLines: string[] = [];
  const server = await serveTls({ cert: cert.chain, key }, 'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n');
  server.server.on('keylog', (line: Buffer) => serverLines.push(line.toString().trimEnd()));
  const tls = new TlsConnector({ keyLog, ca: ca.cert });
  try {
    const talk = async () => {
      const socket = netConnect(server.port, '127.0.0.1');
      await once(socket, 'connect');
      const secure = await tls.upgrade(socket, { sni: 'keylog.test', address: { host: '127.0.0.1', port: server.port }, options: { alpn: 'h1' } });
      secure.end('GET /upstream-secret HTTP/1.1\r\nHost: keylog.test\r\n\r\n');
      secure.resume();
      await once(secure, 'close');
    };
    const pcap = tsharkPresent ? await capture(dir.path, server.port, talk) : (await talk(), '');
    await tls.keyLog!.flush();
    const written = readFileSync(keyLog, 'utf8').trimEnd().split('\n');
    assert.equal([...written].sort(), [...serverLines].sort());
    if (tsharkPresent) assert.equal(await decryptedUris(pcap, server.port, keyLog), ['/upstream-secret']);
  } finally {
    await tls.close();
    await server.close();
    dir.remove();
  }
});

connector('an unwritable key log path is reported on the writer, never thrown at connections', async () => {
  const tls = new TlsConnector({ keyLog: '/nonexistent-dir/keys.log' });
  await new Promise((r) => setTimeout(r, 50));
  assert.ok(tls.keyLog!.error);
  assert.not.ok(existsSync('/nonexistent-dir/keys.log'));
  await tls.close();
});

acceptor.run();
connector.run();
