import { useState } from 'react';
import { tenantPath } from '../api';
import { Card, Field } from '../components/ui';
import { parseSample, SampleTryOut } from '../components/SampleTryOut';
import { useAction } from '../hooks';
import { useSession } from '../session';

const SAMPLE = '{\n  "type": "invoice.paid",\n  "payload": {"amount": 250, "currency": "EUR"}\n}';
const PLACEHOLDER = '(webhook) => {\n  webhook.payload = { text: `Paid ${webhook.payload.amount}` };\n  return webhook;\n}';

interface TryResult {
  request: { method: string; url: string; headers: Record<string, string>; body: string } | null;
  error: { code: string; message: string } | null;
}

/** The body as the result shows it: pretty JSON where it is JSON. */
function pretty(body: string): string {
  try {
    return JSON.stringify(JSON.parse(body), null, 2);
  } catch {
    return body;
  }
}

/**
 * The transformation in the endpoint form, and (for a saved endpoint) a
 * try-out on a sample event: the server runs it in the same sandbox as
 * deliveries and answers with the signed request, or the error an attempt
 * would record. Nothing is sent.
 */
export function TransformationCard({ tenantId, endpointId, value, onChange }: { tenantId: string; endpointId?: string; value: string; onChange: (v: string) => void }) {
  const { client } = useSession();
  const [sample, setSample] = useState(SAMPLE);
  const [problem, setProblem] = useState<string>();
  const [result, setResult] = useState<TryResult | null>(null);
  const test = useAction(async () => {
    setResult(null);
    const { event, problem: sampleProblem } = parseSample(sample);
    setProblem(sampleProblem);
    if (sampleProblem || !endpointId) return;
    setResult(
      await client.post<TryResult>(tenantPath(tenantId, `/endpoints/${encodeURIComponent(endpointId)}/transformation/test`), {
        event,
        transformation: value.trim() ? value : null,
      }),
    );
  });
  return (
    <Card title="Transformation">
      <Field
        label="Transformation (JavaScript)"
        htmlFor="ep-transformation"
        hint={
          <>
            A function <code className="mono">(webhook) =&gt; webhook</code> run before each request is signed. It gets{' '}
            <code className="mono">{'{method, url, eventId, eventType, headers, payload}'}</code> and may change the payload, headers, event type and the URL's
            path and query. No network, clock or randomness; limited time and memory. Empty: none.
          </>
        }
      >
        <textarea id="ep-transformation" className="mono" rows={8} spellCheck={false} value={value} onChange={(e) => onChange(e.target.value)} placeholder={PLACEHOLDER} />
      </Field>
      <SampleTryOut
        endpointId={endpointId}
        id="ep-transformation-sample"
        label="Event to transform"
        hint="type and payload of a sample event to try it on."
        sample={sample}
        onSample={setSample}
        button="Test transformation"
        what="transformation"
        pending={test.pending}
        onRun={() => void test.run()}
        problem={problem}
        error={test.error}
      >
        {result?.request ? (
          <div className="notice small" role="status" data-testid="transformation-result">
            <div className="mono">
              {result.request.method} {result.request.url}
            </div>
            <pre className="mono small">{Object.entries(result.request.headers).map(([k, v]) => `${k}: ${v}`).join('\n')}</pre>
            <pre className="mono small" data-testid="transformation-body">{pretty(result.request.body)}</pre>
          </div>
        ) : null}
        {result?.error ? (
          <div className="error-box small" role="status" data-testid="transformation-error">
            {result.error.code}: {result.error.message}
          </div>
        ) : null}
      </SampleTryOut>
    </Card>
  );
}
