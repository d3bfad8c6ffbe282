import { Bar, BarChart, CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { Stats } from '../api';
import { bucketLabel, ms, percent } from '../format';
import { useUrlFilters } from '../router';

/** Time ranges the charts offer, each with a bucket that gives a readable number of bars. */
export const RANGES = {
  '1h': { label: 'Last hour', seconds: 3600, bucket: '1m' },
  '24h': { label: 'Last 24 h', seconds: 86_400, bucket: '1h' },
  '7d': { label: 'Last 7 days', seconds: 7 * 86_400, bucket: '6h' },
  '30d': { label: 'Last 30 days', seconds: 30 * 86_400, bucket: '1d' },
} as const;
export type RangeKey = keyof typeof RANGES;

/** Query string of a stats request for a range; `since` is rounded to the minute so polling hits the same buckets. */
export function statsQuery(range: RangeKey): string {
  const r = RANGES[range];
  const since = new Date(Math.floor((Date.now() - r.seconds * 1000) / 60_000) * 60_000).toISOString();
  return `?since=${encodeURIComponent(since)}&bucket=${r.bucket}`;
}

/** The charts' range, kept in the address (`?range=7d`) like every filter; 24 h when absent or unknown. */
export function useRange(): [RangeKey, (r: RangeKey) => void] {
  const [f, set] = useUrlFilters(['range'] as const);
  const range = f.range in RANGES ? (f.range as RangeKey) : '24h';
  return [range, (r) => set({ range: r === '24h' ? '' : r })];
}

export function RangePicker({ value, onChange }: { value: RangeKey; onChange(r: RangeKey): void }) {
  return (
    <div className="segmented" role="group" aria-label="Time range">
      {(Object.keys(RANGES) as RangeKey[]).map((k) => (
        <button key={k} type="button" className={k === value ? 'on' : ''} aria-pressed={k === value} onClick={() => onChange(k)}>
          {k}
        </button>
      ))}
    </div>
  );
}

export const COLORS = { succeeded: '#16a34a', failed: '#dc2626', pending: '#d97706', p50: '#2563eb', p95: '#7c3aed', p99: '#db2777' };

export function StatTiles({ stats }: { stats: Stats }) {
  const t = stats.totals;
  return (
    <div className="tiles">
      <div className="tile">
        <div className="tile-label">Deliveries</div>
        <div className="tile-value">{(t.succeeded + t.failed + t.pending).toLocaleString()}</div>
        <div className="tile-sub">
          <span className="ok-text">{t.succeeded} ok</span> · <span className="bad-text">{t.failed} failed</span> · {t.pending} pending
        </div>
      </div>
      <div className="tile">
        <div className="tile-label">Attempt success rate</div>
        <div className="tile-value">{percent(t.successRate)}</div>
        <div className="tile-sub">
          {t.attemptsSucceeded} of {t.attempts} attempts answered 2xx
        </div>
      </div>
      <div className="tile" data-testid="latency-tile">
        <div className="tile-label">Latency p50 / p95</div>
        <div className="tile-value">
          {ms(t.p50Ms)} <span className="tile-sep">/</span> {ms(t.p95Ms)}
        </div>
        <div className="tile-sub">p99 {ms(t.p99Ms)}</div>
      </div>
    </div>
  );
}

/** One series of a stacked bar chart: the data key, its legend name, its colour. */
export interface BarSeries {
  key: string;
  name: string;
  color: string;
}

/**
 * Bars per time bucket, stacked, with the dashboard's grid, axes, tooltip
 * and legend; `data` rows carry the bucket's axis `label` and a number per
 * series key.
 */
export function StackedBarChart({ label, caption, data, bars, maxBarSize = 48 }: { label: string; caption: string; data: object[]; bars: BarSeries[]; maxBarSize?: number }) {
  return (
    <figure className="chart" aria-label={label}>
      <figcaption>{caption}</figcaption>
      <ResponsiveContainer width="100%" height={220}>
        <BarChart data={data} margin={{ top: 8, right: 8, bottom: 0, left: -16 }}>
          <CartesianGrid strokeDasharray="3 3" vertical={false} stroke="var(--grid)" />
          <XAxis dataKey="label" tick={{ fontSize: 11 }} minTickGap={16} stroke="var(--axis)" />
          <YAxis allowDecimals={false} tick={{ fontSize: 11 }} stroke="var(--axis)" />
          <Tooltip cursor={{ fill: 'var(--hover)' }} />
          <Legend iconSize={10} wrapperStyle={{ fontSize: 12 }} />
          {bars.map((b) => (
            <Bar key={b.key} dataKey={b.key} name={b.name} stackId="s" fill={b.color} maxBarSize={maxBarSize} isAnimationActive={false} />
          ))}
        </BarChart>
      </ResponsiveContainer>
    </figure>
  );
}

/** Deliveries per bucket, succeeded vs failed (and still pending), stacked. */
export function DeliveriesChart({ stats }: { stats: Stats }) {
  const data = stats.series.map((p) => ({ ...p, label: bucketLabel(p.start, stats.bucket) }));
  return (
    <StackedBarChart
      label="Deliveries per time bucket"
      caption="Deliveries"
      data={data}
      bars={[
        { key: 'succeeded', name: 'Succeeded', color: COLORS.succeeded },
        { key: 'failed', name: 'Failed', color: COLORS.failed },
        { key: 'pending', name: 'Pending', color: COLORS.pending },
      ]}
    />
  );
}

/**
 * Attempt latency percentiles per bucket: lines, or bars while fewer than
 * two buckets have attempts (a line needs two points; alone, each
 * percentile was a lone dot at the edge of an empty chart).
 */
export function LatencyChart({ stats }: { stats: Stats }) {
  const data = stats.series.map((p) => ({ ...p, label: bucketLabel(p.start, stats.bucket) }));
  const points = stats.series.filter((p) => p.p50Ms !== null).length;
  return (
    <figure className="chart" aria-label="Latency percentiles per time bucket">
      <figcaption>Response time (ms)</figcaption>
      {/* the bars show only the bucket that has attempts, labelled with its time, rather than a sliver at the edge of an empty axis */}
      {points < 2 ? <LatencyBars data={data.filter((p) => p.p50Ms !== null)} /> : <LatencyLines data={data} />}
    </figure>
  );
}

type LatencyData = (Stats['series'][number] & { label: string })[];

function LatencyBars({ data }: { data: LatencyData }) {
  return (
    <ResponsiveContainer width="100%" height={220}>
      <BarChart data={data} margin={{ top: 8, right: 8, bottom: 0, left: -16 }}>
        <CartesianGrid strokeDasharray="3 3" vertical={false} stroke="var(--grid)" />
        <XAxis dataKey="label" tick={{ fontSize: 11 }} minTickGap={16} stroke="var(--axis)" />
        <YAxis tick={{ fontSize: 11 }} stroke="var(--axis)" />
        <Tooltip cursor={{ fill: 'var(--hover)' }} formatter={(v) => ms(typeof v === 'number' ? v : null)} />
        <Legend iconSize={10} wrapperStyle={{ fontSize: 12 }} />
        <Bar dataKey="p50Ms" name="p50" fill={COLORS.p50} maxBarSize={40} isAnimationActive={false} />
        <Bar dataKey="p95Ms" name="p95" fill={COLORS.p95} maxBarSize={40} isAnimationActive={false} />
        <Bar dataKey="p99Ms" name="p99" fill={COLORS.p99} maxBarSize={40} isAnimationActive={false} />
      </BarChart>
    </ResponsiveContainer>
  );
}

function LatencyLines({ data }: { data: LatencyData }) {
  return (
    <ResponsiveContainer width="100%" height={220}>
      <LineChart data={data} margin={{ top: 8, right: 8, bottom: 0, left: -16 }}>
        <CartesianGrid strokeDasharray="3 3" vertical={false} stroke="var(--grid)" />
        <XAxis dataKey="label" tick={{ fontSize: 11 }} minTickGap={16} stroke="var(--axis)" />
        <YAxis tick={{ fontSize: 11 }} stroke="var(--axis)" />
        <Tooltip formatter={(v) => ms(typeof v === 'number' ? v : null)} />
        <Legend iconSize={10} wrapperStyle={{ fontSize: 12 }} />
        <Line type="monotone" dataKey="p50Ms" name="p50" stroke={COLORS.p50} dot={{ r: 2 }} connectNulls isAnimationActive={false} strokeWidth={2} />
        <Line type="monotone" dataKey="p95Ms" name="p95" stroke={COLORS.p95} dot={{ r: 2 }} connectNulls isAnimationActive={false} strokeWidth={2} />
        <Line type="monotone" dataKey="p99Ms" name="p99" stroke={COLORS.p99} dot={{ r: 2 }} connectNulls isAnimationActive={false} strokeWidth={1.5} strokeDasharray="4 3" />
      </LineChart>
    </ResponsiveContainer>
  );
}

export function StatsPanel({ stats }: { stats: Stats }) {
  const empty = stats.series.every((p) => p.attempts === 0 && p.succeeded + p.failed + p.pending === 0);
  return (
    <div>
      <StatTiles stats={stats} />
      {empty ? (
        <div className="empty small-empty">No deliveries in this range yet. Charts fill in as events are delivered.</div>
      ) : (
        <div className="charts">
          <DeliveriesChart stats={stats} />
          <LatencyChart stats={stats} />
        </div>
      )}
    </div>
  );
}
