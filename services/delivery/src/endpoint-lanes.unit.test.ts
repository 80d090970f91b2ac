import { EndpointLanes, endpointSlots } from './endpoint-lanes';

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

  it('runs as many jobs of an endpoint at once as its rate limit asks, between the bounds, and follows a changed limit', async () => {
    const lanes = new EndpointLanes({ min: 2, max: 5, latencyMs: 200 }, 100, 100);
    const gates: Array<() => void> = [];
    let running = 0;
    const submitMany = (id: string, n: number, rate: number) =>
      Array.from({ length: n }, () => {
        const ran = lanes.submit(
          id,
          () =>
            new Promise<void>((resolve) => {
              running++;
              gates.push(() => {
                running--;
                resolve();
              });
            }),
          rate,
        );
        if (ran === false) throw new Error('lane refused the job');
        return ran;
      });
    const releaseAll = async (runs: Promise<void>[]) => {
      while (gates.length > 0 || running > 0) {
        for (const open of gates.splice(0)) open();
        await Promise.resolve();
      }
      await Promise.all(runs);
    };

    // 15/s × 0.2 s = 3 at once
    const a = submitMany('a', 8, 15);
    expect(running).toBe(3);
    await releaseAll(a);
    // no rate limit given: the floor
    const b = submitMany('b', 8, 0);
    expect(running).toBe(2);
    await releaseAll(b);
    // 10,000/s asks for 2,000: the ceiling
    const c = submitMany('c', 8, 10_000);
    expect(running).toBe(5);
    // the limit is lowered while 5 run: none starts until fewer than 2 run
    const lowered = submitMany('c', 1, 5);
    gates.splice(0, 3).forEach((open) => open());
    await new Promise((r) => setImmediate(r));
    expect(running).toBe(2);
    await releaseAll([...c, ...lowered]);
    expect(lanes.size).toBe(0);
  });
});

describe('EndpointLanes with a failing endpoint', () => {
  it('gives an endpoint whose last attempt failed the floor, and its full count once it succeeds', async () => {
    const failing = new Set<string>();
    const lanes = new EndpointLanes({ min: 2, max: 5, latencyMs: 200 }, 100, 100, (id) =>
      failing.has(id),
    );
    const gates: Array<() => void> = [];
    let running = 0;
    const runs: Promise<void>[] = [];
    const submit = (n: number) => {
      for (let i = 0; i < n; i++) {
        const ran = lanes.submit(
          'a',
          () =>
            new Promise<void>((resolve) => {
              running++;
              gates.push(() => {
                running--;
                resolve();
              });
            }),
          10_000,
        );
        if (ran === false) throw new Error('lane refused the job');
        runs.push(ran);
      }
    };
    const settle = () => new Promise((r) => setImmediate(r));

    submit(14);
    expect(running).toBe(5);
    // the attempts fail: as the breaker records it before the slot is freed
    failing.add('a');
    gates.splice(0, 5).forEach((open) => open());
    await settle();
    expect(running).toBe(2);
    gates.splice(0, 2).forEach((open) => open());
    await settle();
    expect(running).toBe(2);
    // a success: the next slots freed start the endpoint's full count again
    failing.delete('a');
    gates.splice(0, 1).forEach((open) => open());
    await settle();
    expect(running).toBe(5);
    while (gates.length > 0) {
      gates.splice(0).forEach((open) => open());
      await settle();
    }
    await Promise.all(runs);
    expect(running).toBe(0);
    expect(lanes.size).toBe(0);
  });
});

describe('endpointSlots', () => {
  const bounds = { min: 20, max: 100, latencyMs: 200 };

  it('is what reaches the rate against a receiver answering within the latency, between the bounds', () => {
    expect(endpointSlots(100, bounds)).toBe(20); // the default rate limit: the floor, as before
    expect(endpointSlots(101, bounds)).toBe(21); // 20.2, rounded up
    expect(endpointSlots(250, bounds)).toBe(50);
    expect(endpointSlots(500, bounds)).toBe(100);
    expect(endpointSlots(10_000, bounds)).toBe(100);
    expect(endpointSlots(1, bounds)).toBe(20);
    expect(endpointSlots(0, bounds)).toBe(20);
  });

  it('keeps the ceiling hard, even under the floor: 1 keeps first attempts one at a time', () => {
    expect(endpointSlots(10_000, { min: 20, max: 1, latencyMs: 200 })).toBe(1);
    expect(endpointSlots(0, { min: 20, max: 1, latencyMs: 200 })).toBe(1);
    expect(endpointSlots(50, { min: 3, max: 3, latencyMs: 200 })).toBe(3);
  });
});
