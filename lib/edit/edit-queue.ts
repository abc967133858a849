/**
 * 2D edits in flight (Instruct-NeRF2NeRF's iterative dataset update, docs/method.md §3).
 *
 * The loop asks for an edit at a fixed step: it renders the view then, draws the edit's strength and seed then,
 * and sends the request. Waiting for the answer before the next step is what the original loop does, and with
 * InstructPix2Pix behind an endpoint (seconds an edit) that wait is most of a run. Here the request leaves at the
 * same step with the same inputs, so the same image comes back; only its application (the view's new target,
 * the discriminator's pool, the run state) is deferred, in request order, to the first moment the loop needs it:
 * before it trains on that view, before a checkpoint, or when more than `limit` edits are in flight. Whatever the
 * loop computes is therefore what it computed waiting at once; the wall time is what changes.
 *
 * Requests apply strictly first-in first-out, so the order of side effects (pool insertions) never depends on
 * which answer arrives first.
 */

interface Pending<T> {
  key: number;
  result: Promise<T>;
  apply: (value: T) => void | Promise<void>;
}

export class EditQueue<T> {
  private readonly queue: Pending<T>[] = [];
  /** Milliseconds spent waiting for answers and applying them (the editor's time the loop did not hide). */
  waitedMs = 0;

  /** `limit`: the most requests in flight; 1 applies each answer before `push` returns (the original loop). */
  constructor(readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new Error(`EditQueue: limit must be a positive integer, got ${limit}`);
  }

  /** Requests in flight or answered but not yet applied. */
  get size(): number {
    return this.queue.length;
  }

  /**
   * Sends a request (`start` is called now) whose answer `apply` takes later, in order. Before it, the
   * oldest requests are applied until fewer than `limit` remain.
   */
  async push(key: number, start: () => Promise<T>, apply: (value: T) => void | Promise<void>): Promise<void> {
    while (this.queue.length >= this.limit) await this.applyOldest();
    const result = start();
    // Rejections surface where the answer is applied; until then they must not count as unhandled.
    result.catch(() => {});
    this.queue.push({ key, result, apply });
    if (this.limit === 1) await this.applyOldest();
  }

  /** Applies every request up to the last one for `key`: after this, `key`'s newest answer is in place. */
  async settle(key: number): Promise<void> {
    let last = -1;
    for (let i = 0; i < this.queue.length; i++) if (this.queue[i]!.key === key) last = i;
    for (let i = 0; i <= last; i++) await this.applyOldest();
  }

  /** Applies every request, in order. */
  async settleAll(): Promise<void> {
    while (this.queue.length > 0) await this.applyOldest();
  }

  private async applyOldest(): Promise<void> {
    const p = this.queue[0]!;
    const t0 = performance.now();
    try {
      const value = await p.result;
      // Removed only once answered: a failed request stays first, so no later one is applied past it.
      this.queue.shift();
      await p.apply(value);
    } finally {
      this.waitedMs += performance.now() - t0;
    }
  }
}
