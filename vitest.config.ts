import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The Slurm tests need a cluster: `npm run test:cluster` starts one (vitest.cluster.config.ts).
    exclude: ['test/cluster/**', '**/node_modules/**'],
    // Each file gets its own process: Dawn instances are per process, and a crashed driver stays contained.
    pool: 'forks',
    // tfjs's "running TensorFlow.js in Node.js" banner out of every test log (test/helpers/quiet-tfjs.ts).
    setupFiles: ['test/helpers/quiet-tfjs.ts'],
    testTimeout: 600_000,
    hookTimeout: 600_000,
    teardownTimeout: 30_000,
    // Tests run Dawn with validation and robustness on (lib/gpu/device.ts says why the default is otherwise).
    env: { GAE_DAWN_SAFE: '1' },
    reporters: ['default', './test/helpers/summary-reporter.ts'],
  },
});
