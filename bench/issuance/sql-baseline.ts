// The issuance benchmark's fair baseline: what a straightforward implementation of approveClients
// would do — raw node:crypto signing (rawSigner's EC P-256 key and 400-byte to-be-signed buffer) plus
// the same rows written with plain, parameterised SQL through postgres.js, in the same transaction
// shape as certfleet's batch (src/services/client-access-decisions.ts approveMany →
// src/services/certificate-issuance.ts issueCertificates):
//
//   lock the requests (select … for update, by id) → read their devices → sign each →
//   update the requests to APPROVED with serial, validity and certificate (returning the rows, which
//   the answer needs) → apply the requested device names → supersede the devices' older APPROVED
//   certificates → insert one audit row per approval → commit.
//
// The benchmark's requests are first enrollments, so for both paths supersession finds nothing and
// no CRL is reissued and no counter moves; the baseline runs the supersede statement and stops with
// an error if it ever finds a certificate to supersede (it does not carry the CRL reissue that would
// then follow). The baseline signs a 400-byte buffer and stores it PEM-wrapped: it skips the DER
// certificate encoding certfleet does, which favours the baseline.
import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { rawSigner } from './baselines.js';

/** sqlIssuer approves batches of PENDING request ids as a plain implementation would; close() ends its pool. */
export function sqlIssuer(databaseUrl: string, opts: { validityDays: number; decidedBy: string }) {
  // One connection: the benchmark approves one batch at a time, as it calls approveClients.
  const db = postgres(databaseUrl, { max: 1, onnotice: () => {} });
  const signer = rawSigner();
  let sink = 0;

  async function approve(ids: number[]): Promise<number> {
    const now = new Date();
    return db.begin(async (tx) => {
      const rows = await tx<{ id: string; device_id: string; status: string }[]>`
        select * from client_certificates where id = any(${ids}::bigint[]) order by id for update`;
      const pending = rows.filter((r) => r.status === 'PENDING');
      if (pending.length !== ids.length) throw new Error(`SQL baseline: ${ids.length - pending.length} of ${ids.length} requests were not PENDING`);
      const deviceIds = [...new Set(pending.map((r) => r.device_id))];
      const devices = await tx<{ id: string; agent_id: string }[]>`select * from devices where id = any(${deviceIds}::bigint[])`;
      const agentOf = new Map(devices.map((d) => [String(d.id), d.agent_id]));

      const notBefore = new Date(now.getTime() - 5 * 60_000);
      const notAfter = new Date(now.getTime() + opts.validityDays * 86_400_000);
      const issued = pending.map((r) => {
        const serial = randomBytes(16);
        serial[0] = (serial[0]! & 0x7f) | 0x01;
        const signature = signer.signOnce();
        const body = Buffer.concat([signer.tbs, signature]).toString('base64').replace(/(.{64})/g, '$1\n');
        return {
          id: String(r.id),
          agentId: agentOf.get(String(r.device_id))!,
          serial: serial.toString('hex'),
          pem: `-----BEGIN CERTIFICATE-----\n${body}\n-----END CERTIFICATE-----\n`,
        };
      });

      const approved = await tx`
        update client_certificates as c
        set status = 'APPROVED', decided_at = ${now}, decided_by = ${opts.decidedBy},
            serial_number = v.serial, not_before = ${notBefore}, not_after = ${notAfter}, certificate_pem = v.pem
        from unnest(${issued.map((i) => i.id)}::bigint[], ${issued.map((i) => i.serial)}::text[], ${issued.map((i) => i.pem)}::text[])
          as v(id, serial, pem)
        where c.id = v.id
        returning c.*`;
      sink += approved.length;
      await tx`
        update devices d set
          name = coalesce(c.requested_device_name, d.name),
          agent_version = coalesce(c.requested_agent_version, d.agent_version),
          updated_at = ${now}
        from client_certificates c
        where c.id = any(${ids}::bigint[]) and c.device_id = d.id
          and (c.requested_device_name is not null or c.requested_agent_version is not null)`;
      const superseded = await tx`
        update client_certificates set status = 'REVOKED', revoked_at = ${now}, revocation_reason = 'SUPERSEDED'
        where device_id = any(${deviceIds}::bigint[]) and status = 'APPROVED' and not (id = any(${ids}::bigint[]))
        returning *`;
      if (superseded.length > 0) throw new Error('SQL baseline: found certificates to supersede (it covers first enrollments only)');
      await tx`
        insert into audit_events (actor, action, target_id, details, at)
        select ${opts.decidedBy}, 'clientAccess.approved', t, d, ${now}
        from unnest(${issued.map((i) => i.id)}::text[],
                    ${issued.map((i) => JSON.stringify({ agentId: i.agentId, how: 'manual', serialNumber: i.serial, superseded: [] }))}::text[]) as u(t, d)`;
      return approved.length;
    });
  }

  return {
    /** approve approves one batch and fails loudly unless every id came back APPROVED. */
    async approve(ids: string[]): Promise<void> {
      const n = await approve(ids.map(Number));
      if (n !== ids.length) throw new Error(`SQL baseline approved ${n} of ${ids.length}`);
    },
    get approvedSoFar() {
      return sink;
    },
    close: () => db.end({ timeout: 5 }),
  };
}
