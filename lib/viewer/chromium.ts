/**
 * Headless Chromium with WebGPU, for the viewer's end-to-end test and its screenshot (docs/viewer.png).
 * Debian's /usr/bin/chromium (scripts/setup.sh --full) driven by playwright-core.
 *
 * On a machine without a GPU, Chromium's WebGPU runs on its bundled SwiftShader (a CPU Vulkan; lavapipe
 * is not picked up). `--use-angle=vulkan` keeps the GPU process alive there: with the default GL backend
 * it crashes on a WebGPU canvas ("Could not find SharedImageBackingFactory … WebgpuSwapChainTexture").
 * Even then a WebGPU canvas stays blank headless, so the page is opened with `?present=readback`.
 */
import { existsSync } from 'node:fs';
import type { Browser } from 'playwright-core';

export const CHROMIUM = process.env.GAE_CHROMIUM ?? '/usr/bin/chromium';

export const HEADLESS_WEBGPU_ARGS = ['--enable-unsafe-webgpu', '--enable-features=Vulkan', '--use-angle=vulkan'];

export function haveChromium(): boolean {
  return existsSync(CHROMIUM);
}

export async function launchHeadlessWebGpu(): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  process.env.XDG_RUNTIME_DIR ??= '/tmp';
  return chromium.launch({ executablePath: CHROMIUM, args: HEADLESS_WEBGPU_ARGS, headless: true });
}
