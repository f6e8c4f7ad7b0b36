export { LimitsError, TimeoutError, type LimitsErrorCode } from './errors.js';
export type { Key } from './hash.js';
export { COARSE_CLOCK_RESOLUTION_MS, coarseNow, type Clock } from './clock.js';
export { Estimator, MAX_ESTIMATOR_COUNTERS, type EstimatorOptions } from './estimator.js';
export { Rate, proportionalRateEstimate, type RateComponents, type RateOptions } from './rate.js';
export { Inflight, InflightGuard, type InflightOptions } from './inflight.js';
export { MAX_TIMER_SLOTS, type FastTimer } from './timer-slab.js';
export {
  TimerManager,
  clearFastTimeout,
  defaultTimerManager,
  setFastTimeout,
  type TimerManagerOptions,
} from './timer.js';
export { sleep, timeout } from './timeout.js';
