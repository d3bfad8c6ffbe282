import {
  AggregatorRegistry,
  Counter,
  Gauge,
  Histogram,
  Registry,
  type HistogramConfiguration,
  collectDefaultMetrics,
  type CounterConfiguration,
  type LabelValues,
  type MetricObjectWithValues,
  type MetricValue,
} from 'prom-client';

/** Metrics of another thread of this process, as prom-client's JSON. */
export type MetricsJson = MetricObjectWithValues<MetricValue<string>>[];

/** Prometheus metrics of one process; served at GET /metrics. */
export class Metrics {
  readonly registry = new Registry();

  readonly eventsPublished = new Counter({
    name: 'herald_events_published_total',
    help: 'Events accepted by the API (replays of an existing id not counted).',
    registers: [this.registry],
  });

  /** HTTP delivery attempts by outcome (success, http_error, or the network error code); counted once per attempt. */
  readonly attempts = new TalliedCounter({
    name: 'herald_delivery_attempts_total',
    help: 'HTTP delivery attempts by outcome (success, http_error, or the network error code).',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  /** Deliveries that reached a final state, by status; counted once per delivery. */
  readonly finished = new TalliedCounter({
    name: 'herald_deliveries_finished_total',
    help: 'Deliveries that reached a final state.',
    labelNames: ['status'] as const,
    registers: [this.registry],
  });

  /** Observed once per attempt (see BatchedHistogram). */
  readonly attemptDuration = new BatchedHistogram({
    name: 'herald_delivery_attempt_duration_seconds',
    help: 'Duration of HTTP delivery attempts.',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });

  readonly listenConnections = new Gauge({
    name: 'herald_listen_connections',
    help: '`herald listen` event streams this API process holds right now.',
    registers: [this.registry],
  });
  /** Read when collected, from the worker that reports it (watchInFlight): a change per send cost a gauge update twice per delivery. */
  private inFlightNow: () => number = () => 0;
  readonly inFlight = new Gauge({
    name: 'herald_deliveries_in_flight',
    help: 'Deliveries this worker holds right now.',
    registers: [this.registry],
    collect: (): void => this.inFlight.set(this.inFlightNow()),
  });

  readonly taken = new Counter({
    name: 'herald_deliveries_taken_total',
    help: 'Deliveries a worker took to send: handed over by a publish in its own process (handoff) or claimed from the queue (claim).',
    labelNames: ['via'] as const,
    registers: [this.registry],
  });

  readonly writtenOut = new Counter({
    name: 'herald_deliveries_written_out_total',
    help: 'Deliveries a worker wrote out for batches that left them to the workers (POST …/events/batch, migration 0033).',
    registers: [this.registry],
  });

  readonly givenBack = new Counter({
    name: 'herald_deliveries_given_back_total',
    help: 'Deliveries a worker took and gave back to the queue unsent (no slot, endpoint at its cap or rate limit, circuit open).',
    registers: [this.registry],
  });

  readonly queueStatement = new Histogram({
    name: 'herald_queue_statement_duration_seconds',
    help: 'Duration of the worker\'s queue statements: claim (a batch of due deliveries) and record (a batch of outcomes with their effects).',
    labelNames: ['statement'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });

  readonly queueBatchRows = new Histogram({
    name: 'herald_queue_statement_rows',
    help: 'Rows per queue statement: deliveries claimed, or outcomes recorded.',
    labelNames: ['statement'] as const,
    buckets: [1, 4, 16, 32, 64, 128, 256, 512],
    registers: [this.registry],
  });

  readonly lostLeases = new Counter({
    name: 'herald_delivery_results_discarded_total',
    help: 'Results not written because the lease had passed to another worker.',
    registers: [this.registry],
  });

  /** Other threads' metrics, served with these (see render). */
  private readonly sources: (() => Promise<MetricsJson>)[] = [];

  /** `processMetrics`: the process's CPU, memory and event loop (once per process: a worker thread leaves them out). */
  constructor(o: { processMetrics?: boolean } = {}) {
    // Event-loop lag sampled every 100 ms rather than prom-client's 10 ms:
    // 100 wake-ups a second were most of an idle worker's CPU.
    if (o.processMetrics !== false) collectDefaultMetrics({ register: this.registry, prefix: 'herald_process_', eventLoopMonitoringPrecision: 100 });
  }

  /** The deliveries in flight, as `herald_deliveries_in_flight` shows them: read at each collection. */
  watchInFlight(now: () => number): void {
    this.inFlightNow = now;
  }

  /** Serves the metrics of another thread (a worker's) with these. */
  addSource(source: () => Promise<MetricsJson>): void {
    this.sources.push(source);
  }

  /** The exposition text: these metrics, summed with those of the sources (counters and histograms add up). */
  async render(): Promise<string> {
    if (this.sources.length === 0) return this.registry.metrics();
    const all = await Promise.all([this.registry.getMetricsAsJSON(), ...this.sources.map((s) => s())]);
    // summed, every one: prom-client's aggregation is made for a cluster of processes and would drop or
    // average the process metrics, which here come from this thread alone
    return AggregatorRegistry.aggregate(all.map((list) => list.map((m) => ({ ...m, aggregator: 'sum' as const })))).metrics();
  }
}

/**
 * A counter with one label, for counts made once per delivery: they are
 * kept in a Map and added to prom-client's counter when it is collected (at
 * each scrape, and before any read of its value), so a count costs a Map
 * update instead of prom-client's label hashing, label check and result
 * object (1.3 % of a busy worker's allocations, 1 % of its CPU).
 */
export class TalliedCounter<L extends string> {
  readonly counter: Counter<L>;
  private readonly pending = new Map<string, number>();

  constructor(config: CounterConfiguration<L> & { labelNames: readonly [L] }) {
    const pending = this.pending;
    const label = config.labelNames[0];
    this.counter = new Counter<L>({
      ...config,
      collect() {
        for (const [value, n] of pending) this.inc({ [label]: value } as LabelValues<L>, n);
        pending.clear();
      },
    });
  }

  /** Counts `n` (Default: 1) under the label value `value`. */
  inc(value: string, n = 1): void {
    this.pending.set(value, (this.pending.get(value) ?? 0) + n);
  }
}

/**
 * A histogram observed once per delivery: values wait in a buffer and go
 * to prom-client's histogram together, when it is collected (each scrape,
 * each read of its value) or when the buffer is full. prom-client's
 * `observe` builds a closure and hashes the (empty) label set per value; in
 * the worker's profile it was 1.7 µs of each delivery (split steady state,
 * 2026-12-05), against 0.15 µs a value observed in a loop.
 */
export class BatchedHistogram {
  readonly histogram: Histogram;
  private readonly pending = new Float64Array(4096);
  private count = 0;

  constructor(config: HistogramConfiguration<string>) {
    const flush = () => this.flush();
    this.histogram = new Histogram({ ...config, collect: flush });
  }

  observe(seconds: number): void {
    this.pending[this.count++] = seconds;
    if (this.count === this.pending.length) this.flush();
  }

  private flush(): void {
    const n = this.count;
    this.count = 0;
    for (let i = 0; i < n; i++) this.histogram.observe(this.pending[i]!);
  }
}
