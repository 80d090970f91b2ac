import { Client, Pool } from 'pg';
import { createTestSchema, eventually } from '@reten/testing';
import type { TestSchema } from '@reten/testing';
import { EventStore } from './event-store';
import { outboxChannel } from './notify-channels';

let schema: TestSchema;

beforeAll(async () => {
  schema = await createTestSchema('event store wake');
});

afterAll(async () => {
  await schema.drop();
});

describe('EventStore.wakeRelay', () => {
  it('notifies the outbox channel, and its asynchronous commit does not outlive its own transaction', async () => {
    // one connection, so the statement after the wake runs on the session that woke
    const pool = new Pool({
      connectionString: schema.databaseUrl,
      max: 1,
      options: `-c search_path="${schema.schema}"`,
    });
    const listener = new Client({ connectionString: schema.databaseUrl });
    await listener.connect();
    try {
      const heard: string[] = [];
      listener.on('notification', (n) => heard.push(n.channel));
      await listener.query(`LISTEN "${outboxChannel(schema.schema)}"`);
      const store = new EventStore(pool, schema.schema);
      await store.wakeRelay();
      await eventually(() => expect(heard).toEqual([outboxChannel(schema.schema)]));
      const { rows } = await pool.query<{ synchronous_commit: string }>('SHOW synchronous_commit');
      expect(rows[0]?.synchronous_commit).toBe('on');
    } finally {
      await listener.end();
      await pool.end();
    }
  });
});
