// Phases and storages may answer with a value or a Promise of it; the engine awaits only Promises.

/** Whether `r` is a Promise (or any thenable) rather than a value. */
export function isThenable<T>(r: T | PromiseLike<T>): r is PromiseLike<T> {
  return typeof (r as PromiseLike<T> | undefined)?.then === 'function';
}

/** A rejection handler that drops the error (for Promises whose failure is handled elsewhere). */
export function ignore(): void {}
