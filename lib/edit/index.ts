export * from './editors/editor.js';
export * from './editors/offline.js';
export * from './editors/toy.js';
export * from './editors/hf.js';
export * from './editors/server.js';
export * from './editors/cache.js';
export * from './editors/protocol.js';
export * from './editors/image-io.js';
