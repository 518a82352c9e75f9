/** A manifest's entries as a folder tree: folders open and close, files show their size. */
import type { ManifestEntryView } from '../../shared/api.js';
import { formatBytes } from '../format.js';

interface Node {
  name: string;
  entry?: ManifestEntryView;
  children: Map<string, Node>;
}

export function buildTree(entries: readonly ManifestEntryView[]): Node {
  const root: Node = { name: '', children: new Map() };
  for (const e of entries) {
    let node = root;
    const parts = e.path.split('/');
    parts.forEach((part, i) => {
      let child = node.children.get(part);
      if (!child) node.children.set(part, (child = { name: part, children: new Map() }));
      if (i === parts.length - 1) child.entry = e;
      node = child;
    });
  }
  return root;
}

function sorted(node: Node): Node[] {
  const isDir = (n: Node) => n.children.size > 0 || n.entry?.type === 'dir';
  return [...node.children.values()].sort((a, b) => Number(isDir(b)) - Number(isDir(a)) || a.name.localeCompare(b.name));
}

function TreeNode({ node }: { node: Node }) {
  const isDir = node.children.size > 0 || node.entry?.type === 'dir';
  if (isDir) {
    return (
      <li>
        <details open>
          <summary>
            <span className="tree-icon" aria-hidden="true">
              ▸
            </span>
            {node.name}/
          </summary>
          <ul>
            {sorted(node).map((c) => (
              <TreeNode key={c.name} node={c} />
            ))}
          </ul>
        </details>
      </li>
    );
  }
  return (
    // Named by its path (a title of the file's 64-hex id would be what a screen reader announces).
    <li className="tree-file" title={node.entry?.path}>
      <span className="tree-name">{node.name}</span>
      {node.entry?.type === 'exec' ? <span className="badge">exec</span> : null}
      <span className="muted">{formatBytes(node.entry?.size ?? 0)}</span>
    </li>
  );
}

export function ManifestTree({ entries }: { entries: readonly ManifestEntryView[] }) {
  const root = buildTree(entries);
  if (entries.length === 0) return <p className="muted">This manifest is empty.</p>;
  return (
    <ul className="tree" data-testid="manifest-tree">
      {sorted(root).map((c) => (
        <TreeNode key={c.name} node={c} />
      ))}
    </ul>
  );
}
