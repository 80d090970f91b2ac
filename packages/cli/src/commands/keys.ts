import type { Command } from 'commander';
import { ApiKeyListSchema, CreatedApiKeySchema, SCOPES } from '@reten/contracts';
import { contextOf } from '../context';
import { commaList } from '../option-parsers';

/** `reten keys create|list|revoke`: `/api/v1/api-keys` (needs the admin scope). */
export function registerKeys(program: Command): void {
  const keys = program.command('keys').description("manage the tenant's API keys (admin scope)");

  keys
    .command('create')
    .description('create a key; prints the secret key, shown only this once')
    .requiredOption('--name <name>', 'what the key is for')
    .requiredOption('--scopes <scopes>', `comma-separated: ${SCOPES.join(', ')}`, commaList)
    .action(async (options: { name: string; scopes: string[] }, command: Command) => {
      const { api, out } = contextOf(command);
      const answer = await api.request('POST', '/api/v1/api-keys', CreatedApiKeySchema, {
        body: JSON.stringify({ name: options.name, scopes: options.scopes }),
      });
      if (out.json) return out.jsonLine(answer.raw);
      const k = answer.data;
      out.fields([
        ['id', k.id],
        ['name', k.name],
        ['scopes', k.scopes.join(',')],
        ['key', k.key],
      ]);
      out.note('The key is shown only now: it is stored as a hash.');
    });

  keys
    .command('list')
    .description("the tenant's keys (without their secrets)")
    .action(async (_options: unknown, command: Command) => {
      const { api, out } = contextOf(command);
      const answer = await api.request('GET', '/api/v1/api-keys', ApiKeyListSchema);
      if (out.json) return out.jsonLine(answer.raw);
      out.table(answer.data.data, [
        { header: 'id', cell: (k) => k.id },
        { header: 'name', cell: (k) => k.name },
        { header: 'scopes', cell: (k) => k.scopes.join(',') },
        { header: 'created', cell: (k) => k.created_at },
        { header: 'last used', cell: (k) => k.last_used_at },
      ]);
    });

  keys
    .command('revoke')
    .description('revoke a key: refused at once by every replica, with its tokens')
    .argument('<key-id>', 'ak_…')
    .action(async (id: string, _options: unknown, command: Command) => {
      const { api, out } = contextOf(command);
      await api.requestNoContent('DELETE', `/api/v1/api-keys/${encodeURIComponent(id)}`);
      if (out.json) return out.jsonLine({ id, revoked: true });
      out.line(`revoked ${id}`);
    });
}
