import { buildOpenApiDocument } from '../openapi';

interface Operation {
  operationId?: string;
  security?: Array<Record<string, string[]>>;
  responses?: Record<string, unknown>;
}

function operations(doc: ReturnType<typeof buildOpenApiDocument>): Map<string, Operation> {
  const ops = new Map<string, Operation>();
  for (const item of Object.values(doc.paths ?? {})) {
    for (const op of Object.values(item as Record<string, Operation>)) {
      if (op && typeof op === 'object' && op.operationId) ops.set(op.operationId, op);
    }
  }
  return ops;
}

describe('OpenAPI security declarations', () => {
  const doc = buildOpenApiDocument('0.0.0-test');
  const ops = operations(doc);

  it('declares the HTTP bearer scheme', () => {
    expect(doc.components?.securitySchemes?.bearerAuth).toMatchObject({
      type: 'http',
      scheme: 'bearer',
    });
  });

  it('declares on each operation the scope the route policy enforces', () => {
    const scopes = (id: string) => ops.get(id)?.security;
    expect(scopes('ingestEvent')).toEqual([{ bearerAuth: ['events:write'] }]);
    expect(scopes('createEvent')).toEqual([{ bearerAuth: ['events:write'] }]);
    expect(scopes('updateEvent')).toEqual([{ bearerAuth: ['events:write'] }]);
    expect(scopes('listEvents')).toEqual([{ bearerAuth: ['events:read'] }]);
    expect(scopes('getEvent')).toEqual([{ bearerAuth: ['events:read'] }]);
    expect(scopes('createApiKey')).toEqual([{ bearerAuth: ['admin'] }]);
    expect(scopes('revokeApiKey')).toEqual([{ bearerAuth: ['admin'] }]);
    expect(scopes('updateTenantLimits')).toEqual([{ bearerAuth: ['admin'] }]);
    expect(scopes('issueToken')).toEqual([{ bearerAuth: [] }]);
  });

  it('leaves the ops routes open and gives every other operation 401 and 429 answers', () => {
    for (const id of ['healthz', 'readyz', 'metrics'])
      expect(ops.get(id)?.security).toBeUndefined();
    for (const [id, op] of ops) {
      if (['healthz', 'readyz', 'metrics'].includes(id)) continue;
      expect([id, op.security?.length]).toEqual([id, 1]);
      expect(Object.keys(op.responses ?? {})).toEqual(expect.arrayContaining(['401', '429']));
    }
  });
});
