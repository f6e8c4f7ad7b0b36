import { TimeoutError } from './errors.js';
import { checkDelay, clearFastTimeout, setFastTimeout } from './timer.js';

/**
 * Settles like `promise`, or rejects with a {@link TimeoutError} (`ERR_LIMITS_TIMEOUT`) if `ms` pass
 * first (pingora-timeout's `timeout`, on the shared 10 ms timer). After a timeout, the wrapped
 * promise's own result or rejection is ignored, never reported as unhandled. A value that is not a
 * promise resolves at once, with no timer (Pingora's lazy timer: none unless the future is pending).
 * @throws LimitsError `ERR_LIMITS_INVALID_DELAY` (synchronously) if `ms` is not a finite number >= 0
 */
export function timeout<T>(ms: number, promise: PromiseLike<T> | T): Promise<Awaited<T>> {
  checkDelay(ms);
  if (!isPromiseLike(promise)) return Promise.resolve(promise as Awaited<T>);
  return new Promise<Awaited<T>>((resolve, reject) => {
    const timer = setFastTimeout(() => reject(new TimeoutError(ms)), ms);
    promise.then(
      (value) => {
        clearFastTimeout(timer);
        resolve(value as Awaited<T>);
      },
      (error: unknown) => {
        clearFastTimeout(timer);
        reject(error);
      },
    );
  });
}

/**
 * Resolves after at least `ms` milliseconds, rounded up to the shared timer's 10 ms tick
 * (pingora-timeout's `sleep`). Like every fast timer it does not keep the process alive on its own.
 * @throws LimitsError `ERR_LIMITS_INVALID_DELAY` (synchronously) if `ms` is not a finite number >= 0
 */
export function sleep(ms: number): Promise<void> {
  let resolveSleep!: () => void;
  const slept = new Promise<void>((resolve) => {
    resolveSleep = resolve;
  });
  setFastTimeout(resolveSleep, ms);
  return slept;
}

function isPromiseLike<T>(value: PromiseLike<T> | T): value is PromiseLike<T> {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    typeof (value as PromiseLike<T>).then === 'function'
  );
}
