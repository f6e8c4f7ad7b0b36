/** A clock in milliseconds; only differences between its readings matter, and it must not go back. */
export type Clock = () => number;

let cachedNow = 0;
let cacheValid = false;

function expire(): void {
  cacheValid = false;
}

/**
 * Monotonic milliseconds (`performance.now()`), read at most once per synchronous run of JavaScript:
 * the first call reads the clock and queues a microtask that forgets the reading, so every later call
 * in the same run gets the same value for free. Node's own timers work the same way: they count from
 * the event loop's cached time, not from the moment `setTimeout` is called.
 */
export function coarseNow(): number {
  if (!cacheValid) {
    cachedNow = performance.now();
    cacheValid = true;
    queueMicrotask(expire);
  }
  return cachedNow;
}
