// The gateway benchmark's figures: one run's, one mode's summary over the rounds, the result
// document (bench/results/gateway*.json, read by bench/run.ts and BENCHMARKS.md), and how they print.
import type { machine, sourceVersion } from '../bench-common.js';
import type { Mode, Target } from './protocol.js';

export const GOAL_RESUMED_RATIO = 0.8;
/** New TLS handshakes: certfleet against the bare server (issue 14). */
export const GOAL_HANDSHAKE_RATIO = 0.8;
/** Kept-alive connections: certfleet against the bare server that INSERTs each result (issue 14). */
export const GOAL_KEEPALIVE_OVER_INSERT = 1.5;

export interface RunFigures {
  round: number;
  target: Target;
  mode: Mode;
  ok: number;
  errors: number;
  elapsedMs: number;
  rate: number;
  sessionReusedShare: number;
  connections: number;
  tlsProtocols: Record<string, number>;
  latencyMs: { p50: number; p90: number; p99: number; max: number };
  serverCpuMs: number;
  serverCpuUsPerRequest: number;
  clientCpuMs: number;
  /** CPU time of the local PostgreSQL backends connected to the benchmark's database during the run, else null. */
  postgresCpuMs: number | null;
  /** certfleet: rise of max(connection_results.id) during the run; bareInsert: of its scratch table's max(id). */
  resultsRecorded?: number;
  statements?: number;
  /** certfleet only: INSERT statements into connection_results (one per transaction writing results). */
  historyInserts?: number;
  loadAverage1m: number;
}

/** TargetSummary is one server's figures for one mode over the timed rounds. */
export interface TargetSummary {
  medianRate: number;
  rates: number[];
  /** Of all answers, the share whose connection resumed a TLS session. */
  sessionReusedShare: number;
  connectionsPerRequest: number;
  /** Median over rounds of each run's median latency. */
  medianLatencyMs: number;
  serverCpuUsPerRequest: number;
  /** Median over rounds of server CPU time / elapsed time (above 1 when threads add up). */
  serverCpuShare: number;
  clientCpuShare: number;
  postgresCpuUsPerRequest: number | null;
}

export interface ModeResult {
  mode: Mode;
  certfleet: TargetSummary & {
    /** SQL statements the core sent per recorded result (onQuery). */
    statementsPerResult: number;
    /** Results per INSERT into connection_results: the group commit's mean batch size. */
    resultsPerHistoryInsert: number;
  };
  bare: TargetSummary;
  /** median certfleet rate / median bare rate. */
  ratio: number;
  /** Per round: certfleet rate / bare rate of the same round. */
  roundRatios: number[];
  /**
   * bare server CPU per request / certfleet CPU per request (its process, plus its PostgreSQL backends
   * when measured): the ratio of the rates each would reach on one CPU of its own. It does not depend
   * on how much CPU the client process or other programs take, which the rate ratio does.
   */
  cpuCostRatio: number;
  goal: { ratioAtLeast: number; met: boolean } | null;
  /**
   * Kept-alive mode on PostgreSQL: the bare server recording each result with one INSERT through
   * postgres.js, in the same rounds; the ratios are certfleet's over it.
   */
  bareInsert?: TargetSummary & {
    ratio: number;
    roundRatios: number[];
    cpuCostRatio: number;
    goal: { ratioAtLeast: number; met: boolean };
  };
}

export interface GatewayBenchResult {
  benchmark: 'agent gateway';
  date: string;
  command: string;
  database: 'embedded' | 'postgres';
  machine: ReturnType<typeof machine>;
  source: ReturnType<typeof sourceVersion> & { uncommittedInSrc: { path: string; sha256: string | null }[] | null };
  loadAverageAtStart: number[];
  loadAverageAtEnd: number[];
  settings: Record<string, unknown>;
  profiled: boolean;
  setup: { devices: number; enrollMs: number; approveMs: number; verifyStatuses: Record<string, number> };
  modes: ModeResult[];
  runs: RunFigures[];
}

export const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
export const pct = (x: number) => `${(100 * x).toFixed(1)} %`;

export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length === 0 ? NaN : s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

/** summariseMode is one mode's figures over the timed rounds: medians, and the ratios against the bare server. */
export function summariseMode(mode: Mode, runs: RunFigures[]): ModeResult {
  const of = (target: Target) => runs.filter((r) => r.mode === mode && r.target === target);
  const summarise = (rs: RunFigures[]): TargetSummary => ({
    medianRate: median(rs.map((r) => r.rate)),
    rates: rs.map((r) => r.rate),
    sessionReusedShare: sum(rs.map((r) => r.sessionReusedShare * r.ok)) / sum(rs.map((r) => r.ok)),
    connectionsPerRequest: sum(rs.map((r) => r.connections)) / sum(rs.map((r) => r.ok)),
    medianLatencyMs: median(rs.map((r) => r.latencyMs.p50)),
    serverCpuUsPerRequest: median(rs.map((r) => r.serverCpuUsPerRequest)),
    serverCpuShare: median(rs.map((r) => r.serverCpuMs / r.elapsedMs)),
    postgresCpuUsPerRequest: rs.every((r) => r.postgresCpuMs !== null) ? median(rs.map((r) => (1000 * r.postgresCpuMs!) / r.ok)) : null,
    clientCpuShare: median(rs.map((r) => r.clientCpuMs / r.elapsedMs)),
  });
  const cf = of('certfleet');
  const bs = of('bare');
  const bi = of('bareInsert');
  const ratio = median(cf.map((r) => r.rate)) / median(bs.map((r) => r.rate));
  const cfCost = summarise(cf).serverCpuUsPerRequest + (summarise(cf).postgresCpuUsPerRequest ?? 0);
  let bareInsert: ModeResult['bareInsert'];
  if (bi.length > 0) {
    const s = summarise(bi);
    const r = median(cf.map((x) => x.rate)) / s.medianRate;
    bareInsert = {
      ...s,
      ratio: r,
      roundRatios: cf.map((x) => x.rate / bi.find((y) => y.round === x.round)!.rate),
      cpuCostRatio: (s.serverCpuUsPerRequest + (s.postgresCpuUsPerRequest ?? 0)) / cfCost,
      goal: { ratioAtLeast: GOAL_KEEPALIVE_OVER_INSERT, met: r >= GOAL_KEEPALIVE_OVER_INSERT },
    };
  }
  return {
    mode,
    certfleet: {
      ...summarise(cf),
      statementsPerResult: sum(cf.map((r) => r.statements ?? 0)) / sum(cf.map((r) => r.resultsRecorded ?? 0)),
      resultsPerHistoryInsert: sum(cf.map((r) => r.resultsRecorded ?? 0)) / sum(cf.map((r) => r.historyInserts ?? 0)),
    },
    bare: summarise(bs),
    ratio,
    roundRatios: cf.map((r) => r.rate / bs.find((x) => x.round === r.round)!.rate),
    cpuCostRatio: summarise(bs).serverCpuUsPerRequest / cfCost,
    goal: modeGoal(mode, ratio),
    ...(bareInsert ? { bareInsert } : {}),
  };
}

function modeGoal(mode: Mode, ratio: number): { ratioAtLeast: number; met: boolean } | null {
  const goal = mode === 'resumed' ? GOAL_RESUMED_RATIO : mode === 'handshake' ? GOAL_HANDSHAKE_RATIO : undefined;
  return goal === undefined ? null : { ratioAtLeast: goal, met: ratio >= goal };
}

/** modeLine is one mode's summary as the benchmark prints it. */
export function modeLine(m: ModeResult): string {
  return (
    `${m.mode}: certfleet median ${fmt(m.certfleet.medianRate)} req/s (TLS sessions resumed ${pct(m.certfleet.sessionReusedShare)}, ` +
      `${fmt(m.certfleet.serverCpuUsPerRequest)} µs server CPU/request` +
      (m.certfleet.postgresCpuUsPerRequest !== null ? ` + ${fmt(m.certfleet.postgresCpuUsPerRequest)} µs PostgreSQL CPU/request` : '') +
      `, CPU busy: server ${pct(m.certfleet.serverCpuShare)} client ${pct(m.certfleet.clientCpuShare)}, ` +
      `${m.certfleet.statementsPerResult.toFixed(2)} SQL statements/result, ${m.certfleet.resultsPerHistoryInsert.toFixed(1)} results per history INSERT), ` +
      `bare median ${fmt(m.bare.medianRate)} req/s (resumed ${pct(m.bare.sessionReusedShare)}, ${fmt(m.bare.serverCpuUsPerRequest)} µs CPU/request, ` +
      `CPU busy: server ${pct(m.bare.serverCpuShare)} client ${pct(m.bare.clientCpuShare)}); ` +
      `ratio ${m.ratio.toFixed(2)} (per round ${m.roundRatios.map((x) => x.toFixed(2)).join(', ')}), CPU-cost ratio ${m.cpuCostRatio.toFixed(2)}` +
      (m.goal ? ` — goal ≥ ${m.goal.ratioAtLeast}: ${m.goal.met ? 'MET' : 'NOT MET'}` : '') +
      (m.bareInsert
        ? `\n  ${m.mode} against bare + one INSERT per result: ${fmt(m.bareInsert.medianRate)} req/s (${fmt(m.bareInsert.serverCpuUsPerRequest)} µs server CPU/request` +
          (m.bareInsert.postgresCpuUsPerRequest !== null ? ` + ${fmt(m.bareInsert.postgresCpuUsPerRequest)} µs PostgreSQL CPU/request` : '') +
          `, CPU busy: server ${pct(m.bareInsert.serverCpuShare)}); certfleet / it ${m.bareInsert.ratio.toFixed(2)} (per round ${m.bareInsert.roundRatios.map((x) => x.toFixed(2)).join(', ')}), ` +
          `CPU-cost ratio ${m.bareInsert.cpuCostRatio.toFixed(2)} — goal ≥ ${m.bareInsert.goal.ratioAtLeast}: ${m.bareInsert.goal.met ? 'MET' : 'NOT MET'}`
        : '')
  );
}

/** markdownTable is the result as BENCHMARKS.md shows it. */
export function markdownTable(result: GatewayBenchResult): string {
  const rows = [
    '| database | mode | certfleet req/s | bare `https` req/s | ratio | goal | met? | TLS sessions resumed (certfleet / bare) | server CPU per request (certfleet / bare) | CPU-cost ratio |',
    '|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const m of result.modes) {
    rows.push(
      `| ${result.database === 'postgres' ? 'PostgreSQL' : 'embedded'} | ${m.mode} | ${fmt(m.certfleet.medianRate)} | ${fmt(m.bare.medianRate)} | ${m.ratio.toFixed(2)} | ` +
        `${m.goal ? `≥ ${m.goal.ratioAtLeast}` : '—'} | ${m.goal ? (m.goal.met ? 'yes' : '**no**') : '—'} | ` +
        `${pct(m.certfleet.sessionReusedShare)} / ${pct(m.bare.sessionReusedShare)} | ` +
        `${fmt(m.certfleet.serverCpuUsPerRequest)} µs${m.certfleet.postgresCpuUsPerRequest !== null ? ` + ${fmt(m.certfleet.postgresCpuUsPerRequest)} µs PostgreSQL` : ''} / ${fmt(m.bare.serverCpuUsPerRequest)} µs | ` +
        `${m.cpuCostRatio.toFixed(2)} |`,
    );
    const bi = m.bareInsert;
    if (bi) {
      rows.push(
        `| PostgreSQL | ${m.mode} vs bare + one \`INSERT\` per result | ${fmt(m.certfleet.medianRate)} | ${fmt(bi.medianRate)} (with \`INSERT\`) | ${bi.ratio.toFixed(2)} | ` +
          `≥ ${bi.goal.ratioAtLeast} | ${bi.goal.met ? 'yes' : '**no**'} | ${pct(m.certfleet.sessionReusedShare)} / ${pct(bi.sessionReusedShare)} | ` +
          `${fmt(m.certfleet.serverCpuUsPerRequest)} µs${m.certfleet.postgresCpuUsPerRequest !== null ? ` + ${fmt(m.certfleet.postgresCpuUsPerRequest)} µs PostgreSQL` : ''} / ` +
          `${fmt(bi.serverCpuUsPerRequest)} µs${bi.postgresCpuUsPerRequest !== null ? ` + ${fmt(bi.postgresCpuUsPerRequest)} µs PostgreSQL` : ''} | ${bi.cpuCostRatio.toFixed(2)} |`,
      );
    }
  }
  return rows.join('\n');
}
