import { AGENT_ID_MAX_LENGTH, AGENT_ID_PATTERN, SEARCH_MAX_LENGTH, forbiddenCharactersIn } from '../domain/names.js';
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

/**
 * checkSearch reads a list filter's search text: blank (or absent) means no search; otherwise the
 * name rules of checkText, at most SEARCH_MAX_LENGTH characters.
 */
export function checkSearch(value: string | null | undefined, argument: string): string | undefined {
  if (value === undefined || value === null || value.trim() === '') return undefined;
  return checkText(value, argument, { max: SEARCH_MAX_LENGTH });
}

/** checkEnumList drops repeats from a list of enum values and refuses one not in `known`; an empty or absent list is undefined (no restriction). */
export function checkEnumList<T extends string>(
  values: readonly T[] | null | undefined,
  known: readonly T[],
  argument: string,
  what: string,
): T[] | undefined {
  if (values === undefined || values === null) return undefined;
  const unique = [...new Set(values)];
  for (const v of unique) {
    if (!known.includes(v)) throw badInput(`${argument} has an unknown ${what} ${String(v).slice(0, 64)}`, argument);
  }
  return unique.length > 0 ? unique : undefined;
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
