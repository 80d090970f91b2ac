import { useState } from 'preact/hooks';
import { call } from '../api';
import type { Schemas } from '../api';
import type { PageProps } from '../app';
import { Pager, useCursorPages } from '../pager';
import { link } from '../routes';
import { ErrorBox, Status, Time, useAction, useLoad } from '../ui';

type DeliveryStatus = Schemas['WebhookDelivery']['status'];
const STATUSES: DeliveryStatus[] = ['pending', 'succeeded', 'retrying', 'failed'];

function Attempts({ delivery }: { delivery: Schemas['WebhookDelivery'] }) {
  return (
    <table class="attempts">
      <tbody>
        {delivery.attempt_log.map((a) => (
          <tr key={a.attempt} data-attempt={a.attempt}>
            <td>#{a.attempt}</td>
            <td>
              <Time at={a.started_at} />
            </td>
            <td class={a.succeeded ? 'ok-text' : 'error-text'}>
              {a.status_code ? `HTTP ${a.status_code}` : (a.phase ?? 'error')}
            </td>
            <td>{a.latency_ms} ms</td>
            <td>
              {a.error && <span class="error-text">{a.error} </span>}
              {/* the API keeps the first KiB of the receiver's answer */}
              {a.response_excerpt && <code class="excerpt">{a.response_excerpt}</code>}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function DeliveryRow({
  api,
  delivery,
  onChange,
}: Pick<PageProps, 'api'> & { delivery: Schemas['WebhookDelivery']; onChange: () => void }) {
  const retry = useAction();
  return (
    <tr data-delivery={delivery.id} data-event={delivery.event_id}>
      <td>
        <a href={link('events', delivery.event_id)}>
          <code>{delivery.event_id}</code>
        </a>
        <div class="muted">
          {delivery.event_type} rev {delivery.revision}
        </div>
      </td>
      <td>
        <Status status={delivery.status} />
        <div class="muted">{delivery.attempts} attempts</div>
      </td>
      <td>
        <Attempts delivery={delivery} />
      </td>
      <td>
        <button
          disabled={retry.busy}
          onClick={() =>
            retry.run(async () => {
              await call(
                api.POST('/api/v1/deliveries/{id}/retry', {
                  params: { path: { id: delivery.id } },
                }),
              );
              onChange();
            })
          }
        >
          Retry
        </button>
        <ErrorBox error={retry.error} />
      </td>
    </tr>
  );
}

/** An endpoint's deliveries, newest first, every attempt, with retry. */
export function Deliveries({
  api,
  webhookId,
  refresh,
  onChange,
}: Pick<PageProps, 'api'> & {
  webhookId: string;
  /** Bumped by the page: reload. */
  refresh: number;
  /** Reloads the whole endpoint page (statistics too). */
  onChange: () => void;
}) {
  const [status, setStatus] = useState<DeliveryStatus | ''>('');
  const pages = useCursorPages();
  const { cursor } = pages;
  const list = useLoad(() => {
    const query: { limit: number; status?: DeliveryStatus; cursor?: string } = { limit: 25 };
    if (status) query.status = status;
    if (cursor) query.cursor = cursor;
    return call(
      api.GET('/api/v1/webhooks/{id}/deliveries', { params: { path: { id: webhookId }, query } }),
    );
  }, [webhookId, status, cursor, refresh]);
  return (
    <>
      <div class="row">
        <label>
          status{' '}
          <select
            name="status"
            value={status}
            onChange={(e) => {
              pages.reset();
              setStatus(e.currentTarget.value as DeliveryStatus | '');
            }}
          >
            <option value="">any</option>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <button onClick={onChange}>Refresh</button>
      </div>
      <ErrorBox error={list.error} />
      <table class="deliveries">
        <tbody>
          {list.data?.data.map((d) => (
            <DeliveryRow key={d.id} api={api} delivery={d} onChange={onChange} />
          ))}
        </tbody>
      </table>
      {list.data?.data.length === 0 && <p class="muted">No deliveries.</p>}
      <Pager pages={pages} next={list.data?.next_cursor} />
    </>
  );
}
