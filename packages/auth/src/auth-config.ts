import { createPrivateKey, createPublicKey } from 'node:crypto';
import { z } from 'zod';
import { ConfigError, intVar } from '@reten/config';
import type { Logger } from '@reten/observability';
import type { JwtOptions } from './jwt';

/** The development default of JWT_SECRET: fine on a laptop, logged as a warning everywhere. */
export const DEV_JWT_SECRET = 'reten-dev-jwt-secret-change-me';

/** Config keys of every service that authenticates callers (spread into its config shape). */
export const authConfig = {
  JWT_ALGORITHM: z
    .enum(['HS256', 'RS256'])
    .default('HS256')
    .describe('How access tokens are signed: HS256 with JWT_SECRET, RS256 with the PEM keys'),
  JWT_SECRET: z
    .string()
    .min(16)
    .default(DEV_JWT_SECRET)
    .describe('HS256 signing secret (the default is for development only and is warned about)'),
  JWT_PRIVATE_KEY: z
    .string()
    .default('')
    .describe('RS256 PEM private key (gateway only; `\\n` escapes allowed)'),
  JWT_PUBLIC_KEY: z
    .string()
    .default('')
    .describe('RS256 PEM public key used to verify tokens (`\\n` escapes allowed)'),
  JWT_ISSUER: z.string().min(1).default('reten').describe('`iss` of issued and accepted tokens'),
  JWT_AUDIENCE: z
    .string()
    .min(1)
    .default('reten-api')
    .describe('`aud` of issued and accepted tokens'),
  JWT_TTL_SECONDS: intVar(900, 10, 86_400, 'Lifetime of an access token'),
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

/**
 * Throws ConfigError when the JWT settings cannot work: RS256 needs JWT_PUBLIC_KEY, and a
 * service that issues tokens (`signs`) also JWT_PRIVATE_KEY. Call it right after loadConfig.
 */
export function checkAuthConfig(config: AuthConfigValues, options: { signs: boolean }): void {
  const problems: string[] = [];
  if (config.JWT_ALGORITHM === 'RS256') {
    if (!config.JWT_PUBLIC_KEY)
      problems.push('JWT_PUBLIC_KEY: required when JWT_ALGORITHM is RS256');
    if (options.signs && !config.JWT_PRIVATE_KEY) {
      problems.push('JWT_PRIVATE_KEY: required to issue tokens when JWT_ALGORITHM is RS256');
    }
    if (config.JWT_PUBLIC_KEY && !parses(() => createPublicKey(pem(config.JWT_PUBLIC_KEY)))) {
      problems.push('JWT_PUBLIC_KEY: not a PEM public key');
    }
    if (config.JWT_PRIVATE_KEY && !parses(() => createPrivateKey(pem(config.JWT_PRIVATE_KEY)))) {
      problems.push('JWT_PRIVATE_KEY: not a PEM private key');
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
}

/** JwtOptions from parsed config; warns when the development secret is in use. */
export function jwtOptionsFromConfig(config: AuthConfigValues, log: Logger): JwtOptions {
  const common = {
    issuer: config.JWT_ISSUER,
    audience: config.JWT_AUDIENCE,
    ttlSeconds: config.JWT_TTL_SECONDS,
  };
  if (config.JWT_ALGORITHM === 'RS256') {
    if (!config.JWT_PUBLIC_KEY) {
      throw new ConfigError(['JWT_PUBLIC_KEY: required when JWT_ALGORITHM is RS256']);
    }
    return {
      ...common,
      algorithm: 'RS256',
      publicKey: pem(config.JWT_PUBLIC_KEY),
      ...(config.JWT_PRIVATE_KEY ? { privateKey: pem(config.JWT_PRIVATE_KEY) } : {}),
    };
  }
  if (config.JWT_SECRET === DEV_JWT_SECRET) {
    log.warn('JWT_SECRET is the development default: set it outside development');
  }
  return { ...common, algorithm: 'HS256', secret: config.JWT_SECRET };
}
