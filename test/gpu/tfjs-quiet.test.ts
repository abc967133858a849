/** tfjs's Node.js banner stays out of run logs (issue 17): a child process using the CPU backend, with and without quietTfjs. */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

const run = (quiet: boolean) =>
  spawnSync(
    process.execPath,
    [
      '--import',
      'tsx',
      '-e',
      `import('${path.resolve('lib/gpu/tfjs-quiet.ts')}').then(async ({ quietTfjs }) => { const tf = await import('@tensorflow/tfjs'); ${quiet ? 'quietTfjs();' : ''} await tf.setBackend('cpu'); console.log(tf.tensor1d([1, 2]).add(1).dataSync().join(',')); })`,
    ],
    { encoding: 'utf8', timeout: 60_000 },
  );

describe('tfjs banner', () => {
  it('is printed by the CPU backend on first use, and not after quietTfjs()', () => {
    const loud = run(false);
    expect(loud.stdout.trim()).toBe('2,3');
    expect(loud.stderr).toContain('looks like you are running TensorFlow.js in Node.js');
    const quiet = run(true);
    expect(quiet.stdout.trim()).toBe('2,3');
    expect(quiet.stderr).not.toContain('TensorFlow.js in Node.js');
  });
});
