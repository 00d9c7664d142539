import type { SimulationProgress, SimulationResult, SummaryCounts } from './simulation.js';

const n = (x: number) => x.toLocaleString('en-US');
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const mib = (bytes: number) => `${Math.round(bytes / 1024 / 1024)} MiB`;

/** formatProgress is one status line: what the agents have done so far and how fast. */
export function formatProgress(p: SimulationProgress): string {
  return (
    `${seconds(p.elapsedMs)} | ${n(p.finished)}/${n(p.agents)} agents | enrolled ${n(p.enrolled)} approved ${n(p.approved)} ` +
    `connected ${n(p.connected)} failed-as-expected ${n(p.failedAsExpected)} errors ${n(p.errors)} | ` +
    `${p.agentsPerSecond.toFixed(1)} agents/s ${p.requestsPerSecond.toFixed(0)} req/s | revoked ${n(p.revoked)} rss ${mib(p.rssBytes)}`
  );
}

const CHART_ROWS: [keyof SummaryCounts, string][] = [
  ['succeeded', 'Authentication succeeded'],
  ['noAuthenticationInfo', 'No authentication info'],
  ['failed', 'Authentication failed'],
  ['mustUpgrade', 'Client agents must upgrade'],
  ['total', 'total'],
];

/** formatSummary is the end-of-run report: outcomes, the chart against the mix, timing and errors by kind. */
export function formatSummary(r: SimulationResult): string {
  const lines: string[] = [];
  const s = r.settings;
  const bound = s.durationMs !== null ? `for ${seconds(s.durationMs)}, every ${seconds(s.intervalMs)}` : s.rounds === 1 ? 'one round' : `${s.rounds} rounds, every ${seconds(s.intervalMs)}`;
  lines.push(
    `certfleet simulate: ${n(s.agents)} agents (${s.agentIdPrefix}-*, seed ${s.seed}), ${bound}, concurrency ${s.concurrency}` +
      (r.interrupted ? ' — INTERRUPTED' : ''),
  );
  lines.push(
    `  elapsed ${seconds(r.elapsedMs)}; ${n(r.progress.finished)} agents through their first round in ${seconds(r.firstRoundMs)}, ` +
      `${r.agentsPerSecond.toFixed(1)} agents/s`,
  );
  lines.push(
    `  ${n(r.progress.gatewayRequests)} gateway requests ` +
      `(${r.progress.requestsPerSecond.toFixed(0)}/s), ${n(r.progress.graphqlCalls)} GraphQL calls ` +
      `(${r.approvalBatches.calls} approveClients, largest batch ${r.approvalBatches.largest}); peak RSS ${mib(r.peakRssBytes)}`,
  );
  const m = r.mix;
  lines.push(`  mix: healthy ${n(m.healthy)}, 9.x ${n(m.old)}, never approved ${n(m.neverApproved)}, revoked ${n(m.revoked)}, never connect ${n(m.neverConnect)}`);
  const o = r.outcomes;
  lines.push(
    `  outcomes: succeeded ${n(o.succeeded)}, must upgrade ${n(o.mustUpgrade)}, not approved ${n(o.notApproved)}, revoked ${n(o.revoked)}, ` +
      `never connected ${n(o.neverConnected)}, errors ${n(o.error)}` +
      (o.cancelled + o.notRun > 0 ? `, cancelled ${n(o.cancelled)}, not run ${n(o.notRun)}` : ''),
  );
  lines.push(`  chart (authStatusSummary)     before      after   expected`);
  for (const [key, label] of CHART_ROWS) {
    const ok = r.summaryAfter[key] === r.summaryExpected[key] ? 'ok' : 'MISMATCH';
    lines.push(`    ${label.padEnd(27)}${n(r.summaryBefore[key]).padStart(9)}${n(r.summaryAfter[key]).padStart(11)}${n(r.summaryExpected[key]).padStart(11)}   ${ok}`);
  }
  lines.push(
    r.summaryMatches
      ? '  the chart matches the mix'
      : '  the chart does NOT match the mix' +
          (r.interrupted ? ' (the run was interrupted)' : r.errors.length > 0 ? ' (see the errors below)' : ' (was anything else changing this core meanwhile?)'),
  );
  if (r.retried.length > 0) lines.push(`  retried after a network failure: ${r.retried.map((x) => `${x.kind} ×${n(x.count)}`).join(', ')}`);
  if (r.errors.length === 0) {
    lines.push('  unexpected errors: none');
  } else {
    lines.push(`  unexpected errors (${n(r.progress.errors)}):`);
    for (const e of r.errors) lines.push(`    ${n(e.count).padStart(7)}  ${e.kind} — e.g. ${e.example}`);
  }
  return `${lines.join('\n')}\n`;
}
