import { matchesTypeFilter } from '@reten/contracts';

const CACHE_LIMIT = 1024;

/** A subscription's type filter, with a bounded cache (the hot path sees few distinct types). */
export class TypeFilter {
  private readonly cache = new Map<string, boolean>();
  readonly all: boolean;

  constructor(readonly patterns: readonly string[]) {
    this.all = patterns.includes('*');
  }

  matches(type: string): boolean {
    if (this.all) return true;
    let hit = this.cache.get(type);
    if (hit === undefined) {
      hit = this.patterns.some((p) => matchesTypeFilter(type, p));
      if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
      this.cache.set(type, hit);
    }
    return hit;
  }
}
