import { useState } from 'preact/hooks';
import { call } from '../api';
import type { Schemas } from '../api';
import type { PageProps } from '../app';
import type { Scope } from '../session';
import { ErrorBox, Section, Time, useAction, useLoad } from '../ui';

const SCOPES: Scope[] = ['events:write', 'events:read', 'webhooks:manage', 'stream:read', 'admin'];

function CreateKey({
  api,
  onCreated,
}: Pick<PageProps, 'api'> & { onCreated: (k: Schemas['CreatedApiKey']) => void }) {
  const [name, setName] = useState('');
  const [scopes, setScopes] = useState<Scope[]>(['events:read']);
  const action = useAction();
  return (
    <form
      class="row"
      aria-label="create key"
      onSubmit={(e) => {
        e.preventDefault();
        action.run(async () =>
          onCreated(await call(api.POST('/api/v1/api-keys', { body: { name, scopes } }))),
        );
      }}
    >
      <input
        name="keyName"
        placeholder="name"
        required
        value={name}
        onInput={(e) => setName(e.currentTarget.value)}
      />
      {SCOPES.map((s) => (
        <label key={s}>
          <input
            type="checkbox"
            name={`scope-${s}`}
            checked={scopes.includes(s)}
            onChange={(e) =>
              setScopes(e.currentTarget.checked ? [...scopes, s] : scopes.filter((x) => x !== s))
            }
          />{' '}
          {s}
        </label>
      ))}
      <button type="submit" disabled={action.busy}>
        Create key
      </button>
      <ErrorBox error={action.error} />
    </form>
  );
}

function Limits({ api }: Pick<PageProps, 'api'>) {
  const limits = useLoad(() => call(api.GET('/api/v1/tenant/limits')), []);
  const [rest, setRest] = useState<string | undefined>();
  const [ingest, setIngest] = useState<string | undefined>();
  const save = useAction();
  const l = limits.data;
  // empty = the gateway's default limit (null in the API)
  const value = (v: string | undefined, current: number | null | undefined) =>
    v ?? (current === null || current === undefined ? '' : String(current));
  const parse = (v: string) => (v.trim() === '' ? null : Number(v));
  return (
    <form
      class="row"
      aria-label="tenant limits"
      onSubmit={(e) => {
        e.preventDefault();
        save.run(async () => {
          await call(
            api.PATCH('/api/v1/tenant/limits', {
              body: {
                rest_requests_per_minute: parse(value(rest, l?.rest_requests_per_minute)),
                ingest_events_per_second: parse(value(ingest, l?.ingest_events_per_second)),
              },
            }),
          );
          limits.reload();
        });
      }}
    >
      <ErrorBox error={limits.error} />
      <label>
        REST requests/min{' '}
        <input
          name="restLimit"
          type="number"
          min="1"
          placeholder="default"
          value={value(rest, l?.rest_requests_per_minute)}
          onInput={(e) => setRest(e.currentTarget.value)}
        />
      </label>
      <label>
        ingest events/s{' '}
        <input
          name="ingestLimit"
          type="number"
          min="1"
          placeholder="default"
          value={value(ingest, l?.ingest_events_per_second)}
          onInput={(e) => setIngest(e.currentTarget.value)}
        />
      </label>
      <button type="submit" disabled={save.busy}>
        Save limits
      </button>
      <ErrorBox error={save.error} />
    </form>
  );
}

/** API keys of the tenant (create: shown once; revoke) and its rate limits. */
export function KeysPage({ api }: PageProps) {
  const [created, setCreated] = useState<Schemas['CreatedApiKey'] | undefined>();
  const keys = useLoad(() => call(api.GET('/api/v1/api-keys')), [created]);
  const revoke = useAction();
  return (
    <>
      <Section title="New key">
        <CreateKey api={api} onCreated={setCreated} />
        {created && (
          <div class="once" role="status">
            <p>
              Key <strong>{created.name}</strong> ({created.scopes.join(' ')}), shown only now:
            </p>
            <code class="secret">{created.key}</code>
          </div>
        )}
      </Section>
      <Section title="Keys">
        <ErrorBox error={keys.error ?? revoke.error} />
        <table>
          <thead>
            <tr>
              <th>name</th>
              <th>scopes</th>
              <th>created</th>
              <th>last used</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {keys.data?.data.map((k) => (
              <tr key={k.id}>
                <td>
                  {k.name} <code class="muted">{k.id}</code>
                </td>
                <td>{k.scopes.join(' ')}</td>
                <td>
                  <Time at={k.created_at} />
                </td>
                <td>
                  <Time at={k.last_used_at} />
                </td>
                <td>
                  <button
                    disabled={revoke.busy}
                    onClick={() =>
                      revoke.run(async () => {
                        await call(
                          api.DELETE('/api/v1/api-keys/{id}', { params: { path: { id: k.id } } }),
                        );
                        keys.reload();
                      })
                    }
                  >
                    Revoke
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </Section>
      <Section title="Tenant rate limits">
        <Limits api={api} />
      </Section>
    </>
  );
}
