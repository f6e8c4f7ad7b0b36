import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, writeFileSync, existsSync, readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { connect as tlsConnect } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fixture, runTs, waitFor } from './helpers/child.js';
import { alive, load, request, until } from './helpers/load.js';
import { bindTcpHandle, closeHandle, handleAddress } from '../src/listener-handle.js';

const dir = mkdtempSync(join(tmpdir(), 'sluice-upgrade-'));





/** Cleanup on a failed test: servers still running would keep this process's pipes open. */
function killIfAlive(...pids: number[]): void {
  for (const p of pids) if (p > 0 && alive(p)) process.kill(p, 'SIGKILL');
}

const upgrade = suite('zero-downtime upgrade (SIGQUIT) and reload (SIGHUP)');

upgrade('three upgrades in a row under load: every request answered, old processes drain and exit', async () => {
  const conf = join(dir, 'ok.yaml');
  writeFileSync(conf, 'version: 1\ngrace_period_seconds: 10\n');
  const run = runTs(fixture('slow-server.ts'), ['-c', conf], { SLOW_MS: '30' });
  const first = await waitFor(run.output, /listening (\d+) pid (\d+)/);
  const port = Number(first[1]);
  let pid = Number(first[2]);
  const traffic = load(port);
  try {
    for (let round = 1; round <= 3; round++) {
      await sleep(200);
      const before = traffic.counts.ok;
      const signal = round === 2 ? 'SIGHUP' : 'SIGQUIT';
      process.kill(pid, signal);
      // The successor of round N prints the (N+1)-th `listening` line.
      await until(() => (run.output().match(/listening \d+ pid \d+/g) ?? []).length > round);
      const lines = [...run.output().matchAll(/listening (\d+) pid (\d+)/g)];
      assert.is(Number(lines[round][1]), port, 'same port');
      const old = pid;
      pid = Number(lines[round][2]);
      assert.is.not(pid, old);
      await until(() => !alive(old));
      await until(() => traffic.counts.ok > before + 10);
    }
  } finally {
    await traffic.stop();
  }
  assert.is(traffic.counts.failed, 0, `failed requests: ${traffic.counts.failed} of ${traffic.counts.ok + traffic.counts.failed}`);
  assert.ok(traffic.counts.ok > 50, `served ${traffic.counts.ok}`);
  assert.is((run.output().match(/took over tcp 127\.0\.0\.1:0/g) ?? []).length, 3, 'each successor took the listener over');
  assert.ok(await request(port, 'after'), 'the last successor serves');
  process.kill(pid, 'SIGTERM');
  await until(() => !alive(pid));
});

upgrade('a program that gives Server no flags is upgraded too (the successor role travels in the environment)', async () => {
  const conf = join(dir, 'own-flags.yaml');
  writeFileSync(conf, 'version: 1\ngrace_period_seconds: 5\n');
  const run = runTs(fixture('slow-server.ts'), [], { SLOW_MS: '10', OWN_FLAGS: conf });
  const first = await waitFor(run.output, /listening (\d+) pid (\d+)/);
  const port = Number(first[1]);
  const pid = Number(first[2]);
  const traffic = load(port, 2);
  try {
    await sleep(100);
    process.kill(pid, 'SIGQUIT');
    await until(() => (run.output().match(/listening \d+ pid \d+/g) ?? []).length >= 2);
    const next = [...run.output().matchAll(/listening (\d+) pid (\d+)/g)][1];
    assert.is(Number(next[1]), port);
    await until(() => !alive(pid));
    const before = traffic.counts.ok;
    await until(() => traffic.counts.ok > before + 10);
    await traffic.stop();
    assert.is(traffic.counts.failed, 0, 'no request failed across the upgrade');
    process.kill(Number(next[2]), 'SIGTERM');
    await until(() => !alive(Number(next[2])));
  } finally {
    await traffic.stop();
  }
  assert.not.match(run.output(), /upgrade failed/);
});

upgrade('a Unix socket endpoint is handed over too: its path survives the old process closing its listener', async () => {
  const conf = join(dir, 'uds.yaml');
  const path = join(dir, 'handover.sock');
  writeFileSync(conf, 'version: 1\ngrace_period_seconds: 5\n');
  const run = runTs(fixture('slow-server.ts'), ['-c', conf], { SLOW_MS: '10', UDS: path });
  const pid = Number((await waitFor(run.output, /listening \d+ pid (\d+)/))[1]);
  const traffic = load(path, 4);
  let successor = 0;
  try {
    await sleep(100);
    process.kill(pid, 'SIGQUIT');
    await until(() => (run.output().match(/listening \d+ pid \d+/g) ?? []).length >= 2);
    successor = Number([...run.output().matchAll(/listening \d+ pid (\d+)/g)][1][1]);
    await until(() => !alive(pid)); // the old process closed its listener and exited
    const before = traffic.counts.ok;
    await until(() => traffic.counts.ok > before + 20);
    await traffic.stop();
    assert.is(traffic.counts.failed, 0, 'no request over the Unix socket failed');
    assert.ok(existsSync(path), 'the socket file is still there');
    assert.match(run.output(), /took over uds /);
    process.kill(successor, 'SIGTERM');
    await until(() => !alive(successor));
  } finally {
    await traffic.stop();
    killIfAlive(pid, successor);
  }
});

upgrade('a TLS endpoint is handed over too: TLS clients keep being served across the upgrade', async () => {
  const certFile = join(dir, 'tls-cert.pem');
  const keyFile = join(dir, 'tls-key.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '1', '-subj', '/CN=localhost'], { stdio: 'ignore' });
  const conf = join(dir, 'tls.yaml');
  writeFileSync(conf, 'version: 1\ngrace_period_seconds: 5\n');
  // A fixed port, so the TLS endpoint's key is the same in the successor (port 0 would be, too).
  const run = runTs(fixture('slow-server.ts'), ['-c', conf], { SLOW_MS: '10', TLS_CERT: certFile, TLS_KEY: keyFile });
  const pid = Number((await waitFor(run.output, /listening \d+ pid (\d+)/))[1]);
  const tlsPort = Number((await waitFor(run.output, /tls on (\d+)/))[1]);
  const counts = { ok: 0, failed: 0 };
  let running = true;
  const one = (n: number) =>
    new Promise<boolean>((resolve) => {
      const s = tlsConnect({ port: tlsPort, host: '127.0.0.1', ca: readFileSync(certFile), servername: 'localhost' }, () => s.write(`t${n}\n`));
      let got = '';
      s.on('data', (d) => (got += d));
      s.on('error', () => resolve(false));
      s.on('close', () => resolve(got === `done t${n}\n`));
      s.setTimeout(5000, () => s.destroy()); // a connection nobody accepts counts as failed, not as a hang
    });
  const loops = Array.from({ length: 3 }, async (_, id) => {
    for (let n = id * 100_000; running; n++) (await one(n)) ? counts.ok++ : counts.failed++;
  });
  let successor = 0;
  try {
    await until(() => counts.ok > 10);
    process.kill(pid, 'SIGQUIT');
    await until(() => (run.output().match(/listening \d+ pid \d+/g) ?? []).length >= 2);
    successor = Number([...run.output().matchAll(/listening \d+ pid (\d+)/g)][1][1]);
    await until(() => !alive(pid));
    const before = counts.ok;
    await until(() => counts.ok > before + 10);
    running = false;
    await Promise.all(loops);
    assert.is(counts.failed, 0, 'no TLS request failed');
    assert.match(run.output(), /took over tls /);
    process.kill(successor, 'SIGTERM');
    await until(() => !alive(successor));
  } finally {
    running = false;
    await Promise.all(loops);
    killIfAlive(pid, successor);
  }
});

upgrade('a predecessor that keys its listeners by label alone (core 0.1.0) hands them over all the same', async () => {
  const conf = join(dir, 'legacy.yaml');
  writeFileSync(conf, 'version: 1\ngrace_period_seconds: 5\n');
  const handle = await bindTcpHandle('127.0.0.1', 0);
  const port = handleAddress(handle)!.port;
  // This test plays the old build: the hand-over protocol's messages, its listener keyed by label.
  const legacy = new Map([[`tcp 127.0.0.1:${port}`, handle]]);
  const run = runTs(fixture('slow-server.ts'), ['-c', conf], { SLOW_MS: '10', LISTEN: `127.0.0.1:${port}`, SLUICE_SUCCESSOR: '1' }, true);
  const asked: string[] = [];
  let ready = false;
  run.child.on('message', (m: { sluice: string; key: string }) => {
    if (m.sluice === 'ready') ready = true;
    if (m.sluice !== 'listener?') return;
    asked.push(m.key);
    const found = legacy.get(m.key);
    if (found) run.child.send({ sluice: 'listener', key: m.key }, found as Parameters<typeof run.child.send>[1]);
    else run.child.send({ sluice: 'listener', key: m.key, missing: true });
  });
  try {
    await waitFor(run.output, /listening \d+ pid \d+/);
    await until(() => ready);
    assert.equal(asked, [`slow: tcp 127.0.0.1:${port}`, `tcp 127.0.0.1:${port}`], 'the new key first, then the old one');
    assert.match(run.output(), `took over tcp 127.0.0.1:${port}`);
    assert.ok(await request(port, 'legacy'), 'the successor serves on the inherited socket');
  } finally {
    run.child.kill('SIGTERM');
    await run.exited;
    closeHandle(handle);
  }
});

upgrade('an old-style key two services fall back to is handed to one of them; the other binds its own socket', async () => {
  const conf = join(dir, 'legacy-shared.yaml');
  writeFileSync(conf, 'version: 1\ngrace_period_seconds: 5\n');
  // Core 0.1.0 keyed both services' `127.0.0.1:0` endpoints `tcp 127.0.0.1:0`: one socket for two.
  const handle = await bindTcpHandle('127.0.0.1', 0);
  const port = handleAddress(handle)!.port;
  const run = runTs(fixture('slow-server.ts'), ['-c', conf], { SLOW_MS: '10', LISTEN: '127.0.0.1:0', SECOND_LISTEN: '127.0.0.1:0', SLUICE_SUCCESSOR: '1' }, true);
  const asked: string[] = [];
  run.child.on('message', (m: { sluice: string; key: string }) => {
    if (m.sluice !== 'listener?') return;
    asked.push(m.key);
    if (m.key === 'tcp 127.0.0.1:0') run.child.send({ sluice: 'listener', key: m.key }, handle as Parameters<typeof run.child.send>[1]);
    else run.child.send({ sluice: 'listener', key: m.key, missing: true });
  });
  try {
    const slowPort = Number((await waitFor(run.output, /listening (\d+) pid \d+/))[1]);
    const otherPort = Number((await waitFor(run.output, /other on (\d+)/))[1]);
    assert.equal(asked.sort(), ['other: tcp 127.0.0.1:0', 'slow: tcp 127.0.0.1:0', 'tcp 127.0.0.1:0'], 'the old key asked for once');
    assert.is.not(slowPort, otherPort, 'two services, two sockets');
    assert.ok([slowPort, otherPort].includes(port), 'one of them took the inherited socket');
    assert.is((run.output().match(/took over tcp 127\.0\.0\.1:0/g) ?? []).length, 1);
  } finally {
    run.child.kill('SIGTERM');
    await run.exited;
    closeHandle(handle);
  }
});

upgrade('an invalid new configuration fails the upgrade; the old server keeps serving', async () => {
  const conf = join(dir, 'changing.yaml');
  writeFileSync(conf, 'version: 1\n');
  const run = runTs(fixture('slow-server.ts'), ['-c', conf], { SLOW_MS: '10' });
  const first = await waitFor(run.output, /listening (\d+) pid (\d+)/);
  const port = Number(first[1]);
  const pid = Number(first[2]);
  const traffic = load(port, 2);
  try {
    await sleep(100);
    writeFileSync(conf, 'version: 1\nthreads: many\n');
    process.kill(pid, 'SIGQUIT');
    await waitFor(run.output, /upgrade failed: successor exited with 1 before it was ready; this server keeps serving/);
    await waitFor(run.output, /key "threads"/);
    const before = traffic.counts.ok;
    await until(() => traffic.counts.ok > before + 10);
  } finally {
    await traffic.stop();
  }
  assert.is(traffic.counts.failed, 0);
  assert.ok(alive(pid), 'the old server still runs');
  process.kill(pid, 'SIGTERM');
  assert.is((await run.exited).code, 0);
});

upgrade('daemon: -u by hand asks the running daemon to upgrade; pid file moves to the successor', async () => {
  const pidFile = join(dir, 'd.pid');
  const errorLog = join(dir, 'd.log');
  const conf = join(dir, 'd.yaml');
  writeFileSync(conf, `version: 1\ndaemon: true\npid_file: ${pidFile}\nerror_log: ${errorLog}\ngrace_period_seconds: 5\n`);
  const parent = runTs(fixture('slow-server.ts'), ['-c', conf], { SLOW_MS: '10' });
  assert.is((await parent.exited).code, 0);
  const log = () => (existsSync(errorLog) ? readFileSync(errorLog, 'utf8') : '');
  const first = await waitFor(log, /listening (\d+) pid (\d+)/);
  const port = Number(first[1]);
  await until(() => existsSync(pidFile));
  const oldPid = Number(readFileSync(pidFile, 'utf8'));
  const ask = runTs(fixture('slow-server.ts'), ['-u', '-c', conf]);
  const { code } = await ask.exited;
  assert.is(code, 0, ask.output());
  const newPid = Number(/server (\d+) now serves/.exec(ask.output())![1]);
  assert.is.not(newPid, oldPid);
  assert.is(Number(readFileSync(pidFile, 'utf8')), newPid);
  await until(() => !alive(oldPid));
  assert.not.ok(existsSync(`${pidFile}.old`), 'the old process removed its renamed pid file');
  assert.ok(await request(port, 'daemon'), 'the successor serves the same port');
  process.kill(newPid, 'SIGTERM');
  await until(() => !existsSync(pidFile));
  const noServer = runTs(fixture('slow-server.ts'), ['-u', '-c', conf]);
  assert.is((await noServer.exited).code, 1);
  assert.match(noServer.output(), /no running server/);
});

upgrade.run();
