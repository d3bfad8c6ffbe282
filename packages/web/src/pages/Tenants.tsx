import { useState, type FormEvent } from 'react';
import type { Tenant } from '../api';
import { Card, Empty, ErrorBox, PageHead, PagedTable, Time } from '../components/ui';
import { useAction, usePagedList } from '../hooks';
import { Link, navigate, path } from '../router';
import { useSession } from '../session';

/** Admin: every tenant, and a form to add one. */
export function TenantsPage() {
  const { client } = useSession();
  const list = usePagedList<Tenant>('/v1/tenants?limit=100');
  const [name, setName] = useState('');
  const create = useAction(async (n: string) => client.post<Tenant>('/v1/tenants', { name: n }));

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const t = await create.run(name.trim());
    if (t) navigate(path('t', t.id, 'overview'));
  };

  return (
    <>
      <PageHead title="Tenants" sub="Each tenant has its own endpoints, events and deliveries. Choose one to manage it." />
      <Card title="New tenant">
        <form className="inline-form" onSubmit={(e) => void submit(e)}>
          <label className="sr-only" htmlFor="tenant-name">
            Name
          </label>
          <input id="tenant-name" placeholder="Tenant name, e.g. Acme Inc." value={name} onChange={(e) => setName(e.target.value)} maxLength={200} />
          <button className="btn btn-primary" disabled={!name.trim() || create.pending}>
            Create tenant
          </button>
        </form>
        <ErrorBox error={create.error} />
      </Card>
      <Card title="All tenants">
        <PagedTable
          list={list}
          empty={<Empty title="No tenants yet">Create the first one above, or with POST /v1/tenants.</Empty>}
          head={
            <>
              <th>Name</th>
              <th>Id</th>
              <th className="hide-sm">Created</th>
            </>
          }
          row={(t) => (
            <tr key={t.id}>
              <td>
                <Link to={path('t', t.id, 'overview')}>{t.name}</Link>
              </td>
              <td className="mono">{t.id}</td>
              <td className="hide-sm">
                <Time iso={t.createdAt} />
              </td>
            </tr>
          )}
        />
      </Card>
    </>
  );
}
