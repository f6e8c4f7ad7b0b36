// Pingora's cache lock: when several requests miss the same key at once, one (the writer) fetches
// from upstream and the others (readers) wait for it, so the origin sees one request, not a herd.
// Readers wait at most `timeoutMs`, then go upstream themselves; a writer that fails releases the
// lock so that one of them takes over; readers may follow the body while the writer stores it.
import type { CacheKey } from './cache-key.js';
import type { CacheHit } from './storage.js';
import { InvalidCacheOptionError } from './errors.js';

/** How a lock ended, as a waiting reader sees it. */
export type LockOutcome =
  /** The writer published the response while storing it: serve this hit, following its body. */
  | { status: 'filling'; hit: CacheHit }
  /** The writer stored the response: look it up. */
  | { status: 'done' }
  /** The writer failed (upstream error): try `lock()` again, one reader becomes the writer. */
  | { status: 'transient-error' }
  /** The writer found the response uncacheable: go upstream without the cache. */
  | { status: 'give-up' }
  /** This reader waited `timeoutMs`: go upstream itself. */
  | { status: 'timeout' }
  /** The writer held the lock past `maxLockAgeMs` without releasing it: treated like a failure. */
  | { status: 'dangling' };

/** How a writer ends its lock. */
export type ReleaseStatus = 'done' | 'transient-error' | 'give-up';

/** Options of `CacheLock`. */
export interface CacheLockOptions {
  /** How long a reader waits for the writer before going upstream itself. Default 3000 ms. */
  timeoutMs?: number;
  /** How long a writer may hold a lock without releasing it before readers stop trusting it. Default 60 000 ms. */
  maxLockAgeMs?: number;
}

const DONE: LockOutcome = Object.freeze({ status: 'done' });
const TRANSIENT: LockOutcome = Object.freeze({ status: 'transient-error' });
const GIVE_UP: LockOutcome = Object.freeze({ status: 'give-up' });
const TIMEOUT: LockOutcome = Object.freeze({ status: 'timeout' });
const DANGLING: LockOutcome = Object.freeze({ status: 'dangling' });

type Waiter = (outcome: LockOutcome) => void;

class LockEntry {
  readonly hash: string;
  readonly waiters: Waiter[] = [];
  outcome: LockOutcome | undefined;
  published: LockOutcome | undefined;
  ageTimer: NodeJS.Timeout | undefined;
  constructor(hash: string) {
    this.hash = hash;
  }
  settle(outcome: LockOutcome): void {
    this.outcome = outcome;
    const waiters = this.waiters.splice(0, this.waiters.length);
    for (let i = 0; i < waiters.length; i++) waiters[i](outcome);
  }
}

/** Held by the one request that fetches and stores the response. Release it in every case. */
export class WritePermit {
  readonly isWrite = true;
  private readonly lock: CacheLock;
  /** @internal */
  readonly entry: LockEntry;

  /** @internal */
  constructor(lock: CacheLock, entry: LockEntry) {
    this.lock = lock;
    this.entry = entry;
  }

  /** Whether the permit was released (or expired as dangling). */
  get released(): boolean {
    return this.entry.outcome !== undefined;
  }

  /**
   * Hands the response being stored to the waiting readers (and to later ones) so they serve it as
   * it arrives instead of waiting for the end. The lock stays held until `release`.
   */
  publish(hit: CacheHit): void {
    if (this.entry.outcome !== undefined || this.entry.published !== undefined) return;
    this.entry.published = { status: 'filling', hit };
    const waiters = this.entry.waiters.splice(0, this.entry.waiters.length);
    for (let i = 0; i < waiters.length; i++) waiters[i](this.entry.published);
  }

  /** Ends the lock and tells the waiting readers how. Idempotent. */
  release(status: ReleaseStatus): void {
    this.lock.release(this, status);
  }

  /** `using permit = …`: a permit left unreleased is released as a failure. */
  [Symbol.dispose](): void {
    this.lock.release(this, 'transient-error');
  }
}

/** Held by a request that waits for the writer. */
export class ReadLock {
  readonly isWrite = false;
  private readonly entry: LockEntry;
  private readonly timeoutMs: number;

  /** @internal */
  constructor(entry: LockEntry, timeoutMs: number) {
    this.entry = entry;
    this.timeoutMs = timeoutMs;
  }

  /**
   * Waits for the writer: resolves with the published fill, the release status, or `timeout`
   * after `timeoutMs`. Returns the outcome directly when it is already known.
   */
  wait(): LockOutcome | Promise<LockOutcome> {
    const known = this.entry.published ?? this.entry.outcome;
    if (known !== undefined) return known;
    return new Promise<LockOutcome>((resolve) => {
      const waiter: Waiter = (outcome) => {
        clearTimeout(timer);
        resolve(outcome);
      };
      const timer = setTimeout(() => {
        const at = this.entry.waiters.indexOf(waiter);
        if (at !== -1) this.entry.waiters.splice(at, 1);
        resolve(TIMEOUT);
      }, this.timeoutMs);
      this.entry.waiters.push(waiter);
    });
  }
}

/** One writer per key; readers wait for it with a timeout. */
export class CacheLock {
  private readonly table = new Map<string, LockEntry>();
  private readonly timeoutMs: number;
  private readonly maxLockAgeMs: number;

  /** @throws InvalidCacheOptionError for a non-positive timeout. */
  constructor(options: CacheLockOptions = {}) {
    this.timeoutMs = options.timeoutMs ?? 3000;
    this.maxLockAgeMs = options.maxLockAgeMs ?? 60_000;
    for (const [name, value] of [['timeoutMs', this.timeoutMs], ['maxLockAgeMs', this.maxLockAgeMs]] as const) {
      if (!(value > 0) || !Number.isFinite(value)) throw new InvalidCacheOptionError(`CacheLock: ${name} must be a positive number of ms, got ${value}`);
    }
  }

  /** Keys currently locked. */
  get size(): number {
    return this.table.size;
  }

  /**
   * Locks `key` (its variant hash): the first caller gets the `WritePermit` and must fetch and
   * release; later callers get a `ReadLock` to wait on until then.
   */
  lock(key: CacheKey): WritePermit | ReadLock {
    const hash = key.combinedHash();
    const existing = this.table.get(hash);
    if (existing !== undefined) return new ReadLock(existing, this.timeoutMs);
    const entry = new LockEntry(hash);
    this.table.set(hash, entry);
    const permit = new WritePermit(this, entry);
    entry.ageTimer = setTimeout(() => this.expire(entry), this.maxLockAgeMs);
    entry.ageTimer.unref();
    return permit;
  }

  /** @internal */
  release(permit: WritePermit, status: ReleaseStatus): void {
    const entry = permit.entry;
    if (entry.outcome !== undefined) return;
    clearTimeout(entry.ageTimer);
    if (this.table.get(entry.hash) === entry) this.table.delete(entry.hash);
    entry.settle(status === 'done' ? DONE : status === 'give-up' ? GIVE_UP : TRANSIENT);
  }

  private expire(entry: LockEntry): void {
    if (entry.outcome !== undefined) return;
    if (this.table.get(entry.hash) === entry) this.table.delete(entry.hash);
    entry.settle(DANGLING);
  }
}
