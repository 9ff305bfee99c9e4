/**
 * The mutation sweep of the reference provider (`npm run mutation`): StrykerJS plants one bug at a
 * time in src/reference-provider/ and runs the cases that reach it over xml-ws
 * (scripts/stryker-runner.ts). A mutant that survives is a bug a provider could ship unnoticed: a
 * missing or weak check, or an equivalent change to prove as such. It runs outside `npm test`, on
 * the files given (`npm run mutation -- --mutate src/reference-provider/push-endpoint.ts`) or on all.
 * @type {import('@stryker-mutator/api/core').PartialStrykerOptions}
 */
export default {
  packageManager: 'npm',
  mutate: ['src/reference-provider/**/*.ts', '!src/reference-provider/faults.ts'],
  plugins: ['./dist/scripts/stryker-runner.js'],
  testRunner: 'interop-conformance',
  buildCommand: 'npm run build',
  // Each mutant runs only the cases that reached its code in the dry run (scripts/stryker-runner.ts).
  coverageAnalysis: 'perTest',
  concurrency: 2,
  timeoutMS: 120_000,
  ignorePatterns: ['dist', 'reports', 'coverage', '.stryker-tmp'],
  // Texts and literals change messages more than behaviour: most of their mutants are equivalent.
  mutator: { excludedMutations: ['StringLiteral', 'ObjectLiteral', 'ArrayDeclaration', 'Regex'] },
  reporters: ['clear-text', 'progress', 'json', 'html'],
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  htmlReporter: { fileName: 'reports/mutation/mutation.html' },
  tempDirName: '.stryker-tmp',
};
