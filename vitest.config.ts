import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Each file gets its own process: Dawn instances are per process, and a crashed driver stays contained.
    pool: 'forks',
    // tfjs's "running TensorFlow.js in Node.js" banner out of every test log (test/helpers/quiet-tfjs.ts).
    setupFiles: ['test/helpers/quiet-tfjs.ts'],
    testTimeout: 600_000,
    hookTimeout: 600_000,
    teardownTimeout: 30_000,
    reporters: ['default', './test/helpers/summary-reporter.ts'],
  },
});
