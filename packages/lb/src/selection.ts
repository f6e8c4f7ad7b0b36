import type { Backend } from './backend.js';

/** What a selection hashes: a string (as UTF-8) or raw bytes. Round robin and random ignore it. */
export type SelectionKey = string | Uint8Array;

/** Candidates for one key: the first choice, then the fallbacks, each backend at most once. */
export interface BackendIter {
  /** The next candidate, or `undefined` when there is none left. */
  next(): Backend | undefined;
}

/**
 * An algorithm that picks backends (pingora's `BackendSelection`). It is built once per backend set
 * and never mutated by health changes: the load balancer skips unready backends while iterating.
 */
export interface BackendSelection {
  /** The backends it was built from, in the order given. */
  readonly backends: readonly Backend[];
  /** Candidates for `key`, first choice first, then a deterministic fallback order. */
  iter(key: SelectionKey): BackendIter;
}

/** Limits applied when a selection is built. */
export interface SelectionOptions {
  /** Most total weight (sum of the weights) a weighted selection accepts. Default 1,048,576. */
  maxTotalWeight?: number;
}

/** Builds a selection from a backend set (a selection class's static side: `RoundRobin`, `Consistent`, ...). */
export interface SelectionBuilder<S extends BackendSelection> {
  build(backends: readonly Backend[], options?: SelectionOptions): S;
}

/** Default of {@link SelectionOptions.maxTotalWeight}. */
export const DEFAULT_MAX_TOTAL_WEIGHT = 1_048_576;
