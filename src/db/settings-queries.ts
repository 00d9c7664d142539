import { and, eq } from 'drizzle-orm';
import type { DbExecutor } from './client.js';
import { certificateAuthority, coreSettings } from './schema.js';

export type CoreSettingsRow = typeof coreSettings.$inferSelect;
export type AuthorityRow = typeof certificateAuthority.$inferSelect;

/** getCoreSettings reads the one settings row (created by the migrations). */
export async function getCoreSettings(db: DbExecutor): Promise<CoreSettingsRow> {
  const [row] = await db.select().from(coreSettings).where(eq(coreSettings.id, 1));
  if (!row) throw new Error('core_settings row is missing: were the migrations applied?');
  return row;
}

/** enableSecuritySwitch turns the switch on unless it is on already; returns the row if this call turned it on. */
export async function enableSecuritySwitch(
  tx: DbExecutor,
  by: string,
  at: Date,
): Promise<CoreSettingsRow | undefined> {
  const [row] = await tx
    .update(coreSettings)
    .set({ clientCertificateSecurityEnabled: true, enabledAt: at, enabledBy: by })
    .where(and(eq(coreSettings.id, 1), eq(coreSettings.clientCertificateSecurityEnabled, false)))
    .returning();
  return row;
}

/** setCoreDeviceId records the core's own device, once. */
export async function setCoreDeviceId(tx: DbExecutor, deviceId: number): Promise<void> {
  await tx.update(coreSettings).set({ coreDeviceId: deviceId }).where(eq(coreSettings.id, 1));
}

/** getAuthority reads the stored CA, if one was created. */
export async function getAuthority(db: DbExecutor): Promise<AuthorityRow | undefined> {
  const [row] = await db.select().from(certificateAuthority).where(eq(certificateAuthority.id, 1));
  return row;
}

/** insertAuthority stores a new CA unless another process stored one first; returns the stored one. */
export async function insertAuthority(
  db: DbExecutor,
  row: typeof certificateAuthority.$inferInsert,
): Promise<AuthorityRow> {
  await db.insert(certificateAuthority).values({ ...row, id: 1 }).onConflictDoNothing();
  const stored = await getAuthority(db);
  if (!stored) throw new Error('certificate_authority row vanished after insert');
  return stored;
}
