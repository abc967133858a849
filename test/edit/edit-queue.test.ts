/**
 * EditQueue: answers apply first-in first-out whatever order they arrive in, never more than `limit` requests
 * are in flight, settling a view applies through its newest request, and a failed answer stops the queue there.
 */
import { describe, expect, it } from 'vitest';
import { EditQueue } from '../../lib/edit/edit-queue.js';

/** A request whose answer the test releases by hand. */
function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

const tick = () => new Promise((r) => setTimeout(r, 0));

describe('EditQueue', () => {
  it('applies answers in request order when they arrive in reverse', async () => {
    const q = new EditQueue<string>(4);
    const applied: string[] = [];
    const ds = [0, 1, 2].map(() => deferred<string>());
    for (let i = 0; i < 3; i++)
      await q.push(
        i,
        () => ds[i]!.promise,
        (v) => void applied.push(v),
      );
    expect(q.size).toBe(3);
    ds[2]!.resolve('c');
    ds[1]!.resolve('b');
    await tick();
    expect(applied).toEqual([]); // nothing applies before it is needed
    const all = q.settleAll();
    ds[0]!.resolve('a');
    await all;
    expect(applied).toEqual(['a', 'b', 'c']);
    expect(q.size).toBe(0);
  });

  it('keeps at most `limit` requests in flight, applying the oldest to make room', async () => {
    const q = new EditQueue<number>(2);
    let inFlight = 0;
    let most = 0;
    const applied: number[] = [];
    const start = (i: number) => async () => {
      inFlight++;
      most = Math.max(most, inFlight);
      await new Promise((r) => setTimeout(r, 5 * (4 - i))); // later requests answer sooner
      inFlight--;
      return i;
    };
    for (let i = 0; i < 5; i++) await q.push(i % 3, start(i), (v) => void applied.push(v));
    expect(q.size).toBe(2);
    await q.settleAll();
    expect(most).toBe(2);
    expect(applied).toEqual([0, 1, 2, 3, 4]);
  });

  it('limit 1 applies each answer before push returns (the original loop)', async () => {
    const q = new EditQueue<number>(1);
    const events: string[] = [];
    for (let i = 0; i < 3; i++) {
      await q.push(
        i,
        async () => {
          events.push(`start ${i}`);
          await tick();
          return i;
        },
        (v) => void events.push(`apply ${v}`),
      );
      expect(q.size).toBe(0);
    }
    expect(events).toEqual(['start 0', 'apply 0', 'start 1', 'apply 1', 'start 2', 'apply 2']);
  });

  it("settle(view) applies every request up to that view's newest, and no later one", async () => {
    const q = new EditQueue<string>(8);
    const applied: string[] = [];
    const push = (view: number, v: string) =>
      q.push(
        view,
        () => Promise.resolve(v),
        (x) => void applied.push(x),
      );
    await push(7, 'a');
    await push(3, 'b');
    await push(7, 'c');
    await push(5, 'd');
    await q.settle(9); // no request for it: nothing applies
    expect(applied).toEqual([]);
    expect(q.size).toBe(4);
    await q.settle(7);
    expect(applied).toEqual(['a', 'b', 'c']);
    expect(q.size).toBe(1); // view 5's request, still to apply
    await q.settleAll();
    expect(applied).toEqual(['a', 'b', 'c', 'd']);
  });

  it('surfaces a failed answer where it is applied, and applies nothing past it', async () => {
    const q = new EditQueue<string>(4);
    const applied: string[] = [];
    await q.push(
      0,
      () => Promise.resolve('a'),
      (x) => void applied.push(x),
    );
    await q.push(
      1,
      () => Promise.reject(new Error('endpoint answered 500')),
      (x) => void applied.push(x),
    );
    await q.push(
      2,
      () => Promise.resolve('c'),
      (x) => void applied.push(x),
    );
    await tick(); // the rejection is not unhandled while it waits (vitest fails the run if it were)
    await expect(q.settleAll()).rejects.toThrow(/endpoint answered 500/);
    expect(applied).toEqual(['a']);
    expect(q.size).toBe(2);
    // It stays failed: a later settle throws again rather than apply the answer behind it.
    await expect(q.settleAll()).rejects.toThrow(/endpoint answered 500/);
    expect(applied).toEqual(['a']);
    expect(() => new EditQueue(0)).toThrow(/limit must be a positive integer, got 0/);
  });
});
