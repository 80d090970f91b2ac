import type { Lifecycle } from './lifecycle';

/** One dependency check for `/readyz`: resolves when the dependency answers. */
export interface ReadinessCheck {
  name: string;
  check: () => Promise<void>;
  /** When false, a failing check is reported but does not make the service unready. */
  required?: boolean;
}

export interface ReadinessReport {
  ready: boolean;
  state: string;
  checks: Record<string, { ok: boolean; error?: string }>;
}

async function withTimeout(promise: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
  });
  try {
    await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Runs every check in parallel, each bounded by `timeoutMs`. */
export async function checkReadiness(
  lifecycle: Lifecycle,
  checks: ReadinessCheck[],
  timeoutMs = 2000,
): Promise<ReadinessReport> {
  const results = await Promise.all(
    checks.map(async (c) => {
      try {
        await withTimeout(c.check(), timeoutMs);
        return [c.name, { ok: true }, c.required !== false] as const;
      } catch (err) {
        const error = err instanceof Error ? err.message : String(err);
        return [c.name, { ok: false, error }, c.required !== false] as const;
      }
    }),
  );
  const ready =
    lifecycle.state === 'running' && results.every(([, r, required]) => r.ok || !required);
  return {
    ready,
    state: lifecycle.state,
    checks: Object.fromEntries(results.map(([name, r]) => [name, r])),
  };
}

/**
 * A check of in-process state (a connection flag, a client status): passes while `problem`
 * returns undefined, fails with its text otherwise. `required: false` reports without gating.
 */
export function stateCheck(
  name: string,
  problem: () => string | undefined,
  required = true,
): ReadinessCheck {
  return {
    name,
    required,
    check: () => {
      const text = problem();
      return text === undefined ? Promise.resolve() : Promise.reject(new Error(text));
    },
  };
}
