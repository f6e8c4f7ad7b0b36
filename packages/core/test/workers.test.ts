import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { connect } from 'node:net';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListeningService, closeHandle, handleAddress, type ServerApp } from '../src/index.js';
import { fixture, runTs, waitFor } from './helpers/child.js';
import { alive, load, until } from './helpers/load.js';

const dir = mkdtempSync(join(tmpdir(), 'sluice-workers-'));





const workers = suite('threads: N worker processes');

workers('workers share the listener, a crashed worker is replaced, upgrade and SIGTERM cover all workers', async () => {
  const conf = join(dir, 'w.yaml');
  writeFileSync(conf, 'version: 1\nthreads: 2\ngrace_period_seconds: 10\n');
  const run = runTs(fixture('slow-server.ts'), ['-c', conf], { SLOW_MS: '5', ANSWER_PID: '1' });
  const sup = await waitFor(run.output, /supervising 2 workers: (\d+), (\d+)/);
  const [w1, w2] = [Number(sup[1]), Number(sup[2])];
  const port = Number((await waitFor(run.output, /listening (\d+) pid/))[1]);
  const supervisor = run.child.pid!;
  assert.ok(![w1, w2].includes(supervisor), 'the supervisor serves nothing itself');

  const traffic = load(port);
  try {
    await until(() => traffic.counts.ok > 200);
    assert.ok(traffic.counts.byPid.has(w1) && traffic.counts.byPid.has(w2), `both workers served: ${[...traffic.counts.byPid]}`);
    assert.not.ok(traffic.counts.byPid.has(supervisor));

    // Gathering from workers: whichever worker answers asks the supervisor, which asks both.
    const gathered = await new Promise<string>((resolve) => {
      const s = connect(port, '127.0.0.1');
      let got = '';
      s.on('data', (d) => (got += d));
      s.on('close', () => resolve(got));
      s.write('gather\n');
    });
    const pids = JSON.parse(/^gathered (.*)\n$/.exec(gathered)![1]) as number[];
    assert.equal(pids.sort(), [w1, w2].sort(), 'one answer from each worker');

    // A worker dies: requests in flight on it are lost (at most one per client loop), the other keeps
    // serving, and a replacement comes up.
    assert.is(traffic.counts.failed, 0);
    process.kill(w1, 'SIGKILL');
    await waitFor(run.output, new RegExp(`worker 1 \\(pid ${w1}\\) exited with SIGKILL; replacing it`));
    await until(() => [...run.output().matchAll(/listening \d+ pid (\d+)/g)].length >= 4); // supervisor, 2 workers, replacement
    const before = traffic.counts.ok;
    await until(() => traffic.counts.ok > before + 100);
    const lostToCrash = traffic.counts.failed;
    assert.ok(lostToCrash <= 4, `only in-flight requests of the killed worker fail, lost ${lostToCrash}`);

    // Upgrade: a new supervisor with new workers takes the socket; the old ones drain and exit.
    process.kill(supervisor, 'SIGQUIT');
    await until(() => (run.output().match(/supervising 2 workers/g) ?? []).length === 2);
    const second = [...run.output().matchAll(/supervising 2 workers: (\d+), (\d+)/g)][1];
    const [n1, n2] = [Number(second[1]), Number(second[2])];
    await run.exited; // the old supervisor exits once its workers drained
    assert.not.ok(alive(w2), 'old workers exited');
    const mark = traffic.counts.ok;
    await until(() => traffic.counts.ok > mark + 100);
    const lateByPid = new Map(traffic.counts.byPid);
    assert.ok((lateByPid.get(n1) ?? 0) + (lateByPid.get(n2) ?? 0) > 0, 'the new workers serve');
    await traffic.stop();
    assert.is(traffic.counts.failed - lostToCrash, 0, `upgrade failed ${traffic.counts.failed - lostToCrash} of ${traffic.counts.ok + traffic.counts.failed}`);

    // SIGTERM to the new supervisor stops its workers too.
    const newSupervisor = Number(/upgrade: successor (\d+) is serving/.exec(run.output())![1]);
    process.kill(newSupervisor, 'SIGTERM');
    await until(() => !alive(newSupervisor) && !alive(n1) && !alive(n2));
  } finally {
    await traffic.stop();
  }
});

workers('two services on 127.0.0.1:0 bind a socket each for their workers (handles keyed by service)', async () => {
  const app: ServerApp = { processNewConnection() {} };
  const a = new ListeningService('proxy', app).addTcp('127.0.0.1:0').addTcp('127.0.0.1:0');
  const b = new ListeningService('metrics', app).addTcp('127.0.0.1:0');
  const handles = [...(await a.bindHandles()), ...(await b.bindHandles())];
  try {
    assert.equal(handles.map(([key]) => key), ['proxy: tcp 127.0.0.1:0', 'proxy: tcp 127.0.0.1:0 #2', 'metrics: tcp 127.0.0.1:0']);
    const ports = new Set(handles.map(([, h]) => handleAddress(h)!.port));
    assert.is(ports.size, 3, 'three sockets, three ports');
  } finally {
    for (const [, h] of handles) closeHandle(h);
  }
});

workers.run();
