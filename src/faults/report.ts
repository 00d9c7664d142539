import type { FaultReport } from './fault-report.js';

const n = (x: number) => x.toLocaleString('en-US');
const s = (ms: number | null | undefined) => (ms === null || ms === undefined ? '—' : `${(ms / 1000).toFixed(1)} s`);
const plus = (ms: number | null | undefined) => (ms === null || ms === undefined ? '—' : `+${(ms / 1000).toFixed(1)} s`);
const kinds = (by: Record<string, number>) =>
  Object.keys(by).length === 0 ? 'none' : Object.entries(by).map(([k, v]) => `${k}: ${n(v)}`).join(', ');

/** formatFaultReport is one fault's figures as text, ending with PASS or FAIL and why. */
export function formatFaultReport(r: FaultReport, number: number, strict: boolean): string {
  const lines: string[] = [];
  const t = r.timeline;
  lines.push(`== fault ${number}: ${r.title}`);
  const fault =
    r.fault === 'kill'
      ? `killed at +${s(t.faultAtMs)}, down ${s(r.settings.downMs)}, started again and ready in ${s(t.serverRestartMs)}`
      : r.fault === 'pg-restart'
        ? `pg_ctl restart -m ${r.settings.pgRestartMode} at +${s(t.faultAtMs)}, took ${s(t.pgRestartMs)}`
        : `replica-b killed at +${s(t.faultAtMs)}`;
  lines.push(`   load            ${n(r.settings.agents)} agents on ${r.replicas} replica${r.replicas === 1 ? '' : 's'}, ${s(r.settings.beforeMs)} before, ${s(r.settings.afterMs)} after; ${s(t.loadMs)} in all; ${fault}`);
  lines.push(`   requests        ${n(r.requests)}`);
  lines.push(`   acknowledged    ${n(r.acknowledged.total)}  (by HTTP status: ${kinds(r.acknowledged.byHttpStatus)})`);
  lines.push(`   stored          ${n(r.stored)}  (${n(r.storedNotAcknowledged)} stored but never acknowledged: the answer was lost in the fault and the agent asked again; most per device ${n(r.mostResultsPerDevice)})`);
  lines.push(`   lost            ${n(r.lost)}${r.lost > 0 ? `  e.g. ${JSON.stringify(r.lostExamples[0])}` : ''}`);
  lines.push(`   agent errors    ${kinds(r.errors)}${r.errors['HTTP 503'] ? ` (503s with Retry-After: ${n(r.http503WithRetryAfter)})` : ''}; before the fault: ${n(r.errorsBeforeFault)}`);
  lines.push(`   verdicts        ${r.unexpectedVerdicts === 0 ? 'every answer as the agent\'s part expects' : `${n(r.unexpectedVerdicts)} unexpected, e.g. ${r.unexpectedVerdictExamples[0]}`}`);
  const c = r.counters;
  lines.push(
    `   counters        ${c.final.equal ? 'equal to the recount' : 'DIFFER from the recount'} at the end ${JSON.stringify(c.final.counters)}; ` +
      `during the load ${n(c.samples.checks)} snapshots, ${n(c.samples.mismatches)} unequal, ${n(c.samples.unavailable)} unanswered`,
  );
  for (const c of r.crashes) lines.push(`   CRASH           ${c.replica} exited on its own: ${c.how}`);
  for (const d of r.dashboards) {
    lines.push(
      `   dashboard       ${d.replica}: ${d.resynced ? `resynced, ${s(d.resyncMs)} after the load` : 'did NOT resync'}; ${n(d.messages)} messages (${n(d.messagesAfterFault)} after the fault), ` +
        `${n(d.reconnects)} reconnect${d.reconnects === 1 ? '' : 's'}${d.backAfterRestartMs !== null ? `, first message ${s(d.backAfterRestartMs)} after the restart was ready` : ''}; ` +
        `updates resumed ${plus(d.updatesResumedMs)} after the fault began` +
        (d.errors.length > 0 ? `; errors: ${d.errors.join(' | ')}` : ''),
    );
  }
  const rec = r.recovery;
  lines.push(
    `   recovery        ${n(rec.agentsWithErrors)} agents saw errors, from ${plus(rec.firstErrorMs)} to ${plus(rec.lastErrorMs)} after the fault; ` +
      `first answer to a request sent after the fault began ${plus(rec.firstAckAfterFaultMs)}; every agent answered again by ${rec.notServedAgain > 0 ? `— (${n(rec.notServedAgain)} never were)` : plus(rec.allAgentsServedAgainMs)}`,
  );
  for (const l of r.serverLogErrors) {
    if (l.count > 0) lines.push(`   server log      ${l.replica}: ${n(l.count)} ERROR lines: ${l.examples.map((e) => JSON.stringify(e)).join('; ')}`);
  }
  for (const d of r.defects) lines.push(`   DEFECT          ${d}`);
  const failures = [...r.failures, ...(strict ? r.defects : [])];
  lines.push(failures.length === 0 ? '   PASS' : `   FAIL: ${failures.join('; ')}`);
  return `${lines.join('\n')}\n\n`;
}
