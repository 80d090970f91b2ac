import { apiKeyIdOf, apiKeyMatches, generateApiKey, hashApiKey } from './api-key-format';
import { hasScope } from './principal';
import type { Principal } from './principal';
import { narrowScopes } from './scopes';

describe('API key format', () => {
  it('generates rtn_<16 hex>_<43 base64url> keys whose id is ak_<the same hex>', () => {
    const { id, key } = generateApiKey();
    expect(key).toMatch(/^rtn_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
    expect(id).toBe(`ak_${key.slice(4, 20)}`);
    expect(apiKeyIdOf(key)).toBe(id);
    expect(generateApiKey().key).not.toBe(key);
  });

  it('finds no id in strings that are not well-formed keys', () => {
    for (const bad of [
      '',
      'rtn_',
      'rtn_0123456789abcdef_short',
      'rtn_XYZ3456789abcdef_' + 'a'.repeat(43),
      'abc.def.ghi',
    ]) {
      expect(apiKeyIdOf(bad)).toBeUndefined();
    }
  });

  it('matches a key only against its own SHA-256', () => {
    const { key } = generateApiKey();
    const hash = hashApiKey(key);
    expect(hash).toHaveLength(32);
    expect(apiKeyMatches(key, hash)).toBe(true);
    expect(apiKeyMatches(`${key}x`, hash)).toBe(false);
    expect(apiKeyMatches(key, Buffer.alloc(31))).toBe(false);
  });
});

describe('scopes', () => {
  const principal = (scopes: Principal['scopes']): Principal => ({
    tenantId: 't',
    keyId: 'ak_0123456789abcdef',
    scopes,
    via: 'api_key',
  });

  it('grants a scope the principal holds, and every scope to admin', () => {
    expect(hasScope(principal(['events:read']), 'events:read')).toBe(true);
    expect(hasScope(principal(['events:read']), 'events:write')).toBe(false);
    expect(hasScope(principal(['admin']), 'webhooks:manage')).toBe(true);
  });

  it('narrows requested scopes to what the holder may pass on', () => {
    expect(narrowScopes(['events:read'], ['events:read', 'admin'])).toEqual(['events:read']);
    expect(narrowScopes(['admin'], ['stream:read', 'stream:read'])).toEqual(['stream:read']);
  });
});
