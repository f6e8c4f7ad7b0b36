/** A clock in milliseconds; only differences between its readings matter, and it must not go back. */
export type Clock = () => number;

/** How stale {@link coarseNow} may be while the event loop runs freely, in milliseconds. */
export const COARSE_CLOCK_RESOLUTION_MS = 1;

let cachedNow = 0;
let ticking = false;
let readSinceTick = false;
let ticker: ReturnType<typeof setInterval> | undefined;

function tick(): void {
  // Nobody read the clock for a whole tick: stop, so an idle process does not wake up for it.
  if (!readSinceTick) {
    clearInterval(ticker);
    ticker = undefined;
    ticking = false;
    return;
  }
  readSinceTick = false;
  cachedNow = performance.now();
}

/**
 * Monotonic milliseconds (`performance.now()`) that cost a variable read while they are read often:
 * the first read starts an unref'd 1 ms interval that refreshes a cached reading, and the interval
 * stops after a tick in which nobody read the clock (the coarse clock of Pingora's timer thread and
 * undici's fast timers). While JavaScript blocks the event loop the reading stays where it was, as
 * the event loop's own time does for Node's timers.
 */
export function coarseNow(): number {
  if (ticking) {
    readSinceTick = true;
    return cachedNow;
  }
  cachedNow = performance.now();
  ticking = true;
  readSinceTick = false;
  ticker = setInterval(tick, COARSE_CLOCK_RESOLUTION_MS);
  ticker.unref();
  return cachedNow;
}
