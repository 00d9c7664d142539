#!/usr/bin/env node
// Runs the shared contract check on schema.graphql and fails on any breaking change except the
// ones listed in contract-pending.txt: contract parts whose issues have not landed yet.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const tool = `${root}../shared/tools/check-contract.mjs`;
if (!existsSync(tool)) {
  console.error(`check-contract: ${tool} not found (the shared/ folder sits beside the repository)`);
  process.exit(2);
}
const run = spawnSync(process.execPath, [tool, 'schema.graphql'], { cwd: root, encoding: 'utf8' });
if (run.status !== 0 && run.status !== 1) {
  process.stderr.write(run.stderr);
  process.exit(2);
}
const pending = new Set(
  readFileSync(`${root}contract-pending.txt`, 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#')),
);
const breaking = run.stdout.split('\n').filter((l) => /^[A-Z_]+: /.test(l));
const unexpected = breaking.filter((l) => !pending.has(l));
const done = [...pending].filter((l) => !breaking.includes(l));
for (const l of unexpected) console.log(`BREAKING ${l}`);
for (const l of done) console.log(`now served, remove from contract-pending.txt: ${l}`);
console.log(
  unexpected.length === 0
    ? `contract kept, but for ${breaking.length} pending item(s) listed in contract-pending.txt`
    : `contract broken: ${unexpected.length} breaking change(s)`,
);
process.exit(unexpected.length === 0 && done.length === 0 ? 0 : 1);
