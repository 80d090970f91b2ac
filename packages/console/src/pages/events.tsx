import { useState } from 'preact/hooks';
import { ApiFailure, call } from '../api';
import type { PageProps } from '../app';
import { Pager, useCursorPages } from '../pager';
import { link } from '../routes';
import { allows } from '../session';
import { ErrorBox, Guarded, Section, Time, useAction, useLoad } from '../ui';

interface Filters {
  type: string;
  since: string;
  until: string;
  id: string;
}

const EMPTY: Filters = { type: '', since: '', until: '', id: '' };
const PAGE_SIZE = 25;

/** `datetime-local` gives local time without a zone; the API wants an ISO instant. */
const toIso = (local: string) => (local ? new Date(local).toISOString() : undefined);

function SendEvent({ api, onSent }: PageProps & { onSent: (id: string) => void }) {
  const [type, setType] = useState('');
  const [data, setData] = useState('{}');
  const action = useAction();
  const submit = (e: Event) => {
    e.preventDefault();
    action.run(async () => {
      let parsed: unknown;
      try {
        parsed = JSON.parse(data);
      } catch {
        throw new ApiFailure({ code: 'invalid_json', message: 'data is not JSON', status: 0 });
      }
      const sent = await call(
        api.POST('/api/v1/events', { body: { event_type: type, data: parsed } }),
      );
      onSent(sent.event_id);
    });
  };
  return (
    <form class="row" onSubmit={submit} aria-label="send event">
      <input
        name="sendType"
        placeholder="order.created"
        required
        value={type}
        onInput={(e) => setType(e.currentTarget.value)}
      />
      <input
        name="sendData"
        class="wide"
        value={data}
        onInput={(e) => setData(e.currentTarget.value)}
      />
      <button type="submit" disabled={action.busy}>
        Send
      </button>
      <ErrorBox error={action.error} />
    </form>
  );
}

/** Events of the tenant, newest first, filtered by type (wildcards), time range or id. */
export function EventsPage(props: PageProps) {
  const { api, session } = props;
  const [draft, setDraft] = useState<Filters>(EMPTY);
  const [filters, setFilters] = useState<Filters>(EMPTY);
  const pages = useCursorPages();
  const { cursor } = pages;
  const [sent, setSent] = useState<string | undefined>(undefined);
  const list = useLoad(async () => {
    if (filters.id) {
      const one = await call(
        api.GET('/api/v1/events/{id}', { params: { path: { id: filters.id } } }),
      );
      return { data: [one], next_cursor: null };
    }
    const query: Record<string, string | number> = { limit: PAGE_SIZE };
    if (filters.type) query.type = filters.type;
    const since = toIso(filters.since);
    const until = toIso(filters.until);
    if (since) query.since = since;
    if (until) query.until = until;
    if (cursor) query.cursor = cursor;
    return call(api.GET('/api/v1/events', { params: { query } }));
  }, [filters, cursor, sent]);
  const set = (k: keyof Filters) => (e: { currentTarget: HTMLInputElement }) =>
    setDraft({ ...draft, [k]: e.currentTarget.value });
  return (
    <>
      <form
        class="row filters"
        onSubmit={(e) => {
          e.preventDefault();
          pages.reset();
          setFilters(draft);
        }}
      >
        <input
          name="type"
          placeholder="type, e.g. order.*"
          value={draft.type}
          onInput={set('type')}
        />
        <label>
          since{' '}
          <input name="since" type="datetime-local" value={draft.since} onInput={set('since')} />
        </label>
        <label>
          until{' '}
          <input name="until" type="datetime-local" value={draft.until} onInput={set('until')} />
        </label>
        <input name="id" placeholder="evt_…" value={draft.id} onInput={set('id')} />
        <button type="submit">Filter</button>
      </form>
      <ErrorBox error={list.error} />
      <table>
        <thead>
          <tr>
            <th>id</th>
            <th>type</th>
            <th>rev</th>
            <th>timestamp</th>
          </tr>
        </thead>
        <tbody>
          {list.data?.data.map((e) => (
            <tr key={e.event_id}>
              <td>
                <a href={link('events', e.event_id)}>
                  <code>{e.event_id}</code>
                </a>
              </td>
              <td>{e.event_type}</td>
              <td>{e.revision}</td>
              <td>
                <Time at={e.timestamp} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {list.data?.data.length === 0 && <p class="muted">No events.</p>}
      <Pager pages={pages} next={list.data?.next_cursor} />
      <Section title="Send an event">
        <Guarded allowed={allows(session, 'events:write')} scope="events:write" title="Send">
          <SendEvent {...props} onSent={(id) => setSent(id)} />
          {sent && (
            <p>
              Sent <a href={link('events', sent)}>{sent}</a>
            </p>
          )}
        </Guarded>
      </Section>
    </>
  );
}
