// Counts events per fixed time window, to stop floods that cost us work but the peer nothing:
// rapid reset (CVE-2023-44487), SETTINGS / PING floods, empty DATA frames.

/** A budget of `limit` events per `windowMs`; {@link FloodGuard.hit} says when it is spent. */
export class FloodGuard {
  private count = 0;
  private windowStart = 0;

  constructor(
    readonly limit: number,
    readonly windowMs: number,
  ) {}

  /** Counts one event; true when the budget of this window is exceeded. */
  hit(): boolean {
    if (this.count === 0) this.windowStart = Date.now();
    if (++this.count <= this.limit) return false;
    const now = Date.now();
    if (now - this.windowStart >= this.windowMs) {
      // A new window: what came before is forgiven.
      this.windowStart = now;
      this.count = 1;
      return false;
    }
    return true;
  }
}
