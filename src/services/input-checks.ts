import { AGENT_ID_MAX_LENGTH, AGENT_ID_PATTERN, forbiddenCharactersIn } from '../domain/names.js';
import { badInput } from './app-error.js';

/** checkText trims a free-text argument and enforces its length and the characters a name may hold (src/domain/names.ts). */
export function checkText(value: string, argument: string, opts: { max: number; min?: number }): string {
  const v = value.trim();
  if (v.length < (opts.min ?? 1)) throw badInput(`${argument} must not be empty`, argument);
  if (v.length > opts.max) throw badInput(`${argument} is longer than ${opts.max} characters (got ${v.length})`, argument);
  const forbidden = forbiddenCharactersIn(v);
  if (forbidden) throw badInput(`${argument} must not contain ${forbidden}`, argument);
  return v;
}

declare const agentIdBrand: unique symbol;
/** AgentId is an agent id that passed checkAgentId: code that takes one need not check it again. */
export type AgentId = string & { readonly [agentIdBrand]: true };

/** checkAgentId accepts the ids agents report: GUIDs and host-like names (AGENT_ID_PATTERN). */
export function checkAgentId(value: string, argument = 'agentId'): AgentId {
  const v = value.trim();
  if (!AGENT_ID_PATTERN.test(v)) {
    throw badInput(
      `${argument} must be 1 to ${AGENT_ID_MAX_LENGTH} letters, digits or . _ : { } @ - starting with a letter or digit (got ${JSON.stringify(v.slice(0, 70))})`,
      argument,
    );
  }
  return v as AgentId;
}

/** parseId reads an API id (a positive integer in a string). */
export function parseId(id: string, argument = 'id'): number {
  if (!/^[1-9]\d{0,14}$/.test(id)) throw badInput(`${argument} must be an id returned by the API (got ${JSON.stringify(id.slice(0, 40))})`, argument);
  return Number(id);
}
