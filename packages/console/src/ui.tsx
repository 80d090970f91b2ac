import type { ComponentChildren } from 'preact';
import { useCallback, useEffect, useState } from 'preact/hooks';
import { errorOf } from './api';
import type { ApiError } from './api';

export interface Loaded<T> {
  data: T | undefined;
  error: ApiError | undefined;
  loading: boolean;
  reload: () => void;
}

/** Runs `load` now and whenever `deps` change or `reload()` is called; keeps the last data. */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[]): Loaded<T> {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<ApiError | undefined>(undefined);
  const [loading, setLoading] = useState(true);
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let current = true;
    setLoading(true);
    load().then(
      (d) => {
        if (!current) return;
        setData(d);
        setError(undefined);
        setLoading(false);
      },
      (e: unknown) => {
        if (!current) return;
        setError(errorOf(e));
        setLoading(false);
      },
    );
    return () => {
      current = false;
    };
  }, [...deps, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { data, error, loading, reload };
}

/** An action button that shows its own progress and error. */
export function useAction(): {
  busy: boolean;
  error: ApiError | undefined;
  run: (action: () => Promise<void>) => void;
} {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | undefined>(undefined);
  const run = (action: () => Promise<void>) => {
    setBusy(true);
    setError(undefined);
    action().then(
      () => setBusy(false),
      (e: unknown) => {
        setError(errorOf(e));
        setBusy(false);
      },
    );
  };
  return { busy, error, run };
}

export function ErrorBox({ error }: { error: ApiError | undefined }) {
  if (!error) return null;
  return (
    <p class="error" role="alert">
      <code>{error.code}</code> {error.message}
      {error.details?.map((d) => (
        <span key={d.path}>
          {' '}
          · <code>{d.path}</code>: {d.message}
        </span>
      ))}
    </p>
  );
}

export function Time({ at }: { at: string | null | undefined }) {
  if (!at) return <span class="muted">—</span>;
  return (
    <time dateTime={at} title={at}>
      {new Date(at).toLocaleString()}
    </time>
  );
}

export function Status({ status }: { status: string }) {
  return <span class={`status status-${status}`}>{status}</span>;
}

export function Section({ title, children }: { title: string; children: ComponentChildren }) {
  return (
    <section>
      <h2>{title}</h2>
      {children}
    </section>
  );
}

/** The reason a part of a page is greyed out. */
export function deniedReason(scope: string): string {
  return `This key lacks the ${scope} scope (or admin).`;
}

/**
 * A part of a page the key may not use: greyed out with the reason, and not rendered (so it
 * makes no call the key would be refused).
 */
export function Guarded({
  allowed,
  scope,
  title,
  children,
}: {
  allowed: boolean;
  scope: string;
  title: string;
  children: ComponentChildren;
}) {
  if (allowed) return <>{children}</>;
  return (
    <div class="denied" aria-disabled="true" data-denied={scope}>
      <h3>{title}</h3>
      <p class="reason">{deniedReason(scope)}</p>
    </div>
  );
}

export function Json({ value }: { value: unknown }) {
  return <pre class="json">{JSON.stringify(value, null, 2)}</pre>;
}
