// Test helpers of the eworker SDK, kept out of its public index: `@reten/eworker/testing`.
export { publishLikeRelay, startTestEworker } from './test-eworker';
export type { RelayMessageOptions, TestEworkerTarget } from './test-eworker';
