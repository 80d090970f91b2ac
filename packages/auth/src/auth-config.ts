import { createPrivateKey, createPublicKey } from 'node:crypto';
import { z } from 'zod';
import { ConfigError, intVar } from '@reten/config';
import type { Logger } from '@reten/observability';
import type { JwtOptions } from './jwt';

/**
 * The published development default of JWT_SECRET. Anyone who has read this file can sign an
 * `admin` token with it, so a process refuses to start with it unless RETEN_ENV=development.
 */
export const DEV_JWT_SECRET = 'reten-dev-jwt-secret-change-me';

const MIN_SECRET_LENGTH = 16;

/** Config keys of every service that authenticates callers (spread into its config shape). */
export const authConfig = {
  RETEN_ENV: z
    .enum(['production', 'development'])
    .default('production')
    .describe(
      '`development` only on a machine of your own: accepts the published development JWT_SECRET (`pnpm start` and docker-compose.yml set it); `production` refuses it',
    ),
  JWT_ALGORITHM: z
    .enum(['HS256', 'RS256'])
    .default('HS256')
    .describe('How access tokens are signed: HS256 with JWT_SECRET, RS256 with the PEM keys'),
  JWT_SECRET: z
    .string()
    .min(MIN_SECRET_LENGTH)
    .default(DEV_JWT_SECRET)
    .describe(
      'HS256 signing secret; the default is published and refused unless RETEN_ENV=development',
    ),
  JWT_SECRET_PREVIOUS: z
    .string()
    .refine((v) => v === '' || v.length >= MIN_SECRET_LENGTH, {
      message: `must be empty or at least ${MIN_SECRET_LENGTH} characters`,
    })
    .default('')
    .describe(
      'HS256: a second secret accepted when verifying, never used to sign (key rotation); empty = none',
    ),
  JWT_PRIVATE_KEY: z
    .string()
    .default('')
    .describe('RS256 PEM private key (gateway only; `\\n` escapes allowed)'),
  JWT_PUBLIC_KEY: z
    .string()
    .default('')
    .describe('RS256 PEM public key used to verify tokens (`\\n` escapes allowed)'),
  JWT_PUBLIC_KEY_PREVIOUS: z
    .string()
    .default('')
    .describe(
      'RS256: a second PEM public key accepted when verifying (key rotation); empty = none',
    ),
  JWT_ISSUER: z.string().min(1).default('reten').describe('`iss` of issued and accepted tokens'),
  JWT_AUDIENCE: z
    .string()
    .min(1)
    .default('reten-api')
    .describe('`aud` of issued and accepted tokens'),
  JWT_TTL_SECONDS: intVar(
    900,
    10,
    86_400,
    'Lifetime of an issued access token, and the longest `exp` − `iat` accepted',
  ),
  AUTH_KEY_CACHE_TTL_MS: intVar(
    300_000,
    0,
    3_600_000,
    'How long a looked-up API key is cached (revocations invalidate it at once via NOTIFY)',
  ),
};

type AuthConfigValues = { [K in keyof typeof authConfig]: z.infer<(typeof authConfig)[K]> };

function pem(value: string): string {
  return value.replace(/\\n/g, '\n');
}

function parses(make: () => unknown): boolean {
  try {
    make();
    return true;
  } catch {
    return false;
  }
}

const PUBLISHED_SECRET =
  'the published development default is refused unless RETEN_ENV=development: set a secret of your own (e.g. `openssl rand -base64 32`)';

function authConfigProblems(config: AuthConfigValues, signs: boolean): string[] {
  const problems: string[] = [];
  if (config.JWT_ALGORITHM === 'RS256') {
    if (!config.JWT_PUBLIC_KEY)
      problems.push('JWT_PUBLIC_KEY: required when JWT_ALGORITHM is RS256');
    if (signs && !config.JWT_PRIVATE_KEY) {
      problems.push('JWT_PRIVATE_KEY: required to issue tokens when JWT_ALGORITHM is RS256');
    }
    for (const key of ['JWT_PUBLIC_KEY', 'JWT_PUBLIC_KEY_PREVIOUS'] as const) {
      if (config[key] && !parses(() => createPublicKey(pem(config[key])))) {
        problems.push(`${key}: not a PEM public key`);
      }
    }
    if (config.JWT_PRIVATE_KEY && !parses(() => createPrivateKey(pem(config.JWT_PRIVATE_KEY)))) {
      problems.push('JWT_PRIVATE_KEY: not a PEM private key');
    }
  } else if (config.RETEN_ENV !== 'development') {
    if (config.JWT_SECRET === DEV_JWT_SECRET) problems.push(`JWT_SECRET: ${PUBLISHED_SECRET}`);
    if (config.JWT_SECRET_PREVIOUS === DEV_JWT_SECRET) {
      problems.push(`JWT_SECRET_PREVIOUS: ${PUBLISHED_SECRET}`);
    }
  }
  return problems;
}

/**
 * Throws ConfigError when the JWT settings cannot work or are unsafe: RS256 needs
 * JWT_PUBLIC_KEY, and a service that issues tokens (`signs`) also JWT_PRIVATE_KEY; HS256
 * with the published development secret needs RETEN_ENV=development. Call it right after
 * loadConfig, so the process exits 2 naming the variable.
 */
export function checkAuthConfig(config: AuthConfigValues, options: { signs: boolean }): void {
  const problems = authConfigProblems(config, options.signs);
  if (problems.length > 0) throw new ConfigError(problems);
}

/**
 * JwtOptions from parsed config. Refuses (ConfigError) what `checkAuthConfig` refuses, so no
 * caller can skip the check; warns once when the development secret is accepted.
 */
export function jwtOptionsFromConfig(config: AuthConfigValues, log: Logger): JwtOptions {
  const problems = authConfigProblems(config, false);
  if (problems.length > 0) throw new ConfigError(problems);
  const common = {
    issuer: config.JWT_ISSUER,
    audience: config.JWT_AUDIENCE,
    ttlSeconds: config.JWT_TTL_SECONDS,
  };
  if (config.JWT_ALGORITHM === 'RS256') {
    return {
      ...common,
      algorithm: 'RS256',
      publicKey: pem(config.JWT_PUBLIC_KEY),
      ...(config.JWT_PUBLIC_KEY_PREVIOUS
        ? { previousPublicKey: pem(config.JWT_PUBLIC_KEY_PREVIOUS) }
        : {}),
      ...(config.JWT_PRIVATE_KEY ? { privateKey: pem(config.JWT_PRIVATE_KEY) } : {}),
    };
  }
  if (config.JWT_SECRET === DEV_JWT_SECRET || config.JWT_SECRET_PREVIOUS === DEV_JWT_SECRET) {
    log.warn(
      { RETEN_ENV: config.RETEN_ENV },
      'development mode: tokens signed with the published development JWT_SECRET are accepted',
    );
  }
  return {
    ...common,
    algorithm: 'HS256',
    secret: config.JWT_SECRET,
    ...(config.JWT_SECRET_PREVIOUS ? { previousSecret: config.JWT_SECRET_PREVIOUS } : {}),
  };
}
