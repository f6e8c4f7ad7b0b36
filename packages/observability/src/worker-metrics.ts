import * as core from '@sluice/core';
import { AggregatorRegistry, type Registry } from 'prom-client';

/** The gather topic metrics answer on. */
export const METRICS_GATHER_TOPIC = 'sluice.metrics';

type GatherFromWorkers = (topic: string) => Promise<unknown[]>;
type OnGather = (topic: string, handler: () => unknown | Promise<unknown>) => () => void;

// Core's worker gather (`threads: N`) is looked up, not imported by name, so this package builds and
// works against a core without it: then every process exports only its own registry.
const coreExports = core as unknown as Record<string, unknown>;

function coreGather(): { gather: GatherFromWorkers; on: OnGather } | undefined {
  const gather = coreExports['gatherFromWorkers'];
  const on = coreExports['onGather'];
  return typeof gather === 'function' && typeof on === 'function' ? { gather: gather as GatherFromWorkers, on: on as OnGather } : undefined;
}

/**
 * Lets this process answer metrics gathers with `registry`'s samples (call it in every worker).
 * Returns a function that stops answering. A no-op without core's gather support.
 */
export function shareMetricsWithWorkers(registry: Registry, topic = METRICS_GATHER_TOPIC): () => void {
  const g = coreGather();
  if (!g) return () => {};
  return g.on(topic, () => registry.getMetricsAsJSON());
}

/**
 * The exposition text of `registry`, summed across workers when core can gather (counters and
 * histograms add up; gauges follow their `aggregator`). Falls back to the local registry when no
 * worker answered (`gathered` false).
 */
export async function workerMetricsText(registry: Registry, topic = METRICS_GATHER_TOPIC): Promise<{ text: string; contentType: string; workers: number; gathered: boolean }> {
  const g = coreGather();
  if (g) {
    const answers = (await g.gather(topic)).filter((a): a is object[] => Array.isArray(a));
    if (answers.length > 0) {
      const merged = AggregatorRegistry.aggregate(answers);
      return { text: await merged.metrics(), contentType: merged.contentType, workers: answers.length, gathered: true };
    }
  }
  return { text: await registry.metrics(), contentType: registry.contentType, workers: 1, gathered: false };
}
