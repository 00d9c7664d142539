import { describe, expect, it } from 'vitest';
import { AGENT_ID_PATTERN, forbiddenCharactersIn } from '../../../src/domain/names.js';
import { createCertificateAuthority } from '../../../src/pki/ca.js';
import { commonNameProblem } from '../../../src/pki/csr.js';
import { AppError } from '../../../src/services/app-error.js';
import { checkText } from '../../../src/services/input-checks.js';

// Names a fleet really has: accents, other scripts, emoji sequences (joined by ZWJ), look-alikes.
const ALLOWED: [string, string][] = [
  ['plain ASCII', 'WS-0142.corp.example'],
  ['punctuation a DN would otherwise parse', 'Lab, "3rd" floor + #2; <a=b>'],
  ['accented Latin', 'Poste de Séverine'],
  ['CJK', '経理部のパソコン'],
  ['Arabic (right-to-left without any formatting character)', 'جهاز المحاسبة'],
  ['Hebrew', 'מחשב נייד'],
  ['an emoji ZWJ sequence', 'team 👩‍💻 laptop'],
  ['a no-break space', 'WS\u00a001'],
  ['a zero-width non-joiner (Persian)', 'می\u200cخواهم'],
  ['a surrogate pair (astral character)', 'rack 𝔸'],
  ['Cyrillic look-alike letters (not this rule: agent ids are ASCII)', 'WS-\u0420C01'],
];

const FORBIDDEN: [string, string, string][] = [
  // C0 and DEL: every earlier copy refused these.
  ['NUL', 'ws\u00001', 'control characters'],
  ['a line feed (a forged log line)', 'ws\n2025-01-01 INFO approved', 'control characters'],
  ['a carriage return', 'ws\r1', 'control characters'],
  ['a tab', 'ws\t1', 'control characters'],
  ['ESC (a terminal escape)', 'ws\u001b[2J', 'control characters'],
  ['DEL', 'ws\u007f1', 'control characters'],
  // C1: the CSR check refused these, the API's text check and the CA name did not.
  ['U+0080, the first C1 control', 'ws\u00801', 'control characters'],
  ['U+0085 NEL (a line break to some readers)', 'ws\u00851', 'control characters'],
  ['U+009B, the one-byte CSI', 'ws\u009b2J', 'control characters'],
  ['U+009F, the last C1 control', 'ws\u009f1', 'control characters'],
  // No copy refused these before.
  ['U+2028 LINE SEPARATOR', 'ws\u20281', 'line or paragraph separators'],
  ['U+2029 PARAGRAPH SEPARATOR', 'ws\u20291', 'line or paragraph separators'],
  ['U+202E RIGHT-TO-LEFT OVERRIDE', 'WS-\u202e10-SW', 'bidirectional formatting characters'],
  ['U+202A LEFT-TO-RIGHT EMBEDDING', 'ws\u202a1', 'bidirectional formatting characters'],
  ['U+2066 LEFT-TO-RIGHT ISOLATE', 'ws\u20661', 'bidirectional formatting characters'],
  ['U+2069 POP DIRECTIONAL ISOLATE', 'ws\u20691', 'bidirectional formatting characters'],
  ['U+200E LEFT-TO-RIGHT MARK', 'ws\u200e1', 'bidirectional formatting characters'],
  ['U+200F RIGHT-TO-LEFT MARK', 'ws\u200f1', 'bidirectional formatting characters'],
  ['U+061C ARABIC LETTER MARK', 'ws\u061c1', 'bidirectional formatting characters'],
  ['an unpaired high surrogate', 'ws\ud8001', 'unpaired surrogates'],
  ['an unpaired low surrogate', 'ws\udc001', 'unpaired surrogates'],
  ['surrogates in the wrong order', 'ws\udc00\ud800', 'unpaired surrogates'],
];

describe('forbiddenCharactersIn', () => {
  it.each(ALLOWED)('allows %s', (_what, name) => {
    expect(forbiddenCharactersIn(name)).toBeUndefined();
  });

  it.each(FORBIDDEN)('refuses %s', (_what, name, kind) => {
    expect(forbiddenCharactersIn(name)).toBe(kind);
  });
});

describe('one character rule for the API, the CSR subject and the CA name', () => {
  function apiProblem(name: string): string | undefined {
    try {
      checkText(name, 'deviceName', { max: 255 });
      return undefined;
    } catch (err) {
      expect(err).toBeInstanceOf(AppError);
      expect((err as AppError).code).toBe('BAD_USER_INPUT');
      return (err as AppError).message;
    }
  }
  async function caProblem(name: string): Promise<string | undefined> {
    try {
      await createCertificateAuthority({ commonName: name });
      return undefined;
    } catch (err) {
      expect(err).toBeInstanceOf(RangeError);
      return (err as Error).message;
    }
  }

  it.each(FORBIDDEN)('all three refuse %s, naming what it is', async (_what, name, kind) => {
    expect(apiProblem(name)).toBe(`deviceName must not contain ${kind}`);
    expect(commonNameProblem(name)).toBe(`the subject common name (CN) contains ${kind}`);
    expect(await caProblem(name)).toBe(`CA common name must be a non-empty name without ${kind}`);
  });

  it.each(ALLOWED)('all three allow %s', async (_what, name) => {
    expect(apiProblem(name)).toBeUndefined();
    expect(commonNameProblem(name)).toBeUndefined();
    expect(await caProblem(name)).toBeUndefined();
  });
});

describe('AGENT_ID_PATTERN', () => {
  it.each([
    ['a bare GUID', '5f1b2c3d-0000-4000-8000-00000000ab01'],
    ['a host-like name', 'ws-01.corp.example'],
    ['an address-like name', 'agent@ws-01:7'],
    ['128 characters', 'a'.repeat(128)],
  ])('accepts %s', (_what, id) => {
    expect(AGENT_ID_PATTERN.test(id)).toBe(true);
  });

  it.each([
    ['empty', ''],
    // Today's rule (src/domain/names.ts): the first character must be a letter or digit.
    ['a braced GUID', '{5F1B2C3D-0000-4000-8000-00000000AB01}'],
    ['129 characters', 'a'.repeat(129)],
    ['a leading dot', '.agent'],
    ['a leading brace-less dash', '-agent'],
    ['a space', 'agent 1'],
    ['a non-ASCII letter', 'agént'],
    ['a Cyrillic look-alike', '\u0430gent'],
    ['a control character', 'agent\n1'],
    ['a bidi override', 'agent\u202e1'],
  ])('refuses %s', (_what, id) => {
    expect(AGENT_ID_PATTERN.test(id)).toBe(false);
  });
});
