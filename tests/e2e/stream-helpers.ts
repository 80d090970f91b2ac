import { api, eventIdOf } from '../../services/gateway/src/test-api';
import type { TestGateway } from '../../services/gateway/src/test-fixture';

/** Ingests one event over EVCI with `key`; resolves with its event id once 202 came back. */
export async function ingest(
  gw: TestGateway,
  key: string,
  type: string,
  data: unknown = { n: 1 },
): Promise<string> {
  return eventIdOf(await api(gw, 'POST', `/v1.0/event/${type}`, data, { auth: key }));
}

/** Ingests `count` events one after the other (so their order is their commit order). */
export async function ingestMany(
  gw: TestGateway,
  key: string,
  type: string,
  count: number,
  dataOf: (i: number) => unknown = (i) => ({ i }),
): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i += 1) ids.push(await ingest(gw, key, type, dataOf(i)));
  return ids;
}
