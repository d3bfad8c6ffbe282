import { useState } from 'react';
import { tenantPath } from '../api';
import { Card, Field } from '../components/ui';
import { parseSample, SampleTryOut } from '../components/SampleTryOut';
import { useAction } from '../hooks';
import { useSession } from '../session';

const SAMPLE = '{\n  "type": "invoice.paid",\n  "payload": {"amount": 250, "currency": "EUR"}\n}';

/** The filter's text as the form keeps it: pretty JSON, or empty for none. */
export function filterText(filter: Record<string, unknown> | null): string {
  return filter ? JSON.stringify(filter, null, 2) : '';
}

/** The form's filter text as the API takes it: null when empty; a problem when it is not a JSON object. */
export function parseFilterText(text: string): { filter?: Record<string, unknown> | null; problem?: string } {
  if (!text.trim()) return { filter: null };
  try {
    const v: unknown = JSON.parse(text);
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return { problem: 'Filter: a JSON object, e.g. {"payload": {"amount": {"$gte": 100}}}.' };
    return { filter: v as Record<string, unknown> };
  } catch (err) {
    return { problem: `Filter: not JSON (${(err as Error).message}).` };
  }
}

/**
 * The payload filter in the endpoint form, and (for a saved endpoint) a
 * try-out on a sample event: the server answers whether it matches and why.
 */
export function FilterCard({ tenantId, endpointId, value, onChange }: { tenantId: string; endpointId?: string; value: string; onChange: (v: string) => void }) {
  const { client } = useSession();
  const [sample, setSample] = useState(SAMPLE);
  const [problem, setProblem] = useState<string>();
  const [verdict, setVerdict] = useState<{ matches: boolean; reason: string } | null>(null);
  const test = useAction(async () => {
    setVerdict(null);
    const f = parseFilterText(value);
    const { event, problem: sampleProblem } = parseSample(sample);
    setProblem(sampleProblem ?? f.problem);
    if (sampleProblem || f.problem || !endpointId) return;
    setVerdict(
      await client.post<{ matches: boolean; reason: string }>(tenantPath(tenantId, `/endpoints/${encodeURIComponent(endpointId)}/filter/test`), {
        event,
        filter: f.filter,
      }),
    );
  });
  return (
    <Card title="Payload filter">
      <Field
        label="Filter (JSON)"
        htmlFor="ep-filter"
        hint={
          <>
            Only events that match are delivered here, e.g. <code className="mono">{'{"payload": {"amount": {"$gte": 100}, "currency": {"$in": ["EUR", "USD"]}}}'}</code>. Operators: $eq $neq $gt $gte $lt $lte $in $nin
            $startsWith $endsWith $exists $and $or $not; a plain value means $eq. Empty: every event of the chosen types.
          </>
        }
      >
        <textarea id="ep-filter" className="mono" rows={5} value={value} onChange={(e) => onChange(e.target.value)} placeholder='{"payload": {"amount": {"$gte": 100}}}' />
      </Field>
      <SampleTryOut
        endpointId={endpointId}
        id="ep-filter-sample"
        label="Sample event"
        hint="id, type, createdAt and payload, as the event would be published."
        sample={sample}
        onSample={setSample}
        button="Test filter"
        what="filter"
        pending={test.pending}
        onRun={() => void test.run()}
        problem={problem}
        error={test.error}
      >
        {verdict ? (
          <div className={verdict.matches ? 'notice small' : 'error-box small'} role="status" data-testid="filter-verdict">
            {verdict.matches ? 'Matches' : 'Does not match'}: {verdict.reason}
          </div>
        ) : null}
      </SampleTryOut>
    </Card>
  );
}
