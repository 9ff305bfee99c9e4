// ESLint for src/, test/ and scripts/: the recommended JavaScript rules and typescript-eslint's
// type-checked recommended set, with the formatting rules left to Prettier (eslint-config-prettier).
import js from '@eslint/js';
import { defineConfig, globalIgnores } from 'eslint/config';
import prettier from 'eslint-config-prettier';
import tseslint from 'typescript-eslint';

export default defineConfig(
  globalIgnores(['dist/', 'reports/', 'src/gen/', '.stryker-tmp/', '.planted/']),
  {
    linterOptions: { reportUnusedDisableDirectives: 'error' },
  },
  js.configs.recommended,
  tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        // The project's tsconfig.json types src/, test/ and scripts/; this file is checked on its own.
        projectService: { allowDefaultProject: ['eslint.config.js', 'stryker.config.mjs'] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      // The Signal stores implement libsignal's async interfaces over in-memory maps, and test doubles
      // do the same: `async` without `await` is how they keep to the interface.
      '@typescript-eslint/require-await': 'off',
      // The only enum compared is libsignal's CiphertextMessageType, with CiphertextMessage.type(),
      // which the library types as a plain number.
      '@typescript-eslint/no-unsafe-enum-comparison': 'off',
      // The reporters strip, and their tests look for, control characters on purpose: terminal
      // escapes and what XML 1.0 forbids.
      'no-control-regex': 'off',
      // A closure that reads a variable before its one assignment (a server up before its handler's
      // state) needs `let`: as `const` it would throw in the temporal dead zone.
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
      // `{ provider, gatekeeperUser: gatekeeperUser }` is what a rename leaves behind: say it once.
      'object-shorthand': ['error', 'properties'],
      // Leaving a property out by destructuring (`const { id: _dropped, ...rest } = x`) is the
      // omission idiom; `_` marks what is unused on purpose, as tsc's noUnusedLocals reads it.
      '@typescript-eslint/no-unused-vars': [
        'error',
        {
          argsIgnorePattern: '^_',
          varsIgnorePattern: '^_',
          caughtErrorsIgnorePattern: '^_',
          destructuredArrayIgnorePattern: '^_',
          ignoreRestSiblings: true,
        },
      ],
      // An abort signal's reason or a caught value is passed on as it was thrown, as only-throw-error
      // already allows by default.
      '@typescript-eslint/prefer-promise-reject-errors': [
        'error',
        { allowThrowingAny: true, allowThrowingUnknown: true },
      ],
      // node:test's test(), describe() and it() return a promise that the runner itself awaits;
      // a subtest (t.test) or any other promise must still be awaited.
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafeCalls: [
            { from: 'package', package: 'node:test', name: ['test', 'describe', 'it', 'suite'] },
          ],
        },
      ],
    },
  },
  prettier,
);
