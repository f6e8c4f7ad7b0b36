// Child processes for the examples' tests: output collected, waits bounded.
import { spawn, type ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';

export { alive } from '../../../packages/core/test/helpers/load.js';

/** Waits until `cond` holds, checking every 25 ms; throws after `ms`. */
export async function until(what: string, cond: () => boolean, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(25);
  }
}

/** A child process with its stdout and stderr collected; `env` adds to this process's environment. */
export function run(command: string, args: string[], options: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): { child: ChildProcess; output: () => string } {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], cwd: options.cwd, env: { ...process.env, NO_COLOR: '1', ...options.env } });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  return { child, output: () => out };
}

/** The first match of `re` in the output, waiting for it at most `ms` (the output is in the error). */
export async function waitFor(output: () => string, re: RegExp, ms = 30_000): Promise<RegExpExecArray> {
  let m: RegExpExecArray | null = null;
  await until(`${re} in output`, () => (m = re.exec(output())) !== null, ms).catch((e: Error) => {
    throw new Error(`${e.message}:\n${output()}`);
  });
  return m!;
}
