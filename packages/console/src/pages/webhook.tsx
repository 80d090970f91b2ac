import { useState } from 'preact/hooks';
import { call } from '../api';
import type { Schemas } from '../api';
import type { PageProps } from '../app';
import { DeliveryChart, StatsFacts } from '../chart';
import { link } from '../routes';
import { ErrorBox, Section, useAction, useLoad } from '../ui';
import { Deliveries } from './deliveries';
import { OnceSecret, splitTypes } from './webhooks';

type Endpoint = Schemas['WebhookEndpoint'];

function Settings({
  api,
  endpoint,
  onSaved,
}: Pick<PageProps, 'api'> & { endpoint: Endpoint; onSaved: () => void }) {
  const [types, setTypes] = useState(endpoint.event_types.join(', '));
  const [rate, setRate] = useState(String(endpoint.rate_limit_per_second));
  const save = useAction();
  const patch = (body: Schemas['UpdateWebhookRequest']) =>
    save.run(async () => {
      await call(
        api.PATCH('/api/v1/webhooks/{id}', { params: { path: { id: endpoint.id } }, body }),
      );
      onSaved();
    });
  return (
    <form
      class="row"
      aria-label="endpoint settings"
      onSubmit={(e) => {
        e.preventDefault();
        patch({ event_types: splitTypes(types), rate_limit_per_second: Number(rate) });
      }}
    >
      <label>
        event types{' '}
        <input
          name="eventTypes"
          value={types}
          placeholder="all"
          onInput={(e) => setTypes(e.currentTarget.value)}
        />
      </label>
      <label>
        rate limit/s{' '}
        <input
          name="rateLimit"
          type="number"
          min="1"
          value={rate}
          onInput={(e) => setRate(e.currentTarget.value)}
        />
      </label>
      <button type="submit" disabled={save.busy}>
        Save
      </button>
      <button
        type="button"
        disabled={save.busy}
        onClick={() => patch({ enabled: !endpoint.enabled })}
      >
        {endpoint.enabled ? 'Disable' : 'Enable'}
      </button>
      <ErrorBox error={save.error} />
    </form>
  );
}

function Actions({
  api,
  endpoint,
  onDone,
}: Pick<PageProps, 'api'> & { endpoint: Endpoint; onDone: () => void }) {
  const [grace, setGrace] = useState('86400');
  const [since, setSince] = useState('');
  const [failedOnly, setFailedOnly] = useState(false);
  const [secret, setSecret] = useState<Schemas['RotatedSecret'] | undefined>();
  const [note, setNote] = useState('');
  const action = useAction();
  const id = endpoint.id;
  return (
    <>
      <div class="row">
        <button
          disabled={action.busy}
          onClick={() =>
            action.run(async () => {
              const sent = await call(
                api.POST('/api/v1/webhooks/{id}/test', { params: { path: { id } } }),
              );
              setNote(`Test event ${sent.event_id} sent`);
              onDone();
            })
          }
        >
          Send test event
        </button>
        {endpoint.signing === 'hmac' && (
          <form
            class="row"
            aria-label="rotate secret"
            onSubmit={(e) => {
              e.preventDefault();
              action.run(async () => {
                setSecret(
                  await call(
                    api.POST('/api/v1/webhooks/{id}/rotate-secret', {
                      params: { path: { id } },
                      body: { grace_period_seconds: Number(grace) },
                    }),
                  ),
                );
              });
            }}
          >
            <label>
              grace (s){' '}
              <input
                name="grace"
                type="number"
                min="0"
                value={grace}
                onInput={(e) => setGrace(e.currentTarget.value)}
              />
            </label>
            <button type="submit" disabled={action.busy}>
              Rotate secret
            </button>
          </form>
        )}
      </div>
      <form
        class="row"
        aria-label="replay"
        onSubmit={(e) => {
          e.preventDefault();
          action.run(async () => {
            const result = await call(
              api.POST('/api/v1/webhooks/{id}/replay', {
                params: { path: { id } },
                body: { since: new Date(since).toISOString(), failed_only: failedOnly },
              }),
            );
            setNote(`Replay queued ${result.queued} deliveries`);
            onDone();
          });
        }}
      >
        <label>
          replay since{' '}
          <input
            name="replaySince"
            type="datetime-local"
            step="1"
            required
            value={since}
            onInput={(e) => setSince(e.currentTarget.value)}
          />
        </label>
        <label>
          <input
            type="checkbox"
            checked={failedOnly}
            onChange={(e) => setFailedOnly(e.currentTarget.checked)}
          />{' '}
          failed only
        </label>
        <button type="submit" disabled={action.busy}>
          Replay since
        </button>
      </form>
      {note && (
        <p class="note" role="status">
          {note}
        </p>
      )}
      {secret && (
        <>
          <OnceSecret secret={secret.secret} />
          {secret.previous_secret_expires_at && (
            <p class="muted">
              The previous secret keeps signing until{' '}
              {new Date(secret.previous_secret_expires_at).toLocaleString()}.
            </p>
          )}
        </>
      )}
      <ErrorBox error={action.error} />
    </>
  );
}

/** Chart ranges: span and bucket width, in seconds (at most 1,440 buckets per the API). */
const RANGES = [
  { label: 'last hour', span: 3600, bucket: 60 },
  { label: 'last 24 hours', span: 86_400, bucket: 600 },
  { label: 'last 7 days', span: 604_800, bucket: 3600 },
] as const;

/** One endpoint: settings, actions, statistics with a chart, and its deliveries. */
export function WebhookPage({ api, id }: PageProps & { id: string }) {
  const [refresh, setRefresh] = useState(0);
  const [range, setRange] = useState<number>(1);
  const { span, bucket, label } = RANGES[range] ?? RANGES[1];
  const bump = () => setRefresh((n) => n + 1);
  const endpoint = useLoad(
    () => call(api.GET('/api/v1/webhooks/{id}', { params: { path: { id } } })),
    [id, refresh],
  );
  const stats = useLoad(
    () => call(api.GET('/api/v1/webhooks/{id}/stats', { params: { path: { id } } })),
    [id, refresh],
  );
  const timeline = useLoad(() => {
    // both ends from here, so the range is exactly `span` long (a whole number of buckets)
    const until = Date.now();
    return call(
      api.GET('/api/v1/webhooks/{id}/stats/timeline', {
        params: {
          path: { id },
          query: {
            since: new Date(until - span * 1000).toISOString(),
            until: new Date(until).toISOString(),
            bucket_seconds: bucket,
          },
        },
      }),
    );
  }, [id, refresh, range]);
  const e = endpoint.data;
  return (
    <>
      <p>
        <a href={link('webhooks')}>← Webhooks</a>
      </p>
      <ErrorBox error={endpoint.error} />
      {e && (
        <>
          <h2>
            {e.url}{' '}
            <span class={e.enabled ? 'status status-succeeded' : 'status status-failed'}>
              {e.enabled ? 'enabled' : 'disabled'}
            </span>
          </h2>
          {e.disabled_reason && <p class="error-text">{e.disabled_reason}</p>}
          <p class="muted">
            <code>{e.id}</code> · signing {e.signing} · {e.description}
          </p>
          <Section title="Settings">
            <Settings key={e.updated_at} api={api} endpoint={e} onSaved={bump} />
          </Section>
          <Section title="Actions">
            <Actions api={api} endpoint={e} onDone={bump} />
          </Section>
        </>
      )}
      <Section title="Statistics">
        <ErrorBox error={stats.error ?? timeline.error} />
        {stats.data && <StatsFacts stats={stats.data} />}
        {timeline.data && <DeliveryChart buckets={timeline.data.buckets} />}
        <p class="muted">
          Attempts per {bucket / 60} minutes over the {label}: green succeeded, red failed.{' '}
          <select
            name="range"
            value={String(range)}
            onChange={(ev) => setRange(Number(ev.currentTarget.value))}
          >
            {RANGES.map((r, i) => (
              <option key={r.label} value={String(i)}>
                {r.label}
              </option>
            ))}
          </select>
        </p>
      </Section>
      <Section title="Deliveries">
        <Deliveries api={api} webhookId={id} refresh={refresh} onChange={bump} />
      </Section>
    </>
  );
}
