import { DELIVERY_QUEUE } from '@reten/contracts';
import { queueFor } from './retry-scheduler';

describe('queueFor', () => {
  it('sends what is due now straight back to reten.delivery', () => {
    expect(queueFor(0)).toBe(DELIVERY_QUEUE);
    expect(queueFor(-5_000)).toBe(DELIVERY_QUEUE);
  });

  it('picks the largest tier not longer than the time left', () => {
    expect(queueFor(4_999)).toBe('reten.delivery.retry.1s');
    expect(queueFor(5_000)).toBe('reten.delivery.retry.5s');
    expect(queueFor(150_000)).toBe('reten.delivery.retry.2m');
    expect(queueFor(10 * 86_400_000)).toBe('reten.delivery.retry.12h');
  });

  it('uses the smallest tier for a short remaining wait', () => {
    expect(queueFor(80)).toBe('reten.delivery.retry.100ms');
  });
});
