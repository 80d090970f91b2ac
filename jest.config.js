/**
 * Jest for the whole workspace: TypeScript through @swc/jest, packages resolved to their sources.
 * Three projects, all run by a bare `jest`:
 * - unit: `*.unit.test.ts`, pure logic, no server needed (`pnpm test:unit`);
 * - integration: every other `*.test.ts` beside the code and in tests/repo, against the real
 *   PostgreSQL / RabbitMQ / Redis (`pnpm test:integration`);
 * - e2e: tests/e2e, services started as processes from their `dist/` (`pnpm test:e2e`, after
 *   `tsc -b`).
 */
const os = require('node:os');

const swc = [
  '@swc/jest',
  {
    jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
    module: { type: 'commonjs' },
    sourceMaps: 'inline',
  },
];

const shared = {
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': swc },
  moduleNameMapper: {
    '^@reten/([a-z-]+)$': '<rootDir>/packages/$1/src/index.ts',
    '^@reten/([a-z-]+)/testing$': '<rootDir>/packages/$1/src/testing.ts',
  },
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
};

module.exports = {
  testTimeout: 60_000,
  // jest's default is one worker less than the cores: one worker, run after run, on the 2-core
  // machines CI uses. Most files wait on the servers and on service processes, and every test
  // owns its schema, vhost and key prefix, so two workers run the suite in 0.6–0.8 of the time
  // there (531 s → 325–406 s here); bigger machines keep the default. JEST_MAX_WORKERS overrides.
  maxWorkers: process.env.JEST_MAX_WORKERS ?? Math.max(2, os.availableParallelism() - 1),
  reporters: ['default', '<rootDir>/scripts/summary-reporter.js'],
  projects: [
    {
      ...shared,
      displayName: 'unit',
      testMatch: ['<rootDir>/{packages,services,tests}/**/*.unit.test.ts'],
    },
    {
      ...shared,
      displayName: 'integration',
      testMatch: ['<rootDir>/{packages,services,tests}/**/*.test.ts'],
      testPathIgnorePatterns: [
        ...shared.testPathIgnorePatterns,
        '\\.unit\\.test\\.ts$',
        '<rootDir>/tests/e2e/',
      ],
    },
    {
      ...shared,
      displayName: 'e2e',
      testMatch: ['<rootDir>/tests/e2e/**/*.test.ts'],
      testPathIgnorePatterns: [...shared.testPathIgnorePatterns, '\\.unit\\.test\\.ts$'],
    },
  ],
};
