import { call } from '../api';
import type { PageProps } from '../app';
import { link } from '../routes';
import { allows } from '../session';
import { ErrorBox, Json, Section, Status, Time, useLoad } from '../ui';

/** A value in monospace, or a muted dash when there is none. */
function Code({ text }: { text: string | null }) {
  return text === null ? <span class="muted">—</span> : <code>{text}</code>;
}

/** One event: its envelope, its revisions, and what each eworker and endpoint did with it. */
export function EventPage({ api, session, id }: PageProps & { id: string }) {
  const event = useLoad(
    () => call(api.GET('/api/v1/events/{id}', { params: { path: { id } } })),
    [id],
  );
  const revisions = useLoad(
    () => call(api.GET('/api/v1/events/{id}/revisions', { params: { path: { id } } })),
    [id],
  );
  const e = event.data;
  const canWebhooks = allows(session, 'webhooks:manage');
  return (
    <>
      <p>
        <a href={link('events')}>← Events</a>
      </p>
      <ErrorBox error={event.error} />
      {e && (
        <>
          <Section title="Envelope">
            <dl class="facts">
              <dt>id</dt>
              <dd>
                <code>{e.event_id}</code>
              </dd>
              <dt>type</dt>
              <dd>{e.event_type}</dd>
              <dt>ordering key</dt>
              <dd data-fact="ordering-key">
                <Code text={e.ordering_key} />
              </dd>
              <dt>timestamp</dt>
              <dd>
                <Time at={e.timestamp} />
              </dd>
              <dt>received</dt>
              <dd>
                <Time at={e.received_at} />
              </dd>
              <dt>published</dt>
              <dd>
                <Time at={e.published_at} />
              </dd>
              {/* the trace context the revision was accepted under: the trace id is what to
                  look the event up by in a tracing backend */}
              <dt>trace id</dt>
              <dd data-fact="trace-id">
                <Code text={e.trace_id} />
              </dd>
              <dt>traceparent</dt>
              <dd data-fact="traceparent">
                <Code text={e.traceparent} />
              </dd>
              {e.tracestate !== null && (
                <>
                  <dt>tracestate</dt>
                  <dd data-fact="tracestate">
                    <code>{e.tracestate}</code>
                  </dd>
                </>
              )}
            </dl>
            <Json
              value={{
                event_id: e.event_id,
                event_type: e.event_type,
                timestamp: e.timestamp,
                revision: e.revision,
                // as webhooks and streams receive it: the key only when the event has one
                ...(e.ordering_key === null ? {} : { ordering_key: e.ordering_key }),
                data: e.data,
              }}
            />
          </Section>
          <Section title="Revisions">
            <ErrorBox error={revisions.error} />
            <table class="revisions">
              <tbody>
                {revisions.data?.data.map((r) => (
                  <tr key={r.revision} data-revision={r.revision}>
                    <td>
                      <span class={r.current ? 'chip current' : 'chip'}>{r.revision}</span>
                    </td>
                    <td>
                      <Time at={r.timestamp} />
                    </td>
                    <td class="muted">
                      received <Time at={r.received_at} />
                    </td>
                    <td>
                      <code class="data">{JSON.stringify(r.data)}</code>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </Section>
          <Section title="Eworkers">
            {e.eworkers.length === 0 && <p class="muted">No eworker handles this type.</p>}
            <table>
              <tbody>
                {e.eworkers.map((w) => (
                  <tr key={`${w.eworker}:${w.revision}`}>
                    <td>
                      <a href={link('eworkers')}>{w.eworker}</a>
                    </td>
                    <td>rev {w.revision}</td>
                    <td>
                      <Status status={w.status} />
                    </td>
                    <td>{w.attempts} attempts</td>
                    <td class="error-text">{w.last_error}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </Section>
          <Section title="Webhook deliveries">
            {/* the delivery service stores a first attempt's row with its outcome */}
            {e.webhooks.length === 0 && (
              <p class="muted" data-empty="webhooks">
                No delivery stored yet: a first attempt stores its delivery when it ends, is put off
                or has been in flight for a second, and none is made when no endpoint subscribes to
                this type.
              </p>
            )}
            <table>
              <tbody>
                {e.webhooks.map((d) => (
                  <tr key={d.delivery_id}>
                    <td>
                      {canWebhooks ? <a href={link('webhooks', d.webhook_id)}>{d.url}</a> : d.url}
                    </td>
                    <td>rev {d.revision}</td>
                    <td>
                      <Status status={d.status} />
                    </td>
                    <td>
                      {d.attempts} attempts
                      {d.last_status_code ? `, HTTP ${d.last_status_code}` : ''}
                    </td>
                    <td>
                      <Time at={d.last_attempt_at} />
                    </td>
                    <td class="error-text">{d.last_error}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </Section>
        </>
      )}
    </>
  );
}
