import { gatherFromWorkers, onGather } from '@sluice/core';
import { AggregatorRegistry, type Registry } from 'prom-client';

/** The gather topic metrics answer on. */
export const METRICS_GATHER_TOPIC = 'sluice.metrics';

/**
 * Lets this process answer metrics gathers with `registry`'s samples (each worker runs it; the
 * metrics service does it for its registry). Returns a function that stops answering.
 */
export function shareMetricsWithWorkers(registry: Registry, topic = METRICS_GATHER_TOPIC): () => void {
  return onGather(topic, () => registry.getMetricsAsJSON());
}

/**
 * The exposition text of `registry` summed across workers: core's `gatherFromWorkers` collects every
 * worker's samples (in one process, this one's) and prom-client's `AggregatorRegistry.aggregate` merges
 * them (counters and histograms add up; gauges follow their `aggregator`). When no worker answered
 * (`gathered` false), the local registry.
 */
export async function workerMetricsText(registry: Registry, topic = METRICS_GATHER_TOPIC): Promise<{ text: string; contentType: string; workers: number; gathered: boolean }> {
  const answers = (await gatherFromWorkers(topic)).filter((a): a is object[] => Array.isArray(a));
  if (answers.length > 0) {
    const merged = AggregatorRegistry.aggregate(answers);
    return { text: await merged.metrics(), contentType: merged.contentType, workers: answers.length, gathered: true };
  }
  return { text: await registry.metrics(), contentType: registry.contentType, workers: 1, gathered: false };
}
