import { badInput } from './app-error.js';

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

/** checkText trims a free-text argument and enforces its length and printable characters. */
export function checkText(value: string, argument: string, opts: { max: number; min?: number }): string {
  const v = value.trim();
  if (v.length < (opts.min ?? 1)) throw badInput(`${argument} must not be empty`, argument);
  if (v.length > opts.max) throw badInput(`${argument} is longer than ${opts.max} characters (got ${v.length})`, argument);
  if (CONTROL.test(v)) throw badInput(`${argument} must not contain control characters`, argument);
  return v;
}

const AGENT_ID = /^[A-Za-z0-9][A-Za-z0-9._:{}@-]{0,127}$/;

declare const agentIdBrand: unique symbol;
/** AgentId is an agent id that passed checkAgentId: code that takes one need not check it again. */
export type AgentId = string & { readonly [agentIdBrand]: true };

/** checkAgentId accepts the ids agents report: GUIDs, with or without braces, and host-like names. */
export function checkAgentId(value: string, argument = 'agentId'): AgentId {
  const v = value.trim();
  if (!AGENT_ID.test(v)) {
    throw badInput(
      `${argument} must be 1 to 128 letters, digits or . _ : { } @ - starting with a letter or digit (got ${JSON.stringify(v.slice(0, 70))})`,
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
