import { afterAll } from 'vitest';
import { useTfjsWebGpu } from '../../lib/gpu/tfjs.js';
import { releaseGpu } from '../../lib/gpu/index.js';
import { discriminatorSuite } from './suite.js';

afterAll(async () => {
  await releaseGpu();
});

discriminatorSuite(
  'webgpu',
  async () => {
    await useTfjsWebGpu();
  },
  { fd: 5e-2 },
);
