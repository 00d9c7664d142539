-- Revocations the current CRL may not name yet (issue 14): a revoking transaction inserts a row (with
-- the ids it revoked), the CRL's signer deletes the rows it saw once the CRL it signed after them is
-- stored. The CRL is then reissued once per window for all revocations in it, off the revoking
-- request's path.
CREATE TABLE "crl_pending_revocations" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "crl_pending_revocations_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"at" timestamp with time zone DEFAULT clock_timestamp() NOT NULL,
	"certificate_ids" bigint[]
);
--> statement-breakpoint
-- The CRL's PEM runs to megabytes and is rewritten with each reissue; base64 barely compresses, so
-- it is stored out of line without the attempt.
ALTER TABLE "revocation_list" ALTER COLUMN "crl_pem" SET STORAGE EXTERNAL;
