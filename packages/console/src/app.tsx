import { useMemo, useState } from 'preact/hooks';
import { apiClient, call, errorOf } from './api';
import type { Api, ApiError } from './api';
import { EventsPage } from './pages/events';
import { EventPage } from './pages/event';
import { EworkersPage } from './pages/eworkers';
import { KeysPage } from './pages/keys';
import { LivePage } from './pages/live';
import { WebhookPage } from './pages/webhook';
import { WebhooksPage } from './pages/webhooks';
import { link, useHash } from './routes';
import { allows, defaultStreamUrl, loadSession, saveSession } from './session';
import type { Scope, Session } from './session';
import { ErrorBox, deniedReason } from './ui';

/** What every page gets: the signed-in session and its API client. */
export interface PageProps {
  session: Session;
  api: Api;
}

const PAGES: { path: string; title: string; scope: Scope }[] = [
  { path: 'events', title: 'Events', scope: 'events:read' },
  { path: 'live', title: 'Live', scope: 'stream:read' },
  { path: 'webhooks', title: 'Webhooks', scope: 'webhooks:manage' },
  { path: 'eworkers', title: 'Eworkers', scope: 'admin' },
  { path: 'keys', title: 'Keys and limits', scope: 'admin' },
];

function SignIn({ onSignedIn }: { onSignedIn: (s: Session) => void }) {
  const [credential, setCredential] = useState('');
  const [streamUrl, setStreamUrl] = useState(defaultStreamUrl());
  const [error, setError] = useState<ApiError | undefined>(undefined);
  const [busy, setBusy] = useState(false);
  const submit = (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    // exchanging the credential for a token checks it and tells which scopes it carries
    call(apiClient(credential.trim()).POST('/api/v1/auth/token', { body: {} })).then(
      (token) => {
        setBusy(false);
        onSignedIn({ credential: credential.trim(), scopes: token.scopes, streamUrl });
      },
      (err: unknown) => {
        setBusy(false);
        setError(errorOf(err));
      },
    );
  };
  return (
    <main class="signin">
      <h1>Reten console</h1>
      <form onSubmit={submit}>
        <label>
          API key or token
          <input
            name="credential"
            type="password"
            autoComplete="off"
            required
            value={credential}
            onInput={(e) => setCredential(e.currentTarget.value)}
          />
        </label>
        <label>
          Stream URL
          <input
            name="streamUrl"
            value={streamUrl}
            onInput={(e) => setStreamUrl(e.currentTarget.value)}
          />
        </label>
        <button type="submit" disabled={busy}>
          Sign in
        </button>
        <ErrorBox error={error} />
        <p class="muted">
          The key stays in this tab&apos;s session storage and is sent only to this gateway and the
          stream.
        </p>
      </form>
    </main>
  );
}

/** The console: sign-in, then one page per part of the API the key may use. */
export function App() {
  const [session, setSession] = useState<Session | undefined>(loadSession);
  const parts = useHash();
  const api = useMemo(() => (session ? apiClient(session.credential) : undefined), [session]);
  if (!session || !api) {
    return (
      <SignIn
        onSignedIn={(s) => {
          saveSession(s);
          setSession(s);
          if (!location.hash) location.hash = link('events');
        }}
      />
    );
  }
  const [page = 'events', id] = parts;
  const current = PAGES.find((p) => p.path === page) ?? PAGES[0]!;
  const allowed = allows(session, current.scope);
  const props: PageProps = { session, api };
  let body;
  if (!allowed) {
    body = (
      <div class="denied" data-denied={current.scope}>
        <p class="reason">{deniedReason(current.scope)}</p>
      </div>
    );
  } else if (current.path === 'events') {
    body = id ? <EventPage {...props} id={id} /> : <EventsPage {...props} />;
  } else if (current.path === 'live') {
    body = <LivePage {...props} />;
  } else if (current.path === 'webhooks') {
    body = id ? <WebhookPage {...props} id={id} /> : <WebhooksPage {...props} />;
  } else if (current.path === 'eworkers') {
    body = <EworkersPage {...props} />;
  } else {
    body = <KeysPage {...props} />;
  }
  return (
    <div class="shell">
      <header>
        <strong>Reten</strong>
        <nav>
          {PAGES.map((p) =>
            allows(session, p.scope) ? (
              <a key={p.path} href={link(p.path)} class={p.path === current.path ? 'active' : ''}>
                {p.title}
              </a>
            ) : (
              <span
                key={p.path}
                class="disabled"
                title={deniedReason(p.scope)}
                aria-disabled="true"
              >
                {p.title}
              </span>
            ),
          )}
        </nav>
        <span class="muted scopes">{session.scopes.join(' ')}</span>
        <button
          class="link"
          onClick={() => {
            saveSession(undefined);
            setSession(undefined);
          }}
        >
          Sign out
        </button>
      </header>
      <main>
        <h1>{current.title}</h1>
        {body}
      </main>
    </div>
  );
}
