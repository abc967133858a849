import { defineConfig } from 'vitest/config';

// `npm run test:cluster`: the Slurm executor against a real one-node cluster (test/cluster/cluster.sh starts it).
export default defineConfig({
  test: {
    include: ['test/cluster/**/*.test.ts'],
    pool: 'forks',
    fileParallelism: false,
    testTimeout: 3_600_000,
    hookTimeout: 3_600_000,
    reporters: ['default', './test/helpers/summary-reporter.ts'],
  },
});
