/** `gae report`: tables, figures and the index of a grid, from its run directories. */
import type { Command } from 'commander';
import { CliError } from './modules.js';

export function register(program: Command): void {
  program
    .command('report')
    .description('tables (Markdown, LaTeX, CSV), Plotly figures (PNG/SVG/PDF via headless Chromium) and an index.md for a grid, from its run directories alone')
    .argument('<gridDir>', 'a grid directory (results/runs/<grid>)')
    .option('-o, --out <dir>', 'output directory (default <gridDir>/report)')
    .option('--formats <list>', 'figure formats: png,svg,pdf (pdf embeds a creation date: not byte-reproducible)', 'png,svg')
    .option('--no-export', 'write figure specs (JSON) only; do not start Chromium')
    .action(async (gridDir: string, o: { out?: string; formats: string; export: boolean }) => {
      const formats = o.export
        ? o.formats
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean)
        : [];
      const bad = formats.filter((f) => !['png', 'svg', 'pdf'].includes(f));
      if (bad.length) throw new CliError(`--formats: unknown format ${bad.join(', ')} (png, svg, pdf)`, 2);
      const { generateReport } = await import('../report/report.js');
      let rep;
      try {
        rep = await generateReport(gridDir, {
          ...(o.out ? { outDir: o.out } : {}),
          formats: formats as ('png' | 'svg' | 'pdf')[],
          onProgress: (m) => process.stderr.write(`  ${m}\n`),
        });
      } catch (e) {
        throw new CliError(`gae report: ${(e as Error).message}`, 1);
      }
      process.stdout.write(`gae report: ${rep.files.length} files in ${rep.outDir} (index.md, tables.md, summary.csv, figures/)\n`);
      for (const n of rep.notes) process.stdout.write(`note: ${n}\n`);
    });
}
