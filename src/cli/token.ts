import { isMain } from './is-main.js';
import { parseArgs } from 'node:util';
import { loadConfig } from '../config.js';
import { isRole, ROLES, type Role } from '../domain/roles.js';
import { issueToken, parseDuration } from '../server/auth.js';

const USAGE = `Usage: npm run token -- --subject NAME [--role ROLE]... [--ttl DURATION]

Issues an access token signed with this core's local key (in DATA_DIR) and prints it alone on stdout.

  --subject NAME    who the token speaks for, 1 to 200 characters (required)
  --role ROLE       ${ROLES.join(' or ')}; may repeat or be comma-separated (default VIEWER)
  --ttl DURATION    lifetime: 90s, 15m, 8h, 7d or seconds, from 1m to 30d (default 8h)
  --help            show this help
`;

/** UsageError is a bad command line: it exits 2 instead of 1. */
class UsageError extends Error {}

/** runTokenCli issues a token from command-line arguments and returns the process exit code. */
export async function runTokenCli(
  argv: string[],
  out: (text: string) => void = (t) => process.stdout.write(t),
  err: (text: string) => void = (t) => process.stderr.write(t),
): Promise<number> {
  try {
    const { values } = parseArgs({
      args: argv,
      options: {
        subject: { type: 'string' },
        role: { type: 'string', multiple: true },
        ttl: { type: 'string' },
        help: { type: 'boolean' },
      },
      strict: true,
      allowPositionals: false,
    });
    if (values.help) {
      out(USAGE);
      return 0;
    }
    const subject = values.subject;
    if (subject === undefined) throw new UsageError('--subject is required (see --help)');
    if (subject.trim().length === 0 || subject.length > 200) {
      throw new UsageError('--subject must be 1 to 200 characters');
    }
    const roles = parseRoles(values.role ?? ['VIEWER']);
    let ttlSeconds: number;
    try {
      ttlSeconds = parseDuration(values.ttl ?? '8h');
    } catch (e) {
      throw new UsageError(`--ttl: ${(e as Error).message}`);
    }
    const config = loadConfig();
    const token = await issueToken(config.auth, { subject, roles, ttlSeconds });
    out(`${token}\n`);
    return 0;
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    err(`certfleet token: ${message.replace(/\s*\n\s*/g, ' ')}\n`);
    // parseArgs reports unknown or malformed options with ERR_PARSE_ARGS_* codes; issueToken rejects a bad ttl with RangeError.
    const isUsage = e instanceof UsageError || e instanceof RangeError || String((e as { code?: unknown }).code ?? '').startsWith('ERR_PARSE_ARGS');
    return isUsage ? 2 : 1;
  }
}

function parseRoles(values: string[]): Role[] {
  const roles: Role[] = [];
  for (const name of values.flatMap((v) => v.split(',')).map((v) => v.trim())) {
    if (!isRole(name)) {
      throw new UsageError(`unknown role "${name}" (expected ${ROLES.join(' or ')})`);
    }
    if (!roles.includes(name)) roles.push(name);
  }
  return roles;
}

// Run only when executed directly, not when imported by a test.
if (isMain(import.meta.url)) {
  process.exitCode = await runTokenCli(process.argv.slice(2));
}
