/**
 * Keeps tfjs's Node.js banner out of test logs. Tests that use the CPU backend directly never call
 * useTfjsWebGpu (which silences it with quietTfjs), and importing tfjs here would slow every test file
 * that does not need it; so the one message is dropped from console.warn instead.
 */
const warn = console.warn.bind(console);
console.warn = (...args: unknown[]) => {
  if (typeof args[0] === 'string' && args[0].includes('looks like you are running TensorFlow.js in Node.js')) return;
  warn(...args);
};
