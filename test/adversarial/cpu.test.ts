import * as tf from '@tensorflow/tfjs';
import { discriminatorSuite } from './suite.js';

discriminatorSuite(
  'cpu',
  async () => {
    await tf.setBackend('cpu');
    await tf.ready();
  },
  { fd: 2e-2 },
);
