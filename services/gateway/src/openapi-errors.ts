import type { oas31 } from 'zod-openapi';
import { MAX_JSON_DEPTH } from '@reten/http';
import { PUBLIC_PATHS } from './access/route-scopes';

const METHODS = ['get', 'put', 'post', 'delete', 'patch'] as const;
const ERROR_REF = { $ref: '#/components/schemas/Error' };

const errorRef = (description: string): oas31.ResponseObject => ({
  description,
  content: { 'application/json': { schema: ERROR_REF } },
});

/** Every 503 says when to retry (seconds). */
const RETRY_AFTER: Record<string, oas31.HeaderObject> = {
  'Retry-After': { description: 'Seconds to wait before a retry', schema: { type: 'integer' } },
};

function parametersIn(op: oas31.OperationObject, where: string): oas31.ParameterObject[] {
  return (op.parameters ?? []).filter(
    (p): p is oas31.ParameterObject => 'in' in p && p.in === where,
  );
}

/**
 * The answers the layers in front of every route give, declared on each operation they can
 * reach, so the document lists every status an operation answers with:
 * - a path parameter: 400 `bad_request` when it is not percent-encoded UTF-8, 404 when no
 *   such resource is the caller's;
 * - a request body: 400 `invalid_json` / `invalid_body`, 413, 415, 422 (the body checks of
 *   `jsonBody`, named here so clients know them);
 * - query parameters or request headers: 422 `validation_failed` naming the parameter;
 * - anything behind authentication: 500 and 503 (a dependency such as PostgreSQL is down or
 *   timed out), the 503 with `Retry-After`.
 * An answer an operation already declares keeps its own, more precise, description.
 */
export function withProtocolErrors(doc: oas31.OpenAPIObject): oas31.OpenAPIObject {
  for (const [path, item] of Object.entries(doc.paths ?? {})) {
    const isPublic = (PUBLIC_PATHS as readonly string[]).includes(path);
    for (const method of METHODS) {
      const op = (item as Record<string, oas31.OperationObject | undefined>)[method];
      if (!op || isPublic) continue;
      const responses = op.responses as Record<string, oas31.ResponseObject>;
      const declare = (status: string, description: string) => {
        responses[status] ??= errorRef(description);
      };
      if (parametersIn(op, 'path').length > 0) {
        declare('400', '`bad_request`: a path parameter is not percent-encoded UTF-8');
        declare('404', '`not_found`');
      }
      if (op.requestBody) {
        declare(
          '400',
          '`invalid_json` (not JSON, not UTF-8, empty) or `invalid_body` (bad Content-Encoding data)',
        );
        declare('413', '`payload_too_large`: over `BODY_LIMIT_BYTES`');
        declare(
          '415',
          '`unsupported_media_type`: not `application/json`, not UTF-8, or an unknown Content-Encoding',
        );
        declare(
          '422',
          `\`validation_failed\` with \`details\`: a field is invalid, or the JSON nests deeper than ${MAX_JSON_DEPTH} levels, holds a number a double cannot hold exactly, U+0000 or an unpaired surrogate`,
        );
      }
      if (parametersIn(op, 'query').length > 0 || parametersIn(op, 'header').length > 0) {
        declare('422', '`validation_failed` with `details` naming the parameter');
      }
      declare('500', '`internal_error`: unexpected; details in the log only');
      declare(
        '503',
        '`service_unavailable`: a dependency is down or did not answer in time (PostgreSQL past `DATABASE_STATEMENT_TIMEOUT_MS`), or the gateway is draining; retry after `Retry-After`',
      );
      // (an operation's own 503 too: every 503 carries it)
      (responses['503'] as oas31.ResponseObject).headers ??= RETRY_AFTER;
    }
  }
  return doc;
}
