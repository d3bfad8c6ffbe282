import { useState, type FormEvent } from 'react';
import type { EventType } from '../api';
import { StateView } from '../components/StateView';
import { Card, CopyButton, Empty, ErrorBox, Field, JsonView, PageHead } from '../components/ui';
import { exampleOf } from '../example';
import { useAction, useApi } from '../hooks';
import { useUrlFilters } from '../router';
import { useSession } from '../session';
import { viewState } from '../state';

/** The catalogue: what each event type means and carries (schema and an example payload). */
export function EventTypesPage(_: { tenantId: string }) {
  const s = useSession();
  const list = useApi<{ data: EventType[] }>('/v1/event-types');
  const [f, setF] = useUrlFilters(['q'] as const);
  const filter = f.q;
  const rows = (list.data?.data ?? []).filter((t) => !filter || t.name.includes(filter) || (t.description ?? '').toLowerCase().includes(filter.toLowerCase()));
  return (
    <>
      <PageHead title="Event types" sub="The events this platform publishes. Endpoints subscribe to names or to patterns such as invoice.*." />
      {s.kind === 'admin' ? <NewEventType onCreated={list.reload} /> : null}
      <Card
        actions={
          <>
            <label className="sr-only" htmlFor="et-filter">
              Filter
            </label>
            <input id="et-filter" placeholder="Filter" value={filter} onChange={(e) => setF({ q: e.target.value }, { replace: true })} />
          </>
        }
        title="Catalogue"
      >
        <StateView
          state={viewState({ ...list, data: list.data ? rows : undefined }, (r) => r.length === 0)}
          onRetry={list.reload}
          empty={
            <Empty title={filter ? 'No event type matches' : 'The catalogue is empty'}>
              {filter ? 'Clear the filter to see every type.' : s.kind === 'admin' ? 'Add the first one with "New event type" above. Events of any type can still be published; describing them here tells customers what to expect.' : 'Events of any type can still be published.'}
            </Empty>
          }
        >
          {(ts) => (
            <div className="et-list">
              {ts.map((t) => (
                <EventTypeItem key={t.name} t={t} />
              ))}
            </div>
          )}
        </StateView>
      </Card>
    </>
  );
}

function EventTypeItem({ t }: { t: EventType }) {
  const example = t.schema ? exampleOf(t.schema) : null;
  return (
    <details className="et">
      <summary>
        <span className="mono et-name">{t.name}</span>
        <span className="muted et-desc">{t.description || 'No description'}</span>
      </summary>
      <div className="grid-2">
        <div>
          <h3>Schema</h3>
          {t.schema ? <JsonView value={t.schema} /> : <div className="muted small">No schema: payloads of any shape are accepted.</div>}
        </div>
        <div>
          <div className="body-head">
            <h3>Example payload</h3>
            {t.schema ? <CopyButton text={JSON.stringify(example, null, 2)} /> : null}
          </div>
          {t.schema ? <JsonView value={example} /> : <div className="muted small">—</div>}
        </div>
      </div>
    </details>
  );
}

function NewEventType({ onCreated }: { onCreated(): void }) {
  const { client } = useSession();
  const [open, setOpen] = useState(false);
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [schema, setSchema] = useState('');
  const [problem, setProblem] = useState<string>();
  const create = useAction(async (body: Record<string, unknown>) => client.post<EventType>('/v1/event-types', body));

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    let parsed: unknown;
    if (schema.trim()) {
      try {
        parsed = JSON.parse(schema);
      } catch (err) {
        return setProblem(`Schema is not valid JSON: ${(err as Error).message}`);
      }
    }
    setProblem(undefined);
    const r = await create.run({ name: name.trim(), ...(description ? { description } : {}), ...(parsed ? { schema: parsed } : {}) });
    if (r) {
      setName('');
      setDescription('');
      setSchema('');
      setOpen(false);
      onCreated();
    }
  };

  if (!open) {
    return (
      <div className="page-actions-row">
        <button type="button" className="btn" onClick={() => setOpen(true)}>
          New event type
        </button>
      </div>
    );
  }
  return (
    <Card title="New event type">
      <form onSubmit={(e) => void submit(e)}>
        <div className="grid-2">
          <Field label="Name" htmlFor="et-name" hint="Dot-separated, e.g. invoice.paid">
            <input id="et-name" className="mono" required value={name} onChange={(e) => setName(e.target.value)} />
          </Field>
          <Field label="Description" htmlFor="et-desc">
            <input id="et-desc" value={description} onChange={(e) => setDescription(e.target.value)} />
          </Field>
        </div>
        <Field label="JSON Schema (optional)" htmlFor="et-schema" hint="Published payloads must match it.">
          <textarea id="et-schema" className="mono" rows={6} value={schema} onChange={(e) => setSchema(e.target.value)} placeholder='{"type": "object", "properties": {"id": {"type": "string"}}}' />
        </Field>
        {problem ? <div className="error-box">{problem}</div> : null}
        <ErrorBox error={create.error} title="Not created" />
        <div className="form-actions">
          <button type="button" className="btn" onClick={() => setOpen(false)}>
            Cancel
          </button>
          <button type="submit" className="btn btn-primary" disabled={create.pending || !name.trim()}>
            Create
          </button>
        </div>
      </form>
    </Card>
  );
}
