import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { connect as netConnect, type Socket } from 'node:net';
import { createSocket } from 'node:dgram';
import { execFileSync } from 'node:child_process';
import { connect as tlsConnect } from 'node:tls';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  BackgroundService,
  ListeningService,
  Server,
  SluiceError,
  UdpService,
  gatherFromWorkers,
  loadServerConf,
  onGather,
  parseServerArgs,
  silentLogger,
  type Logger,
  type Stream,
} from '../src/index.js';
import { fixture, runTs, waitFor } from './helpers/child.js';

const dir = mkdtempSync(join(tmpdir(), 'sluice-server-'));

function open(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = netConnect(port, '127.0.0.1', () => resolve(s));
    s.once('error', reject);
  });
}

async function readAll(s: Socket): Promise<string> {
  let out = '';
  s.on('data', (d) => (out += d));
  await once(s, 'close');
  return out;
}

function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = netConnect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(false);
    });
    s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code === 'ECONNREFUSED'));
  });
}

/** Answers each connection's first chunk after `ms`, then closes. */
function slowApp(ms: number) {
  return {
    async processNewConnection(stream: Stream) {
      const line = await stream.read();
      if (!line) return;
      // Unref'd: a connection cut by a fast shutdown must not keep the test process alive.
      await sleep(ms, undefined, { ref: false });
      await stream.write(`done ${line}`);
    },
  };
}

function recordingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  return { lines, info: (m) => lines.push(m), warn: (m) => lines.push(m), error: (m, e) => lines.push(`${m} ${e instanceof Error ? e.message : ''}`) };
}

const lifecycle = suite('Server lifecycle (in process)');

lifecycle('graceful shutdown finishes the in-flight connection and refuses new ones', async () => {
  const service = new ListeningService('slow', slowApp(300)).addTcp('127.0.0.1:0');
  const server = new Server({ handleSignals: false, log: silentLogger, conf: { grace_period_seconds: 10 } });
  server.addService(service);
  const running = server.run();
  await service.readiness.ready;
  const port = service.addresses[0].port;
  const client = await open(port);
  client.write('job');
  const answer = readAll(client);
  await sleep(50);
  server.shutdown('graceful');
  await sleep(50);
  assert.ok(await refused(port), 'new connections are refused during the drain');
  assert.is(await answer, 'done job', 'the in-flight request got its answer');
  await running;
  assert.is(service.openConnections, 0);
});

lifecycle('fast shutdown does not wait for open connections', async () => {
  const service = new ListeningService('slow', slowApp(60_000)).addTcp('127.0.0.1:0');
  const server = new Server({ handleSignals: false, log: silentLogger, conf: { grace_period_seconds: 60 } });
  server.addService(service);
  const running = server.run();
  await service.readiness.ready;
  const client = await open(service.addresses[0].port);
  client.write('job');
  const closed = once(client, 'close');
  await sleep(50);
  const t0 = Date.now();
  server.shutdown('fast');
  await running;
  await closed;
  assert.ok(Date.now() - t0 < 2000, `stopped at once, took ${Date.now() - t0} ms`);
});

lifecycle('the grace period bounds a graceful shutdown; SIGINT-style fast shutdown cuts it short', async () => {
  const service = new ListeningService('slow', slowApp(60_000)).addTcp('127.0.0.1:0');
  const server = new Server({ handleSignals: false, log: silentLogger, conf: { grace_period_seconds: 0.3, graceful_shutdown_timeout_seconds: 1 } });
  server.addService(service);
  const running = server.run();
  await service.readiness.ready;
  const client = await open(service.addresses[0].port);
  client.write('job');
  client.on('error', () => {});
  await sleep(50);
  const t0 = Date.now();
  server.shutdown('graceful');
  await running;
  const took = Date.now() - t0;
  assert.ok(took >= 250 && took < 3000, `waited for the grace period, took ${took} ms`);
  assert.ok(client.destroyed || client.readableEnded || (await once(client, 'close'), true));

  const service2 = new ListeningService('slow', slowApp(60_000)).addTcp('127.0.0.1:0');
  const server2 = new Server({ handleSignals: false, log: silentLogger, conf: { grace_period_seconds: 60 } });
  server2.addService(service2);
  const running2 = server2.run();
  await service2.readiness.ready;
  const c2 = await open(service2.addresses[0].port);
  c2.on('error', () => {});
  c2.write('job');
  await sleep(50);
  const t1 = Date.now();
  server2.shutdown('graceful');
  await sleep(50);
  server2.shutdown('fast');
  await running2;
  assert.ok(Date.now() - t1 < 2000, 'fast after graceful did not wait out 60 s');
});

lifecycle('a failing connection handler is logged and never takes the server down', async () => {
  let calls = 0;
  const log = recordingLogger();
  const service = new ListeningService('flaky', {
    processNewConnection(stream: Stream) {
      calls++;
      if (calls === 1) throw new Error('sync boom');
      if (calls === 2) return Promise.reject(new Error('async boom'));
      stream.write('fine');
      return Promise.resolve();
    },
  }).addTcp('127.0.0.1:0');
  const server = new Server({ handleSignals: false, log });
  server.addService(service);
  const running = server.run();
  await service.readiness.ready;
  const port = service.addresses[0].port;
  assert.is(await readAll(await open(port)), '', 'first connection closed');
  assert.is(await readAll(await open(port)), '', 'second connection closed');
  assert.is(await readAll(await open(port)), 'fine', 'the service still serves');
  assert.ok(log.lines.some((l) => l.includes('sync boom')));
  assert.ok(log.lines.some((l) => l.includes('async boom')));
  server.shutdown('fast');
  await running;
});

lifecycle('a failed TLS handshake reaches the app as a typed TLSHandshakeFailure, is logged, and the endpoint keeps serving', async () => {
  const certFile = join(dir, 'hs-cert.pem');
  const keyFile = join(dir, 'hs-key.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '1', '-subj', '/CN=localhost'], { stdio: 'ignore' });
  const failures: SluiceError[] = [];
  const log = recordingLogger();
  const tls = { cert: readFileSync(certFile), key: readFileSync(keyFile), minVersion: 'TLSv1.3' as const };
  const service = new ListeningService('tls', {
    async processNewConnection(stream: Stream) {
      await stream.write('hello over tls');
    },
    tlsHandshakeFailed: (e: SluiceError) => failures.push(e),
  }).addTls('127.0.0.1:0', { serverOptions: () => tls });
  const server = new Server({ handleSignals: false, log });
  server.addService(service);
  const running = server.run();
  try {
    await service.readiness.ready;
    const port = service.addresses[0].port;
    // A real TLS client that offers at most TLS 1.2 to a server that takes 1.3 only.
    const old = tlsConnect({ port, host: '127.0.0.1', ca: readFileSync(certFile), servername: 'localhost', maxVersion: 'TLSv1.2' });
    const clientError = await new Promise<Error>((resolve) => old.once('error', resolve));
    assert.match(clientError.message, /alert|version|protocol/i);
    const deadline = Date.now() + 5000;
    while (failures.length === 0 && Date.now() < deadline) await sleep(10);
    assert.is(failures.length, 1, 'tlsHandshakeFailed called once');
    assert.ok(failures[0] instanceof SluiceError);
    assert.is(failures[0].type, 'TLSHandshakeFailure');
    assert.is(failures[0].source, 'Downstream');
    assert.match(failures[0].message, `on 127.0.0.1:0`);
    assert.match(failures[0].message, /TLS handshake with 127\.0\.0\.1:\d+/);
    assert.ok(log.lines.some((l) => l.startsWith('tls: ') && l.includes('TLS handshake with 127.0.0.1')), `logged: ${log.lines.join(' | ')}`);
    // The endpoint still serves a client that can speak TLS 1.3.
    const good = tlsConnect({ port, host: '127.0.0.1', ca: readFileSync(certFile), servername: 'localhost' });
    let got = '';
    good.on('data', (d) => (got += d));
    await once(good, 'end');
    good.destroy();
    assert.is(got, 'hello over tls');
    assert.is(failures.length, 1);
  } finally {
    server.shutdown('fast');
    await running;
  }
});

lifecycle('Unix domain socket endpoint with its mode; TCP and UDS on one service', async () => {
  const path = join(dir, 'svc.sock');
  writeFileSync(path, ''); // not a socket: must not be deleted silently
  const bad = new ListeningService('uds', slowApp(0)).addUds(path);
  const badServer = new Server({ handleSignals: false, log: silentLogger });
  badServer.addService(bad);
  try {
    await badServer.run();
    assert.unreachable('binding over a regular file must fail');
  } catch (e) {
    assert.ok(e instanceof SluiceError);
    assert.is((e as SluiceError).type, 'BindError');
  }
  const sockPath = join(dir, 'svc2.sock');
  const service = new ListeningService('both', slowApp(0)).addTcp('127.0.0.1:0').addUds(sockPath, 0o600);
  const server = new Server({ handleSignals: false, log: silentLogger });
  server.addService(service);
  const running = server.run();
  await service.readiness.ready;
  const { statSync } = await import('node:fs');
  assert.is(statSync(sockPath).mode & 0o777, 0o600);
  const uds = netConnect(sockPath);
  uds.write('x');
  assert.is(await readAll(uds), 'done x');
  const tcp = await open(service.addresses[0].port);
  tcp.write('y');
  assert.is(await readAll(tcp), 'done y');
  server.shutdown('graceful');
  await running;
});

lifecycle('a port already in use is a typed BindError and the server stops', async () => {
  const first = new ListeningService('a', slowApp(0)).addTcp('127.0.0.1:0');
  const s1 = new Server({ handleSignals: false, log: silentLogger });
  s1.addService(first);
  const r1 = s1.run();
  await first.readiness.ready;
  const taken = first.addresses[0].port;
  const second = new ListeningService('b', slowApp(0)).addTcp(`127.0.0.1:${taken}`);
  const s2 = new Server({ handleSignals: false, log: silentLogger });
  s2.addService(second);
  try {
    await s2.run();
    assert.unreachable();
  } catch (e) {
    assert.is((e as SluiceError).type, 'BindError');
    assert.match((e as Error).message, String(taken));
  }
  s1.shutdown('fast');
  await r1;
});

lifecycle('a service waits for the readiness of the services it depends on', async () => {
  const order: string[] = [];
  const bg = new BackgroundService('warmup', {
    async start(shutdown, ready) {
      await sleep(100);
      order.push('warm');
      ready();
      await new Promise((r) => shutdown.addEventListener('abort', r, { once: true }));
      order.push('bg stopped');
    },
  });
  const service = new ListeningService('web', slowApp(0)).addTcp('127.0.0.1:0').dependsOn(bg);
  service.readiness.ready.then(() => order.push('listening'));
  const server = new Server({ handleSignals: false, log: silentLogger });
  server.addServices(service, bg);
  const running = server.run();
  await service.readiness.ready;
  assert.equal(order, ['warm', 'listening']);
  server.shutdown('graceful');
  await running;
  assert.equal(order, ['warm', 'listening', 'bg stopped']);
});

lifecycle('UDP service echoes datagrams', async () => {
  const service = new UdpService('udp echo', {
    processDatagram(message, from, socket) {
      socket.send(Buffer.concat([Buffer.from('echo:'), message]), from.port, from.address);
    },
  }).addUdp('127.0.0.1:0', { recvBufferSize: 1 << 18 });
  const server = new Server({ handleSignals: false, log: silentLogger });
  server.addService(service);
  const running = server.run();
  await service.readiness.ready;
  const client = createSocket('udp4');
  client.send('hello', service.addresses[0].port, '127.0.0.1');
  const [msg] = (await once(client, 'message')) as [Buffer];
  assert.is(msg.toString(), 'echo:hello');
  client.close();
  server.shutdown('graceful');
  await running;
});

lifecycle('gatherFromWorkers in a single process answers with its own handler', async () => {
  const off = onGather('answer', async () => 42);
  assert.equal(await gatherFromWorkers('answer'), [42]);
  assert.equal(await gatherFromWorkers('nobody'), [], 'no handler, no answer');
  onGather('broken', () => {
    throw new Error('x');
  });
  assert.equal(await gatherFromWorkers('broken'), [], 'a failing handler is left out');
  off();
  assert.equal(await gatherFromWorkers('answer'), []);
});

const signals = suite('Server signals (child process)');

signals('SIGTERM drains: in-flight answered, new connections refused, exit 0', async () => {
  const run = runTs(fixture('slow-server.ts'), [], { SLOW_MS: '600' });
  const port = Number((await waitFor(run.output, /listening (\d+)/))[1]);
  const client = await open(port);
  client.write('inflight');
  const answer = readAll(client);
  await sleep(100);
  run.child.kill('SIGTERM');
  await waitFor(run.output, /graceful shutdown started/);
  assert.ok(await refused(port), 'refused after SIGTERM');
  assert.is(await answer, 'done inflight\n');
  const { code } = await run.exited;
  assert.is(code, 0);
});

signals('SIGINT stops at once with a connection still open', async () => {
  const run = runTs(fixture('slow-server.ts'), [], { SLOW_MS: '60000' });
  const port = Number((await waitFor(run.output, /listening (\d+)/))[1]);
  const client = await open(port);
  client.on('error', () => {});
  client.write('forever');
  await sleep(100);
  const t0 = Date.now();
  run.child.kill('SIGINT');
  const { code } = await run.exited;
  assert.is(code, 0);
  assert.ok(Date.now() - t0 < 3000, `exited promptly, took ${Date.now() - t0} ms`);
});

const config = suite('Configuration and flags');

config('YAML keys, defaults and extension keys', () => {
  const path = join(dir, 'good.yaml');
  writeFileSync(path, 'version: 1\nthreads: 2\ngrace_period_seconds: 1\nupstream_keepalive_pool_size: 64\nmy_extension:\n  answer: 42\n');
  const conf = loadServerConf(path);
  assert.is(conf.threads, 2);
  assert.is(conf.grace_period_seconds, 1);
  assert.is(conf.upstream_keepalive_pool_size, 64);
  assert.is(conf.max_retries, 16, 'pingora default');
  assert.is(conf.daemon, false);
  assert.equal(conf.extra, { my_extension: { answer: 42 } });
  assert.equal(parseServerArgs(['-c', path, '-t']), { conf: path, test: true, daemon: false, upgrade: false });
  assert.equal(parseServerArgs(['--daemon', '--upgrade']), { conf: undefined, test: false, daemon: true, upgrade: true });
  assert.throws(() => parseServerArgs(['--bogus']), (e: SluiceError) => e.type === 'ConfigError');
});

function configError(content: string, expect: RegExp): void {
  const path = join(dir, `bad-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(path, content);
  try {
    loadServerConf(path);
    assert.unreachable(`expected a ConfigError for ${content}`);
  } catch (e) {
    assert.ok(e instanceof SluiceError);
    assert.is((e as SluiceError).type, 'ConfigError');
    assert.match((e as Error).message, expect);
    assert.match((e as Error).message, path);
  }
}

config('bad values name the key and the reason', () => {
  configError('threads: -1\n', /key "threads": expected an integer >= 1, got -1/);
  configError('threads: two\n', /key "threads".*got "two"/);
  configError('daemon: yes please\n', /key "daemon": expected true or false/);
  configError('version: 2\n', /key "version": expected 1/);
  configError('grace_period_seconds: -5\n', /key "grace_period_seconds"/);
  configError('client_bind_to_ipv4: 127.0.0.1\n', /key "client_bind_to_ipv4": expected a list of strings/);
  configError('- a\n- b\n', /expected a mapping/);
  configError('threads: [1,\n', /:\d+:\d+: not valid YAML/);
  try {
    loadServerConf(join(dir, 'missing.yaml'));
    assert.unreachable();
  } catch (e) {
    assert.is((e as SluiceError).type, 'FileReadError');
    assert.match((e as Error).message, 'missing.yaml');
  }
});

config('-t validates and exits 0 or 1 with a clear message', async () => {
  const good = join(dir, 't-good.yaml');
  const bad = join(dir, 't-bad.yaml');
  writeFileSync(good, 'version: 1\nthreads: 1\n');
  writeFileSync(bad, 'version: 1\nupstream_keepalive_pool_size: lots\n');
  const ok = runTs(fixture('slow-server.ts'), ['-t', '-c', good]);
  assert.is((await ok.exited).code, 0);
  assert.match(ok.output(), `configuration ${good} is valid`);
  const no = runTs(fixture('slow-server.ts'), ['-t', '-c', bad]);
  assert.is((await no.exited).code, 1);
  assert.match(no.output(), /configuration error: .*key "upstream_keepalive_pool_size": expected an integer >= 0, got "lots"/);
  const noT = runTs(fixture('slow-server.ts'), ['-c', bad]);
  assert.is((await noT.exited).code, 1, 'a bad config stops a normal start too');
  const flag = runTs(fixture('slow-server.ts'), ['--nope']);
  assert.is((await flag.exited).code, 1);
  assert.match(flag.output(), /--nope/);
});

config('-d daemonizes: the parent exits, the daemon writes its pid file and serves, SIGTERM removes it', async () => {
  const pidFile = join(dir, 'daemon.pid');
  const errorLog = join(dir, 'daemon.log');
  const conf = join(dir, 'daemon.yaml');
  writeFileSync(conf, `version: 1\npid_file: ${pidFile}\nerror_log: ${errorLog}\n`);
  const parent = runTs(fixture('slow-server.ts'), ['-d', '-c', conf], { SLOW_MS: '0' });
  assert.is((await parent.exited).code, 0, 'the foreground process exits');
  const end = Date.now() + 15000;
  while (!existsSync(pidFile) || !/listening \d+/.test(existsSync(errorLog) ? readFileSync(errorLog, 'utf8') : '')) {
    if (Date.now() > end) throw new Error('daemon did not start: ' + (existsSync(errorLog) ? readFileSync(errorLog, 'utf8') : 'no log'));
    await sleep(50);
  }
  const pid = Number(readFileSync(pidFile, 'utf8'));
  assert.ok(pid > 0 && pid !== parent.child.pid);
  const port = Number(/listening (\d+)/.exec(readFileSync(errorLog, 'utf8'))![1]);
  const c = await open(port);
  c.write('daemon');
  assert.is(await readAll(c), 'done daemon\n');
  process.kill(pid, 'SIGTERM');
  while (existsSync(pidFile)) {
    if (Date.now() > end + 5000) throw new Error('pid file not removed');
    await sleep(50);
  }
});

lifecycle.run();
signals.run();
config.run();
