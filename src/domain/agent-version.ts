/**
 * The agent-version rule. A version is one to four dot-separated numbers ("9.60", "2020.1.3"):
 * a major of at most five digits, each further part at most nine. Nothing else is accepted (no
 * "v" prefix, no "-beta" suffix, no surrounding space: callers trim first), so a version that
 * cannot be read is refused instead of guessed at. Only the major number matters to the rules:
 * agents before FIRST_SECURE_AGENT_MAJOR cannot hold a client certificate.
 *
 * Where a version is optional (secure data, the inventory import) a blank one means "none"; where
 * it is required (enroll, connect, scan results) a blank one is malformed. That choice is the
 * caller's; the form is decided here.
 */

/** FIRST_SECURE_AGENT_MAJOR is the first agent generation that can hold a client certificate. */
export const FIRST_SECURE_AGENT_MAJOR = 2016;

/** AGENT_VERSION_FORM describes the accepted form, for error messages. */
export const AGENT_VERSION_FORM = 'like 2020.1 or 9.60 (digits and dots, at most four parts)';

const AGENT_VERSION = /^(\d{1,5})(\.\d{1,9}){0,3}$/;

/** agentVersionMajor returns the major number of an agent version ("2020.1.3" → 2020), or undefined when it is not one. */
export function agentVersionMajor(version: string): number | undefined {
  const m = AGENT_VERSION.exec(version);
  return m ? Number(m[1]) : undefined;
}

/** agentMustUpgrade says whether an agent of this major number is too old to authenticate with a certificate. */
export function agentMustUpgrade(major: number): boolean {
  return major < FIRST_SECURE_AGENT_MAJOR;
}

/** AgentVersion is an agent version checked once, on the way in: its trimmed text and its major number. */
export interface AgentVersion {
  readonly text: string;
  readonly major: number;
}
