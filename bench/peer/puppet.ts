// Puppet Server as the peer benchmark's other CA: find it, give it a CA and configuration of its own in
// a temp directory, start it (the java command `puppetserver foreground` wraps, as the puppet user),
// wait until its CA answers, pre-build its CRL with many entries, and stop it and remove the directory
// again — also when the benchmark fails or is interrupted.
//
// Nothing under /etc/puppet or /var/lib/puppet is changed: the temp directory holds a copy of
// /etc/puppet/puppetserver/conf.d (ssl-host 127.0.0.1, a free port, every directory pointed into the
// temp directory), a puppet.conf that puts ssldir and cadir there, and the CA `puppetserver ca setup`
// makes there (a root and an intermediate CA, RSA-4096; the intermediate signs).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { puppetCaClient, type PuppetCaClient } from './puppet-ca-client.js';
import { rssOf } from '../bench-common.js';

const INSTALL_DIR = '/usr/share/puppetserver';
const JAR = join(INSTALL_DIR, 'puppetserver.jar');
const CLI = '/usr/bin/puppetserver';
const SYSTEM_CONF_D = '/etc/puppet/puppetserver/conf.d';
const BOOTSTRAP = '/etc/puppet/puppetserver/services.d';
const DEFAULTS = '/etc/default/puppetserver';
export const CERTNAME = 'certfleet-peer-puppet';

/**
 * whyNoPuppet says why Puppet Server cannot run here (null when it can): the package's files, java,
 * and a way to run it as the puppet user (this process is root, or is that user).
 */
export function whyNoPuppet(): string | null {
  for (const f of [CLI, JAR]) {
    if (!existsSync(f)) return `puppetserver is not installed (no ${f}; apt-get install puppetserver to run this peer)`;
  }
  let puppetUid: number;
  try {
    puppetUid = Number(execFileSync('id', ['-u', 'puppet'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
  } catch {
    return 'puppetserver is installed but there is no puppet user';
  }
  const uid = process.getuid?.() ?? -1;
  if (uid !== 0 && uid !== puppetUid) return 'puppetserver is installed, but runs as the puppet user: run the benchmark as root or as puppet';
  for (const f of [SYSTEM_CONF_D, BOOTSTRAP, DEFAULTS, '/usr/bin/java', '/usr/bin/openssl']) {
    if (!existsSync(f)) return `puppetserver's installation is incomplete (no ${f})`;
  }
  return null;
}

/** javaArgs is JAVA_ARGS from /etc/default/puppetserver (the package's default heap: -Xms1g -Xmx1g). */
function javaArgs(): string[] {
  const m = /^JAVA_ARGS="([^"]*)"/m.exec(readFileSync(DEFAULTS, 'utf8'));
  return (m?.[1] ?? '-Xms1g -Xmx1g').split(/\s+/).filter(Boolean);
}

/** asPuppet runs argv as the puppet user (runuser when this process is root). */
function asPuppet(argv: string[]): [string, string[]] {
  return process.getuid?.() === 0 ? ['runuser', ['-u', 'puppet', '--', ...argv]] : [argv[0]!, argv.slice(1)];
}

export interface PuppetHandle {
  port: number;
  dir: string;
  client: PuppetCaClient;
  /** A client with its own connection pool of `sockets` (for concurrent signing). */
  newClient(sockets: number): PuppetCaClient;
  /** startSeconds is how long it took from spawn until the CA answered. */
  startSeconds: number;
  /** rssBytes is the java process's resident memory now (NaN if unknown). */
  rssBytes(): number;
  /** setRevokedTo rewrites the CA's CRL (while no request is in flight) so it lists `total` entries. */
  setRevokedTo(total: number): Promise<{ fabricated: number; real: number }>;
  stop(): Promise<void>;
}

let live: { child: ChildProcess; dir: string } | undefined;
let hooked = false;

/** killNow ends the java process group at once and removes the temp directory (exit and signal paths). */
function killNow() {
  if (!live) return;
  try {
    process.kill(-live.child.pid!, 'SIGKILL');
  } catch {
    // already gone
  }
  rmSync(live.dir, { recursive: true, force: true });
  live = undefined;
}

function hookExit() {
  if (hooked) return;
  hooked = true;
  process.on('exit', killNow);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => {
      killNow();
      process.exit(sig === 'SIGINT' ? 130 : 143);
    });
  }
}

function run(cmd: string, args: string[], what: string) {
  try {
    execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', timeout: 120_000 });
  } catch (err) {
    const e = err as { stderr?: string; stdout?: string; message: string };
    throw new Error(`${what} failed: ${(e.stderr || e.stdout || e.message).slice(0, 800)}`);
  }
}

/** javaPid finds the java process under the runuser process (or the child itself when it is java). */
function javaPid(rootPid: number): number {
  const queue = [rootPid];
  while (queue.length) {
    const pid = queue.shift()!;
    try {
      if (readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'java') return pid;
      const kids = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim();
      if (kids) queue.push(...kids.split(/\s+/).map(Number));
    } catch {
      // gone
    }
  }
  return rootPid;
}

/**
 * puppetPort picks a free port below the system's ephemeral range: Puppet binds its port a minute or
 * two after it is chosen, and a port from listen(0) could meanwhile be handed to anyone else asking
 * for one (the certfleet core included).
 */
export async function puppetPort(): Promise<number> {
  let low = 32768;
  try {
    low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]) || low;
  } catch {
    // not Linux: keep the usual start of the range
  }
  const from = Math.max(10_000, low - 12_000);
  for (let i = 0; i < 50; i++) {
    const port = from + Math.floor(Math.random() * (low - from));
    const free = await new Promise<boolean>((resolve) => {
      const srv = createServer();
      srv.once('error', () => resolve(false));
      srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
    });
    if (free) return port;
  }
  throw new Error('found no free port for Puppet Server');
}

/**
 * startPuppet sets up a fresh CA in a temp directory, starts Puppet Server and waits for its CA; if
 * the port was taken by the time Puppet bound it, it starts again on another (up to 3 times).
 */
export async function startPuppet(opts: { log: (s: string) => void; timeoutMs?: number }): Promise<PuppetHandle> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startPuppetOn({ ...opts, port: await puppetPort() });
    } catch (err) {
      if (attempt >= 3 || !/Address already in use/.test((err as Error).message)) throw err;
      opts.log('  Puppet Server found its port taken: starting it again on another');
    }
  }
}

async function startPuppetOn(opts: { port: number; log: (s: string) => void; timeoutMs?: number }): Promise<PuppetHandle> {
  hookExit();
  const dir = mkdtempSync(join(tmpdir(), 'certfleet-peer-puppet-'));
  chmodSync(dir, 0o755);
  for (const d of ['etc', 'etc/code', 'var', 'run', 'log', 'conf.d', 'vardir', 'fab']) mkdirSync(join(dir, d), { recursive: true });
  for (const f of readdirSync(SYSTEM_CONF_D)) copyFileSync(join(SYSTEM_CONF_D, f), join(dir, 'conf.d', f));
  const edit = (file: string, pairs: [RegExp, string][]) => {
    let text = readFileSync(file, 'utf8');
    for (const [re, to] of pairs) {
      if (!re.test(text)) throw new Error(`${file}: expected ${re} in Puppet's default configuration`);
      text = text.replace(re, to);
    }
    writeFileSync(file, text);
  };
  edit(join(dir, 'conf.d', 'webserver.conf'), [
    [/ssl-host:\s*\S+/, 'ssl-host: 127.0.0.1'],
    [/ssl-port:\s*\d+/, `ssl-port: ${opts.port}`],
  ]);
  edit(join(dir, 'conf.d', 'puppetserver.conf'), [
    [/server-conf-dir:\s*\S+/, `server-conf-dir: ${dir}/etc`],
    [/server-code-dir:\s*\S+/, `server-code-dir: ${dir}/etc/code`],
    [/server-var-dir:\s*\S+/, `server-var-dir: ${dir}/var`],
    [/server-run-dir:\s*\S+/, `server-run-dir: ${dir}/run`],
    [/server-log-dir:\s*\S+/, `server-log-dir: ${dir}/log`],
  ]);
  writeFileSync(
    join(dir, 'etc', 'puppet.conf'),
    ['[main]', `confdir = ${dir}/etc`, `ssldir = ${dir}/ssl`, `cadir = ${dir}/ca`, `vardir = ${dir}/vardir`, `logdir = ${dir}/log`, `rundir = ${dir}/run`, `certname = ${CERTNAME}`, ''].join('\n'),
  );
  if (process.getuid?.() === 0) run('chown', ['-R', 'puppet:puppet', dir], 'chown');
  live = { child: undefined as unknown as ChildProcess, dir };

  const [setupCmd, setupArgs] = asPuppet([CLI, 'ca', 'setup', '--config', join(dir, 'etc', 'puppet.conf'), '--certname', CERTNAME]);
  run(setupCmd, setupArgs, 'puppetserver ca setup');

  const argv = [
    '/usr/bin/java',
    ...javaArgs(),
    '-Dlogappender=STDOUT',
    '-Djruby.lib=/usr/share/jruby/lib',
    '-XX:+CrashOnOutOfMemoryError',
    `-XX:ErrorFile=${dir}/log/puppetserver_err_pid%p.log`,
    '-jar',
    JAR,
    '--config',
    join(dir, 'conf.d'),
    '--bootstrap-config',
    BOOTSTRAP,
  ];
  const [cmd, args] = asPuppet(argv);
  const started = performance.now();
  // Its own process group, so stopping it ends runuser and java together.
  const child = spawn(cmd, args, { cwd: INSTALL_DIR, detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, HOME: dir } });
  live = { child, dir };
  let tail = '';
  const keep = (b: Buffer) => (tail = (tail + b.toString('utf8')).slice(-4000));
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  let exited: number | null | undefined;
  const exit = new Promise<void>((resolve) => child.once('exit', (code) => ((exited = code), resolve())));

  const pem = (p: string) => readFileSync(join(dir, p), 'utf8');
  const creds = { port: opts.port, certname: CERTNAME, certPem: pem(`ssl/certs/${CERTNAME}.pem`), keyPem: pem(`ssl/private_keys/${CERTNAME}.pem`), caPem: pem('ssl/certs/ca.pem') };
  const client = puppetCaClient(creds);
  const deadline = Date.now() + (opts.timeoutMs ?? 300_000);
  for (;;) {
    let failure: string | undefined;
    if (exited !== undefined) failure = `puppetserver exited (code ${exited}) before its CA answered:\n${tail}`;
    else if (Date.now() > deadline) failure = `puppetserver's CA did not answer within ${(opts.timeoutMs ?? 300_000) / 1000} s:\n${tail}`;
    if (failure) {
      client.close();
      killNow();
      throw new Error(failure);
    }
    try {
      await client.crl();
      break;
    } catch {
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  const startSeconds = (performance.now() - started) / 1000;
  const java = javaPid(child.pid!);

  return {
    port: opts.port,
    dir,
    client,
    newClient: (sockets) => puppetCaClient({ ...creds, maxSockets: sockets }),
    startSeconds,
    rssBytes: () => rssOf(java),
    setRevokedTo: (total) => fabricateCrl(dir, total),
    async stop() {
      client.close();
      if (exited === undefined) {
        try {
          process.kill(-child.pid!, 'SIGTERM');
        } catch {
          // gone
        }
        const t = setTimeout(() => {
          try {
            process.kill(-child.pid!, 'SIGKILL');
          } catch {
            // gone
          }
        }, 20_000);
        await exit;
        clearTimeout(t);
      }
      rmSync(dir, { recursive: true, force: true });
      live = undefined;
    },
  };
}

/** FABRICATED_SERIAL_BASE is where the made-up CRL entries' serial numbers start: far above any Puppet issues in a run. */
const FABRICATED_SERIAL_BASE = 0x1000_0000;

/** utcTime is a date as OpenSSL's index.txt writes it (YYMMDDHHMMSSZ). */
const utcTime = (d: Date) => d.toISOString().replace(/[-:T]/g, '').slice(2, 14) + 'Z';

/**
 * fabricateCrl makes the CA's CRL list `total` revoked certificates, as `openssl ca -gencrl` from an
 * index of the serials the current CRL lists (the real revocations) plus made-up serials up to
 * `total`, signed with the intermediate CA's key (ca_key.pem) and carrying the authority key
 * identifier and a CRL number one above the current one, like Puppet's own. The root's CRL, second in
 * ca_crl.pem, is kept. Puppet reads ca_crl.pem from disk for each revocation and each CRL request,
 * so the running server serves and extends this one (checked by the benchmark: it counts the entries
 * of the CRL it fetches).
 */
export async function fabricateCrl(dir: string, total: number): Promise<{ fabricated: number; real: number }> {
  const caDir = join(dir, 'ca');
  const fab = join(dir, 'fab');
  const crls = readFileSync(join(caDir, 'ca_crl.pem'), 'utf8').match(/-----BEGIN X509 CRL-----[\s\S]+?-----END X509 CRL-----\n?/g);
  if (!crls || crls.length !== 2) throw new Error(`expected the intermediate's and the root's CRL in ca_crl.pem, found ${crls?.length ?? 0}`);
  writeFileSync(join(fab, 'current.pem'), crls[0]!);
  const text = execFileSync('openssl', ['crl', '-in', join(fab, 'current.pem'), '-noout', '-text'], { encoding: 'utf8', maxBuffer: 1 << 30 });
  const real = [...text.matchAll(/Serial Number: ([0-9A-Fa-f]+)/g)].map((m) => m[1]!.toUpperCase());
  const number = /CRL Number:\s*\n\s*(\d+)/.exec(text);
  const crlNumber = (number ? Number(number[1]) : 0) + 1;
  const now = new Date();
  const expires = utcTime(new Date(now.getTime() + 5 * 365 * 86400_000));
  const revokedAt = utcTime(new Date(now.getTime() - 60_000));
  const lines = real.map((s) => `R\t${expires}\t${revokedAt}\t${s.length % 2 ? `0${s}` : s}\tunknown\t/CN=real-${s}`);
  // Made-up serials count up from FABRICATED_SERIAL_BASE, skipping those already listed (made up by an
  // earlier call: the current CRL's entries are all kept).
  const listed = new Set(real.map((s) => s.replace(/^0+/, '')));
  const fabricated = Math.max(0, total - real.length);
  for (let i = 0, k = 0; i < fabricated; k++) {
    const s = (FABRICATED_SERIAL_BASE + k).toString(16).toUpperCase();
    if (listed.has(s)) continue;
    lines.push(`R\t${expires}\t${revokedAt}\t${s.length % 2 ? `0${s}` : s}\tunknown\t/CN=fabricated-${k}`);
    i++;
  }
  writeFileSync(join(fab, 'index.txt'), lines.join('\n') + '\n');
  writeFileSync(join(fab, 'index.txt.attr'), 'unique_subject = no\n');
  const hex = crlNumber.toString(16).toUpperCase();
  // OpenSSL reads the number as whole octets: an even number of hex digits.
  writeFileSync(join(fab, 'crlnumber'), `${hex.length % 2 ? `0${hex}` : hex}\n`);
  writeFileSync(
    join(fab, 'openssl.cnf'),
    [
      '[ca]',
      'default_ca = puppet',
      '[puppet]',
      `database = ${fab}/index.txt`,
      `crlnumber = ${fab}/crlnumber`,
      'default_md = sha256',
      // Puppet's own CRLs are valid for 15 years.
      'default_crl_days = 5475',
      'crl_extensions = crl_ext',
      '[crl_ext]',
      'authorityKeyIdentifier = keyid:always',
      '',
    ].join('\n'),
  );
  // The intermediate CA's certificate alone (ca_crt.pem is the chain: intermediate first).
  const chain = readFileSync(join(caDir, 'ca_crt.pem'), 'utf8').match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/g)!;
  writeFileSync(join(fab, 'ca.pem'), chain[0]!);
  const signer = new X509Certificate(chain[0]!);
  if (!signer.subject.includes('Puppet CA')) throw new Error(`ca_crt.pem starts with ${signer.subject}, not Puppet's intermediate CA`);
  run('openssl', ['ca', '-gencrl', '-config', join(fab, 'openssl.cnf'), '-keyfile', join(caDir, 'ca_key.pem'), '-cert', join(fab, 'ca.pem'), '-out', join(fab, 'new.pem')], 'openssl ca -gencrl');
  const fresh = readFileSync(join(fab, 'new.pem'), 'utf8');
  writeFileSync(join(fab, 'ca_crl.pem'), fresh.endsWith('\n') ? fresh + crls[1]! : `${fresh}\n${crls[1]!}`);
  // Replace in one rename, owned by puppet like the file it replaces.
  if (process.getuid?.() === 0) run('chown', ['puppet:puppet', join(fab, 'ca_crl.pem')], 'chown');
  run('mv', ['-f', join(fab, 'ca_crl.pem'), join(caDir, 'ca_crl.pem')], 'mv');
  return { fabricated, real: real.length };
}
