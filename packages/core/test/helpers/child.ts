import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));

/** A Node child running a TypeScript file with tsx, with its output collected (and an IPC channel when `ipc`). */
export function runTs(file: string, args: string[] = [], env: Record<string, string> = {}, ipc = false): { child: ChildProcess; output: () => string; exited: Promise<{ code: number | null; signal: string | null }> } {
  const child = spawn(process.execPath, ['--import', 'tsx', file, ...args], { env: { ...process.env, ...env }, stdio: ipc ? ['ignore', 'pipe', 'pipe', 'ipc'] : ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  return { child, output: () => out, exited };
}

/** Waits until the child printed a line matching `re`; returns the match. */
export async function waitFor(getOutput: () => string, re: RegExp, ms = 15000): Promise<RegExpExecArray> {
  const end = Date.now() + ms;
  for (;;) {
    const m = re.exec(getOutput());
    if (m) return m;
    if (Date.now() > end) throw new Error(`no ${re} in output:\n${getOutput()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
