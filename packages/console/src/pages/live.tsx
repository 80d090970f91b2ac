import { useEffect, useRef, useState } from 'preact/hooks';
import type { PageProps } from '../app';
import type { Schemas } from '../api';
import { link } from '../routes';
import { Time } from '../ui';

type Envelope = Schemas['EventEnvelope'];

/** Events kept on screen; older ones scroll away (the Events page has them all). */
const KEEP = 200;
const RECONNECT_MS = 1000;

/**
 * The tenant's events as they happen, over the stream service's WebSocket. The page remembers
 * the last event it showed and reconnects with `last_event_id`, so a pause or a dropped
 * connection loses nothing and shows nothing twice (the stream backfills from PostgreSQL).
 */
export function LivePage({ session }: PageProps) {
  const [types, setTypes] = useState('*');
  const [applied, setApplied] = useState('*');
  const [paused, setPaused] = useState(false);
  const [events, setEvents] = useState<Envelope[]>([]);
  const [state, setState] = useState('connecting');
  const last = useRef<string | undefined>(undefined);

  useEffect(() => {
    if (paused) {
      setState('paused');
      return;
    }
    let socket: WebSocket | undefined;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let stopped = false;
    const connect = () => {
      const url = new URL(session.streamUrl);
      url.searchParams.set('token', session.credential);
      url.searchParams.set('types', applied || '*');
      const resumeFrom = last.current;
      const resuming = resumeFrom !== undefined;
      if (resumeFrom !== undefined) url.searchParams.set('last_event_id', resumeFrom);
      setState(resuming ? 'resuming' : 'connecting');
      socket = new WebSocket(url);
      socket.onmessage = (m: MessageEvent<string>) => {
        const frame = JSON.parse(m.data) as Envelope & {
          type?: string;
          backfilled?: number;
          error?: { code: string; message: string };
        };
        if (frame.event_id) {
          last.current = `${frame.event_id}:${frame.revision}`;
          setEvents((list) => [frame, ...list].slice(0, KEEP));
        } else if (frame.type === 'subscribed') {
          // live once the server has joined the channel: `welcome` comes before that, and an
          // event published in between would not be shown (a resume stays `resuming` until
          // its backfill is done, below)
          if (!resuming) setState('live');
        } else if (frame.type === 'resumed') {
          setState(`live (resumed, ${frame.backfilled ?? 0} caught up)`);
        } else if (frame.type === 'error' && frame.error) {
          setState(`error: ${frame.error.code} ${frame.error.message}`);
        }
      };
      socket.onclose = (e) => {
        if (stopped) return;
        // the resume point is gone (4404) or too old (4410): start from now
        if (e.code === 4404 || e.code === 4410) last.current = undefined;
        setState(`disconnected (${e.code}), reconnecting`);
        timer = setTimeout(connect, RECONNECT_MS);
      };
    };
    connect();
    return () => {
      stopped = true;
      if (timer) clearTimeout(timer);
      socket?.close(1000);
    };
  }, [paused, applied, session]);

  return (
    <>
      <form
        class="row"
        onSubmit={(e) => {
          e.preventDefault();
          // a new filter starts from now: the resume point belongs to the old filter
          last.current = undefined;
          setEvents([]);
          setApplied(types);
        }}
      >
        <input
          name="types"
          placeholder="order.*,log:ClientLog"
          value={types}
          onInput={(e) => setTypes(e.currentTarget.value)}
        />
        <button type="submit">Apply</button>
        <button type="button" onClick={() => setPaused(!paused)}>
          {paused ? 'Resume' : 'Pause'}
        </button>
        <span class="state" data-state={state}>
          {state}
        </span>
      </form>
      <table class="live">
        <tbody>
          {events.map((e) => (
            <tr key={`${e.event_id}:${e.revision}`}>
              <td>
                <Time at={e.timestamp} />
              </td>
              <td>{e.event_type}</td>
              <td>
                <a href={link('events', e.event_id)}>
                  <code>{e.event_id}</code>
                </a>
              </td>
              <td>
                <code class="data">{JSON.stringify(e.data)}</code>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {events.length === 0 && <p class="muted">Waiting for events…</p>}
    </>
  );
}
