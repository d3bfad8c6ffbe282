import type { MinuteCount } from '../api';
import { bucketLabel } from '../format';
import { COLORS, StackedBarChart } from './charts';

/** Attempts per minute across every tenant, answered 2xx vs everything else, stacked. */
export function AttemptsPerMinuteChart({ minutes }: { minutes: MinuteCount[] }) {
  return (
    <StackedBarChart
      label="Delivery attempts per minute, last hour"
      caption="Delivery attempts per minute, last hour"
      data={minutes.map((m) => ({ ...m, label: bucketLabel(m.start, '1m') }))}
      bars={[
        { key: 'succeeded', name: 'Succeeded', color: COLORS.succeeded },
        { key: 'failed', name: 'Failed', color: COLORS.failed },
      ]}
      maxBarSize={24}
    />
  );
}
