import { useId } from 'react';
import { failureReasonLabel, formatDateTime } from '../format';

/** InventoryAttributeLike is one attribute of a device's inventory: a path of names and a value. */
export interface InventoryAttributeLike {
  path: readonly string[];
  value: string;
}

interface Node {
  name: string;
  value?: string;
  children: Node[];
}

/** treeOf groups attributes by their path segments, keeping the order the API gave them. */
function treeOf(attributes: readonly InventoryAttributeLike[]): Node[] {
  const root: Node = { name: '', children: [] };
  for (const a of attributes) {
    let node = root;
    a.path.forEach((segment, i) => {
      const last = i === a.path.length - 1;
      let child = last ? undefined : node.children.find((c) => c.name === segment && c.value === undefined);
      if (!child) {
        child = { name: segment, children: [] };
        node.children.push(child);
      }
      if (last) child.value = a.value;
      node = child;
    });
  }
  return root.children;
}

// The API gives some values in their raw form (an instant, a reason code): shown in the console's words.
const DATE_ATTRIBUTES = new Set(['Last attempt', 'Certificate expires']);

function shown(name: string, value: string): string {
  if (DATE_ATTRIBUTES.has(name)) return formatDateTime(value);
  if (name === 'Failure reason') return failureReasonLabel(value);
  return value;
}

/** InventoryTree shows a device's inventory as the console's tree: folders of attributes, each open. */
export function InventoryTree({ attributes }: { attributes: readonly InventoryAttributeLike[] }) {
  if (attributes.length === 0) return <p className="muted">No inventory.</p>;
  return (
    <ul className="tree" aria-label="Inventory tree">
      {treeOf(attributes).map((n, i) => (
        <TreeNode key={`${n.name}-${i}`} node={n} />
      ))}
    </ul>
  );
}

function TreeNode({ node }: { node: Node }) {
  const id = useId();
  if (node.children.length === 0) {
    return (
      <li className="attribute">
        <span className="name">{node.name}:</span> <span className="value">{shown(node.name, node.value ?? '')}</span>
      </li>
    );
  }
  return (
    <li className="folder">
      <details open>
        <summary id={id}>{node.name}</summary>
        <ul aria-labelledby={id}>
          {node.children.map((c, i) => (
            <TreeNode key={`${c.name}-${i}`} node={c} />
          ))}
        </ul>
      </details>
    </li>
  );
}
