// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { importX } from 'eslint-plugin-import-x';
import jsxA11y from 'eslint-plugin-jsx-a11y';
import reactHooks from 'eslint-plugin-react-hooks';

/** Infrastructure a domain layer must never see (DESIGN.md: domain code knows nothing of I/O). */
const infrastructure = [
  '@grpc/*',
  '@nats-io/*',
  '@mikro-orm/*',
  'pg',
  'pino',
  '@opentelemetry/*',
  '@passage/contracts',
  '@passage/events',
  '@passage/platform',
];

export default tseslint.config(
  {
    ignores: [
      '**/node_modules/**',
      'packages/contracts/src/gen/**',
      '.tmp/**',
      '.passage/**',
      'packages/console/dist/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { 'import-x': importX },
    settings: { 'import-x/extensions': ['.ts', '.js'] },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true }],
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-confusing-void-expression': 'off',
      '@typescript-eslint/no-unnecessary-condition': 'off',
      '@typescript-eslint/no-extraneous-class': 'off',
      // MikroORM's generic defaults trip it on every init(); the instances are genuine.
      '@typescript-eslint/no-unsafe-class-instance-assignment': 'off',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' },
      ],
      // Within a package or service. Across packages a cycle needs two packages each declaring
      // the other a dependency, which pnpm reports; following them here cost minutes per run.
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      'import-x/no-self-import': 'error',
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['@passage/*/src', '@passage/*/src/**'],
              message: 'Import a package through its entry point, not its files.',
            },
            {
              group: ['**/packages/*/src/**', '**/services/*/src/**'],
              message: 'Cross-package relative imports break package boundaries; import the package.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['services/*/src/domain/**/*.ts', 'packages/consent-policy/src/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: infrastructure, message: 'Domain code is pure: no gRPC, NATS, ORM or platform imports.' },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.test.ts', '**/test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
    },
  },
  {
    // The web console: hooks used as React requires, accessible JSX (labels, roles, keyboard),
    // and no server-side code — it talks to the gateway's HTTP API only.
    files: ['packages/console/src/**/*.{ts,tsx}'],
    plugins: { 'react-hooks': reactHooks, 'jsx-a11y': jsxA11y },
    rules: {
      ...reactHooks.configs.recommended.rules,
      ...jsxA11y.flatConfigs.strict.rules,
      // Scrolling regions (wide tables, long receipts) must be reachable by keyboard (WCAG 2.1.1).
      'jsx-a11y/no-noninteractive-tabindex': ['error', { tags: ['pre'], roles: ['region'] }],
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: [...infrastructure, '@passage/auth', 'node:*'],
              message: 'The console runs in a browser: use the HTTP API.',
            },
          ],
        },
      ],
    },
  },
  { files: ['eslint.config.js'], ...tseslint.configs.disableTypeChecked },
);
