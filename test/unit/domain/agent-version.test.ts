import { describe, expect, it } from 'vitest';
import { agentMustUpgrade, agentVersionMajor, FIRST_SECURE_AGENT_MAJOR } from '../../../src/domain/agent-version.js';
import { AppError } from '../../../src/services/app-error.js';
import { checkAgentVersion, checkAgentVersionText } from '../../../src/services/auth-status-rules.js';

describe('agentVersionMajor', () => {
  it.each([
    ['9.60', 9],
    ['9.60.2.1', 9],
    ['2016.0', 2016],
    ['2020.1.3', 2020],
    ['2024', 2024],
    ['02016.1', 2016],
    ['99999.999999999', 99999],
  ])('reads %s as major %i', (version, major) => {
    expect(agentVersionMajor(version)).toBe(major);
  });

  it.each([
    ['empty', ''],
    ['letters', 'nine'],
    ['a v prefix', 'v2020.1'],
    ['a pre-release suffix', '2020.1-beta'],
    ['surrounding space (callers trim)', ' 2020.1 '],
    ['a trailing dot', '2020.'],
    ['a leading dot', '.1'],
    ['five parts', '1.2.3.4.5'],
    ['a six-digit major', '123456.1'],
    ['a ten-digit part', '2020.1234567890'],
    ['a negative major', '-9.6'],
    ['non-ASCII digits', '٢٠٢٠.1'],
    ['a line feed after it', '2020.1\n'],
  ])('refuses %s', (_what, version) => {
    expect(agentVersionMajor(version)).toBeUndefined();
  });
});

describe('agentMustUpgrade', () => {
  it.each([
    [9, true],
    [2015, true],
    [FIRST_SECURE_AGENT_MAJOR, false],
    [2024, false],
  ])('major %i: %s', (major, must) => {
    expect(agentMustUpgrade(major)).toBe(must);
  });
});

describe('checkAgentVersion: the one place services trim and check a reported version', () => {
  it('trims a version once and keeps its text and major number', () => {
    expect(checkAgentVersion('  2020.1.3\t')).toEqual({ text: '2020.1.3', major: 2020 });
    expect(checkAgentVersionText('  2020.1.3\t')).toBe('2020.1.3');
  });

  it('keeps "none sent" as null', () => {
    expect(checkAgentVersionText(null)).toBeNull();
  });

  it.each([
    ['blank (optional callers map blank to null first)', '   '],
    ['malformed', '2020.x'],
  ])('refuses a %s version with BAD_USER_INPUT naming the argument', (_what, version) => {
    let caught: unknown;
    try {
      checkAgentVersion(version, 'devices[3].agentVersion');
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(AppError);
    expect((caught as AppError).code).toBe('BAD_USER_INPUT');
    expect((caught as AppError).extensions.argument).toBe('devices[3].agentVersion');
  });
});
