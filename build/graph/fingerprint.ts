import { sha256Json } from '../util/hash.js';
import type { Graph } from './types.js';

/** Bump when the meaning of step outputs changes, so old cache entries stop matching. */
export const CACHE_FORMAT = 1;

/**
 * Fingerprints every step: hash of its id, its own inputs and its dependencies' fingerprints.
 * Computed in dependency order, so a change anywhere reaches everything downstream and nothing else.
 */
export async function fingerprintGraph(graph: Graph, only?: ReadonlySet<string>): Promise<Map<string, string>> {
  const fps = new Map<string, string>();
  const ids = graph.order.filter((id) => !only || only.has(id));
  const inputs = await Promise.all(ids.map((id) => graph.steps.get(id)!.inputs()));
  ids.forEach((id, i) => {
    const step = graph.steps.get(id)!;
    const deps = Object.fromEntries(step.deps.map((d) => [d, fps.get(d)]));
    fps.set(id, sha256Json({ format: CACHE_FORMAT, id, inputs: inputs[i], deps }));
  });
  return fps;
}
