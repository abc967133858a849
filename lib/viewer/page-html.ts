/**
 * The viewer page's HTML: a canvas, the controls, and the bundled script. Controls are plain HTML
 * elements with stable ids (`expr-<blendshape>`, `jaw`, `neck-pitch`, …) that the page script wires
 * and the end-to-end test drives.
 */
import type { ViewerInfo } from './protocol.js';
import { ROUTES } from './protocol.js';

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

export function pageHtml(info: ViewerInfo): string {
  const av = info.avatars;
  const avatarLine = (slot: 'original' | 'edited') =>
    av[slot] ? `${esc(av[slot]!.source)} (${av[slot]!.count.toLocaleString('en')} Gaussians, SH ${av[slot]!.shDegree})` : 'none (start with --edited)';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>GaussianAvatar-Editor viewer</title>
<style>
  body { margin: 0; font: 13px system-ui, sans-serif; background: #1d1f23; color: #ddd; display: flex; height: 100vh; }
  #stage { padding: 12px; display: flex; flex-direction: column; gap: 6px; }
  canvas { width: ${info.width}px; height: ${info.height}px; background: #000; cursor: grab; display: block; }
  #panel { flex: 1; overflow-y: auto; padding: 12px; border-left: 1px solid #333; min-width: 340px; }
  fieldset { border: 1px solid #3a3d44; margin: 0 0 10px; padding: 6px 8px; }
  legend { color: #9ab; }
  label.slider { display: grid; grid-template-columns: 150px 1fr 44px; align-items: center; gap: 6px; }
  label.slider input { width: 100%; }
  #exprs { display: grid; grid-template-columns: 1fr; gap: 1px; max-height: 46vh; overflow-y: auto; }
  #fps { font: 600 16px ui-monospace, monospace; color: #8f8; }
  #status { color: #fb8; white-space: pre-wrap; }
  .small { color: #999; font-size: 11px; }
  a { color: #8bd; }
</style>
</head>
<body>
<div id="stage">
  <canvas id="view" width="${info.width}" height="${info.height}"></canvas>
  <div><span id="fps">–</span> <span id="fps-source" class="small"></span></div>
  <div id="adapter" class="small"></div>
  <div id="present" class="small"></div>
  <div id="status">loading…</div>
  <div class="small">Drag to orbit, wheel to zoom. Head model: ICT-FaceKit (MIT, <a href="${ROUTES.license}">license</a>).</div>
</div>
<div id="panel">
  <fieldset><legend>Avatar</legend>
    <label><input type="radio" name="avatar" value="original" id="avatar-original" checked> original: <span class="small">${avatarLine('original')}</span></label><br>
    <label><input type="radio" name="avatar" value="edited" id="avatar-edited"${av.edited ? '' : ' disabled'}> edited: <span class="small">${avatarLine('edited')}</span></label>
  </fieldset>
  <fieldset><legend>Blending</legend>
    <label><input type="radio" name="blend" value="alpha" id="blend-alpha" checked> alpha</label>
    <label><input type="radio" name="blend" value="wabe" id="blend-wabe"> WABE (β = 6)</label>
    <label style="margin-left:16px"><input type="checkbox" id="continuous"> render continuously (fps)</label>
  </fieldset>
  <fieldset><legend>Sequence</legend>
    <div class="small">${info.sequence ? `${esc(info.sequence.source)}: ${info.sequence.frames} frames at ${info.sequence.fps.toFixed(1)} fps` : 'none'}</div>
    <button id="play">play</button>
    <label class="slider">frame <input type="range" id="frame" min="0" max="${Math.max(0, (info.sequence?.frames ?? 1) - 1)}" step="1" value="0"><span id="frame-value">0</span></label>
  </fieldset>
  <fieldset><legend>Pose</legend>
    <div id="pose"></div>
    <button id="reset">reset expression and pose</button>
  </fieldset>
  <fieldset><legend>Expression (53 blendshapes)</legend>
    <div id="exprs"></div>
  </fieldset>
</div>
<script type="module" src="${ROUTES.script}"></script>
</body>
</html>
`;
}
