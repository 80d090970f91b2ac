import { z } from 'zod';

/** A config schema: one key per environment variable, each with a default and a description. */
export type ConfigShape = Record<string, z.ZodType>;

/** Thrown when the environment does not satisfy a service's config schema. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

/** Variables with this prefix are ours: an unknown one is a typo or a renamed key, and fails. */
export const OWN_PREFIX = 'RETEN_';

/**
 * Parses the environment with a service's zod schema. Every problem names its variable;
 * an unknown `RETEN_*` variable fails too, so a renamed key cannot be silently ignored.
 */
export function loadConfig<S extends ConfigShape>(
  shape: S,
  env: NodeJS.ProcessEnv = process.env,
): z.infer<z.ZodObject<S>> {
  const schema = z.object(shape);
  const input: Record<string, string> = {};
  for (const key of Object.keys(shape)) {
    const value = env[key];
    if (value !== undefined && value !== '') input[key] = value;
  }
  const problems: string[] = [];
  for (const key of Object.keys(env)) {
    if (key.startsWith(OWN_PREFIX) && !(key in shape)) {
      problems.push(`${key}: unknown variable (not used by this service)`);
    }
  }
  const parsed = schema.safeParse(input);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const key = issue.path.join('.');
      problems.push(`${key}: ${issue.message} (got ${JSON.stringify(input[key] ?? null)})`);
    }
  }
  if (problems.length > 0 || !parsed.success) throw new ConfigError(problems);
  return parsed.data;
}

interface DocumentedProperty {
  default?: unknown;
  description?: string;
}

/** A markdown table of a config schema: variable, default, description. */
export function configTable(shape: ConfigShape): string {
  const json = z.toJSONSchema(z.object(shape), { io: 'input', unrepresentable: 'any' }) as {
    properties?: Record<string, DocumentedProperty>;
  };
  const rows = Object.keys(shape).map((key) => {
    const prop = json.properties?.[key] ?? {};
    // JSON Schema drops some defaults (a boolean on z.stringbool's string input): ask zod itself.
    const parsed = prop.default === undefined ? shape[key]?.safeParse(undefined) : undefined;
    const fallback: unknown = parsed?.success ? parsed.data : undefined;
    const value = prop.default ?? fallback;
    const def = value === undefined ? '(required)' : `\`${JSON.stringify(value)}\``;
    return `| \`${key}\` | ${def} | ${(prop.description ?? '').replace(/\|/g, '\\|')} |`;
  });
  return ['| variable | default | description |', '| --- | --- | --- |', ...rows].join('\n');
}
