import type { StatusCounts } from '../db/counter-queries.js';
import {
  insertConnectionResultsOfAgents,
  lockDevicesByAgentIds,
  updateDevicesAfterResults,
  type DeviceRow,
} from '../db/device-queries.js';
import type { Tx } from '../db/client.js';
import { historyCapNeeded, historyCountAfter, knownHistoryCount, type KnownHistoryCounts } from '../db/history-queries.js';
import { CommittedAfterError, commitWithLastStatements } from '../db/pipelined-transactions.js';
import { isDatabaseUnavailable } from '../db/errors.js';
import type { AgentVersion } from '../domain/agent-version.js';
import { CONNECTION_SOURCES, type AuthStatus, type ConnectionSource } from '../domain/statuses.js';
import { noMetrics } from '../metrics/sink.js';
import { AppError, badInput, notFound } from './app-error.js';
import { checkAgentVersion, decideCheckedConnection, type CertificateFacts, type ConnectionVerdict } from './auth-status-rules.js';
import { outsideLogContext } from '../logger.js';
import type { ServiceDeps } from './deps.js';
import { checkAgentId, type AgentId } from './input-checks.js';
import { transact, type Outbox } from './transaction.js';
import { deviceView, type DeviceView } from './views.js';

export interface ConnectionResultInput {
  source: ConnectionSource;
  /**
   * The agent id the device claims (for a connection, the one its request named). It must be a
   * device the core knows: results are recorded only against known devices.
   */
  agentId: string;
  agentVersion: string | null;
  /** What the gateway found out about the presented certificate; null when none was presented. */
  certificate: CertificateFacts | null;
  /** The client's address as the gateway saw it (kept in the history). */
  remoteAddress?: string | null;
}

/**
 * DecidedConnection is an agent connection's result as the agent gateway's services decided it,
 * from input they checked on the way in: it is recorded as it is, neither checked nor decided again.
 */
export interface DecidedConnection {
  source: ConnectionSource;
  agentId: AgentId;
  agentVersion: AgentVersion | null;
  certificate: CertificateFacts | null;
  /** The client's address as the gateway saw it. */
  remoteAddress: string;
  /** When the attempt was judged: the time its verdict was decided against. */
  at: Date;
  verdict: ConnectionVerdict;
}

export interface RecordedConnection {
  device: DeviceView;
  verdict: ConnectionVerdict;
  previousStatus: DeviceView['authStatus'];
}

/** GroupCommitOptions bound how many results one transaction writes. */
export interface GroupCommitOptions {
  /** At most this many results in one transaction; the rest wait for the next. */
  maxBatch: number;
  /**
   * pruneHistory, when given, trims the history of the batch's devices inside the same transaction
   * (pruneDeviceHistory): of those whose history_count passes historyPerDevice or is unknown, or of
   * all of them when historyPerDevice is not given. `known` gives each one's excess over
   * historyPerDevice when its count is known (else null), with the epoch the counts were read in.
   * It must send all its statements at once (none after waiting for another's answer): on a
   * PostgreSQL server the transaction's COMMIT goes out right behind them (see writeKnown).
   */
  pruneHistory?: (tx: Tx, deviceIds: number[], known: KnownHistoryCounts) => Promise<unknown>;
  /** The cap pruneHistory keeps to (CONNECTION_HISTORY_PER_DEVICE). */
  historyPerDevice?: number;
  /**
   * At most this many transactions at once (default 1). With 2, the next transaction starts once
   * the previous one has sent its last statement and is committing: on a PostgreSQL server its
   * BEGIN, lock and history INSERT overlap the previous COMMIT. Only for a database with more than
   * one connection (the embedded database has one: keep 1 there).
   */
  overlap?: number;
}

export const DEFAULT_MAX_BATCH = 500;

/** checkConnectionSource refuses a source that is not one of CONNECTION_SOURCES. */
export function checkConnectionSource(source: ConnectionSource): ConnectionSource {
  if (!CONNECTION_SOURCES.includes(source)) throw badInput(`unknown source ${source}`, 'source');
  return source;
}

// The history keeps at most this much of an address (the column's width).
const storedAddress = (remoteAddress: string | null | undefined) => (remoteAddress ? remoteAddress.slice(0, 64) : null);

/** A result decided and waiting for its transaction. */
interface Pending {
  agentId: string;
  agentVersion: string | null;
  source: ConnectionSource;
  certificate: CertificateFacts | null;
  remoteAddress: string | null;
  at: Date;
  verdict: ConnectionVerdict;
  resolve(r: RecordedConnection): void;
  reject(err: unknown): void;
}

/**
 * createConnectionService records connection results: the only way a connection moves a device's
 * status (retireCertificates is the other way a status moves: revocation, supersession, expiry).
 *
 * Results are written by group commit. While one transaction is writing, the results that arrive
 * queue up; the next transaction takes all of them (up to maxBatch) and writes them with a fixed
 * number of statements, whatever their count. Nobody waits for a timer: a lone result is written
 * at once, and under load the batches grow by themselves. Each caller's promise settles only after
 * the transaction holding its result has committed, so an agent answered 200 has its result on disk.
 */
export function createConnectionService(deps: ServiceDeps & { groupCommit?: Partial<GroupCommitOptions> }) {
  const maxBatch = deps.groupCommit?.maxBatch ?? DEFAULT_MAX_BATCH;
  const pruneHistory = deps.groupCommit?.pruneHistory;
  const historyPerDevice = pruneHistory ? deps.groupCommit?.historyPerDevice : undefined;
  const overlap = Math.max(1, Math.trunc(deps.groupCommit?.overlap ?? 1));
  const metrics = deps.metrics ?? noMetrics;
  const queue: Pending[] = [];
  // Transactions under way, and whether one of them is still taking its batch or sending its
  // statements. A new one starts only when none is (and fewer than `overlap` are under way): the
  // next transaction starts once the previous has locked its devices, written everything and sent
  // COMMIT. Its lock then waits for that COMMIT on every device the two share (PostgreSQL row
  // locks), so a device's results are applied, acknowledged and published in arrival order; and a
  // batch that fails is written again one by one before the next batch starts.
  let inFlight = 0;
  let starting = false;

  function schedule() {
    if (starting || inFlight >= overlap || queue.length === 0) return;
    starting = true;
    inFlight++;
    let released = false;
    // Called once the transaction has sent its last statement (or has ended): the next may start.
    const release = () => {
      if (released) return;
      released = true;
      starting = false;
      schedule();
    };
    // A batch holds many agents' results: it logs under none of their request ids.
    void outsideLogContext(() => writeNext(release)).finally(() => {
      inFlight--;
      if (released) schedule();
      else release();
    });
  }

  async function writeNext(committing: () => void): Promise<void> {
    let batch: Pending[] | undefined;
    let results: (RecordedConnection | AppError)[];
    const started = performance.now();
    try {
      results = await transact(deps, async (tx, outbox) => {
        // The batch is taken once the transaction holds its connection, not when it was asked
        // for: what arrived while it waited (on the embedded database, behind other requests'
        // reads) goes into this transaction too. A retried transaction writes the same batch.
        batch ??= queue.splice(0, maxBatch);
        // Once the last statements (and, on a PostgreSQL server, the COMMIT behind them) are sent,
        // the next batch may start.
        const written = await writeResults(tx, outbox, batch, committing);
        committing();
        return written;
      });
    } catch (err) {
      // The transaction could not even start: fail what it would have written, not everything queued.
      if (!batch) {
        for (const p of queue.splice(0, maxBatch)) p.reject(err);
        return;
      }
      // It committed, and something after its COMMIT went out failed (a bug): what it wrote is on
      // disk, so writing the results again one by one would write them twice.
      if (err instanceof CommittedAfterError) {
        deps.log.error('a batch of connection results committed, then failed', { size: batch.length, error: err.message });
        for (const p of batch) p.reject(err);
        return;
      }
      // One result, or the database away: writing them one by one cannot help.
      if (batch.length === 1 || isDatabaseUnavailable(err)) {
        for (const p of batch) p.reject(err);
        return;
      }
      // Something in the batch failed the whole transaction: write each result on its own, so one
      // bad result cannot take the others down with it.
      deps.log.warn('a batch of connection results failed; writing them one by one', {
        size: batch.length,
        error: (err as Error).message,
      });
      for (const p of batch) {
        try {
          const [one] = await transact(deps, (tx, outbox) => writeResults(tx, outbox, [p]));
          settle(p, one!);
        } catch (e) {
          p.reject(e);
        }
      }
      return;
    }
    metrics.groupCommit(batch!.length, (performance.now() - started) / 1000);
    batch!.forEach((p, i) => settle(p, results[i]!));
  }

  // Called once the result's transaction has committed: only what is on disk is counted.
  function settle(p: Pending, r: RecordedConnection | AppError): void {
    if (r instanceof AppError) {
      p.reject(r);
      return;
    }
    metrics.connectionResult(p.source, r.verdict.result, r.verdict.failureReason);
    p.resolve(r);
  }

  async function writeResults(
    tx: Tx,
    outbox: Outbox,
    batch: Pending[],
    lastSent?: () => void,
  ): Promise<(RecordedConnection | AppError)[]> {
    // 1. Lock the devices, in id order (the order every writer uses); the same statement reads the
    //    security switch. Results are recorded against known devices only: the gateway records one
    //    only for a device it found (an unknown agent id is kept as an unverified attempt, never
    //    made a device: DESIGN.md, "Proof before status"), and nothing else records results. A
    //    result for an agent id no device has fails alone, with NOT_FOUND, and writes nothing.
    // 2. Append the history, in arrival order, each row to the device of its agent id. It needs no
    //    device id from the lock, so it goes out right behind it on the transaction's connection:
    //    one round trip for both. The server runs it after the lock, so the rows are locked by then.
    const [locked, inserted] = await Promise.all([
      lockDevicesByAgentIds(tx, [...new Set(batch.map((p) => p.agentId))]),
      insertConnectionResultsOfAgents(
        tx,
        batch.map((p) => ({
          agentId: p.agentId,
          at: p.at,
          source: p.source,
          result: p.verdict.result,
          failureReason: p.verdict.failureReason,
          agentVersion: p.agentVersion,
          certificateSerialNumber: p.certificate?.serialNumber ?? null,
          certificateNotAfter: p.certificate?.notAfter ?? null,
          remoteAddress: p.remoteAddress,
        })),
      ),
    ]);
    const byAgent = new Map(locked.devices.map((d) => [d.agentId!, d]));
    const known = batch.filter((p) => byAgent.has(p.agentId));
    // The insert ran in a later snapshot than the lock: a device added in between (committed by
    // another transaction) would have a row the lock did not see. Run the transaction again then.
    if (inserted.length !== known.length || inserted.some((r, i) => r.deviceId !== byAgent.get(known[i]!.agentId)!.id)) {
      throw Object.assign(new Error('a device of the batch appeared between its lock and its history insert'), { code: '40001' });
    }
    const recorded =
      known.length === 0
        ? []
        : await writeKnown(tx, outbox, known, inserted.map((r) => r.id), byAgent, locked.securityEnabled!, locked.historyEpoch!, lastSent);
    let k = 0;
    return batch.map((p) => (byAgent.has(p.agentId) ? recorded[k++]! : notFound('device of agent', p.agentId)));
  }

  /**
   * writeKnown writes what the results of devices writeResults has locked (their history rows
   * appended, with these ids) do to the devices and the counters, in a fixed number of statements.
   */
  async function writeKnown(
    tx: Tx,
    outbox: Outbox,
    batch: Pending[],
    inserted: number[],
    byAgent: Map<string, DeviceRow>,
    securityEnabled: boolean,
    historyEpoch: number,
    lastSent?: () => void,
  ): Promise<RecordedConnection[]> {
    // All counter changes of the transaction are made at its end, in one statement: counter rows
    // are then always locked last and in one order, so concurrent writers cannot deadlock.
    const deltas: Partial<StatusCounts> = {};
    const add = (status: AuthStatus, n: number) => (deltas[status] = (deltas[status] ?? 0) + n);
    const current = new Map<number, DeviceRow>([...byAgent.values()].map((d) => [d.id, d]));

    // 3. Walk the results in order: each one moves its device from where the previous left it.
    const steps: { row: DeviceRow; previous: AuthStatus }[] = [];
    batch.forEach((p, i) => {
      const before = current.get(byAgent.get(p.agentId)!.id)!;
      const attemptId = inserted[i]!;
      const row: DeviceRow = {
        ...before,
        authStatus: p.verdict.result,
        failureReason: p.verdict.failureReason,
        agentVersion: p.agentVersion ?? before.agentVersion,
        lastConnectionId: attemptId,
        lastAttemptAt: p.at,
        lastSource: p.source,
        lastResult: p.verdict.result,
        lastFailureReason: p.verdict.failureReason,
        lastAgentVersion: p.agentVersion,
        lastCertificateSerial: p.certificate?.serialNumber ?? null,
        lastCertificateNotAfter: p.certificate?.notAfter ?? null,
        lastRemoteAddress: p.remoteAddress,
        updatedAt: p.at,
      };
      current.set(row.id, row);
      steps.push({ row, previous: before.authStatus });
      if (before.authStatus !== row.authStatus) {
        add(before.authStatus, -1);
        add(row.authStatus, 1);
        outbox.publish({
          type: 'deviceAuthStatusChanged',
          deviceId: row.id,
          previous: before.authStatus,
          current: row.authStatus,
          at: p.at.toISOString(),
        });
      }
    });

    // 4. One statement writes every device's final state and moves the counters; the history
    //    bound goes out with it (on PostgreSQL in the same round trip), for the devices whose count
    //    of results passes the cap (or is unknown) only: the others' histories are not read at all.
    //    A known count (exact, of the history epoch the lock read) is written as the cap leaves it,
    //    and the cap deletes just the oldest excess; an unknown one stays unknown, and the cap
    //    recounts it (it also recounts the known ones if retention bumped the epoch since the lock).
    //    The UPDATE is sent first, so the cap's recount comes after it. The counts read by the lock
    //    are current: it waits for an overlapping transaction's COMMIT on a shared device and reads
    //    the row as that left it.
    const added = new Map<number, number>();
    for (const p of batch) {
      const id = byAgent.get(p.agentId)!.id;
      added.set(id, (added.get(id) ?? 0) + 1);
    }
    const capped: number[] = [];
    const excess: (number | null)[] = [];
    for (const [id, row] of current) {
      const before = knownHistoryCount(byAgent.get(row.agentId!)!, historyEpoch);
      const n = added.get(id) ?? 0;
      const historyCount = historyCountAfter(before, n, historyPerDevice);
      current.set(id, { ...row, historyCount, historyCountEpoch: historyCount === null ? row.historyCountEpoch : historyEpoch });
      if (historyPerDevice === undefined || historyCapNeeded(before, n, historyPerDevice)) {
        capped.push(id);
        excess.push(before === null || historyPerDevice === undefined ? null : before + n - historyPerDevice);
      }
    }
    //    On a PostgreSQL server the COMMIT goes out behind them, in the same write: the transaction
    //    has nothing left to say, and waiting for their answers before sending it would cost a round
    //    trip. (A failure of either makes the server end the transaction at that COMMIT with a
    //    rollback; its error is what this throws.) Nothing may be sent after it.
    const last = Promise.all([
      updateDevicesAfterResults(tx, [...current.values()], deltas),
      capped.length > 0 ? pruneHistory?.(tx, capped, { excess, epoch: historyEpoch }) : undefined,
      commitWithLastStatements(tx),
    ]);
    lastSent?.();
    await last;
    if (Object.values(deltas).some((d) => d !== 0)) outbox.publish({ type: 'summaryChanged' });
    return steps.map(({ row, previous }, i) => ({
      device: deviceView(row, securityEnabled),
      verdict: batch[i]!.verdict,
      previousStatus: previous,
    }));
  }

  function enqueue(pending: Omit<Pending, 'resolve' | 'reject'>): Promise<RecordedConnection> {
    return new Promise<RecordedConnection>((resolve, reject) => {
      queue.push({ ...pending, resolve, reject });
      schedule();
    });
  }

  return {
    /**
     * recordConnectionResult decides the result of one attempt, appends it to the device's history
     * and moves the device's status and the chart counters in the same transaction (shared with
     * the other results that arrived meanwhile). It resolves once that transaction has committed.
     */
    recordConnectionResult(input: ConnectionResultInput): Promise<RecordedConnection> {
      let pending: Omit<Pending, 'resolve' | 'reject'>;
      try {
        const source = checkConnectionSource(input.source);
        const agentId = checkAgentId(input.agentId);
        const agentVersion = input.agentVersion === null ? null : checkAgentVersion(input.agentVersion);
        const at = deps.clock();
        const verdict = decideCheckedConnection({ agentVersion, agentId, certificate: input.certificate }, at);
        const remoteAddress = storedAddress(input.remoteAddress);
        pending = { agentId, agentVersion: agentVersion?.text ?? null, source, certificate: input.certificate, remoteAddress, at, verdict };
      } catch (err) {
        return Promise.reject(err);
      }
      return enqueue(pending);
    },

    /**
     * recordDecided records an agent connection's result like recordConnectionResult, for a
     * device the gateway's services found by its agent id, with the verdict they decided.
     */
    recordDecided(d: DecidedConnection): Promise<RecordedConnection> {
      return enqueue({
        agentId: d.agentId,
        agentVersion: d.agentVersion?.text ?? null,
        source: d.source,
        certificate: d.certificate,
        remoteAddress: storedAddress(d.remoteAddress),
        at: d.at,
        verdict: d.verdict,
      });
    },

    /** idle resolves once every result handed in so far has been written (or has failed). */
    async idle(): Promise<void> {
      while (inFlight > 0 || queue.length > 0) await new Promise((r) => setTimeout(r, 5));
    },
  };
}

export type ConnectionService = ReturnType<typeof createConnectionService>;
