import { join } from 'node:path';
import type { Graph } from '../graph/types.js';

import { initramfsFileName } from '../image/compress.js';
import type { Profile } from '../profile/types.js';
import type { Manifest } from '../publish/out-dir.js';
import { downloadedFile } from '../fetch/fetch-source.js';
import { logName, type StepTiming } from '../scheduler/run.js';
import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../util/fs.js';
import { criticalPath } from './critical-path.js';
import { renderReport } from './html.js';
import { imageSizes } from './image-sizes.js';
import { INITRAMFS_STEP, SEGMENTS_INFO } from '../image/step.js';
import type { SegmentInfo } from '../image/segments.js';

export const REPORT_FILE = 'report.html';

export interface ReportInput {
  profile: Profile;
  graph: Graph;
  timings: ReadonlyMap<string, StepTiming>;
  outputs: ReadonlyMap<string, string>;
  started: number;
  /** Where the step logs are (a built step's log says which sources it downloaded). */
  logDir: string;
}

async function downloadsOf(logDir: string, id: string): Promise<string[]> {
  const log = await readFile(join(logDir, logName(id)), 'utf8').catch(() => '');
  return log
    .split('\n')
    .map(downloadedFile)
    .filter((f): f is string => f !== undefined);
}

/**
 * Writes `<dir>/report.html` for a published profile: the build's timeline with its critical path,
 * and the image's size by component and by file (read back from `<dir>`'s initramfs).
 */
export async function writeReport(dir: string, manifest: Manifest, input: ReportInput): Promise<void> {
  const { profile, graph, timings } = input;
  const steps = await Promise.all(
    [...timings].map(async ([id, t]) => ({
      id,
      deps: [...graph.steps.get(id)!.deps],
      outcome: t.outcome,
      start: t.start,
      end: t.end,
      downloads: t.outcome === 'built' ? await downloadsOf(input.logDir, id) : [],
    })),
  );
  const critical = criticalPath(steps.map((s) => ({ id: s.id, deps: s.deps, duration: s.end - s.start })));
  const initramfs = join(dir, initramfsFileName(profile.compression));
  const segments = JSON.parse(
    await readFile(join(input.outputs.get(INITRAMFS_STEP)!, SEGMENTS_INFO), 'utf8'),
  ) as SegmentInfo[];
  const image = await imageSizes(initramfs, profile.compression, segments);
  const finished = Math.max(Date.now(), ...steps.map((s) => s.end));
  const html = renderReport({
    profile: manifest.profile,
    version: manifest.version,
    commit: manifest.commit,
    started: input.started,
    finished,
    steps,
    critical,
    artifacts: manifest.artifacts,
    image,
  });
  await writeFileAtomic(join(dir, REPORT_FILE), html);
}
