import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { fork, type ChildProcess } from 'node:child_process';
import { gatherFromWorkers, relayGather } from '../src/gather.js';
import { SluiceError } from '../src/error.js';
import { fixture } from './helpers/child.js';

// The test process plays the supervisor: it forks real worker processes (fixtures/gather-worker.ts,
// which run serveGatherInWorker) and relays their gather requests with relayGather, as
// WorkerSupervisor does.

type WorkerMessage = { up?: string; gathered?: unknown[] };

/** The next message from `worker` that `match` accepts; rejects after 15 s (a bound on hangs). */
function nextMessage(worker: ChildProcess, match: (m: WorkerMessage) => boolean): Promise<WorkerMessage> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`worker ${worker.pid}: no matching message within 15 s`)), 15_000);
    const onMessage = (m: WorkerMessage) => {
      if (!match(m)) return;
      clearTimeout(timer);
      worker.off('message', onMessage);
      resolve(m);
    };
    worker.on('message', onMessage);
  });
}

/** Forks one worker per `{ name, slowMs }`, each relaying its gather requests to the whole set. */
async function startWorkers(specs: Array<{ name: string; slowMs?: number }>): Promise<ChildProcess[]> {
  const set: ChildProcess[] = [];
  const ups: Promise<WorkerMessage>[] = [];
  for (const { name, slowMs = 0 } of specs) {
    const worker = fork(fixture('gather-worker.ts'), [], {
      execArgv: ['--import', 'tsx'],
      env: { ...process.env, WORKER_NAME: name, SLOW_MS: String(slowMs) },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    worker.on('message', (m: unknown) => relayGather(worker, m, () => set));
    ups.push(nextMessage(worker, (m) => m.up === name));
    set.push(worker);
  }
  await Promise.all(ups);
  return set;
}

/** Ends the workers: each exits when its channel closes. */
async function stopWorkers(set: ChildProcess[]): Promise<void> {
  await Promise.all(
    set.map((w) => {
      if (w.exitCode !== null || w.signalCode !== null) return undefined;
      const exited = new Promise((r) => w.once('exit', r));
      if (w.connected) w.disconnect();
      else w.kill('SIGKILL');
      return exited;
    }),
  );
}

/** Has `worker` call gatherFromWorkers(topic, timeoutMs) and returns what it got. */
async function ask(worker: ChildProcess, topic: string, timeoutMs?: number): Promise<unknown[]> {
  const answer = nextMessage(worker, (m) => Array.isArray(m.gathered));
  worker.send({ ask: topic, timeoutMs });
  return (await answer).gathered!;
}

const gather = suite('gatherFromWorkers across worker processes (serveGatherInWorker, relayGather)');

gather("a worker's request is relayed to every worker and the answers come back to it", async () => {
  const set = await startWorkers([{ name: 'a' }, { name: 'b' }, { name: 'c' }]);
  try {
    assert.equal(((await ask(set[0], 'name')) as string[]).sort(), ['a', 'b', 'c']);
    assert.equal(((await ask(set[2], 'name')) as string[]).sort(), ['a', 'b', 'c'], 'any worker may ask');
  } finally {
    await stopWorkers(set);
  }
});

gather('workers without a handler, or whose handler throws, are left out', async () => {
  const set = await startWorkers([{ name: 'a' }, { name: 'b' }]);
  try {
    assert.equal(await ask(set[0], 'broken'), []);
    assert.equal(await ask(set[1], 'nobody'), []);
  } finally {
    await stopWorkers(set);
  }
});

gather("the asking worker's timeout reaches the supervisor: a slow worker is left out, the others answer", async () => {
  // Worker `slow` answers after 20 s. The asker allows 300 ms; its own wait ends 1 s after that, so
  // the supervisor must give up at the asker's 300 ms (not its 5 s default) for `fast` to be heard.
  const set = await startWorkers([{ name: 'fast' }, { name: 'slow', slowMs: 20_000 }]);
  try {
    assert.equal(await ask(set[0], 'slow', 300), ['fast']);
  } finally {
    await stopWorkers(set);
  }
});

gather('a worker that has exited is skipped', async () => {
  const set = await startWorkers([{ name: 'a' }, { name: 'gone' }]);
  try {
    await stopWorkers([set[1]]);
    assert.equal(await ask(set[0], 'name'), ['a']);
  } finally {
    await stopWorkers(set);
  }
});

gather('relayGather leaves every other message alone', async () => {
  const set = await startWorkers([{ name: 'a' }]);
  try {
    for (const m of [null, 'gather', {}, { sluice: 'ready' }, { sluice: 'collected', id: 1, ok: true }]) {
      assert.is(relayGather(set[0], m, () => set), false, JSON.stringify(m));
    }
  } finally {
    await stopWorkers(set);
  }
});

gather('a timeout Node cannot keep (NaN, negative, Infinity, past 2^31 ms) is a typed error, not an instant empty answer', async () => {
  for (const bad of [Number.NaN, -1, Number.POSITIVE_INFINITY, 2 ** 31]) {
    const error = await gatherFromWorkers('name', bad).then(
      () => null,
      (e: unknown) => e,
    );
    assert.instance(error, SluiceError, String(bad));
    assert.is((error as SluiceError).code, 'ERR_GATHER_INVALID_TIMEOUT');
  }
  assert.equal(await gatherFromWorkers('nobody', 0), [], 'a bound of 0 is valid');
});

gather.run();
