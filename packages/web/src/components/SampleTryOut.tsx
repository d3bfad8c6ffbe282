import type { ReactNode } from 'react';
import type { ApiError } from '../api';
import { ErrorBox, Field } from './ui';

/** A sample event's text as the try-out sends it: the parsed JSON, or the problem with it. */
export function parseSample(text: string): { event?: unknown; problem?: string } {
  try {
    return { event: JSON.parse(text) };
  } catch (err) {
    return { problem: `Sample event: not JSON (${(err as Error).message}).` };
  }
}

/**
 * The try-out part of an endpoint setting's card (payload filter,
 * transformation): a sample event, a button that asks the server, and its
 * answer (`children`); for a saved endpoint only.
 */
export function SampleTryOut(p: {
  endpointId?: string;
  id: string;
  label: string;
  hint: string;
  sample: string;
  onSample: (v: string) => void;
  button: string;
  /** What is tried, for the hint shown before the endpoint is saved. */
  what: string;
  pending: boolean;
  onRun: () => void;
  problem?: string;
  error: ApiError | undefined;
  children: ReactNode;
}) {
  return (
    <>
      {p.endpointId ? (
        <>
          <Field label={p.label} htmlFor={p.id} hint={p.hint}>
            <textarea id={p.id} className="mono" rows={4} value={p.sample} onChange={(e) => p.onSample(e.target.value)} />
          </Field>
          <button type="button" className="btn btn-small" disabled={p.pending} onClick={p.onRun}>
            {p.button}
          </button>
          {p.children}
        </>
      ) : (
        <div className="muted small">Save the endpoint to test its {p.what} against a sample event.</div>
      )}
      {p.problem ? <div className="error-box" role="alert">{p.problem}</div> : null}
      <ErrorBox error={p.error} />
    </>
  );
}
