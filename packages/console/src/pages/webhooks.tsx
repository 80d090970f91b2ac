import { useState } from 'preact/hooks';
import { call } from '../api';
import type { Schemas } from '../api';
import type { PageProps } from '../app';
import { link } from '../routes';
import { ErrorBox, Section, useAction, useLoad } from '../ui';

/** `a, b c` → `['a','b','c']`: event type filters as typed by a person. */
export const splitTypes = (text: string) =>
  text
    .split(/[\s,]+/)
    .map((t) => t.trim())
    .filter((t) => t.length > 0);

/** A secret the API shows only once: the console says so and never stores it. */
export function OnceSecret({ secret }: { secret: string }) {
  return (
    <div class="once" role="status">
      <p>Signing secret (shown only now; copy it to your receiver):</p>
      <code class="secret">{secret}</code>
    </div>
  );
}

function CreateWebhook({
  api,
  onCreated,
}: PageProps & { onCreated: (w: Schemas['CreatedWebhookEndpoint']) => void }) {
  const [url, setUrl] = useState('');
  const [description, setDescription] = useState('');
  const [types, setTypes] = useState('');
  const [rate, setRate] = useState('');
  const action = useAction();
  const submit = (e: Event) => {
    e.preventDefault();
    action.run(async () => {
      const body: Schemas['UpdateWebhookRequest'] & { url: string } = {
        url,
        description,
        event_types: splitTypes(types),
      };
      if (rate) body.rate_limit_per_second = Number(rate);
      // the create schema has defaults for the fields left out
      const created = await call(
        api.POST('/api/v1/webhooks', { body: body as Schemas['CreateWebhookRequest'] }),
      );
      onCreated(created);
    });
  };
  return (
    <form class="row" onSubmit={submit} aria-label="create webhook">
      <input
        name="url"
        class="wide"
        placeholder="https://example.com/webhooks"
        required
        value={url}
        onInput={(e) => setUrl(e.currentTarget.value)}
      />
      <input
        name="description"
        placeholder="description"
        value={description}
        onInput={(e) => setDescription(e.currentTarget.value)}
      />
      <input
        name="eventTypes"
        placeholder="types: order.*, user.created (empty = all)"
        value={types}
        onInput={(e) => setTypes(e.currentTarget.value)}
      />
      <input
        name="rateLimit"
        type="number"
        min="1"
        placeholder="per second"
        value={rate}
        onInput={(e) => setRate(e.currentTarget.value)}
      />
      <button type="submit" disabled={action.busy}>
        Create
      </button>
      <ErrorBox error={action.error} />
    </form>
  );
}

/** The tenant's webhook endpoints, and a form to add one. */
export function WebhooksPage(props: PageProps) {
  const { api } = props;
  const [created, setCreated] = useState<Schemas['CreatedWebhookEndpoint'] | undefined>();
  const list = useLoad(
    () => call(api.GET('/api/v1/webhooks', { params: { query: { limit: 100 } } })),
    [created],
  );
  return (
    <>
      <Section title="New endpoint">
        <CreateWebhook {...props} onCreated={setCreated} />
        {created && (
          <>
            <p>
              Created <a href={link('webhooks', created.id)}>{created.url}</a>
            </p>
            {created.secret && <OnceSecret secret={created.secret} />}
          </>
        )}
      </Section>
      <Section title="Endpoints">
        <ErrorBox error={list.error} />
        <table>
          <thead>
            <tr>
              <th>url</th>
              <th>types</th>
              <th>rate/s</th>
              <th>state</th>
            </tr>
          </thead>
          <tbody>
            {list.data?.data.map((w) => (
              <tr key={w.id}>
                <td>
                  <a href={link('webhooks', w.id)}>{w.url}</a>
                  {w.description && <span class="muted"> {w.description}</span>}
                </td>
                <td>{w.event_types.length ? w.event_types.join(', ') : 'all'}</td>
                <td>{w.rate_limit_per_second}</td>
                <td>{w.enabled ? 'enabled' : `disabled ${w.disabled_reason ?? ''}`}</td>
              </tr>
            ))}
          </tbody>
        </table>
        {list.data?.data.length === 0 && <p class="muted">No endpoints yet.</p>}
      </Section>
    </>
  );
}
