import { findCycle } from '../recipe/validate.js';
import { ZosError } from '../util/errors.js';
import type { Graph, Step } from './types.js';

/** Checks that every dependency exists and there is no cycle, and orders the steps. */
export function makeGraph(steps: readonly Step[]): Graph {
  const byId = new Map<string, Step>();
  for (const s of steps) {
    if (byId.has(s.id)) throw new ZosError(`internal: step ${s.id} defined twice`);
    byId.set(s.id, s);
  }
  for (const s of steps) {
    for (const d of s.deps) if (!byId.has(d)) throw new ZosError(`step ${s.id} depends on unknown step ${d}`);
  }
  const cycle = findCycle(new Map(steps.map((s) => [s.id, s.deps])));
  if (cycle) throw new ZosError(`dependency cycle between steps: ${cycle.join(' -> ')}`);
  return { steps: byId, order: topoOrder(byId) };
}

function topoOrder(steps: ReadonlyMap<string, Step>): string[] {
  const done = new Set<string>();
  const order: string[] = [];
  const visit = (id: string): void => {
    if (done.has(id)) return;
    done.add(id);
    for (const d of [...steps.get(id)!.deps].sort()) visit(d);
    order.push(id);
  };
  for (const id of [...steps.keys()].sort()) visit(id);
  return order;
}

/** The step ids `targets` need, themselves included. */
export function closure(graph: Graph, targets: readonly string[]): Set<string> {
  const need = new Set<string>();
  const visit = (id: string): void => {
    if (need.has(id)) return;
    const step = graph.steps.get(id);
    if (!step) throw new ZosError(`unknown build target ${id}`, `Known targets: ${graph.order.join(', ')}`);
    need.add(id);
    step.deps.forEach(visit);
  };
  targets.forEach(visit);
  return need;
}

/** Graphviz DOT text of the graph (`zos-build graph --dot`). */
export function toDot(graph: Graph): string {
  const lines = ['digraph zos {', '  rankdir=LR;', '  node [shape=box];'];
  for (const id of graph.order) {
    lines.push(`  "${id}";`);
    for (const d of graph.steps.get(id)!.deps) lines.push(`  "${id}" -> "${d}";`);
  }
  lines.push('}');
  return `${lines.join('\n')}\n`;
}

/** Indented text tree of what each step needs (`zos-build graph`). */
export function toText(graph: Graph): string {
  return `${graph.order
    .map((id) => {
      const deps = graph.steps.get(id)!.deps;
      return deps.length ? `${id}\n${deps.map((d) => `  <- ${d}`).join('\n')}` : id;
    })
    .join('\n')}\n`;
}
