import { EndpointLanes, endpointSlots } from './endpoint-lanes';

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

/** Submits and fails the test when the lane refuses. */
function run(
  lanes: EndpointLanes,
  id: string,
  job: () => Promise<void>,
  rate?: number,
): Promise<void> {
  const ran = lanes.submit(id, job, rate);
  if (ran === false) throw new Error('lane refused the job');
  return ran;
}

/**
 * Jobs that run until the test opens them: `submit` queues `n` on an endpoint's lane at a
 * rate limit (`openAll` awaits them), `open(k)` ends the `k` oldest running ones, `running`
 * counts those started and not ended.
 */
function heldJobs(lanes: EndpointLanes) {
  const gates: Array<() => void> = [];
  const runs: Promise<void>[] = [];
  const held = {
    running: 0,
    submit(id: string, n: number, rate: number): void {
      for (let i = 0; i < n; i++) {
        runs.push(
          run(
            lanes,
            id,
            () =>
              new Promise<void>((resolve) => {
                held.running++;
                gates.push(() => {
                  held.running--;
                  resolve();
                });
              }),
            rate,
          ),
        );
      }
    },
    /** Ends the `k` oldest running jobs and lets the lanes start what they may. */
    async open(k: number): Promise<void> {
      gates.splice(0, k).forEach((end) => end());
      await new Promise((r) => setImmediate(r));
    },
    /** Ends every job, those started as others end included. */
    async openAll(): Promise<void> {
      while (gates.length > 0) await held.open(gates.length);
      await Promise.all(runs);
    },
  };
  return held;
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
    const jobs = heldJobs(lanes);
    // 15/s × 0.2 s = 3 at once
    jobs.submit('a', 8, 15);
    expect(jobs.running).toBe(3);
    await jobs.openAll();
    // no rate limit given: the floor
    jobs.submit('b', 8, 0);
    expect(jobs.running).toBe(2);
    await jobs.openAll();
    // 10,000/s asks for 2,000: the ceiling
    jobs.submit('c', 8, 10_000);
    expect(jobs.running).toBe(5);
    // the limit is lowered while 5 run: none starts until fewer than 2 run
    jobs.submit('c', 1, 5);
    await jobs.open(3);
    expect(jobs.running).toBe(2);
    await jobs.openAll();
    expect(jobs.running).toBe(0);
    expect(lanes.size).toBe(0);
  });
});

describe('EndpointLanes with a failing endpoint', () => {
  it('gives an endpoint whose last attempt failed the floor, and its full count once it succeeds', async () => {
    const failing = new Set<string>();
    const lanes = new EndpointLanes({ min: 2, max: 5, latencyMs: 200 }, 100, 100, (id) =>
      failing.has(id),
    );
    const jobs = heldJobs(lanes);
    jobs.submit('a', 14, 10_000);
    expect(jobs.running).toBe(5);
    // the attempts fail: as the breaker records it before the slot is freed
    failing.add('a');
    await jobs.open(5);
    expect(jobs.running).toBe(2);
    await jobs.open(2);
    expect(jobs.running).toBe(2);
    // a success: the next slots freed start the endpoint's full count again
    failing.delete('a');
    await jobs.open(1);
    expect(jobs.running).toBe(5);
    await jobs.openAll();
    expect(jobs.running).toBe(0);
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
