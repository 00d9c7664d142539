/**
 * What an idle subscriber keeps alive: compares two V8 heap snapshots of the certfleet process
 * (`fanout.bench.ts --heap-snapshot DIR` writes one before and one after opening N subscribers) and
 * prints, per constructor or kind of object, how many more there are and how many bytes they take
 * (self size), divided by N, largest first. Objects that come once per subscriber show a count of
 * about 1.00 per subscriber.
 *
 * Usage: npx tsx bench/fanout/heap-diff.ts BEFORE.heapsnapshot IDLE.heapsnapshot N [--top 40] [--by-retainer]
 *   --by-retainer groups objects also by what first holds them (the retainer's type:name and edge).
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface Snapshot {
  snapshot: {
    meta: { node_fields: string[]; node_types: [string[], ...unknown[]]; edge_fields: string[]; edge_types: [string[], ...unknown[]] };
  };
  nodes: number[];
  edges: number[];
  strings: string[];
}

/**
 * summarize adds up self sizes and counts by "type:name" (closures by their function's name); with
 * byRetainer, by that and what first holds each object (its retainer's type:name and the edge).
 */
function summarize(file: string, byRetainer: boolean): Map<string, { count: number; size: number }> {
  const snap = JSON.parse(readFileSync(file, 'utf8')) as Snapshot;
  const fields = snap.snapshot.meta.node_fields;
  const types = snap.snapshot.meta.node_types[0];
  const width = fields.length;
  const iType = fields.indexOf('type');
  const iName = fields.indexOf('name');
  const iSize = fields.indexOf('self_size');
  const iEdges = fields.indexOf('edge_count');
  const eFields = snap.snapshot.meta.edge_fields;
  const eTypes = snap.snapshot.meta.edge_types[0];
  const eWidth = eFields.length;
  const eType = eFields.indexOf('type');
  const eName = eFields.indexOf('name_or_index');
  const eTo = eFields.indexOf('to_node');
  const label = (i: number) => {
    const type = types[snap.nodes[i + iType]!]!;
    let name = snap.strings[snap.nodes[i + iName]!]!;
    // Strings and numbers are grouped by kind, not by their text.
    if (type === 'string' || type === 'concatenated string' || type === 'sliced string' || type === 'number' || type === 'hidden') name = '';
    if (name.length > 60) name = `${name.slice(0, 57)}...`;
    return `${type}:${name}`;
  };
  // The first strong retainer of each node (by node offset), with the edge's name.
  const retainer = new Map<number, string>();
  if (byRetainer) {
    let e = 0;
    for (let i = 0; i < snap.nodes.length; i += width) {
      const count = snap.nodes[i + iEdges]!;
      for (let k = 0; k < count; k++, e += eWidth) {
        const et = eTypes[snap.edges[e + eType]!]!;
        if (et === 'weak' || et === 'shortcut') continue;
        const to = snap.edges[e + eTo]!;
        if (retainer.has(to)) continue;
        const en = et === 'element' || et === 'hidden' ? `[${snap.edges[e + eName]}]` : snap.strings[snap.edges[e + eName]!];
        retainer.set(to, `${label(i)}.${et === 'element' || et === 'hidden' ? '[]' : en}`);
      }
    }
  }
  const out = new Map<string, { count: number; size: number }>();
  for (let i = 0; i < snap.nodes.length; i += width) {
    const key = byRetainer ? `${label(i)} <- ${retainer.get(i) ?? '?'}` : label(i);
    const e = out.get(key) ?? { count: 0, size: 0 };
    e.count++;
    e.size += snap.nodes[i + iSize]!;
    out.set(key, e);
  }
  return out;
}

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: { top: { type: 'string' }, 'by-retainer': { type: 'boolean' } },
});
if (positionals.length !== 3) {
  console.error('usage: npx tsx bench/fanout/heap-diff.ts BEFORE.heapsnapshot IDLE.heapsnapshot N [--top 40]');
  process.exit(2);
}
const [beforeFile, afterFile, nRaw] = positionals as [string, string, string];
const n = Number(nRaw);
const top = Number(values.top ?? 40);
const before = summarize(beforeFile, values['by-retainer'] ?? false);
const after = summarize(afterFile, values['by-retainer'] ?? false);
const rows = [...after.entries()]
  .map(([key, a]) => {
    const b = before.get(key) ?? { count: 0, size: 0 };
    return { key, count: (a.count - b.count) / n, size: (a.size - b.size) / n };
  })
  .sort((x, y) => y.size - x.size);
const total = rows.reduce((x, r) => x + r.size, 0);
console.log(`self size per subscriber, all objects: ${total.toFixed(0)} B (N = ${n})`);
console.log('| bytes / subscriber | objects / subscriber | type:constructor or function |');
console.log('|---|---|---|');
for (const r of rows.slice(0, top)) console.log(`| ${r.size.toFixed(0)} | ${r.count.toFixed(2)} | \`${r.key}\` |`);
