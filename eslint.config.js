// ESLint flat config in the spirit of the JupyterLab extension template, plus the layer rules of DESIGN.md:
// src/core runs in the browser and in Node, so it may import neither Node built-ins nor the DOM-only layers.
const js = require('@eslint/js');
const tseslint = require('typescript-eslint');
const prettier = require('eslint-config-prettier');
const globals = require('globals');

const NODE_BUILTINS = require('node:module').builtinModules.flatMap(m => [m, `node:${m}`]);

module.exports = tseslint.config(
  {
    ignores: [
      'node_modules/**',
      'lib/**',
      'lib-node/**',
      '.venv/**',
      'jupyterlab_ain/labextension/**',
      'tests/ui/test-results/**',
      'tests/ui/playwright-report/**',
      'contracts/build/**',
      'coverage/**'
    ]
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  prettier,
  {
    languageOptions: {
      globals: { ...globals.node }
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { args: 'none', argsIgnorePattern: '^_' }],
      '@typescript-eslint/no-require-imports': 'off',
      // JupyterLab's pattern: a `Private` namespace for module internals, `CommandIDs` namespaces (STYLE.md §4, §13).
      '@typescript-eslint/no-namespace': 'off',
      curly: ['error', 'all'],
      eqeqeq: 'error',
      'prefer-arrow-callback': 'error'
    }
  },
  {
    // Specs run in Node only, and build loosely typed fixtures on purpose.
    files: ['**/*.spec.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' }
  },
  {
    files: ['src/core/**/*.ts'],
    ignores: ['src/core/**/*.spec.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: NODE_BUILTINS.map(name => ({
            name,
            message: 'src/core runs in the browser too: no Node built-ins.'
          })),
          patterns: [
            { group: ['@jupyterlab/*', '@lumino/*'], message: 'src/core must not depend on JupyterLab.' },
            {
              group: ['../chain/*', '../lab/*', '../agent/*', '../cli/*'],
              message: 'src/core imports no other layer.'
            }
          ]
        }
      ],
      'no-restricted-globals': [
        'error',
        { name: 'window', message: 'src/core runs in Node too: no DOM.' },
        { name: 'document', message: 'src/core runs in Node too: no DOM.' },
        { name: 'Buffer', message: 'src/core runs in the browser too: use Uint8Array.' },
        { name: 'process', message: 'src/core runs in the browser too: no process.' }
      ]
    }
  }
);
