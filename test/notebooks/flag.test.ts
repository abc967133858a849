/** Opt-in switches for costly notebook steps. */
import { describe, expect, it } from 'vitest';
import { notebookFlag } from '../../lib/notebook/preset.js';

describe('notebookFlag', () => {
  it('is off unless set to an explicit yes, and names the variable on a typo', () => {
    expect(notebookFlag('X', {})).toBe(false);
    expect(notebookFlag('X', { X: '' })).toBe(false);
    expect(notebookFlag('X', { X: '0' })).toBe(false);
    expect(notebookFlag('X', { X: 'off' })).toBe(false);
    expect(notebookFlag('X', { X: '1' })).toBe(true);
    expect(notebookFlag('X', { X: ' TRUE ' })).toBe(true);
    expect(() => notebookFlag('GAE_X', { GAE_X: 'maybe' })).toThrow(/GAE_X: expected 1\/true\/yes\/on or 0\/false\/no\/off, got "maybe"/);
  });
});
