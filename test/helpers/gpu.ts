import { afterAll } from 'vitest';
import { getGpu, releaseGpu, type GpuContext } from '../../lib/gpu/index.js';

/** The shared device for a test file, released after the file's tests so the worker can exit. */
export function gpuFixture(): () => Promise<GpuContext> {
  afterAll(async () => {
    await releaseGpu();
  });
  return () => getGpu();
}
