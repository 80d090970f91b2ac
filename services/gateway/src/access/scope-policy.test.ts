import { scopeFor } from './authenticate';
import type { ScopeRule } from './authenticate';

describe('scopeFor (the route → scope policy)', () => {
  const rules: ScopeRule[] = [
    { methods: ['POST'], path: /^\/api\/v1\/events(?:\/|$)/, scope: 'events:write' },
    { methods: ['GET'], path: /^\/api\/v1\/events(?:\/|$)/, scope: 'events:read' },
    { methods: ['POST'], path: /^\/api\/v1\/auth\/token$/, scope: null },
  ];

  it('takes the first rule matching method and path; HEAD counts as GET', () => {
    expect(scopeFor(rules, 'admin', 'POST', '/api/v1/events')).toBe('events:write');
    expect(scopeFor(rules, 'admin', 'GET', '/api/v1/events/evt_1')).toBe('events:read');
    expect(scopeFor(rules, 'admin', 'HEAD', '/api/v1/events')).toBe('events:read');
    expect(scopeFor(rules, 'admin', 'POST', '/api/v1/auth/token')).toBeNull();
  });

  it('falls back to the default (fail closed) for unlisted methods and paths', () => {
    expect(scopeFor(rules, 'admin', 'DELETE', '/api/v1/events/evt_1')).toBe('admin');
    expect(scopeFor(rules, 'admin', 'GET', '/api/v1/eventsX')).toBe('admin');
    expect(scopeFor(rules, 'admin', 'GET', '/api/v2/anything')).toBe('admin');
  });
});
