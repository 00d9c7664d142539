/** LogLine is one line the core logged, parsed (src/logger.ts: pino's JSON with the level's name). */
export interface LogLine {
  level: 'debug' | 'info' | 'warn' | 'error';
  time: string;
  msg: string;
  requestId?: string;
  [field: string]: unknown;
}

/** parseLog parses one captured line, failing loudly on a line that is not one JSON object. */
export function parseLog(line: string): LogLine {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    throw new Error(`a log line that is not JSON: ${line}`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new Error(`a log line that is not a JSON object: ${line}`);
  return value as LogLine;
}

/** parseLogs parses captured lines. */
export function parseLogs(lines: readonly string[]): LogLine[] {
  return lines.map(parseLog);
}

/** logsWith are the parsed lines whose message contains text (and, if given, of that level). */
export function logsWith(lines: readonly string[], text: string, level?: LogLine['level']): LogLine[] {
  return parseLogs(lines).filter((l) => l.msg.includes(text) && (level === undefined || l.level === level));
}
