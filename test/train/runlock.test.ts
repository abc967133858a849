/** Issue 17 §6–§7: the run directory's lock (pid + host, stale takeover) and the cleanup of killed runs' temporaries. */
import { describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { RunDir } from '../../lib/train/rundir.js';
import { acquireRunLock, LOCK_FILE, runLockHolder, RunLockedError } from '../../lib/train/runlock.js';
import { buildDirAtomic, removeStaleTemps } from '../../lib/util/atomic.js';

const tmp = () => fs.mkdtemp(path.join(os.tmpdir(), 'gae-lock-'));
/** The pid of a process that has exited (for stale locks and temporaries). */
const deadPid = () => spawnSync(process.execPath, ['-e', '0']).pid!;

describe('run directory lock (§6)', () => {
  it('a second process cannot open a locked run directory; the error names the holder; release frees it', async () => {
    const root = path.join(await tmp(), 'run');
    const run = await RunDir.open(root, { a: 1 });
    const holder = await runLockHolder(root);
    expect(holder).toMatchObject({ pid: process.pid, host: os.hostname() });
    // Another process: a child that tries to open the same directory.
    const script = `import('${path.resolve('lib/train/rundir.ts').replace(/\\/g, '/')}').then(async ({ RunDir }) => { try { await RunDir.open(${JSON.stringify(root)}, { a: 1 }); console.log('opened'); } catch (e) { console.log(e.message); process.exitCode = 3; } })`;
    const child = spawnSync(process.execPath, ['--import', 'tsx', '-e', script], { encoding: 'utf8', timeout: 60_000 });
    expect(child.status).toBe(3);
    expect(child.stdout.trim()).toBe(
      `${path.join(root, LOCK_FILE)}: the run directory is in use by process ${process.pid} (started ${holder!.started}); wait for it to finish or stop it`,
    );
    await run.close();
    expect(existsSync(path.join(root, LOCK_FILE))).toBe(false);
    const again = spawnSync(process.execPath, ['--import', 'tsx', '-e', script], { encoding: 'utf8', timeout: 60_000 });
    expect(again.stdout.trim()).toBe('opened');
    expect(existsSync(path.join(root, LOCK_FILE))).toBe(false); // released at the child's exit
  }, 120_000);

  it('a live holder (another process) is refused; a dead one is taken over; another host is refused with how to clear it', async () => {
    const dir = await tmp();
    const file = path.join(dir, LOCK_FILE);
    const sleeper = spawn('sleep', ['30']);
    try {
      await fs.writeFile(file, JSON.stringify({ pid: sleeper.pid, host: os.hostname(), started: 'then', argv: [] }));
      await expect(acquireRunLock(dir)).rejects.toThrow(RunLockedError);
      await expect(acquireRunLock(dir)).rejects.toThrow(`${file}: the run directory is in use by process ${sleeper.pid} (started then)`);
    } finally {
      sleeper.kill();
    }
    const dead = deadPid();
    await fs.writeFile(file, JSON.stringify({ pid: dead, host: os.hostname(), started: 'then', argv: [] }));
    const notes: string[] = [];
    const lock = await acquireRunLock(dir, (m) => notes.push(m));
    expect(notes).toEqual([`${file}: taking over a stale lock of process ${dead} (no longer running)`]);
    expect((await runLockHolder(dir))!.pid).toBe(process.pid);
    await lock.release();
    await fs.writeFile(file, JSON.stringify({ pid: 1, host: 'elsewhere', started: 'then', argv: [] }));
    await expect(acquireRunLock(dir)).rejects.toThrow(
      `${file}: the run directory is locked by process 1 on host elsewhere (started then); if that run is gone, delete ${file}`,
    );
  });

  it('nested opens in one process share the lock; it goes with the last close', async () => {
    const root = path.join(await tmp(), 'run');
    const a = await RunDir.open(root, {});
    const b = await RunDir.open(root, {});
    await b.close();
    expect(existsSync(path.join(root, LOCK_FILE))).toBe(true);
    await a.close();
    expect(existsSync(path.join(root, LOCK_FILE))).toBe(false);
  });

  it('a failed open (different config) releases the lock it took', async () => {
    const root = path.join(await tmp(), 'run');
    await (await RunDir.open(root, { a: 1 })).close();
    await expect(RunDir.open(root, { a: 2 })).rejects.toThrow(/holds a different config/);
    expect(existsSync(path.join(root, LOCK_FILE))).toBe(false);
  });
});

describe('temporaries of killed writes (§7)', () => {
  it("opening a run removes a dead process's half-written checkpoint and keeps a live one's", async () => {
    const root = path.join(await tmp(), 'run');
    await (await RunDir.open(root, {})).close();
    const dead = deadPid();
    const stale = path.join(root, 'checkpoints', `.step-000100.${dead}.0badf00d.tmp`);
    const live = path.join(root, 'checkpoints', `.step-000200.${process.ppid}.0badf00d.tmp`);
    const staleFile = path.join(root, `.metrics.jsonl.${dead}.12345678.tmp`);
    for (const d of [stale, live]) {
      await fs.mkdir(d, { recursive: true });
      await fs.writeFile(path.join(d, 'avatar.ply'), 'x'.repeat(1000));
    }
    await fs.writeFile(staleFile, 'x');
    const notes: string[] = [];
    const run = await RunDir.open(root, {}, {}, (m) => notes.push(m));
    expect(existsSync(stale)).toBe(false);
    expect(existsSync(staleFile)).toBe(false);
    expect(existsSync(live)).toBe(true);
    expect(notes.sort()).toEqual([`removed ${staleFile}, left by a killed run`, `removed ${stale}, left by a killed run`].sort());
    await run.close();
  });

  it("a new atomic directory (gae synth's dataset, a checkpoint) first clears dead writers' temporaries beside it", async () => {
    const dir = await tmp();
    const stale = path.join(dir, `.demo.${deadPid()}.aabbccdd.tmp`);
    await fs.mkdir(path.join(stale, 'images'), { recursive: true });
    const notOurs = path.join(dir, `.notes.txt.${deadPid()}.aabbccdd.tmp.keep`); // does not end in .tmp
    await fs.writeFile(notOurs, 'x');
    await buildDirAtomic(path.join(dir, 'demo'), async (t) => fs.writeFile(path.join(t, 'a'), '1'));
    expect(existsSync(stale)).toBe(false);
    expect((await fs.readdir(dir)).sort()).toEqual([path.basename(notOurs), 'demo']);
    expect(await removeStaleTemps(path.join(dir, 'missing'))).toEqual([]);
  });
});
