// Unit specs live beside the layer they test (src/**/*.spec.ts); integration specs start real processes
// (tests/integration). Both run under ts-jest as CommonJS.
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/src', '<rootDir>/tests'],
  testMatch: ['**/*.spec.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/tests/ui/'],
  transform: {
    // canonicalize ships only ES modules: let ts-jest turn it into CommonJS too.
    '^.+\\.[tj]s$': ['ts-jest', { tsconfig: 'tsconfig.test.json', diagnostics: { warnOnly: false } }]
  },
  transformIgnorePatterns: ['/node_modules/(?!canonicalize/)'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  testTimeout: 120000,
  setupFiles: ['<rootDir>/tests/jest-setup.js']
};
