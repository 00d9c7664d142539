import { isMain } from './is-main.js';
import { X509Certificate, createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  certificateFingerprint,
  createAgentClient,
  fetchCaCertificate,
  generateAgentKeyPair,
  type AgentClient,
  type AgentKeyType,
  type AgentResponse,
} from '../agent-client/agent-client.js';

const DEFAULT_GATEWAY = 'https://127.0.0.1:4443';
const DEFAULT_AGENT_VERSION = '2024.1';
const DEFAULT_DIR = './agent-data';
const KEY_TYPES: readonly AgentKeyType[] = ['EC-P256', 'EC-P384', 'RSA-2048'];
const COMMANDS = ['enroll', 'poll', 'connect', 'scan', 'secure-data'] as const;
type Command = (typeof COMMANDS)[number];

const USAGE = `Usage: npm run agent -- <command> [options]

A small device agent for trying a local core: it keeps its key, request id and certificate in --dir.

Commands:
  enroll        send a certificate request (a key is made on first use); prints the request id and status
  poll          ask whether the request was decided; saves the certificate once approved
  connect       connect with the certificate (self-signed while pending) and print the recorded result
  scan          the same, reported as the security scanner (vulscan)
  secure-data   fetch secure core data --name NAME and print it, decrypted with the agent's key

Options:
  --gateway URL         the core's agent gateway (default ${DEFAULT_GATEWAY}, or the one saved in --dir)
  --agent-id ID         this agent's id, the certificate's CN (default: the saved one, else this host's name)
  --device-name NAME    the device name shown to operators (default: the saved one, else the agent id)
  --agent-version V     the version reported to the core (default ${DEFAULT_AGENT_VERSION})
  --dir DIR             where the agent keeps its state (default ${DEFAULT_DIR})
  --key-type TYPE       ${KEY_TYPES.join(', ')}: the key made on first use (default EC-P256)
  --ca FILE             trust this CA certificate (PEM) instead of fetching it on first use
  --name NAME           secure-data: the item to fetch
  --help                show this help

On first use the CA certificate is fetched from the gateway and trusted from then on; compare the
fingerprint it prints with securitySettings.certificateAuthority.fingerprint in the API.
`;

/** AgentState is what the agent keeps between commands in agent.json; key, CA and certificate live in PEM files beside it. */
interface AgentState {
  agentId: string;
  deviceName: string;
  gateway: string;
  requestId?: string;
}

const FILES = { state: 'agent.json', key: 'agent-key.pem', ca: 'ca.pem', certificate: 'certificate.pem' } as const;

/** CliError is a failure worth one line to the user. */
class CliError extends Error {}

/** runAgentCli runs one agent command from command-line arguments and returns the process exit code. */
export async function runAgentCli(
  argv: string[],
  out: (text: string) => void = (t) => process.stdout.write(t),
  err: (text: string) => void = (t) => process.stderr.write(t),
): Promise<number> {
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      options: {
        gateway: { type: 'string' },
        'agent-id': { type: 'string' },
        'device-name': { type: 'string' },
        'agent-version': { type: 'string' },
        dir: { type: 'string' },
        'key-type': { type: 'string' },
        ca: { type: 'string' },
        name: { type: 'string' },
        help: { type: 'boolean' },
      },
      strict: true,
      allowPositionals: true,
    });
    if (values.help) {
      out(USAGE);
      return 0;
    }
    const command = positionals[0];
    if (command === undefined) throw new CliError(`a command is required: ${COMMANDS.join(', ')} (see --help)`);
    if (!(COMMANDS as readonly string[]).includes(command)) {
      throw new CliError(`unknown command "${command}" (expected ${COMMANDS.join(', ')})`);
    }
    if (positionals.length > 1) throw new CliError(`unexpected argument "${positionals[1]}"`);
    const keyType = (values['key-type'] ?? 'EC-P256') as AgentKeyType;
    if (!KEY_TYPES.includes(keyType)) throw new CliError(`--key-type must be one of ${KEY_TYPES.join(', ')}`);
    if (command !== 'secure-data' && values.name !== undefined) throw new CliError('--name is for secure-data only');
    if (command === 'secure-data' && (values.name === undefined || values.name === '')) throw new CliError('secure-data needs --name NAME');

    const dir = values.dir ?? DEFAULT_DIR;
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const saved = await readState(dir);
    const agentId = values['agent-id'] ?? saved?.agentId ?? hostname();
    if (saved && saved.agentId !== agentId) {
      throw new CliError(`${dir} belongs to agent "${saved.agentId}"; use another --dir for agent "${agentId}"`);
    }
    const state: AgentState = {
      agentId,
      deviceName: values['device-name'] ?? saved?.deviceName ?? agentId,
      gateway: values.gateway ?? saved?.gateway ?? DEFAULT_GATEWAY,
      requestId: saved?.requestId,
    };
    if (!/^https:\/\//i.test(state.gateway)) throw new CliError(`--gateway must be an https:// URL, got "${state.gateway}"`);

    const caPem = await loadOrFetchCa(dir, state.gateway, values.ca, err);
    const keyPair = await loadOrCreateKey(dir, keyType, err);
    const certificatePem = await readOptional(join(dir, FILES.certificate));
    const agent = createAgentClient({
      gatewayUrl: state.gateway,
      caCertificatePem: caPem,
      agentId,
      deviceName: state.deviceName,
      agentVersion: values['agent-version'] ?? DEFAULT_AGENT_VERSION,
      keyPair,
      certificatePem: certificatePem ?? undefined,
    });
    try {
      await writeState(dir, state);
      return await run(command as Command, { agent, state, dir, name: values.name, out, err });
    } finally {
      agent.close();
    }
  } catch (e) {
    err(`certfleet agent: ${describeError(e).replace(/\s*\n\s*/g, ' ')}\n`);
    return 1;
  }
}

interface RunContext {
  agent: AgentClient;
  state: AgentState;
  dir: string;
  name: string | undefined;
  out: (text: string) => void;
  err: (text: string) => void;
}

async function run(command: Command, ctx: RunContext): Promise<number> {
  const { agent, state, dir, out } = ctx;
  switch (command) {
    case 'enroll': {
      // An agent that already holds a certificate presents it, so the core can link the new request to it.
      const clientCert = agent.certificatePem ? { certPem: agent.certificatePem, keyPem: agent.privateKeyPem() } : undefined;
      const res = expectStatus(await agent.enroll({ clientCert }), [202]);
      const { requestId, status } = res.body as { requestId: string; status: string };
      state.requestId = requestId;
      await writeState(dir, state);
      out(`request id: ${requestId}\nstatus: ${status}\n`);
      return 0;
    }
    case 'poll': {
      if (!state.requestId) throw new CliError(`no certificate request in ${dir} yet: run enroll first`);
      const res = expectStatus(await agent.poll(state.requestId), [200]);
      const body = res.body as { status: string; certificatePem?: string };
      if (body.status === 'APPROVED' && body.certificatePem) {
        checkCertificateIsOurs(body.certificatePem, agent.keyPair.publicKey);
        const file = join(dir, FILES.certificate);
        await writeFile(file, body.certificatePem);
        out(`status: APPROVED\ncertificate saved to ${file}\n`);
      } else {
        out(`status: ${body.status}\n`);
      }
      return 0;
    }
    case 'connect':
    case 'scan': {
      const res = command === 'connect' ? await agent.connect() : await agent.scanResults();
      if (isErrorBody(res.body)) expectStatus(res, []);
      const body = res.body as { status?: unknown; reason?: unknown };
      out(`${JSON.stringify({ httpStatus: res.status, status: body.status, reason: body.reason ?? null })}\n`);
      return res.status >= 200 && res.status < 300 ? 0 : 1;
    }
    case 'secure-data': {
      const res = expectStatus(await agent.secureData(ctx.name ?? ''), [200]);
      const contentType = res.headers['content-type'] ?? '';
      if (/^application\/jose\b/i.test(contentType) && typeof res.body === 'string') {
        out(`${await agent.decrypt(res.body.trim())}\n`);
      } else {
        // A core with client certificate security off may still answer the legacy clear-text form.
        const { value } = res.body as { value?: unknown };
        if (typeof value !== 'string') throw new CliError(`unexpected secure-data answer (content-type ${contentType || 'none'})`);
        out(`${value}\n`);
      }
      return 0;
    }
  }
}

function expectStatus(res: AgentResponse, ok: number[]): AgentResponse {
  if (ok.includes(res.status)) return res;
  if (isErrorBody(res.body)) {
    const { code, message } = res.body.error;
    throw new CliError(`the gateway answered HTTP ${res.status} ${code}: ${message}`);
  }
  throw new CliError(`the gateway answered HTTP ${res.status}`);
}

function isErrorBody(body: unknown): body is { error: { code: string; message: string } } {
  const error = (body as { error?: { code?: unknown; message?: unknown } } | null)?.error;
  return typeof error?.code === 'string' && typeof error.message === 'string';
}

// A certificate for another key would make every later TLS handshake fail in a confusing way: refuse to save it.
function checkCertificateIsOurs(pem: string, publicKey: KeyObject): void {
  let certKey: KeyObject;
  try {
    certKey = new X509Certificate(pem).publicKey;
  } catch {
    throw new CliError('the gateway sent an approved certificate that is not readable PEM; not saving it');
  }
  if (!certKey.equals(publicKey)) throw new CliError('the approved certificate is not for this agent\'s key; not saving it');
}

async function loadOrCreateKey(dir: string, keyType: AgentKeyType, err: (text: string) => void): Promise<{ privateKey: KeyObject; publicKey: KeyObject }> {
  const file = join(dir, FILES.key);
  const pem = await readOptional(file);
  if (pem !== null) {
    const privateKey = createPrivateKey(pem);
    return { privateKey, publicKey: createPublicKey(privateKey) };
  }
  const pair = generateAgentKeyPair(keyType);
  // 'wx': never overwrite a key another run just wrote; 0600: the key is the agent's identity.
  await writeFile(file, pair.privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600, flag: 'wx' });
  await chmod(file, 0o600);
  err(`made a new ${keyType} key in ${file}\n`);
  return pair;
}

async function loadOrFetchCa(dir: string, gateway: string, caFile: string | undefined, err: (text: string) => void): Promise<string> {
  const file = join(dir, FILES.ca);
  if (caFile !== undefined) {
    const pem = await readFile(caFile, 'utf8').catch((e: NodeJS.ErrnoException) => {
      throw new CliError(`cannot read --ca ${caFile}: ${e.code ?? e.message}`);
    });
    const fingerprint = fingerprintOrFail(pem, caFile);
    await writeFile(file, pem);
    err(`trusting the CA in ${caFile}, fingerprint (SHA-256) ${fingerprint}\n`);
    return pem;
  }
  const saved = await readOptional(file);
  if (saved !== null) return saved;
  const { pem, fingerprint } = await fetchCaCertificate(gateway);
  fingerprintOrFail(pem, `${gateway}/agent/v1/ca`);
  await writeFile(file, pem);
  err(
    `trusting the CA served by ${gateway} (first use), fingerprint (SHA-256) ${fingerprint}\n` +
      `compare it with securitySettings.certificateAuthority.fingerprint; if they differ, delete ${file} and stop\n`,
  );
  return pem;
}

function fingerprintOrFail(pem: string, where: string): string {
  try {
    return certificateFingerprint(pem);
  } catch {
    throw new CliError(`${where} is not one PEM certificate`);
  }
}

async function readState(dir: string): Promise<AgentState | null> {
  const text = await readOptional(join(dir, FILES.state));
  if (text === null) return null;
  try {
    const value = JSON.parse(text) as AgentState;
    if (typeof value.agentId !== 'string' || typeof value.deviceName !== 'string' || typeof value.gateway !== 'string') throw new Error();
    return value;
  } catch {
    throw new CliError(`${join(dir, FILES.state)} is damaged; delete --dir ${dir} to start over`);
  }
}

async function writeState(dir: string, state: AgentState): Promise<void> {
  await writeFile(join(dir, FILES.state), `${JSON.stringify(state, null, 2)}\n`);
}

async function readOptional(file: string): Promise<string | null> {
  try {
    return await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
}

function describeError(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ECONNREFUSED') return `cannot reach the gateway (${e.message}): is the core running, and is --gateway right?`;
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') return `the gateway's certificate does not name this host: ${e.message} (set AGENT_HOSTNAMES on the core)`;
  if (code === 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' || code === 'SELF_SIGNED_CERT_IN_CHAIN' || code === 'CERT_SIGNATURE_FAILURE') {
    return `the gateway's certificate is not from the trusted CA (${code}); if the core's CA changed, delete ca.pem in --dir`;
  }
  return e.message;
}

// Run only when executed directly, not when imported by a test.
if (isMain(import.meta.url)) {
  process.exitCode = await runAgentCli(process.argv.slice(2));
}
