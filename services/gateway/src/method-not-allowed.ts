import type { RequestHandler } from 'express';
import { RetenError } from '@reten/contracts';

const METHODS = ['get', 'put', 'post', 'delete', 'patch'] as const;

interface KnownPath {
  pattern: RegExp;
  allow: string[];
}

/** `/api/v1/events/{id}` → /^\/api\/v1\/events\/[^/]+$/ */
function patternOf(path: string): RegExp {
  const escaped = path
    .split(/\{[^}]+\}/)
    .map((part) => part.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&'))
    .join('[^/]+');
  return new RegExp(`^${escaped}$`);
}

/**
 * After every route: a path the OpenAPI document knows, asked with a method it does not list,
 * answers 405 `method_not_allowed` with `Allow` (RFC 9110 §15.5.6) rather than 404. The
 * document is the list, so a new route is covered as soon as it is documented.
 */
export function methodNotAllowed(openApiDocument: unknown): RequestHandler {
  const paths = (openApiDocument as { paths?: Record<string, Record<string, unknown>> }).paths;
  const known: KnownPath[] = Object.entries(paths ?? {}).map(([path, item]) => {
    const methods = METHODS.filter((m) => item[m] !== undefined).map((m) => m.toUpperCase());
    return {
      pattern: patternOf(path),
      allow: methods.includes('GET') ? [...methods, 'HEAD'] : methods,
    };
  });
  return (req, res, next) => {
    const hit = known.find((k) => k.pattern.test(req.path));
    if (!hit) {
      next();
      return;
    }
    res.setHeader('Allow', hit.allow.join(', '));
    next(
      new RetenError(
        'method_not_allowed',
        `${req.method} is not allowed on ${req.path}; allowed: ${hit.allow.join(', ')}`,
      ),
    );
  };
}
