/** Jest for the whole workspace: TypeScript through @swc/jest, packages resolved to their sources. */
const swc = [
  '@swc/jest',
  {
    jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
    module: { type: 'commonjs' },
    sourceMaps: 'inline',
  },
];

module.exports = {
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': swc },
  moduleNameMapper: { '^@reten/([a-z-]+)$': '<rootDir>/packages/$1/src/index.ts' },
  testMatch: ['<rootDir>/{packages,services,tests}/**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
  testTimeout: 60_000,
  reporters: ['default', '<rootDir>/scripts/summary-reporter.js'],
};
