/** Formatting shared by every page: times, durations, rates, retry policies. */
import type { Retry, Signature } from './api';

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
const shortTime = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
const shortDay = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric' });

export function formatTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  return dateTime.format(new Date(iso));
}

/** Axis label of a chart bucket: the time within a day, the date for day buckets. */
export function bucketLabel(iso: string, bucket: string): string {
  const d = new Date(iso);
  return bucket === '1d' ? shortDay.format(d) : bucket === '6h' ? `${shortDay.format(d)} ${shortTime.format(d)}` : shortTime.format(d);
}

export function ago(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return 'never';
  const s = Math.round((now - Date.parse(iso)) / 1000);
  if (s < -5) return `in ${duration(-s)}`;
  if (s < 5) return 'just now';
  return `${duration(s)} ago`;
}

/**
 * `s` (a minute or more) in the largest of minutes, hours and days that it
 * reaches once rounded by `round`: rounding comes before the unit, so a
 * value just under the next unit reads in that unit (3,590 s is 1 h, not
 * 60 min: a retry an hour away showed "in 60 min" for its first half-minute).
 */
function inUnit(s: number, round: (v: number) => number): { value: number; unit: 'min' | 'h' | 'd' } {
  const min = round(s / 60);
  if (min < 60) return { value: min, unit: 'min' };
  const h = round(s / 3600);
  if (h < 24) return { value: h, unit: 'h' };
  return { value: round(s / 86_400), unit: 'd' };
}

function duration(s: number): string {
  if (s < 60) return `${s} s`;
  const { value, unit } = inUnit(s, Math.round);
  return `${value} ${unit}`;
}

const oneDecimal = (v: number): number => +v.toFixed(1);

export function seconds(s: number): string {
  if (s < 60) return `${s}s`;
  const { value, unit } = inUnit(s, oneDecimal);
  return `${value}${unit === 'min' ? 'm' : unit}`;
}

export function ms(v: number | null | undefined): string {
  if (v === null || v === undefined) return '—';
  if (v < 1000) return `${Math.round(v)} ms`;
  return `${(v / 1000).toFixed(v < 10_000 ? 2 : 1)} s`;
}

export function percent(rate: number | null | undefined): string {
  if (rate === null || rate === undefined) return '—';
  const p = rate * 100;
  return `${p === 100 || p === 0 ? p.toFixed(0) : p.toFixed(1)}%`;
}

export function retryText(r: Retry): string {
  const jitter = r.jitter ? `, ±${+(r.jitter * 100).toFixed(1)} % jitter` : '';
  if ('schedule' in r) return r.schedule.length ? `after ${r.schedule.map(seconds).join(', ')}${jitter}` : 'no retries';
  return `exponential from ${seconds(r.initialSeconds)} up to ${seconds(r.maxSeconds)}${r.factor ? ` (×${r.factor})` : ''}, ${r.maxRetries} retries${jitter}`;
}

export function signatureText(s: Signature): string {
  if (s.scheme === 'standard') return 'Standard Webhooks (webhook-signature)';
  if (s.scheme === 'ed25519') return 'Standard Webhooks, ed25519 (v1a)';
  return `HMAC-SHA256 in ${s.header} (${s.encoding ?? 'hex'})`;
}

/** `2024-05-01T12:00` for a datetime-local input, in local time. */
export function toLocalInput(d: Date): string {
  const z = new Date(d.getTime() - d.getTimezoneOffset() * 60_000);
  return z.toISOString().slice(0, 16);
}

export function fromLocalInput(v: string): string | undefined {
  if (!v) return undefined;
  const t = new Date(v);
  return Number.isNaN(t.getTime()) ? undefined : t.toISOString();
}

/** `1 delivery`, `3 deliveries`: a count with its noun in the right number. */
export function count(n: number, one: string, many: string): string {
  return `${n.toLocaleString()} ${n === 1 ? one : many}`;
}
