import { describe, expect, it } from 'vitest';
import { AppError } from '../../../src/services/app-error.js';
import {
  checkAgentVersion,
  decideCheckedConnection,
  decideConnectionResult,
  parseAgentVersion,
  proofOf,
  type CertificateFacts,
  type KeysOnFile,
  type Proof,
  type ConnectionFacts,
  type ConnectionVerdict,
} from '../../../src/services/auth-status-rules.js';

const NOW = new Date('2025-06-01T12:00:00.000Z');
const HOUR = 3600_000;
const AGENT = '{5F1B2C3D-0000-4000-8000-00000000AB01}';

/** A certificate this core issued and approved for AGENT, valid an hour either side of NOW. */
function cert(over: Partial<CertificateFacts> = {}): CertificateFacts {
  return {
    serialNumber: '0a1b2c3d4e5f',
    issuedByThisCore: true,
    recordStatus: 'APPROVED',
    notBefore: new Date(NOW.getTime() - HOUR),
    notAfter: new Date(NOW.getTime() + HOUR),
    subjectAgentId: AGENT,
    ...over,
  };
}

function facts(over: Partial<ConnectionFacts> = {}): ConnectionFacts {
  return { agentVersion: '2024.3', agentId: AGENT, certificate: cert(), ...over };
}

const succeeded: ConnectionVerdict = { result: 'AUTHENTICATION_SUCCEEDED', failureReason: null };
const mustUpgrade: ConnectionVerdict = { result: 'CLIENT_AGENTS_MUST_UPGRADE', failureReason: null };
const failed = (failureReason: ConnectionVerdict['failureReason']): ConnectionVerdict => ({
  result: 'AUTHENTICATION_FAILED',
  failureReason,
});

describe('decideConnectionResult', () => {
  it.each<{ name: string; facts: ConnectionFacts; verdict: ConnectionVerdict }>([
    { name: 'everything in order: succeeded', facts: facts(), verdict: succeeded },
    { name: 'a 9.x agent must upgrade even with a valid approved certificate', facts: facts({ agentVersion: '9.60.2' }), verdict: mustUpgrade },
    { name: 'a 9.x agent must upgrade when it has no certificate at all', facts: facts({ agentVersion: '9.5', certificate: null }), verdict: mustUpgrade },
    { name: 'agent 2015.x is still too old (boundary below 2016)', facts: facts({ agentVersion: '2015.9.99' }), verdict: mustUpgrade },
    { name: 'agent 2016.0 is the first that can authenticate (boundary)', facts: facts({ agentVersion: '2016.0' }), verdict: succeeded },
    { name: 'agent "2016" with no minor part is secure-capable too', facts: facts({ agentVersion: '2016' }), verdict: succeeded },
    { name: 'an unknown agent version is judged on the certificate alone', facts: facts({ agentVersion: null }), verdict: succeeded },
    { name: 'no certificate presented: NO_CLIENT_CERTIFICATE', facts: facts({ certificate: null }), verdict: failed('NO_CLIENT_CERTIFICATE') },
    {
      name: 'a pending request presents a self-signed certificate: CERTIFICATE_NOT_APPROVED',
      facts: facts({ certificate: cert({ issuedByThisCore: false, recordStatus: 'PENDING' }) }),
      verdict: failed('CERTIFICATE_NOT_APPROVED'),
    },
    {
      name: 'a rejected request: CERTIFICATE_REJECTED',
      facts: facts({ certificate: cert({ issuedByThisCore: false, recordStatus: 'REJECTED' }) }),
      verdict: failed('CERTIFICATE_REJECTED'),
    },
    {
      name: 'a certificate from a foreign issuer the core has no record of: UNTRUSTED_ISSUER',
      facts: facts({ certificate: cert({ issuedByThisCore: false, recordStatus: null }) }),
      verdict: failed('UNTRUSTED_ISSUER'),
    },
    {
      name: 'a foreign-issued certificate for an approved key is still UNTRUSTED_ISSUER',
      facts: facts({ certificate: cert({ issuedByThisCore: false, recordStatus: 'APPROVED' }) }),
      verdict: failed('UNTRUSTED_ISSUER'),
    },
    {
      name: 'revoked: CERTIFICATE_REVOKED',
      facts: facts({ certificate: cert({ recordStatus: 'REVOKED' }) }),
      verdict: failed('CERTIFICATE_REVOKED'),
    },
    {
      name: 'revoked beats expired',
      facts: facts({ certificate: cert({ recordStatus: 'REVOKED', notAfter: new Date(NOW.getTime() - HOUR) }) }),
      verdict: failed('CERTIFICATE_REVOKED'),
    },
    {
      name: 'revoked beats a subject of another agent',
      facts: facts({ certificate: cert({ recordStatus: 'REVOKED', subjectAgentId: 'someone-else' }) }),
      verdict: failed('CERTIFICATE_REVOKED'),
    },
    {
      name: 'a certificate issued here with no approved record is not approved',
      facts: facts({ certificate: cert({ recordStatus: null }) }),
      verdict: failed('CERTIFICATE_NOT_APPROVED'),
    },
    {
      name: 'not yet valid (1 ms before notBefore)',
      facts: facts({ certificate: cert({ notBefore: new Date(NOW.getTime() + 1) }) }),
      verdict: failed('CERTIFICATE_NOT_YET_VALID'),
    },
    {
      name: 'valid from exactly notBefore',
      facts: facts({ certificate: cert({ notBefore: NOW }) }),
      verdict: succeeded,
    },
    {
      name: 'expired 1 ms past notAfter',
      facts: facts({ certificate: cert({ notAfter: new Date(NOW.getTime() - 1) }) }),
      verdict: failed('CERTIFICATE_EXPIRED'),
    },
    {
      name: 'still valid at exactly notAfter (X.509 validity is inclusive)',
      facts: facts({ certificate: cert({ notAfter: NOW }) }),
      verdict: succeeded,
    },
    {
      name: 'a certificate whose subject names another agent: DEVICE_MISMATCH',
      facts: facts({ certificate: cert({ subjectAgentId: '{5F1B2C3D-0000-4000-8000-00000000AB02}' }) }),
      verdict: failed('DEVICE_MISMATCH'),
    },
    {
      name: 'agent ids are compared exactly (case matters)',
      facts: facts({ certificate: cert({ subjectAgentId: AGENT.toLowerCase() }) }),
      verdict: failed('DEVICE_MISMATCH'),
    },
  ])('$name', ({ facts: f, verdict }) => {
    expect(decideConnectionResult(f, NOW)).toEqual(verdict);
  });

  it('refuses a malformed agent version with BAD_USER_INPUT instead of guessing', () => {
    let caught: unknown;
    try {
      decideConnectionResult(facts({ agentVersion: 'nine' }), NOW);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(AppError);
    expect((caught as AppError).code).toBe('BAD_USER_INPUT');
  });
});

describe('parseAgentVersion', () => {
  it.each([
    { version: '9.60', major: 9 },
    { version: '9.60.2.1', major: 9 },
    { version: '2016.0', major: 2016 },
    { version: '2020.1.3', major: 2020 },
    { version: '2024', major: 2024 },
    { version: '02016.1', major: 2016 },
    { version: '99999.999999999', major: 99999 },
  ])('reads the major number of $version as $major', ({ version, major }) => {
    expect(parseAgentVersion(version)).toBe(major);
  });

  it.each([
    { name: 'letters', version: 'abc' },
    { name: 'empty', version: '' },
    { name: 'a trailing dot', version: '2020.' },
    { name: 'a leading dot', version: '.1' },
    { name: 'a v prefix', version: 'v2020.1' },
    { name: 'a pre-release suffix', version: '2020.1-beta' },
    { name: 'surrounding space', version: ' 2020.1' },
    { name: 'five parts', version: '1.2.3.4.5' },
    { name: 'a six-digit major', version: '123456.1' },
    { name: 'a ten-digit part', version: '2020.1234567890' },
    { name: 'a negative major', version: '-9.6' },
  ])('rejects $name ($version) with BAD_USER_INPUT naming the argument', ({ version }) => {
    let caught: unknown;
    try {
      parseAgentVersion(version, 'devices[2].agentVersion');
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(AppError);
    const err = caught as AppError;
    expect(err.code).toBe('BAD_USER_INPUT');
    expect(err.extensions.argument).toBe('devices[2].agentVersion');
    expect(err.message).toContain('devices[2].agentVersion');
  });

  it('quotes at most 70 characters of a huge bad version', () => {
    const huge = 'x'.repeat(10_000);
    let caught: AppError | undefined;
    try {
      parseAgentVersion(huge);
    } catch (err) {
      caught = err as AppError;
    }
    expect(caught?.code).toBe('BAD_USER_INPUT');
    expect(caught!.message).toContain('agentVersion');
    expect(caught!.message.length).toBeLessThan(200);
  });
});

describe('checkAgentVersion', () => {
  it('trims the version once and keeps its text beside its major number', () => {
    expect(checkAgentVersion(' 2020.1.3 ')).toEqual({ text: '2020.1.3', major: 2020 });
  });

  it('refuses what parseAgentVersion refuses, naming the argument', () => {
    let caught: unknown;
    try {
      checkAgentVersion('v2020', 'agentVersion');
    } catch (err) {
      caught = err;
    }
    expect((caught as AppError).code).toBe('BAD_USER_INPUT');
    expect((caught as AppError).extensions.argument).toBe('agentVersion');
  });

  it('decides on the checked major number, with no parse of its own', () => {
    // A text that would not parse: decideCheckedConnection must go by the major number alone.
    expect(decideCheckedConnection({ agentId: AGENT, certificate: cert(), agentVersion: { text: 'not parsed', major: 9 } }, NOW)).toEqual(mustUpgrade);
    expect(decideCheckedConnection({ agentId: AGENT, certificate: cert(), agentVersion: { text: 'not parsed', major: 2016 } }, NOW)).toEqual(succeeded);
  });
});

describe('proofOf: only a key on file moves a device', () => {
  const issued = { status: 'APPROVED' as const, serialNumber: '0a1b' };
  const requested = { status: 'PENDING' as const, serialNumber: null };
  const keys = (over: Partial<KeysOnFile>): KeysOnFile => ({ hasKeyOnFile: true, hasIssuedCertificate: true, presentedKey: null, ...over });
  it.each<{ name: string; keys: KeysOnFile; presented: boolean; proof: Proof }>([
    {
      name: 'a device with nothing on file (inventory import only) is moved by any result',
      keys: keys({ hasKeyOnFile: false, hasIssuedCertificate: false }),
      presented: false,
      proof: { applies: true, by: 'NOTHING_ON_FILE' },
    },
    { name: 'no certificate, for a device with a key on file', keys: keys({}), presented: false, proof: { applies: false, reason: 'NO_CLIENT_CERTIFICATE' } },
    { name: 'a key the device does not have on file', keys: keys({}), presented: true, proof: { applies: false, reason: 'UNKNOWN_KEY' } },
    { name: 'the key of one of its certificates', keys: keys({ presentedKey: issued }), presented: true, proof: { applies: true, by: 'KEY_ON_FILE' } },
    {
      name: 'the key of a revoked certificate (its failure is its own)',
      keys: keys({ presentedKey: { status: 'REVOKED', serialNumber: '0c0d' } }),
      presented: true,
      proof: { applies: true, by: 'KEY_ON_FILE' },
    },
    {
      name: 'a pending request key, while the device has no issued certificate',
      keys: keys({ hasIssuedCertificate: false, presentedKey: requested }),
      presented: true,
      proof: { applies: true, by: 'KEY_ON_FILE' },
    },
    {
      name: 'a rejected request key, while the device has no issued certificate',
      keys: keys({ hasIssuedCertificate: false, presentedKey: { status: 'REJECTED', serialNumber: null } }),
      presented: true,
      proof: { applies: true, by: 'KEY_ON_FILE' },
    },
    {
      name: 'a pending request key, once the device holds a certificate an admin approved',
      keys: keys({ presentedKey: requested }),
      presented: true,
      proof: { applies: false, reason: 'UNAPPROVED_KEY' },
    },
  ])('$name', ({ keys: k, presented, proof }) => {
    expect(proofOf(k, presented)).toEqual(proof);
  });
});
