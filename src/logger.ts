/** Logger writes one line per message to stderr; callers never pass keys, tokens or passphrases. */
export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

const LEVELS = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 } as const;

/** createLogger logs at or above level; errors in fields are written with their stack. */
export function createLogger(level: keyof typeof LEVELS, write: (line: string) => void = (l) => process.stderr.write(l + '\n')): Logger {
  const min = LEVELS[level];
  const log = (lvl: Exclude<keyof typeof LEVELS, 'silent'>) => (msg: string, fields?: Record<string, unknown>) => {
    if (LEVELS[lvl] < min) return;
    let line = `${new Date().toISOString()} ${lvl.toUpperCase().padEnd(5)} ${msg}`;
    if (fields) {
      for (const [k, v] of Object.entries(fields)) {
        line += ` ${k}=${v instanceof Error ? (v.stack ?? v.message) : typeof v === 'string' ? v : JSON.stringify(v)}`;
      }
    }
    write(line);
  };
  return { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
}
