/** `gae render`: animations of an avatar (reenactment by a dataset's sequence, or a turntable) as GIF/MP4. */
import type { Command } from 'commander';
import { CliError, intOption, numberOption } from './modules.js';

export function register(program: Command): void {
  program
    .command('render')
    .description('render an avatar driven by a dataset sequence (reenactment) or orbiting it (turntable) into GIF and, with ffmpeg, MP4')
    .requiredOption('--avatar <path>', 'reconstruction or edit run directory, or avatar .ply')
    .requiredOption('--data <dir>', 'dataset folder: cameras, and the driving sequence')
    .option('--split <name>', 'driving sequence: train | test (held-out expressions) | cross (another identity)', 'cross')
    .option('--turntable <frames>', 'orbit the head at its first timestep instead, with this many frames', intOption('--turntable', { min: 1 }))
    .option('--camera <index>', 'camera index (default: the most frontal training camera)', intOption('--camera', { min: 0 }))
    .option('--blend <mode>', 'alpha | wabe', 'alpha')
    .option('--fps <n>', 'frames per second', numberOption('--fps', { min: 1e-3 }), 8)
    .option('--out <base>', 'output path without extension', 'results/render/avatar')
    .action(async (o: { avatar: string; data: string; split: string; turntable?: number; camera?: number; blend: string; fps: number; out: string }) => {
      const { getGpu, releaseGpu } = await import('../gpu/index.js');
      const { loadDataset, SPLITS } = await import('../data/dataset.js');
      const { loadHeadModel } = await import('../head/model.js');
      const { loadAvatar } = await import('../avatar/load.js');
      const { renderSequence, frontalCamera } = await import('../avatar/reenact.js');
      const { turntableCameras } = await import('../avatar/turntable.js');
      const { rasterSettings } = await import('../raster/types.js');
      const { exportAnimation } = await import('../image/animation.js');
      const { AvatarRenderer } = await import('../avatar/gpu-render.js');
      if (!(SPLITS as readonly string[]).includes(o.split)) throw new CliError(`--split: '${o.split}' is not one of ${SPLITS.join(', ')}`, 2);
      if (o.blend !== 'alpha' && o.blend !== 'wabe') throw new CliError(`--blend: '${o.blend}' is not alpha or wabe`, 2);
      const ctx = await getGpu();
      const ds = await loadDataset(o.data, { checkFiles: false });
      const head = await loadHeadModel();
      const g = await loadAvatar(o.avatar);
      const split = ds.splits[o.split as (typeof SPLITS)[number]];
      const train = ds.splits.train.frames;
      const pick =
        o.camera !== undefined
          ? (train.find((f) => f.cameraIndex === o.camera) ?? ds.splits.val.frames.find((f) => f.cameraIndex === o.camera))
          : frontalCamera(train);
      if (!pick) throw new CliError(`--camera: ${o.camera} is not a camera of ${o.data}/dataset.json`, 2);
      const settings = rasterSettings({
        shDegree: g.shDegree,
        background: [ds.meta.render.background[0]!, ds.meta.render.background[1]!, ds.meta.render.background[2]!],
        blend: o.blend,
      });
      let frames;
      if (o.turntable !== undefined) {
        const cams = turntableCameras(pick.camera, o.turntable);
        const r = new AvatarRenderer(ctx, head, g);
        try {
          await r.prepare(settings);
          frames = [];
          for (const cam of cams) {
            await r.render(split.timesteps[0]!.head, cam, settings);
            const { rgb } = await r.readImage(cam);
            frames.push({ width: cam.width, height: cam.height, data: rgb });
          }
        } finally {
          r.destroy();
        }
      } else {
        frames = await renderSequence(
          ctx,
          head,
          g,
          split.timesteps.map((t) => t.head),
          pick.camera,
          settings,
        );
      }
      const res = await exportAnimation(o.out, frames, { fps: o.fps });
      for (const f of res.written) process.stdout.write(`wrote ${f} (${frames.length} frames)\n`);
      for (const s of res.skipped) process.stdout.write(`skipped ${s.format}: ${s.reason}\n`);
      await releaseGpu();
    });
}
