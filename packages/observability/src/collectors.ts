import type { Metric, Registry } from 'prom-client';

/**
 * Metric families whose recording is a field update, exported through a prom-client Registry.
 * prom-client's own `inc()`/`observe()` hash the label object on every call (and `observe` makes a
 * closure), several hundred ns per request in bench/observability.bench.ts; these keep a number per
 * series and hand prom-client the values only when it is scraped, in the shape its `get()` returns,
 * so its formatter and `AggregatorRegistry` treat them like its own.
 */

type Aggregator = 'sum' | 'first' | 'min' | 'max' | 'average' | 'omit';

interface ExportedValue {
  value: number;
  labels: Record<string, string | number>;
  metricName?: string;
}

interface Exported {
  name: string;
  help: string;
  type: 'counter' | 'gauge' | 'histogram';
  aggregator: Aggregator;
  values: ExportedValue[];
}

/** One labeled series: its label values and current value. */
export class Series {
  value = 0;
  constructor(readonly labels: Record<string, string>) {}

  inc(by = 1): void {
    this.value += by;
  }

  dec(by = 1): void {
    this.value -= by;
  }

  set(value: number): void {
    this.value = value;
  }
}

abstract class Family {
  readonly aggregator: Aggregator;

  constructor(
    readonly name: string,
    readonly help: string,
    aggregator: Aggregator,
    registry: Registry,
  ) {
    this.aggregator = aggregator;
    // prom-client's registry and aggregator accept any object with name, type and get(); its own
    // AggregatorRegistry.aggregate registers such objects too.
    registry.registerMetric(this as unknown as Metric);
  }

  abstract readonly type: Exported['type'];
  abstract get(): Exported;
  abstract reset(): void;
}

/** A counter or gauge family with fixed label names; series are made once and kept. */
export class SeriesFamily extends Family {
  private readonly series = new Map<string, Series>();
  /** Runs before each export, to set series from a source read at scrape time (e.g. backend health). */
  onCollect: (() => void) | undefined = undefined;

  constructor(
    readonly type: 'counter' | 'gauge',
    name: string,
    help: string,
    readonly labelNames: readonly string[],
    registry: Registry,
    aggregator: Aggregator = 'sum',
  ) {
    super(name, help, aggregator, registry);
  }

  /** The series for `values` (one per label name, in order), made on first use. */
  with(...values: string[]): Series {
    const key = values.length === 1 ? values[0] : values.join('\u0000');
    let s = this.series.get(key);
    if (s === undefined) {
      const labels: Record<string, string> = {};
      for (let i = 0; i < this.labelNames.length; i++) labels[this.labelNames[i]] = values[i];
      s = new Series(labels);
      this.series.set(key, s);
    }
    return s;
  }

  /** Stops exporting the series for `values`. */
  remove(...values: string[]): void {
    this.series.delete(values.length === 1 ? values[0] : values.join('\u0000'));
  }

  get(): Exported {
    this.onCollect?.();
    const values: ExportedValue[] = [];
    for (const s of this.series.values()) values.push({ value: s.value, labels: { ...s.labels } });
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  reset(): void {
    for (const s of this.series.values()) s.value = 0;
  }
}

/** A histogram without labels: counts per bucket, a sum and a count. */
export class HistogramFamily extends Family {
  readonly type = 'histogram' as const;
  sum = 0;
  count = 0;
  private readonly counts: Float64Array;

  constructor(
    name: string,
    help: string,
    readonly upperBounds: readonly number[],
    registry: Registry,
  ) {
    super(name, help, 'sum', registry);
    this.counts = new Float64Array(upperBounds.length);
  }

  observe(value: number): void {
    this.sum += value;
    this.count++;
    const bounds = this.upperBounds;
    // Few buckets: a scan is as fast as a binary search and simpler. Above the last bound only +Inf.
    for (let i = 0; i < bounds.length; i++) {
      if (value <= bounds[i]) {
        this.counts[i]++;
        return;
      }
    }
  }

  get(): Exported {
    const bucket = `${this.name}_bucket`;
    const values: ExportedValue[] = [];
    let cumulative = 0;
    for (let i = 0; i < this.upperBounds.length; i++) {
      cumulative += this.counts[i];
      values.push({ value: cumulative, labels: { le: this.upperBounds[i] }, metricName: bucket });
    }
    values.push({ value: this.count, labels: { le: '+Inf' }, metricName: bucket });
    values.push({ value: this.sum, labels: {}, metricName: `${this.name}_sum` });
    values.push({ value: this.count, labels: {}, metricName: `${this.name}_count` });
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  reset(): void {
    this.counts.fill(0);
    this.sum = 0;
    this.count = 0;
  }
}
