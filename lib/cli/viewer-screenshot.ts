/**
 * docs/viewer.png: the viewer page in headless Chromium with an expression and head pose set through its
 * sliders. `gae viewer-screenshot <run dir or .ply> [--edited <path>] [--out docs/viewer.png]`
 */
import { Command } from 'commander';
import { startViewerServer } from '../viewer/server.js';
import { haveChromium, launchHeadlessWebGpu, CHROMIUM } from '../viewer/chromium.js';

const o = new Command()
  .argument('<avatar>')
  .option('--edited <path>')
  .option('--out <file>', 'PNG to write', 'docs/viewer.png')
  .option('--size <n>', 'canvas size (square)', '448')
  .parse();
const [avatar] = o.args as [string];
const opts = o.opts<{ edited?: string; out: string; size: string }>();
/** The page's test hook (lib/viewer/page.ts); these callbacks run in Chromium, hence globalThis, not window. */
type ViewerHook = { __viewer: { error: string | null; frames: number; busy(): boolean } };

async function main(): Promise<void> {
  if (!haveChromium()) throw new Error(`no Chromium at ${CHROMIUM}`);

  const size = Number(opts.size);
  const viewer = await startViewerServer({ avatar, edited: opts.edited, width: size, height: size });
  const browser = await launchHeadlessWebGpu();
  try {
    const page = await browser.newPage({ viewport: { width: size + 420, height: size + 150 } });
    await page.goto(`${viewer.url}?present=readback`);
    const settled = async (after: number) => {
      await page.waitForFunction(
        (n) => {
          const v = (globalThis as unknown as ViewerHook).__viewer;
          return v.error !== null || (v.frames > n && !v.busy());
        },
        after,
        { timeout: 300_000 },
      );
      const err = await page.evaluate(() => (globalThis as unknown as ViewerHook).__viewer.error);
      if (err) throw new Error(`viewer page: ${err}`);
    };
    await settled(0);
    const frames = () => page.evaluate(() => (globalThis as unknown as ViewerHook).__viewer.frames);
    const n = await frames();
    for (const [id, v] of [
      ['expr-mouthSmile_L', '0.7'],
      ['expr-mouthSmile_R', '0.7'],
      ['expr-jawOpen', '0.25'],
      ['neck-yaw', '0.35'],
      ['neck-pitch', '-0.05'],
    ] as const) {
      await page.locator(`#${id}`).evaluate((el, val) => {
        (el as unknown as { value: string }).value = val;
        el.dispatchEvent(new Event('input', { bubbles: true }));
      }, v);
    }
    await settled(n);
    await page.screenshot({ path: opts.out });
    console.log(`wrote ${opts.out}`);
  } finally {
    await browser.close();
    await viewer.close();
  }
}
// Awaited by scriptCommand (lib/cli/modules.ts), so that errors end the command as gae reports them.
export const done = main();
