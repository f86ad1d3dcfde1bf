import type { StepOutcome } from '../scheduler/run.js';
import type { ImageSizes } from './image-sizes.js';

/** Everything the page shows; written next to manifest.json as report.html. */
export interface ReportData {
  profile: string;
  version: string;
  commit: string;
  /** Build start and end, ms since the epoch. */
  started: number;
  finished: number;
  /** `downloads`: source files a built step had to download first. */
  steps: Array<{ id: string; deps: string[]; outcome: StepOutcome; start: number; end: number; downloads: string[] }>;
  /** Step ids on the critical path, first to last. */
  critical: string[];
  artifacts: Array<{ file: string; size: number; sha256: string }>;
  image: ImageSizes;
}

const OUTCOME_LABEL: Record<StepOutcome, string> = {
  built: 'built',
  cached: 'cached (local)',
  downloaded: 'cached (remote)',
};
const OUTCOME_COLOR: Record<StepOutcome, string> = { built: '#d9822b', cached: '#8fbf7f', downloaded: '#5b9bd5' };

/**
 * No network, ever: nothing may load (default-src 'none'); the page's own inline style is the only
 * resource. The timeline and size bars are inline SVG, so the page needs no script.
 */
export const REPORT_CSP = "default-src 'none'; style-src 'unsafe-inline'";

const esc = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export function humanBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB'];
  let v = n;
  let u = -1;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(v < 10 ? 2 : 1)} ${units[u]}`;
}

const seconds = (ms: number): string => (ms / 1000).toFixed(1);

/** Bytes shown both ways: exact (data-bytes, and the number itself) and human-readable. */
const bytesCell = (n: number): string =>
  `<td class="num" data-bytes="${n}">${n}</td><td class="num">${humanBytes(n)}</td>`;

function timeline(d: ReportData): string {
  const total = Math.max(1, d.finished - d.started);
  const rowH = 22;
  const labelW = 190;
  const width = 960;
  const plotW = width - labelW - 10;
  const critical = new Set(d.critical);
  const rows = [...d.steps].sort((a, b) => a.start - b.start || (a.id < b.id ? -1 : 1));
  const bars = rows.map((s, i) => {
    const x = labelW + ((s.start - d.started) / total) * plotW;
    const w = Math.max(2, ((s.end - s.start) / total) * plotW);
    const y = 24 + i * rowH;
    const stroke = critical.has(s.id) ? ' stroke="#b00020" stroke-width="2"' : '';
    const when = `${seconds(s.start - d.started)} s → ${seconds(s.end - d.started)} s`;
    return (
      `<text x="4" y="${y + 14}">${esc(s.id)}</text>` +
      `<rect x="${x.toFixed(1)}" y="${y + 3}" width="${w.toFixed(1)}" height="${rowH - 6}" fill="${OUTCOME_COLOR[s.outcome]}"${stroke}>` +
      `<title>${esc(s.id)}: ${OUTCOME_LABEL[s.outcome]}, ${when}</title></rect>`
    );
  });
  const ticks: string[] = [];
  for (let i = 0; i <= 10; i++) {
    const x = labelW + (i / 10) * plotW;
    ticks.push(
      `<line x1="${x.toFixed(1)}" y1="18" x2="${x.toFixed(1)}" y2="${24 + rows.length * rowH}" class="tick"/>` +
        `<text x="${x.toFixed(1)}" y="12" text-anchor="middle">${seconds((total * i) / 10)} s</text>`,
    );
  }
  const height = 30 + rows.length * rowH;
  return `<svg width="${width}" height="${height}" role="img" aria-label="build timeline">${ticks.join('')}${bars.join('')}</svg>`;
}

const num = (content: string | number, attrs = ''): string => `<td class="num"${attrs}>${content}</td>`;

function table(id: string, head: string, body: string[], foot = ''): string {
  return `<table id="${id}"><thead><tr>${head}</tr></thead><tbody>${body.join('')}</tbody>${foot ? `<tfoot>${foot}</tfoot>` : ''}</table>`;
}

function stepsTable(d: ReportData): string {
  const critical = new Set(d.critical);
  const rows = [...d.steps]
    .sort((a, b) => a.start - b.start || (a.id < b.id ? -1 : 1))
    .map((s) => {
      const status = `${OUTCOME_LABEL[s.outcome]}${s.downloads.length ? `, downloaded ${s.downloads.map(esc).join(', ')}` : ''}`;
      return (
        `<tr data-step="${esc(s.id)}" data-outcome="${s.outcome}" data-critical="${critical.has(s.id)}">` +
        `<td>${esc(s.id)}</td><td>${status}</td>` +
        num(seconds(s.start - d.started)) +
        num(seconds(s.end - d.started)) +
        num(seconds(s.end - s.start)) +
        `<td>${critical.has(s.id) ? 'yes' : ''}</td><td>${s.deps.map(esc).join(', ')}</td></tr>`
      );
    });
  const head =
    '<th>step</th><th>status</th><th>start (s)</th><th>end (s)</th><th>took (s)</th><th>critical path</th><th>needs</th>';
  return table('steps', head, rows);
}

const compressedCells = (n: number): string => num(n, ` data-compressed="${n}"`) + num(humanBytes(n));

function componentsTable(d: ReportData): string {
  const img = d.image;
  const max = Math.max(1, ...img.components.map((c) => c.bytes));
  const bar = (bytes: number) =>
    `<td><svg width="200" height="12"><rect width="${((bytes / max) * 200).toFixed(1)}" height="12" fill="#5b9bd5"/></svg></td>`;
  const rows = img.components.map(
    (c) =>
      `<tr data-component="${esc(c.component)}"${c.mounted ? ' data-mounted="true"' : ''}>` +
      `<td>${esc(c.component)}${c.mounted ? ' <small>(mounted)</small>' : ''}</td>${num(c.files)}${bytesCell(c.bytes)}` +
      `${compressedCells(c.compressed)}${bar(c.bytes)}</tr>`,
  );
  const empty = (n: number) => '<td></td>'.repeat(n);
  const foot =
    `<tr id="image-total"><td>all files</td>${num(img.files.length)}${bytesCell(img.bytes)}${empty(3)}</tr>` +
    `<tr id="archive-total"><td>cpio archives</td><td></td>${bytesCell(img.archiveBytes)}${empty(3)}</tr>` +
    `<tr id="initramfs-total"><td>initramfs (real, ${esc(img.compression)})</td>${empty(3)}${compressedCells(img.compressedBytes)}<td></td></tr>`;
  const head = `<th>component</th><th>files</th><th colspan="2">uncompressed</th><th colspan="2">in the image (${esc(img.compression)})</th><th></th>`;
  return table('components', head, rows, foot);
}

function filesTable(d: ReportData): string {
  const rows = d.image.files.map(
    (f) =>
      `<tr data-file="${esc(f.path)}"><td>/${esc(f.path)}</td><td>${esc(f.component)}</td>${bytesCell(f.size)}</tr>`,
  );
  return (
    `<details><summary>every file of the image (${d.image.files.length}), largest first</summary>` +
    `${table('files', '<th>file</th><th>component</th><th colspan="2">size</th>', rows)}</details>`
  );
}

function artifactsTable(d: ReportData): string {
  const rows = d.artifacts.map(
    (a) =>
      `<tr data-artifact="${esc(a.file)}"><td>${esc(a.file)}</td>${bytesCell(a.size)}<td><code>${a.sha256.slice(0, 16)}</code></td></tr>`,
  );
  return table('artifacts', '<th>file</th><th colspan="2">size</th><th>sha256</th>', rows);
}

const STYLE = `body{font:14px system-ui,sans-serif;margin:1.5em;color:#222}h1{font-size:1.4em}h2{font-size:1.15em;margin-top:1.6em}
table{border-collapse:collapse;margin:.5em 0}td,th{border-bottom:1px solid #ddd;padding:2px 8px;text-align:left;vertical-align:top}
td.num{text-align:right;font-variant-numeric:tabular-nums}svg text{font:11px system-ui,sans-serif}.tick{stroke:#eee}
.legend span{display:inline-block;padding:0 6px;margin-right:6px;border-radius:3px}`;

/** The whole page: self-contained (inline style and SVG, no script, no external resource). */
export function renderReport(d: ReportData): string {
  const outcomes = Object.keys(OUTCOME_LABEL) as StepOutcome[];
  const legend =
    outcomes.map((o) => `<span style="background:${OUTCOME_COLOR[o]}">${OUTCOME_LABEL[o]}</span>`).join('') +
    '<span style="border:2px solid #b00020">critical path</span>';
  const counts = outcomes.map((o) => `${d.steps.filter((s) => s.outcome === o).length} ${OUTCOME_LABEL[o]}`).join(', ');
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${REPORT_CSP}">
<title>zos-build report: ${esc(d.profile)} ${esc(d.version)}</title><style>${STYLE}</style></head>
<body>
<h1>zos-build ${esc(d.version)}, profile ${esc(d.profile)}</h1>
<p>commit <code>${esc(d.commit)}</code>; build took <span id="duration">${seconds(d.finished - d.started)}</span> s; steps: ${counts}.</p>
<h2>Timeline</h2>
<p class="legend">${legend}</p>
${timeline(d)}
<p>Critical path: <span id="critical">${d.critical.map(esc).join(' → ')}</span></p>
${stepsTable(d)}
<h2>Artifacts</h2>
${artifactsTable(d)}
<h2>Image size by component</h2>
${componentsTable(d)}
<p class="legend">A <em>mounted</em> component's files reach the node as one squashfs image under
/usr/lib/zos/layers/, already compressed, that core0 mounts at start (links in the root point into it):
its size is the image's, and its files are read and decompressed on demand.</p>
<h2>Image size by file</h2>
${filesTable(d)}
</body></html>
`;
}
