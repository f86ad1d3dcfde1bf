/** A step as the critical path needs it: its dependencies and how long its own work took. */
export interface TimedStep {
  id: string;
  deps: readonly string[];
  /** Milliseconds of the step's own work (0 for a cached step). */
  duration: number;
}

/**
 * The chain of dependent steps whose durations add up to the most: the steps that made the build
 * as long as it was (shortening anything else would not have finished it sooner). Dependencies
 * outside `steps` (not part of this build) count as done at the start. Ties go to the first id in
 * sort order, so the answer is stable.
 */
export function criticalPath(steps: readonly TimedStep[]): string[] {
  const byId = new Map(steps.map((s) => [s.id, s]));
  const finish = new Map<string, { total: number; via?: string }>();
  const visit = (id: string): number => {
    const known = finish.get(id);
    if (known) return known.total;
    const step = byId.get(id)!;
    let best: { total: number; via?: string } = { total: 0 };
    for (const d of [...step.deps].sort()) {
      if (!byId.has(d)) continue;
      const t = visit(d);
      if (t > best.total || best.via === undefined) best = { total: t, via: d };
    }
    const total = best.total + step.duration;
    finish.set(id, { total, via: best.via });
    return total;
  };
  let end: string | undefined;
  for (const id of [...byId.keys()].sort()) {
    const total = visit(id);
    if (end === undefined || total > visit(end)) end = id;
  }
  const path: string[] = [];
  for (let id = end; id !== undefined; id = finish.get(id)!.via) path.unshift(id);
  return path;
}
