// The suite's table: one row per figure, from the benchmarks' JSON results, as the top of
// BENCHMARKS.md shows it (between its markers). Every figure is a ratio against a baseline of the same run.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ApiBenchResult } from './api.bench.js';
import type { machine } from './bench-common.js';
import type { PeerResult } from './peer.bench.js';

const MARK_START = '<!-- bench:suite:start -->';
const MARK_END = '<!-- bench:suite:end -->';

const fmt = (n: number, digits = 2) =>
  Number.isFinite(n) ? n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits }) : 'n/a';


/** Row is one line of the table. */
export interface Row {
  what: string;
  measured: string;
  baseline: string;
  ratio: string;
  goal: string;
  met: boolean | null;
}

/** tableRows turns the benchmarks' results (by name) into the table's rows. */
export function tableRows(results: Record<string, any>): Row[] {
  const rows: Row[] = [];
  const api = results.api as (ApiBenchResult & { coreRssBytes: number }) | undefined;
  if (api) {
    const s = api.summary;
    rows.push({
      what: `\`authStatusSummary\` over HTTP at ${api.devices.toLocaleString('en-US')} devices (median latency)`,
      measured: `${fmt(s.summary.medianMs)} ms`,
      baseline: `\`GROUP BY auth_status\` over devices: ${fmt(s.groupBy.medianMs)} ms`,
      ratio: `${fmt(s.groupByOverSummary, 0)} × faster`,
      goal: '≥ 100 × faster',
      met: s.groupByOverSummary >= 100,
    });
    rows.push({
      what: '`authStatusSummary` vs the HTTP + GraphQL floor',
      measured: `${fmt(s.summary.medianMs)} ms`,
      baseline: `\`{ __typename }\` on the same server: ${fmt(s.typename.medianMs)} ms`,
      ratio: `${fmt(s.summaryOverTypename)} ×`,
      goal: '≤ 1.5 ×',
      met: s.summaryOverTypename <= 1.5,
    });
    const f = api.floor;
    if (f) {
      rows.push({
        what: '`authStatusSummary` vs the request floor: a bare `node:http` server answering the same JSON, precomputed',
        measured: `${fmt(s.summary.medianMs)} ms`,
        baseline: `bare \`node:http\`: ${fmt(f.bare.medianMs)} ms`,
        ratio: `${fmt(f.summaryOverBare)} ×`,
        goal: 'report',
        met: null,
      });
      rows.push({
        what: '`{ __typename }` vs the request floor (express + Apollo + token check over a bare server)',
        measured: `${fmt(s.typename.medianMs)} ms`,
        baseline: `bare \`node:http\`: ${fmt(f.bare.medianMs)} ms`,
        ratio: `${fmt(f.typenameOverBare)} ×`,
        goal: 'report',
        met: null,
      });
    }
    if (api.uncached) {
      rows.push({
        what: '`authStatusSummary` with the cache of verified tokens, against a second core with it off (`AUTH_TOKEN_CACHE_SIZE=0`)',
        measured: `${fmt(s.summary.medianMs)} ms`,
        baseline: `cache off: ${fmt(api.uncached.summary.medianMs)} ms`,
        ratio: `${fmt(api.uncached.summary.medianMs / s.summary.medianMs)} × faster`,
        goal: 'report',
        met: null,
      });
    }
    rows.push({
      what: `server memory at ${api.devices.toLocaleString('en-US')} devices, after the API benchmark (its own process)`,
      measured: Number.isFinite(api.coreRssBytes) ? `RSS ${fmt(api.coreRssBytes / 2 ** 20, 0)} MiB` : 'n/a',
      baseline: '—',
      ratio: '—',
      goal: 'report',
      met: null,
    });
    const g = api.pagination;
    rows.push({
      what: `\`devices(filter: {authStatus})\`, page ${g.depth + 1} (${g.pageSize} per page)`,
      measured: g.deepPageFound ? `${fmt(g.deep.medianMs)} ms` : 'n/a',
      baseline: `first page: ${fmt(g.first.medianMs)} ms`,
      ratio: `${fmt(g.deepOverFirst)} ×`,
      goal: '≤ 2 ×',
      met: g.deepPageFound ? g.deepOverFirst <= 2 : null,
    });
  }
  const fan = results.fanout;
  if (fan) {
    // The largest N (as many dashboards as one process can hold here) carries the goals; a smaller
    // N of the same run (5,000) is kept beside it for comparison with earlier runs.
    const big = fan.sizes.at(-1);
    const fanRow = (size: any, stat: 'median' | 'p99') => {
      const ratio = size.certfleet.total[stat] / size.bare.total[stat];
      rows.push({
        what: `summary fan-out to ${size.subscribers.toLocaleString('en-US')} subscribers (${stat}, change → last subscriber)`,
        measured: `${fmt(size.certfleet.total[stat], 1)} ms`,
        baseline: `bare \`ws\` broadcast (own process): ${fmt(size.bare.total[stat], 1)} ms`,
        ratio: `${fmt(ratio)} ×`,
        goal: '≤ 2 ×',
        met: ratio <= 2,
      });
    };
    for (const size of fan.sizes.slice(0, -1)) if (size.subscribers === 5000) fanRow(size, 'median');
    fanRow(big, 'median');
    fanRow(big, 'p99');
    const heap = big.memory?.perCertfleetSubscriber?.heapUsed;
    const bareHeap = big.memory?.perBareSocket?.heapUsed;
    rows.push({
      what: `server heap per idle dashboard at ${big.subscribers.toLocaleString('en-US')} (after a forced GC)`,
      measured: typeof heap === 'number' ? `${fmt(heap / 1000, 1)} KB` : 'n/a',
      baseline: typeof bareHeap === 'number' ? `bare \`ws\` socket: ${fmt(bareHeap / 1000, 1)} KB` : '—',
      ratio: typeof heap === 'number' && typeof bareHeap === 'number' ? `${fmt(heap / bareHeap, 1)} ×` : '—',
      goal: '≤ 10 KB',
      met: typeof heap === 'number' ? heap <= 10_000 : null,
    });
    const rss = big.memory?.withSubscribers?.rss;
    rows.push({
      what: `server memory with ${big.subscribers.toLocaleString('en-US')} subscribers on the seeded fleet`,
      measured: typeof rss === 'number' ? `RSS ${fmt(rss / 2 ** 20, 0)} MiB` : 'n/a',
      baseline: '—',
      ratio: '—',
      goal: 'report',
      met: null,
    });
  }
  const gw = results.gateway;
  if (gw) {
    /** certfleet / bare https with client-certificate auth: new handshakes and resumed sessions ≥ 0.8 ×. */
    const GATEWAY_GOALS: Record<string, number> = { handshake: 0.8, resumed: 0.8 };
    const names: Record<string, string> = {
      handshake: 'a new TLS handshake per result',
      resumed: 'resumed TLS sessions',
      keepalive: 'kept-alive connections',
    };
    for (const mode of gw.modes ?? []) {
      // The suite holds these modes to its own goals (issue 14), whatever goal the gateway run recorded.
      const goal: number | undefined = GATEWAY_GOALS[mode.mode] ?? mode.goal?.ratioAtLeast;
      rows.push({
        what: `connection results recorded per second through the mTLS gateway, ${names[mode.mode] ?? mode.mode}`,
        measured: `${fmt(mode.certfleet.medianRate, 0)} /s`,
        baseline: `bare https with client-certificate auth, recording nothing: ${fmt(mode.bare.medianRate, 0)} /s`,
        ratio: `${fmt(mode.ratio)} ×`,
        goal: goal === undefined ? 'report' : `≥ ${goal} ×`,
        met: goal === undefined ? null : mode.ratio >= goal,
      });
      // Kept-alive: the fairer baseline records each result with one INSERT (PostgreSQL only; the
      // suite always runs on PostgreSQL, so a missing figure there leaves the row without one).
      if (mode.mode === 'keepalive' && (mode.bareInsert || gw.database === 'postgres')) {
        const bi = mode.bareInsert;
        rows.push({
          what: `connection results recorded per second through the mTLS gateway, kept-alive connections, against a bare server that records each result`,
          measured: bi ? `${fmt(mode.certfleet.medianRate, 0)} /s` : 'n/a',
          baseline: `bare https with client-certificate auth and one \`INSERT\` per result (postgres.js): ${bi ? `${fmt(bi.medianRate, 0)} /s` : 'n/a'}`,
          ratio: bi ? `${fmt(bi.ratio)} ×` : 'n/a',
          goal: `≥ ${bi?.goal.ratioAtLeast ?? 1.5} ×`,
          met: bi ? bi.goal.met : null,
        });
      }
    }
  }
  const iss = results.issuance;
  if (iss) {
    // The goal is against raw signing + the same rows in plain SQL; raw signing alone is reported.
    const sqlGoal = iss.goals.endToEndOverSql;
    rows.push({
      what: 'certificates issued per second through `approveClients`',
      measured: `${fmt(iss.endToEnd.perSecond, 0)} /s`,
      baseline: iss.sqlBaseline
        ? `raw \`node:crypto\` signing + the same rows in plain SQL (postgres.js), same transaction shape: ${fmt(iss.sqlBaseline.perSecond, 0)} /s`
        : 'raw signing + plain SQL: n/a (needs PostgreSQL)',
      ratio: iss.sqlBaseline ? `${fmt(iss.ratios.endToEndOverSql)} ×` : 'n/a',
      goal: sqlGoal ? `≥ ${sqlGoal.goal} ×` : '≥ 0.5 ×',
      met: sqlGoal?.met ?? null,
    });
    rows.push({
      what: 'certificates issued per second through `approveClients`',
      measured: `${fmt(iss.endToEnd.perSecond, 0)} /s`,
      baseline: `raw \`node:crypto\` signing alone: ${fmt(iss.rawSign.perSecond, 0)} /s`,
      ratio: `${fmt(iss.ratios.endToEndOverRaw)} ×`,
      goal: 'report',
      met: null,
    });
    rows.push({
      what: 'certificates issued per second through `approveClients`',
      measured: `${fmt(iss.endToEnd.perSecond, 0)} /s`,
      baseline: `pure node-forge signing: ${fmt(iss.forge.perSecond, 1)} /s`,
      ratio: `${fmt(iss.ratios.endToEndOverForge, 1)} ×`,
      goal: `≥ ${iss.goals.endToEndOverForge.goal} ×`,
      met: iss.goals.endToEndOverForge.met,
    });
  }
  const rev = results.revocation;
  if (rev) {
    // Two cores in one run, interleaved rounds: the same revocations with a CRL of K entries and with an empty one.
    const k = rev.full.revokedBefore.toLocaleString('en-US');
    rows.push({
      what: `${rev.revocations} revocations one at a time through \`revokeClientCertificate\`, CRL already naming ${k}`,
      measured: `${fmt(rev.full.seconds)} s`,
      baseline: `the same on a core whose CRL is empty: ${fmt(rev.empty.seconds)} s`,
      ratio:
        rev.roundRatioCi95 === undefined
          ? `${fmt(rev.ratio)} × (rounds ${fmt(rev.roundRatioMin)}–${fmt(rev.roundRatioMax)})`
          : `${fmt(rev.ratio)} × (rounds ${fmt(rev.roundRatioMin)}–${fmt(rev.roundRatioMax)}; 95 % interval of their mean ${fmt(rev.roundRatioCi95[0])}–${fmt(rev.roundRatioCi95[1])})`,
      goal: `≤ ${fmt(rev.goal, 1)} × (not measurably slower: the interval reaches it)`,
      met: rev.met ?? rev.ratio <= rev.goal,
    });
    rows.push({
      what: `time from a revocation's response until the stored CRL names it (max over both cores; CRL ${fmt(rev.full.crlBytes / 2 ** 20)} MiB at ${rev.full.crlEntriesAfter.toLocaleString('en-US')} entries)`,
      measured: `${fmt(rev.reflectMaxMs, 0)} ms`,
      baseline: `the CRL window (CRL_WINDOW_MS): ${rev.windowMs} ms`,
      ratio: `${fmt(rev.reflectMaxMs / rev.windowMs)} ×`,
      goal: '≤ 1.0 ×',
      met: rev.reflectMaxMs <= rev.windowMs,
    });
  }
  const sus = results.sustained;
  if (sus) {
    // Open loop on resumed TLS sessions: the highest rate held (bench/sustained.bench.ts).
    const held = (s: any) => (s.confirmed ? `held ${fmt(s.heldMs / 1000, 0)} s` : `only held in a ${fmt(sus.settings.stepMs / 1000, 0)} s step`);
    rows.push({
      what:
        'agent check-ins per second sustained through the mTLS gateway (open loop, resumed TLS sessions; held: ≥ 95 % of the offered rate, p99 ≤ 1 s, no errors' +
        (sus.settings.historyAtCap ? '; every device at its history cap, so every result pays the per-device cap)' : ')'),
      measured: Number.isFinite(sus.certfleet.rate) ? `${fmt(sus.certfleet.rate, 0)} /s (${held(sus.certfleet)})` : 'n/a',
      baseline: `bare https with client-certificate auth, recording nothing: ${fmt(sus.bare.rate, 0)} /s (${held(sus.bare)})`,
      ratio: `${fmt(sus.ratio)} ×`,
      goal: `≥ ${sus.goal.ratioAtLeast} ×`,
      // A rate only held in a short step is an upper bound: bare's then decides nothing, and certfleet's can say no but not yes.
      met: !Number.isFinite(sus.ratio) || !sus.bare.confirmed ? null : sus.certfleet.confirmed || !sus.goal.met ? sus.goal.met : null,
    });
    rows.push({
      what: 'devices served at a 15-minute check-in (sustained rate × 900)',
      measured: Number.isFinite(sus.certfleet.devicesAt15MinCheckIn) ? `${fmt(sus.certfleet.devicesAt15MinCheckIn, 0)} devices` : 'n/a',
      baseline: `bare https: ${fmt(sus.bare.devicesAt15MinCheckIn, 0)} devices`,
      ratio: `${fmt(sus.ratio)} ×`,
      goal: 'report',
      met: null,
    });
  }
  const hist = results.history;
  if (hist) {
    const t = hist.throughput;
    const scale = `${hist.devices.toLocaleString('en-US')} devices × ${hist.days} days = ${hist.rowsPerLayout.toLocaleString('en-US')} history rows`;
    rows.push({
      what: `connection results per second by group commit, partitioned history, with ${scale}`,
      measured: `${fmt(t.new.full, 0)} /s`,
      baseline: `the same, history empty: ${fmt(t.new.empty, 0)} /s`,
      ratio: `${fmt(hist.ratios.newFullOverEmpty)} ×`,
      goal: '≥ 0.9 ×',
      met: hist.ratios.newFullOverEmpty >= 0.9,
    });
    rows.push({
      what: `connection results per second by group commit with ${scale}, partitioned`,
      measured: `${fmt(t.new.full, 0)} /s`,
      baseline: `the layout before drizzle/0009 (one table): ${fmt(t.old.full, 0)} /s`,
      ratio: `${fmt(hist.ratios.newOverOldFull)} ×`,
      goal: 'report',
      met: null,
    });
    rows.push({
      what: `a device's history page (21 rows, newest first) with ${scale}, partitioned (median)`,
      measured: `${fmt(hist.page.newMedianMs)} ms`,
      baseline: `one table: ${fmt(hist.page.oldMedianMs)} ms`,
      ratio: `${fmt(hist.ratios.pageNewOverOld)} ×`,
      goal: 'report',
      met: null,
    });
    const r = hist.retention;
    rows.push({
      what: `history retention per day of data (${hist.devices.toLocaleString('en-US')} rows a day): dropping a partition of ${r.days} days`,
      measured: `${fmt((r.new.seconds * 1000) / r.days, 1)} ms a day`,
      baseline: `batched \`DELETE\` along the primary key, one day: ${fmt(r.old.seconds, 2)} s`,
      ratio: `${fmt(hist.ratios.retentionPerDayOldOverNew, 0)} × faster`,
      goal: 'report (O(partitions))',
      met: null,
    });
  }
  const peer = results.peer as PeerResult | undefined;
  if (peer) rows.push(...peerRows(peer));
  return rows;
}

/** peerRows are the rows of the peer benchmark: certfleet's CA against Puppet Server's, or one row saying it was skipped. */
export function peerRows(peer: PeerResult): Row[] {
  if (peer.skipped || !peer.single || !peer.batch) {
    return [{ what: "certfleet's CA against Puppet Server's CA (bench/peer.bench.ts)", measured: 'skipped', baseline: peer.skipped ?? 'not run', ratio: '—', goal: 'report', met: null }];
  }
  const rows: Row[] = [];
  const ms = (rss: number) => `RSS ${fmt(rss / 2 ** 20, 0)} MiB`;
  rows.push({
    what: 'certificates signed per second, one at a time: `approveClient` over GraphQL',
    measured: `${fmt(peer.single.certfleet.perSecond, 1)} /s`,
    baseline: `Puppet Server ${peer.puppet?.version ?? ''} CA, \`PUT certificate_status\` signed, one at a time: ${fmt(peer.single.puppet.perSecond, 1)} /s`,
    ratio: `${fmt(peer.single.ratio)} ×`,
    goal: `≥ ${peer.single.goal} ×`,
    met: peer.single.met,
  });
  rows.push({
    what: 'certificates signed per second in batches: `approveClients` of 100',
    measured: `${fmt(peer.batch.certfleet.perSecond, 0)} /s`,
    baseline: `Puppet Server (no bulk signing): concurrent single signs at its best concurrency in this run, ${peer.batch.puppet.concurrency}: ${fmt(peer.batch.puppet.perSecond, 1)} /s`,
    ratio: `${fmt(peer.batch.ratio, 1)} ×`,
    goal: `≥ ${peer.batch.goal} ×`,
    met: peer.batch.met,
  });
  for (const r of peer.revoke ?? []) {
    const n = r.certfleet.rounds.reduce((a, t) => a + t.items, 0);
    rows.push({
      what: `revocations per second, ${n} one at a time until the CRL served lists the last, ${r.level.toLocaleString('en-US')} already revoked: \`revokeClientCertificate\` + \`GET /agent/v1/crl\``,
      measured: `${fmt(r.certfleet.perSecond, 1)} /s`,
      baseline: `Puppet Server, \`PUT certificate_status\` revoked + \`GET certificate_revocation_list/ca\`: ${fmt(r.puppet.perSecond, 2)} /s`,
      ratio: `${fmt(r.ratio)} ×`,
      goal: `≥ ${r.goal} ×`,
      met: r.met,
    });
  }
  if (peer.puppet) {
    rows.push({
      what: 'Puppet Server memory after the peer benchmark (its default heap)',
      measured: Number.isFinite(peer.puppet.rssBytes) ? ms(peer.puppet.rssBytes) : 'n/a',
      baseline: '—',
      ratio: '—',
      goal: 'report',
      met: null,
    });
  }
  return rows;
}

/** markdown is the table with the line that says when, where and by what command it was measured. */
export function markdown(suite: { jsonName: string; date: string; command: string; machine: ReturnType<typeof machine>; source: { commit: string | null }; loadAverages: number[][]; devices: number; rows: Row[]; seconds: number }): string {
  const m = suite.machine;
  const loads = suite.loadAverages.map((l) => l[0]!.toFixed(1));
  const lines = [
    `Measured by \`${suite.command}\` on ${suite.date.slice(0, 16).replace('T', ' ')} UTC in ${Math.round(suite.seconds)} s:`,
    `${m.nproc} CPUs (${m.cpuModel}), ${m.memoryGB} GB, Node ${m.node}, ${m.platform}; commit ${suite.source.commit?.slice(0, 7) ?? 'unknown'};`,
    `1-minute load average between the steps: ${loads.join(', ')}. The raw figures are in \`${suite.jsonName}\`.`,
    '',
    '| what | measured | baseline in the same run | ratio | goal | met? |',
    '|---|---|---|---|---|---|',
    ...suite.rows.map(
      (r) => `| ${r.what} | ${r.measured} | ${r.baseline} | ${r.ratio} | ${r.goal} | ${r.met === null ? '—' : r.met ? 'yes' : '**no**'} |`,
    ),
  ];
  return lines.join('\n');
}

/** writeBenchmarksMd puts the table into BENCHMARKS.md under root, between its markers (added on the first run). */
export function writeBenchmarksMd(root: string, table: string): void {
  const file = join(root, 'BENCHMARKS.md');
  const text = readFileSync(file, 'utf8');
  const block = `${MARK_START}\n${table}\n${MARK_END}`;
  const a = text.indexOf(MARK_START);
  const b = text.indexOf(MARK_END);
  let next: string;
  if (a >= 0 && b > a) next = text.slice(0, a) + block + text.slice(b + MARK_END.length);
  else {
    // First run: the table goes after the introduction, before the first section.
    const at = text.indexOf('\n## ');
    const head = at >= 0 ? text.slice(0, at) : text;
    const rest = at >= 0 ? text.slice(at) : '';
    next = `${head}\n## The suite (\`npm run bench\`)\n\n${block}\n${rest}`;
  }
  writeFileSync(file, next);
}
