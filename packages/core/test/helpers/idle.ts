// For tests of what an idle connection keeps: a forced GC, a check that an object was collected, and
// a request/answer exchange on a raw socket.
import type { Socket } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

setFlagsFromString('--expose-gc');
/** V8's gc(), made available after start. */
export const gc = runInNewContext('gc') as () => void;

/** Whether `ref`'s target is collected within a few forced GCs. */
export async function collected(ref: WeakRef<object>): Promise<boolean> {
  for (let i = 0; i < 5 && ref.deref() !== undefined; i++) {
    await new Promise((r) => setTimeout(r, 20)); // a WeakRef target lives to the end of the job that saw it
    gc();
  }
  return ref.deref() === undefined;
}

/** Sends `bytes` and resolves with what arrives until `until` matches it (bounded by 5 s). */
export function exchangeOn(socket: Socket, bytes: string, until: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    let got = '';
    const timer = setTimeout(() => reject(new Error(`no answer matching ${until} within 5 s; got ${JSON.stringify(got)}`)), 5000);
    const onData = (chunk: Buffer) => {
      got += chunk.toString('latin1');
      if (!until.test(got)) return;
      clearTimeout(timer);
      socket.off('data', onData);
      resolve(got);
    };
    socket.on('data', onData);
    socket.write(bytes);
  });
}
