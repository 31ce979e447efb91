import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: ['dist/**', 'web/dist/**', 'node_modules/**', 'bench/results/**', 'bin/**', '.tmp/**'],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // An audit service must never drop a write on the floor.
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' },
      ],
      // User data never walks up a prototype (src/core/safe-keys.ts): `for…in` also visits
      // inherited members, Object.assign copies with [[Set]] (a source's own `__proto__` member
      // replaces the target's prototype), and obj.hasOwnProperty can be shadowed by the data.
      'no-restricted-syntax': [
        'error',
        {
          selector: 'ForInStatement',
          message:
            'for…in also walks inherited members, which a polluted prototype controls: use Object.keys / Object.entries.',
        },
      ],
      'no-restricted-properties': [
        'error',
        {
          object: 'Object',
          property: 'assign',
          message:
            'Object.assign sets members with [[Set]], so a "__proto__" key replaces the prototype: use spread, or bareCopy from src/core/safe-keys.ts.',
        },
      ],
      'no-prototype-builtins': 'error',
      'no-proto': 'error',
    },
  },
  {
    // The core is pure: no I/O, no clock, no network, no files.
    files: ['src/core/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            'node:fs',
            'node:fs/promises',
            'node:net',
            'node:http',
            'node:child_process',
            'fs',
            'pg',
            'better-sqlite3',
            'fastify',
          ].map((name) => ({
            name,
            message: 'src/core is pure: do I/O in store, service or http.',
          })),
        },
      ],
      'no-restricted-globals': ['error', { name: 'fetch', message: 'src/core is pure.' }],
    },
  },
  {
    files: ['**/*.test.ts', 'test/**/*.ts', 'bench/**/*.ts'],
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      // Tests read JSON from real processes and responses; asserting on it is the point.
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
  {
    files: ['*.js', '*.config.ts'],
    ...tseslint.configs.disableTypeChecked,
  },
);
