import { BacklogGate } from './backlog-gate';
import { EndpointLanes } from './endpoint-lanes';

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

/** Fills the endpoint's lane (1 running, `backlog` waiting) with jobs that end when `gate` opens. */
function fill(lanes: EndpointLanes, id: string, count: number, gate: Promise<void>) {
  for (let i = 0; i < count; i++) {
    if (lanes.submit(id, () => gate) === false) throw new Error('lane full too early');
  }
  expect(lanes.hasRoom(id)).toBe(false);
}

describe('BacklogGate', () => {
  it('lets a job wait for room in a full lane that makes progress', async () => {
    const lanes = new EndpointLanes(1, 10, 2);
    const jobs = deferred();
    fill(lanes, 'a', 3, jobs.promise);
    const gate = new BacklogGate(lanes, 5_000);
    const room = gate.room('a');
    jobs.resolve();
    await expect(room).resolves.toBe(true);
  });

  it('defers when no room comes within the wait, then at once while the lane stays stuck', async () => {
    const lanes = new EndpointLanes(1, 10, 2);
    const hang = deferred();
    fill(lanes, 'a', 3, hang.promise);
    const gate = new BacklogGate(lanes, 50);
    const t0 = Date.now();
    await expect(gate.room('a')).resolves.toBe(false);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(45);
    const t1 = Date.now();
    await expect(gate.room('a')).resolves.toBe(false);
    expect(Date.now() - t1).toBeLessThan(45);
    hang.resolve();
  });

  it('defers at once when a message waiting behind has a job for an endpoint with nothing queued', async () => {
    const lanes = new EndpointLanes(1, 10, 2);
    const hang = deferred();
    fill(lanes, 'a', 3, hang.promise);
    const gate = new BacklogGate(lanes, 5_000);
    const waiting = gate.room('a');
    const dequeue = gate.enqueue(['a', 'b']);
    await expect(waiting).resolves.toBe(false);
    dequeue();
    hang.resolve();
  });

  it('keeps waiting while every message behind is for full lanes too', async () => {
    const lanes = new EndpointLanes(1, 10, 1);
    const a = deferred();
    const b = deferred();
    fill(lanes, 'a', 2, a.promise);
    fill(lanes, 'b', 2, b.promise);
    const gate = new BacklogGate(lanes, 5_000);
    const dequeue = gate.enqueue(['b']);
    let settled = false;
    const waiting = gate.room('a').then((room) => {
      settled = true;
      return room;
    });
    await new Promise((r) => setImmediate(r));
    expect(settled).toBe(false);
    a.resolve();
    await expect(waiting).resolves.toBe(true);
    dequeue();
    b.resolve();
  });
});
