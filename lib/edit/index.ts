export * from './editor.js';
export * from './editors/offline.js';
export * from './toy.js';
export * from './hf.js';
export * from './server.js';
export * from './cache.js';
export * from './protocol.js';
export * from './image-io.js';
