import { useRef, useState } from 'react';
import { qs, tenantPath, type ApiError } from '../api';
import { count } from '../format';
import { useApi } from '../hooks';
import { useSession } from '../session';
import { ConfirmDialog, ErrorBox, Spinner } from './ui';

/** The filters of a failed-deliveries list that a bulk retry takes over. */
export interface FailedFilter {
  endpointId?: string;
  eventType?: string;
  since?: string;
  until?: string;
}

/** Deliveries retried per request: small enough that each is a short transaction, large enough to go fast. */
const BATCH = 100;

type Phase = { kind: 'closed' } | { kind: 'preview' } | { kind: 'running'; done: number } | { kind: 'finished'; done: number; stopped: boolean };

/**
 * "Retry all matching": previews how many failed deliveries the list's
 * filters match, then retries them in batches, drawing its progress, and
 * can be stopped between batches.
 */
export function BulkRetry({ tenantId, filter, onRetried }: { tenantId: string; filter: FailedFilter; onRetried(): void }) {
  const { client } = useSession();
  const [phase, setPhase] = useState<Phase>({ kind: 'closed' });
  const [error, setError] = useState<ApiError>();
  const stop = useRef(false);
  const preview = useApi<{ count: number; capped: boolean }>(
    phase.kind === 'preview' ? tenantPath(tenantId, `/deliveries/count${qs({ status: 'failed', ...filter })}`) : null,
  );
  const total = preview.data?.count ?? 0;
  const canRun = phase.kind === 'preview' && total > 0;

  const run = async () => {
    stop.current = false;
    setError(undefined);
    const updatedBefore = new Date().toISOString();
    let done = 0;
    setPhase({ kind: 'running', done });
    try {
      for (;;) {
        const r = await client.post<{ retried: number; more: boolean }>(tenantPath(tenantId, '/deliveries/retry'), { ...filter, updatedBefore, limit: BATCH });
        done += r.retried;
        setPhase({ kind: 'running', done });
        if (!r.more || stop.current) break;
      }
    } catch (err) {
      setError(err as ApiError);
    }
    setPhase({ kind: 'finished', done, stopped: stop.current });
    onRetried();
  };

  const close = () => {
    if (phase.kind === 'running') stop.current = true;
    else setPhase({ kind: 'closed' });
  };

  return (
    <>
      <button type="button" className="btn btn-small" onClick={() => setPhase({ kind: 'preview' })}>
        Retry all matching…
      </button>
      <ConfirmDialog
        open={phase.kind !== 'closed'}
        title="Retry the failed deliveries of this list?"
        confirmLabel={canRun ? `Retry ${count(total, 'delivery', 'deliveries')}` : 'Close'}
        cancelLabel={phase.kind === 'finished' ? null : phase.kind === 'running' ? 'Stop' : 'Cancel'}
        pending={phase.kind === 'running' || (phase.kind === 'preview' && !preview.data)}
        onCancel={close}
        onConfirm={() => (canRun ? void run() : setPhase({ kind: 'closed' }))}
      >
        {phase.kind === 'preview' ? (
          preview.data ? (
            <p data-testid="bulk-preview">
              {total === 0
                ? 'No failed deliveries match these filters.'
                : `${preview.data.capped ? 'At least ' : ''}${count(total, 'failed delivery matches', 'failed deliveries match')} these filters. Each gets one more attempt now; one that fails again is not rescheduled.`}
            </p>
          ) : preview.error ? (
            <ErrorBox error={preview.error} title="Could not count them" />
          ) : (
            <Spinner label="Counting…" />
          )
        ) : null}
        {phase.kind === 'running' || phase.kind === 'finished' ? <Progress done={phase.done} total={total} finished={phase.kind === 'finished'} stopped={phase.kind === 'finished' && phase.stopped} /> : null}
        <ErrorBox error={error} title="Stopped by an error" />
      </ConfirmDialog>
    </>
  );
}

function Progress({ done, total, finished, stopped }: { done: number; total: number; finished: boolean; stopped: boolean }) {
  return (
    <div className="bulk-progress" role="status" data-testid="bulk-progress">
      <progress max={Math.max(total, done, 1)} value={done} />
      <div>
        {finished
          ? `${stopped ? 'Stopped: ' : ''}${count(done, 'delivery', 'deliveries')} queued again.`
          : `Retried ${done.toLocaleString()} of ${total.toLocaleString()}… (Stop ends it after this batch)`}
      </div>
    </div>
  );
}
