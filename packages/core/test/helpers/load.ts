import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * One request to the slow-server fixture on a new connection: send a line, read to the end. Resolves
 * to the answer when it is `done <line>…`, or null for anything else (refused, reset, wrong answer).
 */
export function request(port: number | string, line: string): Promise<string | null> {
  return new Promise((resolve) => {
    // A number is a TCP port on 127.0.0.1, a string the path of a Unix socket.
    const s = typeof port === 'number' ? connect(port, '127.0.0.1') : connect(port);
    let got = '';
    s.on('data', (d) => (got += d));
    s.on('error', () => resolve(null));
    s.on('close', () => resolve(got.startsWith(`done ${line}`) && got.endsWith('\n') ? got : null));
    s.write(`${line}\n`);
    setTimeout(() => s.destroy(), 10_000).unref();
  });
}

/** The pid in an answer of the fixture run with ANSWER_PID (`done <line> from <pid>`), or 0. */
export function answeringPid(answer: string | null): number {
  return Number(/ from (\d+)\n$/.exec(answer ?? '')?.[1] ?? 0);
}

/**
 * `parallel` clients sending requests back to back until stopped. `counts.byPid` tallies answers by
 * worker when the fixture names its pid. `stop()` may be called more than once.
 */
export function load(port: number | string, parallel = 4) {
  const counts = { ok: 0, failed: 0, byPid: new Map<number, number>() };
  let running = true;
  const loops = Array.from({ length: parallel }, async (_, id) => {
    for (let n = 0; running; n++) {
      const answer = await request(port, `c${id}-${n}`);
      if (answer === null) {
        counts.failed++;
        continue;
      }
      counts.ok++;
      const pid = answeringPid(answer);
      if (pid) counts.byPid.set(pid, (counts.byPid.get(pid) ?? 0) + 1);
    }
  });
  return { counts, stop: async () => ((running = false), await Promise.all(loops)) };
}

/** Whether a process with this pid exists. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Waits until `cond()` holds, polling; throws after `ms` (a bound on hangs, not a speed check). */
export async function until(cond: () => boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not reached in time');
    await sleep(20);
  }
}
