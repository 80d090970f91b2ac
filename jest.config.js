/**
 * Jest for the whole workspace: TypeScript through @swc/jest, packages resolved to their sources.
 * Three projects, all run by a bare `jest`:
 * - unit: `*.unit.test.ts`, pure logic, no server needed (`pnpm test:unit`);
 * - integration: every other `*.test.ts` beside the code and in tests/repo, against the real
 *   PostgreSQL / RabbitMQ / Redis (`pnpm test:integration`);
 * - e2e: tests/e2e, services started as processes from their `dist/` (`pnpm test:e2e`, after
 *   `tsc -b`).
 */
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
