/**
 * Summarises a V8 .cpuprofile: self time by package / source area and the top functions, plus the
 * share of wall time the main thread was idle (waiting on I/O or the thread pool).
 *
 * Usage: npx tsx bench/profile-summary.ts FILE.cpuprofile [FILE…] [--top N]
 *   (several files, e.g. the per-call profiles of `issuance.bench.ts --profile DIR`, are added up)
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { positiveNumber, runBenchMain } from './bench-common.js';

const USAGE = 'usage: npx tsx bench/profile-summary.ts FILE.cpuprofile [FILE…] [--top N]';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** area names the package or source folder a frame belongs to. */
export function area(url: string, fn: string): string {
  if (fn === '(idle)') return '(idle: waiting for I/O / thread pool)';
  if (fn === '(garbage collector)') return '(garbage collector)';
  if (fn === '(program)') return '(program: V8/native, outside JS)';
  if (url === '') return `(native) ${fn || 'anonymous'}`;
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm) return nm[1]!;
  const src = /\/(src|bench)\/(.+?)\/?[^/]*$/.exec(url);
  if (src) return `${src[1]}/${src[2]}`;
  if (url.startsWith('node:')) return url;
  return url;
}

/** CATEGORY_RULES classify a sample by the nearest frame on its stack (leaf first) that one of them names. */
const CATEGORY_RULES: [string, (cf: CallFrame) => boolean][] = [
  ['CSR re-parse + proof-of-possession check (parseCertificateRequest)', (cf) =>
    cf.functionName === 'parseCertificateRequest' ||
    // the CSR signature check (@peculiar/x509 verify → WebCrypto) loses its caller across the await
    (cf.functionName === 'verify' && cf.url.includes('@peculiar/x509'))],
  ['certificate encoding + CA signature (signer.issueClientCertificate)', (cf) => cf.functionName === 'issueClientCertificate' || /\/src\/pki\/(signer|certificate-encoding|der)\./.test(cf.url)],
  ['database: PGlite (Postgres in WebAssembly, on the main thread)', (cf) => /@electric-sql\/pglite|^wasm:/.test(cf.url)],
  ['database: postgres.js driver', (cf) => /node_modules\/postgres\//.test(cf.url)],
  ['database: drizzle-orm query building / result mapping', (cf) => /drizzle-orm/.test(cf.url)],
  ['database: src/db', (cf) => /\/src\/db\//.test(cf.url)],
  ['HTTP + GraphQL + token check', (cf) => /graphql|@apollo|express|type-graphql|class-validator|jose|node:_http|node:http|undici|body-parser|raw-body/.test(cf.url)],
  ['services (transaction, audit, rules)', (cf) => /\/src\/services\//.test(cf.url)],
];

function category(stack: CallFrame[]): string {
  const leaf = stack[0]!;
  if (['(idle)', '(garbage collector)', '(program)'].includes(leaf.functionName)) return area(leaf.url, leaf.functionName);
  for (const cf of stack) {
    for (const [name, test] of CATEGORY_RULES) if (test(cf)) return name;
  }
  return `other: ${area(leaf.url, leaf.functionName)}`;
}

async function main(): Promise<void> {
  const { values, positionals: files } = parseArgs({
    args: process.argv.slice(2),
    options: { top: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    allowPositionals: true,
    strict: true,
  });
  if (values.help) return void console.log(USAGE);
  const top = values.top === undefined ? 25 : positiveNumber(values.top, '--top');
  if (files.length === 0) {
    console.error(USAGE);
    process.exit(2);
  }
  const byCategory = new Map<string, number>();
  const byArea = new Map<string, number>();
  const byFn = new Map<string, number>();
  const add = (m: Map<string, number>, k: string, us: number) => m.set(k, (m.get(k) ?? 0) + us);
  let total = 0;
  let samples = 0;
  for (const file of files) {
    const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
    const byId = new Map(profile.nodes.map((n) => [n.id, n]));
    const parent = new Map<number, number>();
    for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
    const self = new Map<number, number>();
    // The first sample carries the profiler's own start-up; leave it out.
    for (let i = 1; i < profile.samples.length; i++) {
      const id = profile.samples[i]!;
      self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
    }
    samples += profile.samples.length - 1;
    for (const [id, us] of self) {
      total += us;
      const stack: CallFrame[] = [];
      for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) stack.push(byId.get(cur)!.callFrame);
      add(byCategory, category(stack), us);
      const cf = stack[0]!;
      add(byArea, area(cf.url, cf.functionName), us);
      const where = cf.url ? `${cf.url.replace(/^.*\/(node_modules|src|bench)\//, '$1/')}:${cf.lineNumber + 1}` : '';
      add(byFn, `${cf.functionName || '(anonymous)'} ${where}`.trim(), us);
    }
  }
  const pct = (us: number) => `${((100 * us) / total).toFixed(1).padStart(5)} %`;
  const print = (title: string, m: Map<string, number>) => {
    console.log(`\n${title}:`);
    for (const [k, us] of [...m].sort((x, y) => y[1] - x[1]).slice(0, top)) {
      console.log(`  ${pct(us)}  ${(us / 1000).toFixed(0).padStart(7)} ms  ${k}`);
    }
  };
  console.log(`${files.length} profile(s): ${(total / 1e6).toFixed(2)} s of wall time, ${samples} samples`);
  print('time by category (nearest recognised frame on the stack, leaf first)', byCategory);
  print('self time by area', byArea);
  print('top functions by self time', byFn);
}

runBenchMain(import.meta.url, USAGE, main);
