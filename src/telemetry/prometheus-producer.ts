import { ValueType, type Attributes, type HrTime } from '@opentelemetry/api';
import { hrTime } from '@opentelemetry/core';
import { emptyResource } from '@opentelemetry/resources';
import {
  AggregationTemporality,
  DataPointType,
  type CollectionResult,
  type DataPoint,
  type Histogram,
  type MetricData,
  type MetricProducer,
} from '@opentelemetry/sdk-metrics';
import type { Registry } from 'prom-client';
import { VERSION } from '../version.js';

type PromValue = { value: number; labels: Record<string, string | number>; metricName?: string };

/**
 * The Prometheus registry (metrics.ts) as OTLP metric data, read at each
 * export: counters as cumulative monotonic sums, gauges as gauges,
 * histograms as explicit-bucket histograms with the same bounds. The worker
 * keeps counting into prom-client alone, so OTLP export costs the hot path
 * nothing; the collection runs once per export interval.
 *
 * Names stay the Prometheus ones (what dashboards and alerts already use),
 * but for the `_total` suffix of counters, which OTLP leaves to the
 * Prometheus exporter to add; `_seconds` metrics get the unit `s`.
 */
export class PrometheusProducer implements MetricProducer {
  /** Cumulative series start when the process started counting. */
  private readonly startTime: HrTime = hrTime();

  constructor(private readonly registry: Registry) {}

  async collect(): Promise<CollectionResult> {
    const now = hrTime();
    const metrics: MetricData[] = [];
    let json: Awaited<ReturnType<Registry['getMetricsAsJSON']>>;
    try {
      json = await this.registry.getMetricsAsJSON();
    } catch (err) {
      // a gauge that queries the database failed (it is down, or closing): this round exports nothing, the next one tries again
      return { resourceMetrics: { resource: emptyResource(), scopeMetrics: [] }, errors: [err] };
    }
    for (const m of json) {
      const values = m.values as PromValue[];
      const type = String(m.type);
      const base = {
        descriptor: { name: type === 'counter' ? m.name.replace(/_total$/, '') : m.name, description: m.help, unit: m.name.endsWith('_seconds') ? 's' : '', valueType: ValueType.DOUBLE },
        aggregationTemporality: AggregationTemporality.CUMULATIVE,
      };
      const points = () => values.map((v) => this.point(v.labels, v.value, now));
      if (type === 'counter') metrics.push({ ...base, dataPointType: DataPointType.SUM, isMonotonic: true, dataPoints: points() });
      else if (type === 'gauge') metrics.push({ ...base, dataPointType: DataPointType.GAUGE, dataPoints: points() });
      else if (type === 'histogram') {
        const dataPoints = histogramPoints(m.name, values).map((h) => this.point(h.labels, h.value, now));
        metrics.push({ ...base, dataPointType: DataPointType.HISTOGRAM, dataPoints });
      }
      // summaries: none in metrics.ts
    }
    return {
      resourceMetrics: { resource: emptyResource(), scopeMetrics: [{ scope: { name: 'herald', version: VERSION }, metrics }] },
      errors: [],
    };
  }

  private point<T>(labels: Attributes, value: T, now: HrTime): DataPoint<T> {
    return { startTime: this.startTime, endTime: now, attributes: labels, value };
  }
}

/**
 * prom-client gives a histogram as `_bucket` series (cumulative counts per
 * `le`), `_sum` and `_count`, per label set; OTLP wants per label set the
 * bounds without +Inf and the count in each bucket.
 */
function histogramPoints(name: string, values: PromValue[]): { labels: Attributes; value: Histogram }[] {
  const series = new Map<string, { labels: Attributes; le: [number, number][]; sum: number; count: number }>();
  for (const v of values) {
    const { le, ...labels } = v.labels;
    const key = JSON.stringify(Object.entries(labels).sort());
    let s = series.get(key);
    if (!s) series.set(key, (s = { labels, le: [], sum: 0, count: 0 }));
    if (v.metricName === `${name}_bucket`) s.le.push([le === '+Inf' ? Infinity : Number(le), v.value]);
    else if (v.metricName === `${name}_sum`) s.sum = v.value;
    else if (v.metricName === `${name}_count`) s.count = v.value;
  }
  return [...series.values()].map((s) => {
    const le = s.le.sort((a, b) => a[0] - b[0]);
    const boundaries = le.filter(([b]) => b !== Infinity).map(([b]) => b);
    const counts: number[] = [];
    let below = 0;
    for (const [, cumulative] of le) {
      counts.push(cumulative - below);
      below = cumulative;
    }
    if (le.length === 0 || le[le.length - 1]![0] !== Infinity) counts.push(s.count - below);
    return { labels: s.labels, value: { buckets: { boundaries, counts }, sum: s.sum, count: s.count } };
  });
}
