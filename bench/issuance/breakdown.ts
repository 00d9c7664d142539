// The issuance benchmark's diagnosis, after the timed part and not part of the goals: where does the
// end-to-end time go? The signer alone, WebCrypto alone, CSR parsing, and approvals with and without
// HTTP + GraphQL, interleaved call by call.
import { randomBytes, webcrypto } from 'node:crypto';
import type { CoreHandle } from '../../src/main.js';
import { createCaSigner, parseCertificateRequest } from '../../src/pki/index.js';
import { approveOverHttp, BATCH, chunks } from './core.js';

const now = () => performance.now();
const rate = (count: number, ms: number) => count / (ms / 1000);

/** Breakdown is the diagnosis: per-certificate cost of each part. */
export type Breakdown = Awaited<ReturnType<typeof measureBreakdown>>;

/** measureBreakdown times each part over csrPems, and approves pendingIds half over HTTP, half in process. */
export async function measureBreakdown(core: CoreHandle, token: string, csrPems: string[], pendingIds: string[], queryCount: () => number) {
  const n = csrPems.length;
  const signer = await createCaSigner({ certificatePem: core.authority.certificatePem, privateKey: core.authority.privateKey });
  const parsed = await Promise.all(csrPems.map((pem) => parseCertificateRequest(pem)));
  const issueParsed = (csr: (typeof parsed)[number]) =>
    signer.issueClientCertificate({ subjectCommonName: csr.subjectCommonName, publicKeySpki: csr.publicKeySpki, validityDays: 365 });
  const caKey = await webcrypto.subtle.importKey(
    'pkcs8',
    core.authority.privateKey.export({ type: 'pkcs8', format: 'der' }),
    { name: 'ECDSA', namedCurve: 'P-256' },
    false,
    ['sign'],
  );
  const tbs = randomBytes(400);
  const webSign = () => webcrypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, caKey, tbs);
  // Warm-up.
  for (let i = 0; i < Math.min(100, n); i++) {
    await issueParsed(parsed[i]!);
    await parseCertificateRequest(csrPems[i]!);
    await webSign();
  }

  // a) The core's signer alone: DER encoding + WebCrypto ECDSA (async, libuv thread pool) per certificate.
  let t0 = now();
  for (const csr of parsed) await issueParsed(csr);
  const signerMs = now() - t0;
  // b) WebCrypto ECDSA sign alone (what the signer calls), one at a time, 400 bytes.
  t0 = now();
  for (let i = 0; i < n; i++) await webSign();
  const webcryptoMs = now() - t0;
  // c) CSR parsing + proof-of-possession check, which issue() repeats for every approval.
  t0 = now();
  for (const pem of csrPems) await parseCertificateRequest(pem);
  const csrMs = now() - t0;

  // d) The same approvals with and without HTTP + GraphQL, interleaved call by call.
  const caller = { subject: 'bench', roles: ['SECURITY_ADMIN' as const] };
  let httpMs = 0;
  let serviceMs = 0;
  let httpCount = 0;
  let serviceCount = 0;
  let serviceQueries = 0;
  const batches = chunks(pendingIds, BATCH);
  for (let b = 0; b < batches.length; b++) {
    const batch = batches[b]!;
    if (b % 2 === 0) {
      const s = now();
      await approveOverHttp(core, token, batch);
      httpMs += now() - s;
      httpCount += batch.length;
    } else {
      const q0 = queryCount();
      const s = now();
      const r = await core.services.clientAccess.approveMany(caller, batch);
      serviceMs += now() - s;
      serviceQueries += queryCount() - q0;
      if (r.failed.length > 0 || r.approved.length !== batch.length) {
        throw new Error(`in-process approveMany failed: ${JSON.stringify(r.failed.slice(0, 3))}`);
      }
      serviceCount += batch.length;
    }
  }
  const per = (count: number, ms: number) => ({ count, ms, perSecond: rate(count, ms), msEach: ms / count });
  return {
    signerIssueClientCertificate: per(n, signerMs),
    webcryptoEcdsaSign: per(n, webcryptoMs),
    parseCertificateRequest: per(n, csrMs),
    approveClientsOverHttp: per(httpCount, httpMs),
    approveManyInProcess: { ...per(serviceCount, serviceMs), sqlStatementsPerCertificate: serviceQueries / serviceCount },
  };
}
