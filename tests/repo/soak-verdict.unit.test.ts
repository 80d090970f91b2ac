import { createRequire } from 'node:module';

interface Verdict {
  series: string;
  perHour: number | null;
  limit: number | null;
  ok: boolean;
}

const { slope, judge, DEFAULT_LIMITS } = createRequire(__filename)(
  '../../bench/soak/verdict.js',
) as {
  slope: (points: [number, number][]) => number | null;
  judge: (samples: unknown[], warmupMinutes: number, limits: object) => Verdict[];
  DEFAULT_LIMITS: Record<string, number>;
};

/** Samples of one process over `minutes`, its heap given per minute by `heapAt`. */
function samples(minutes: number, heapAt: (minute: number) => number, dbAt = () => 50) {
  return Array.from({ length: minutes }, (_, i) => {
    const minute = i + 1;
    return {
      minute,
      processes: {
        gateway: { heapMB: heapAt(minute), rssMB: 150, fds: 100, sockets: 80, handles: 90 },
      },
      dbMB: dbAt(),
      partitions: 30,
      queued: 10,
      tables: { events: 20 },
    };
  });
}

const verdictOf = (verdicts: Verdict[], series: string) =>
  verdicts.find((v) => v.series === series)!;

describe('the soak verdict (bench/soak/verdict.js)', () => {
  it('fits the least-squares slope of the points', () => {
    expect(
      slope([
        [0, 1],
        [1, 3],
        [2, 5],
      ]),
    ).toBeCloseTo(2);
    expect(
      slope([
        [0, 1],
        [1, 1],
      ]),
    ).toBeNull();
  });

  it('fails a heap that grows 2 MB a minute after the warm-up, and says by how much per hour', () => {
    const v = verdictOf(
      judge(
        samples(20, (m) => 40 + 2 * m),
        8,
        DEFAULT_LIMITS,
      ),
      'gateway heap used',
    );
    expect(v.ok).toBe(false);
    expect(v.perHour).toBeCloseTo(120);
  });

  it('passes a heap that only swings ±4 MB around a level, and ignores growth during the warm-up', () => {
    const heap = (m: number) => (m < 8 ? 10 + 5 * m : 50 + (m % 2 === 0 ? 4 : -4));
    const verdicts = judge(samples(20, heap), 8, DEFAULT_LIMITS);
    expect(verdictOf(verdicts, 'gateway heap used').ok).toBe(true);
    expect(verdicts.filter((v) => !v.ok)).toEqual([]);
  });

  it('fails a database that grows without bound', () => {
    let db = 0;
    const verdicts = judge(
      samples(
        20,
        () => 50,
        () => (db += 10),
      ),
      8,
      DEFAULT_LIMITS,
    );
    expect(verdictOf(verdicts, 'database size').ok).toBe(false);
  });
});
