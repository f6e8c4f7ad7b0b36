// A body being written into the cache that readers can follow as it arrives: the writer appends
// the Buffers it receives (kept, not copied) and any number of readers replay them from the start,
// waiting for more until the writer finishes or fails.

/** Thrown to readers when the writer gave up (upstream error, size limit, purge). */
export class CacheFillError extends Error {
  readonly code = 'ERR_CACHE_FILL_FAILED';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CacheFillError';
  }
}

/** Thrown when a body is written to after it finished or failed. */
export class CacheWriteClosedError extends Error {
  readonly code = 'ERR_CACHE_WRITE_CLOSED';
  constructor(message: string) {
    super(message);
    this.name = 'CacheWriteClosedError';
  }
}

type State = 'writing' | 'done' | 'failed';

/** A cached body: complete, or still being filled by one writer and followed by readers. */
export class StreamingBody {
  private readonly chunks: Buffer[] = [];
  private bytes = 0;
  private state: State = 'writing';
  private error: CacheFillError | undefined;
  private whole: Buffer | undefined;
  // Bumped when toBuffer() merges the pieces, so readers in the middle continue at their byte offset.
  private merges = 0;
  // One promise per change, shared by every waiting reader (no promise per reader per chunk).
  private changed: Promise<void> | undefined;
  private wake: (() => void) | undefined;

  /** A complete body from one Buffer (for storage that reads whole bodies). */
  static complete(body: Buffer): StreamingBody {
    const s = new StreamingBody();
    if (body.length > 0) s.write(body);
    s.finish();
    return s;
  }

  /** Bytes written so far. */
  get length(): number {
    return this.bytes;
  }

  /** Whether the writer finished (the body is whole). */
  get isComplete(): boolean {
    return this.state === 'done';
  }

  /** Whether the writer failed. */
  get isFailed(): boolean {
    return this.state === 'failed';
  }

  /**
   * Appends a piece (kept as is: do not reuse its memory afterwards).
   * @throws CacheWriteClosedError after finish() or fail().
   */
  write(chunk: Buffer): void {
    if (this.state !== 'writing') throw new CacheWriteClosedError(`StreamingBody.write: the body is already ${this.state === 'done' ? 'finished' : 'failed'}`);
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.bytes += chunk.length;
    this.notify();
  }

  /** Marks the body whole; readers end after the last piece. Idempotent. */
  finish(): void {
    if (this.state !== 'writing') return;
    this.state = 'done';
    this.notify();
  }

  /** Marks the body failed; readers that have not reached the end get a CacheFillError. */
  fail(reason: string, cause?: unknown): void {
    if (this.state !== 'writing') return;
    this.state = 'failed';
    this.error = new CacheFillError(`cache fill failed: ${reason}`, { cause });
    this.notify();
  }

  /** The pieces written so far (do not modify). */
  pieces(): readonly Buffer[] {
    return this.chunks;
  }

  /** The complete body as one Buffer (concatenated once, then kept), or undefined while incomplete. */
  toBuffer(): Buffer | undefined {
    if (this.state !== 'done') return undefined;
    if (this.whole === undefined) {
      this.whole = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks, this.bytes);
      // Keep one copy: readers that start later replay the single Buffer.
      if (this.chunks.length > 1) {
        this.chunks.splice(0, this.chunks.length, this.whole);
        this.merges++;
      }
    }
    return this.whole;
  }

  /** Resolves when the body is complete (with its Buffer); rejects with CacheFillError when the writer fails. */
  async wholeBody(): Promise<Buffer> {
    while (this.state === 'writing') await this.nextChange();
    if (this.state === 'failed') throw this.error!;
    return this.toBuffer()!;
  }

  /** Replays the body from the start, waiting for pieces still being written. */
  async *read(): AsyncGenerator<Buffer, void, undefined> {
    let index = 0;
    let consumed = 0;
    const merges = this.merges;
    for (;;) {
      while (index < this.chunks.length) {
        const chunk = this.chunks[index++];
        consumed += chunk.length;
        yield chunk;
        // toBuffer() merged the pieces while this reader was between them: finish from the offset.
        if (this.merges !== merges) {
          if (consumed < this.bytes) yield this.whole!.subarray(consumed);
          return;
        }
      }
      if (this.state === 'done') return;
      if (this.state === 'failed') throw this.error!;
      await this.nextChange();
    }
  }

  private nextChange(): Promise<void> {
    if (this.changed === undefined) {
      this.changed = new Promise<void>((resolve) => {
        this.wake = resolve;
      });
    }
    return this.changed;
  }

  private notify(): void {
    const wake = this.wake;
    if (wake === undefined) return;
    this.changed = undefined;
    this.wake = undefined;
    wake();
  }
}
