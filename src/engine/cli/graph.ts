/**
 * `log --graph`: a branch's revision DAG drawn as `git log --graph` draws
 * it, one column a line of descent, newest first and every version above
 * its parents:
 *
 *     * 3f2a…  (head) alice  second edit
 *     | * 9b1c…  (head) bob  his edit
 *     |/
 *     * 0d4e…  alice  first import
 *
 * `*` is a version; `|\` opens a column for a merge's other parent; `|/`
 * closes a column when two lines of descent reach the same parent.
 */

export interface GraphNode {
  id: string;
  parents: string[];
  /** ISO date: among versions whose children are all drawn, the newest comes first. */
  date: string;
  text: string;
}

/** Children before parents (Kahn's order), the newest first among those ready. */
export function topoOrder(nodes: readonly GraphNode[]): GraphNode[] {
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const children = new Map<string, number>();
  for (const n of nodes) for (const p of n.parents) if (byId.has(p)) children.set(p, (children.get(p) ?? 0) + 1);
  const ready = nodes.filter((n) => !children.get(n.id));
  const newer = (a: GraphNode, b: GraphNode) => b.date.localeCompare(a.date) || a.id.localeCompare(b.id);
  const out: GraphNode[] = [];
  while (ready.length > 0) {
    ready.sort(newer);
    const n = ready.shift()!;
    out.push(n);
    for (const p of n.parents) {
      if (!byId.has(p)) continue;
      const left = children.get(p)! - 1;
      children.set(p, left);
      if (left === 0) ready.push(byId.get(p)!);
    }
  }
  return out;
}

/** The lines of the graph; a node's text follows its `*`. */
export function drawGraph(nodes: readonly GraphNode[]): string[] {
  const known = new Set(nodes.map((n) => n.id));
  const lanes: (string | null)[] = [];
  const lines: string[] = [];
  /** Lanes as '|', with `marks` drawn over them; lanes in `fresh` are opened on this line and not drawn yet. */
  const row = (marks: Map<number, string>, fresh: ReadonlySet<number> = new Set()) => {
    const width = Math.max(...marks.keys(), ...lanes.map((l, i) => (l ? 2 * i : -1))) + 1;
    const chars: string[] = [];
    for (let x = 0; x < width; x++) chars.push(marks.get(x) ?? (x % 2 === 0 && lanes[x / 2] && !fresh.has(x / 2) ? '|' : ' '));
    return chars.join('').trimEnd();
  };
  for (const n of topoOrder(nodes)) {
    let col = lanes.indexOf(n.id);
    // Lines of descent meeting at this version: all but the leftmost close here.
    const meeting = lanes.flatMap((l, i) => (l === n.id && i !== col ? [i] : []));
    if (meeting.length > 0) {
      const marks = new Map<number, string>();
      for (const j of meeting) {
        lanes[j] = null;
        marks.set(j > col ? 2 * j - 1 : 2 * j + 1, j > col ? '/' : '\\');
      }
      lines.push(row(marks));
      while (lanes.length > 0 && lanes[lanes.length - 1] === null) lanes.pop();
    }
    if (col < 0) {
      col = lanes.indexOf(null);
      if (col < 0) col = lanes.length;
      lanes[col] = n.id;
    }
    lines.push(`${row(new Map([[2 * col, '*']])).padEnd(2 * lanes.length - 1)} ${n.text}`);
    const parents = n.parents.filter((p) => known.has(p));
    lanes[col] = parents[0] ?? null;
    const opened = new Map<number, string>();
    const fresh = new Set<number>();
    for (const p of parents.slice(1)) {
      let k = lanes.indexOf(null, col + 1);
      if (k < 0) k = lanes.length;
      lanes[k] = p;
      opened.set(2 * k - 1, '\\');
      fresh.add(k);
    }
    if (opened.size > 0) lines.push(row(opened, fresh));
    while (lanes.length > 0 && lanes[lanes.length - 1] === null) lanes.pop();
  }
  return lines;
}
