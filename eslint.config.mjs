// ESLint flat config: typescript-eslint (type-aware), import-x cycles, Prettier owns formatting.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import importX, { createNodeResolver } from 'eslint-plugin-import-x';
import prettier from 'eslint-config-prettier';
import globals from 'globals';

// Room boundaries: a service is a deployable and depends on packages only, never on another
// service; packages never depend on services; the gateway's feature folders (its routes,
// OpenAPI operations and queries) do not import each other, only shared layers (ingest,
// validation, the top-level files).
const SERVICES = ['gateway', 'delivery', 'stream', 'eworkers'];
const GATEWAY_FEATURES = ['events', 'webhooks', 'eworkers-api', 'access'];
const BOUNDARY_ZONES = [
  ...SERVICES.map((service) => ({
    target: `./services/${service}`,
    from: './services',
    except: [`./${service}`],
    message: 'A service depends on packages, never on another service.',
  })),
  {
    target: './packages',
    from: './services',
    message: 'A package never depends on a service.',
  },
  ...GATEWAY_FEATURES.flatMap((feature) =>
    GATEWAY_FEATURES.filter((other) => other !== feature).map((other) => ({
      target: `./services/gateway/src/${feature}`,
      from: `./services/gateway/src/${other}`,
      message: 'A gateway feature folder does not reach into another one; share through a layer.',
    })),
  ),
];

export default tseslint.config(
  {
    ignores: [
      '**/dist/**',
      '**/node_modules/**',
      'coverage/**',
      'bench/results/**',
      'packages/console/src/generated/**',
    ],
  },
  js.configs.recommended,
  {
    files: ['**/*.js', '**/*.mjs'],
    languageOptions: { globals: { ...globals.node }, sourceType: 'commonjs' },
  },
  { files: ['**/*.mjs'], languageOptions: { sourceType: 'module' } },
  {
    files: ['**/*.ts', '**/*.tsx'],
    extends: [tseslint.configs.recommendedTypeChecked],
    plugins: { 'import-x': importX },
    // without a resolver that knows `.ts`, import-x cannot follow relative imports and its
    // rules (no-cycle, no-restricted-paths) silently check nothing
    settings: {
      'import-x/resolver-next': [
        createNodeResolver({ extensions: ['.ts', '.tsx', '.js', '.json'] }),
      ],
    },
    languageOptions: {
      parserOptions: { project: ['./tsconfig.lint.json'], tsconfigRootDir: import.meta.dirname },
      globals: { ...globals.node },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      'import-x/no-cycle': 'error',
      'import-x/no-restricted-paths': ['error', { zones: BOUNDARY_ZONES }],
      'no-console': 'error',
    },
  },
  {
    // the console runs in a browser and is type-checked by its own tsconfig (JSX, DOM)
    files: ['packages/console/**/*.ts', 'packages/console/**/*.tsx'],
    languageOptions: {
      parserOptions: { project: ['./packages/console/tsconfig.json'] },
      globals: { ...globals.browser },
    },
  },
  {
    files: ['**/*.test.ts', 'packages/testing/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  prettier,
);
