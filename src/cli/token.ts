import { isMain } from './is-main.js';
import { hostInUrl } from '../domain/addresses.js';
import { parseArgs } from 'node:util';
import { loadConfig } from '../config.js';
import { isRole, ROLES, type Role } from '../domain/roles.js';
import { issueToken, parseDuration } from '../server/auth.js';

const USAGE = `Usage: npm run token -- --subject NAME [--role ROLE]... [--ttl DURATION] [--console]

Issues an access token signed with this core's local key (in DATA_DIR) and prints it alone on stdout.

  --subject NAME    who the token speaks for, 1 to 200 characters (required)
  --role ROLE       ${ROLES.join(' or ')}; may repeat or be comma-separated (default VIEWER)
  --ttl DURATION    lifetime: 90s, 15m, 8h, 7d or seconds, from 1m to 30d (default 8h; 1h with --console)
  --console         print a sign-in link to the console instead, http://HOST:PORT/#token=…, from the
                    core's HOST and PORT (0.0.0.0 and :: as 127.0.0.1 and [::1]). The token is in the
                    link's fragment, which browsers never send to the server. Open it in a browser on
                    this machine; the tab stays signed in until you sign out, close it, or the token expires.
  --help            show this help
`;

/** DEFAULT_TTL is a token's lifetime when --ttl is not given: shorter for a sign-in link, which lands in a browser's history. */
const DEFAULT_TTL = { token: '8h', console: '1h' } as const;

/**
 * consoleLink is the console's sign-in link for token on a core listening at host:port. A core listening
 * on every address (0.0.0.0, ::) is reached on this machine at its loopback address.
 */
export function consoleLink(host: string, port: number, token: string): string {
  const reachable = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host;
  return `http://${hostInUrl(reachable)}:${port}/#token=${encodeURIComponent(token)}`;
}

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
        console: { type: 'boolean' },
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
      ttlSeconds = parseDuration(values.ttl ?? (values.console ? DEFAULT_TTL.console : DEFAULT_TTL.token));
    } catch (e) {
      throw new UsageError(`--ttl: ${(e as Error).message}`);
    }
    const config = loadConfig();
    if (values.console && config.port === 0) {
      throw new Error('PORT is 0 (the core picks a free port at each start), so there is no link to print: set PORT');
    }
    const token = await issueToken(config.auth, { subject, roles, ttlSeconds });
    out(`${values.console ? consoleLink(config.host, config.port, token) : token}\n`);
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
