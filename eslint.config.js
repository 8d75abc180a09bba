// @ts-check
import { readdirSync } from 'node:fs';
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

/** What else a domain layer must not reach: files, sockets, HTTP servers, keys and tokens. */
const domainForbidden = [
  ...infrastructure,
  'node:fs',
  'node:fs/*',
  'fs',
  'fs/*',
  'node:net',
  'net',
  'node:http',
  'http',
  'node:crypto',
  'crypto',
  'fastify',
  '@fastify/*',
  'jose',
  'openid-client',
  '@passage/auth',
  '@passage/crypto',
];

/** The services (services/*), by their package names' last part. */
const services = readdirSync(`${import.meta.dirname}/services`, { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name);

/**
 * Import boundaries every file keeps (a later block's no-restricted-imports replaces an
 * earlier one's, so each block that sets the rule starts from these).
 */
const boundaries = [
  {
    group: ['@passage/*/src', '@passage/*/src/**'],
    message: 'Import a package through its entry point, not its files.',
  },
  {
    group: ['**/packages/*/src/**', '**/services/*/src/**'],
    message: 'Cross-package relative imports break package boundaries; import the package.',
  },
  {
    // Another service's tests, the system tests and benchmarks start a service; they do not use its insides.
    // Its migration plan (what its migration job provisions) is public: test supports migrate template databases with it.
    group: [
      ...services.map((name) => `@passage/${name}/*`),
      '!@passage/*/service',
      '!@passage/*/config',
      '!@passage/*/migrations',
      '!@passage/*/testing',
      '!@passage/directory/seed',
    ],
    message:
      'From a service, import only its service, config, migrations or testing entry: its adapters stay inside it (move what is shared into a package).',
  },
];

/** Packages (and domain code) are what services are built from: they never import a service. */
const packageBoundaries = [
  ...boundaries,
  {
    group: services.flatMap((name) => [`@passage/${name}`, `@passage/${name}/*`]),
    message: 'A package must not import a service: move what both need into a package.',
  },
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
      'no-restricted-imports': ['error', { patterns: boundaries }],
    },
  },
  {
    // Packages never reach into services (services/*), not even through a public entry.
    files: ['packages/*/src/**/*.{ts,tsx}'],
    rules: {
      'no-restricted-imports': ['error', { patterns: packageBoundaries }],
    },
  },
  {
    files: ['services/*/src/domain/**/*.ts', 'packages/consent-policy/src/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            ...packageBoundaries,
            {
              group: domainForbidden,
              message:
                'Domain code is pure: no gRPC, NATS, ORM, platform, file, network, HTTP, crypto or auth imports.',
            },
          ],
        },
      ],
    },
  },
  {
    // gRPC without TLS only through grpcTransport's development branch (ADR 26): no service or
    // package builds plaintext credentials of its own. Tests use @passage/testing's plaintextCredentials.
    files: ['services/*/src/**/*.ts', 'packages/*/src/**/*.ts', 'scripts/**/*.ts'],
    ignores: ['packages/platform/src/tls.ts', 'packages/testing/src/**', '**/*.test.ts'],
    rules: {
      'no-restricted-properties': [
        'error',
        {
          property: 'createInsecure',
          message:
            'gRPC credentials come from grpcTransport(config, log) (ADR 26): mutual TLS, plaintext in development only.',
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
            ...packageBoundaries,
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
