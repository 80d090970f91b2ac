import { useState } from 'preact/hooks';
import { call } from '../api';
import type { PageProps } from '../app';
import { link } from '../routes';
import { ErrorBox, Section, Status, Time, useAction, useLoad } from '../ui';

function Parked({
  api,
  name,
  version,
  onReplayed,
}: Pick<PageProps, 'api'> & {
  name: string;
  /** Bumped by the page's Refresh: reload. */
  version: number;
  onReplayed: () => void;
}) {
  const [refresh, setRefresh] = useState(0);
  const [note, setNote] = useState('');
  const parked = useLoad(
    () =>
      call(
        api.GET('/api/v1/eworkers/{name}/parked', {
          params: { path: { name }, query: { limit: 100 } },
        }),
      ),
    [name, refresh, version],
  );
  const replay = useAction();
  return (
    <div class="parked" data-eworker={name}>
      <ErrorBox error={parked.error ?? replay.error} />
      {parked.data && parked.data.data.length > 0 && (
        <>
          <table>
            <tbody>
              {parked.data.data.map((p) => (
                <tr key={`${p.event_id}:${p.revision}`} data-parked={p.event_id}>
                  <td>
                    <a href={link('events', p.event_id)}>
                      <code>{p.event_id}</code>
                    </a>{' '}
                    rev {p.revision}
                  </td>
                  <td>{p.event_type}</td>
                  <td>
                    <Status status={p.status} />
                  </td>
                  <td>{p.attempts} attempts</td>
                  <td class="error-text">{p.last_error}</td>
                  <td>
                    <Time at={p.updated_at} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <button
            disabled={replay.busy}
            onClick={() =>
              replay.run(async () => {
                const result = await call(
                  api.POST('/api/v1/eworkers/{name}/parked/replay', { params: { path: { name } } }),
                );
                setNote(`Replayed ${result.replayed}`);
                setRefresh((n) => n + 1);
                onReplayed();
              })
            }
          >
            Replay parked
          </button>
        </>
      )}
      {parked.data?.data.length === 0 && <p class="muted">Nothing parked.</p>}
      {note && <p role="status">{note}</p>}
    </div>
  );
}

/** Every registered eworker: its types, backlog, counts, and its parked events. */
export function EworkersPage({ api }: PageProps) {
  // one refresh for the counts and every parked list
  const [version, setVersion] = useState(0);
  const list = useLoad(() => call(api.GET('/api/v1/eworkers')), [version]);
  const refresh = () => setVersion((v) => v + 1);
  return (
    <>
      <div class="row">
        <button onClick={refresh}>Refresh</button>
      </div>
      <ErrorBox error={list.error} />
      {list.data?.data.length === 0 && <p class="muted">No eworker registered.</p>}
      {list.data?.data.map((w) => (
        <Section key={w.name} title={w.name}>
          <dl class="facts">
            <dt>types</dt>
            <dd>{w.types.join(', ')}</dd>
            <dt>backlog</dt>
            <dd>
              {w.queue_depth ?? '—'} in <code>{w.queue}</code>, {w.consumers ?? '—'} consumers
            </dd>
            <dt>processed / failed / parked</dt>
            <dd data-counts={w.name}>
              {w.processed} / {w.failed} / {w.parked}
            </dd>
            <dt>last processed</dt>
            <dd>
              <Time at={w.last_processed_at} />
            </dd>
          </dl>
          <Parked api={api} name={w.name} version={version} onReplayed={refresh} />
        </Section>
      ))}
    </>
  );
}
