import { EndpointLanes } from './endpoint-lanes';

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

/** Submits and fails the test when the lane refuses. */
function run(lanes: EndpointLanes, id: string, job: () => Promise<void>): Promise<void> {
  const ran = lanes.submit(id, job);
  if (ran === false) throw new Error('lane refused the job');
  return ran;
}

describe('EndpointLanes', () => {
  it('runs the jobs of one endpoint one at a time, in submission order', async () => {
    const lanes = new EndpointLanes(1, 10, 100);
    const order: number[] = [];
    const gates = [deferred(), deferred(), deferred()];
    const runs = gates.map((g, i) =>
      run(lanes, 'a', async () => {
        order.push(i);
        await g.promise;
      }),
    );
    await Promise.resolve();
    expect(order).toEqual([0]);
    gates[0]!.resolve();
    gates[1]!.resolve();
    gates[2]!.resolve();
    await Promise.all(runs);
    expect(order).toEqual([0, 1, 2]);
  });

  it('does not let a blocked endpoint hold back another one', async () => {
    const lanes = new EndpointLanes(1, 10, 100);
    const stuck = deferred();
    void lanes.submit('slow', () => stuck.promise);
    let ran = false;
    await run(lanes, 'fast', () => {
      ran = true;
      return Promise.resolve();
    });
    expect(ran).toBe(true);
    stuck.resolve();
  });

  it('refuses a job past the backlog of its endpoint and respects the global bound', async () => {
    const lanes = new EndpointLanes(1, 1, 1);
    const gate = deferred();
    const first = run(lanes, 'a', () => gate.promise);
    const second = run(lanes, 'a', () => Promise.resolve());
    expect(lanes.submit('a', () => Promise.resolve())).toBe(false);
    let otherRan = false;
    const other = run(lanes, 'b', () => {
      otherRan = true;
      return Promise.resolve();
    });
    await Promise.resolve();
    expect(otherRan).toBe(false); // the only global slot is taken
    gate.resolve();
    await Promise.all([first, second, other]);
    expect(otherRan).toBe(true);
    expect(lanes.size).toBe(0);
  });

  it('frees a slot when its job releases it, before the job ends', async () => {
    const lanes = new EndpointLanes(1, 1, 100);
    const order: string[] = [];
    const recorded = deferred();
    let release!: () => void;
    const first = lanes.submit('a', async (r) => {
      order.push('a1 request');
      release = r;
      await recorded.promise;
      order.push('a1 stored');
    });
    const second = run(lanes, 'a', () => {
      order.push('a2 request');
      return Promise.resolve();
    });
    await Promise.resolve();
    expect(order).toEqual(['a1 request']);
    release(); // the request is over; its outcome is still being stored
    release(); // twice is once
    await second;
    expect(order).toEqual(['a1 request', 'a2 request']);
    // the global bound (1) was freed too, and the first job's end frees nothing more
    await run(lanes, 'b', () => {
      order.push('b1 request');
      return Promise.resolve();
    });
    recorded.resolve();
    await expect(first).resolves.toBeUndefined();
    expect(order).toEqual(['a1 request', 'a2 request', 'b1 request', 'a1 stored']);
    expect(lanes.size).toBe(0);
  });
});
