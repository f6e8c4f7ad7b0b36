import type { ServerApp, Stream } from '@sluice/core';

/**
 * Echoes every byte back. On graceful shutdown it half-closes each connection, so clients get what
 * they already sent and then see the end of the stream.
 */
export class EchoApp implements ServerApp {
  async processNewConnection(stream: Stream, shutdown: AbortSignal): Promise<void> {
    const onShutdown = () => stream.end();
    shutdown.addEventListener('abort', onShutdown, { once: true });
    try {
      for (let chunk = await stream.read(); chunk !== null; chunk = await stream.read()) {
        const wait = stream.write(chunk);
        if (wait) await wait;
      }
    } finally {
      shutdown.removeEventListener('abort', onShutdown);
    }
  }
}
