export * from './config.js';
export * from './discriminator.js';
export * from './losses.js';
export * from './pool.js';
export * from './adversary.js';
