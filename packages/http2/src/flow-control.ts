// RFC 9113 §5.2 and §6.9: flow-control windows.
import { MAX_WINDOW_SIZE } from './frame/frame-types.js';

/**
 * Our receive side of one flow-control window. The peer may send `available` more octets;
 * octets the application has consumed are handed back with a WINDOW_UPDATE once they reach
 * half of the target window, so a reader that stops reading stops the sender (backpressure)
 * and what is buffered plus what the peer may still send never passes the window.
 */
export class ReceiveWindow {
  /** Octets the peer may still send. */
  available: number;
  /** The window we aim to keep open. */
  target: number;
  private pending = 0;

  constructor(initial: number, target = initial) {
    this.available = initial;
    this.target = target;
  }

  /** Counts `length` received octets; false when they pass the window (a FLOW_CONTROL_ERROR). */
  receive(length: number): boolean {
    if (length > this.available) return false;
    this.available -= length;
    return true;
  }

  /**
   * Hands back `length` consumed octets; returns the WINDOW_UPDATE increment to send now, or 0
   * while fewer than half of the target are pending (fewer, larger updates).
   */
  release(length: number): number {
    this.pending += length;
    if (this.pending < this.target / 2) return 0;
    const increment = this.pending;
    this.pending = 0;
    this.available += increment;
    return increment;
  }
}

/** True when `window + increment` stays a valid window (RFC 9113 §6.9.1: at most 2^31-1). */
export function fitsWindow(window: number, increment: number): boolean {
  return window + increment <= MAX_WINDOW_SIZE;
}
