import { createWriteStream, type WriteStream } from 'node:fs';

interface OpenLog {
  stream: WriteStream;
  users: number;
  error: Error | undefined;
}

// One append stream per file for the whole process, so an acceptor and a connector logging to the
// same SSLKEYLOGFILE never interleave partial lines.
const open = new Map<string, OpenLog>();

/**
 * Appends TLS secrets in the NSS key log format (`SSLKEYLOGFILE`, the lines node:tls gives in its
 * `keylog` events) to a file, so a packet capture of the same connections can be decrypted by
 * Wireshark or tshark. Anyone with the file can read the traffic: use it for debugging only.
 */
export class KeyLogWriter {
  readonly path: string;
  private log: OpenLog | undefined;
  private readonly opened: OpenLog;

  /** Opens (creates or appends to) `path`, mode 0600. Write errors are kept in {@link KeyLogWriter.error}, never thrown. */
  constructor(path: string) {
    this.path = path;
    let log = open.get(path);
    if (!log) {
      const stream = createWriteStream(path, { flags: 'a', mode: 0o600 });
      const created: OpenLog = { stream, users: 0, error: undefined };
      stream.on('error', (e) => {
        created.error = e;
        if (open.get(path) === created) open.delete(path);
      });
      log = created;
      open.set(path, log);
    }
    log.users++;
    this.log = this.opened = log;
  }

  /** The last write error, if the file could not be written. */
  get error(): Error | undefined {
    return this.opened.error;
  }

  /** Writes one key log line as node:tls's `keylog` event gives it (ending in a newline). */
  write(line: Buffer): void {
    const log = this.log;
    if (log && !log.stream.destroyed) log.stream.write(line);
  }

  /** Resolves once everything written so far is on its way to the file (for tests and shutdown). */
  flush(): Promise<void> {
    const log = this.log;
    if (!log || log.stream.destroyed) return Promise.resolve();
    return new Promise((resolve) => log.stream.write('', () => resolve()));
  }

  /** Stops writing; the file is closed when its last writer closes. */
  close(): Promise<void> {
    const log = this.log;
    this.log = undefined;
    if (!log || --log.users > 0) return Promise.resolve();
    if (open.get(this.path) === log) open.delete(this.path);
    return new Promise((resolve) => log.stream.end(() => resolve()));
  }
}
