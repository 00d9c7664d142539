import { describe, expect, it } from 'vitest';
import { isRole, ROLES } from '../../../src/domain/roles.js';

describe('isRole', () => {
  it.each(ROLES)('accepts %s', (role) => {
    expect(isRole(role)).toBe(true);
  });

  it.each([
    ['another case', 'security_admin'],
    ['surrounding space', ' VIEWER'],
    ['another app\'s role', 'ADMIN'],
    ['a number', 1],
    ['null', null],
    ['an array holding a role', ['VIEWER']],
  ])('refuses %s', (_what, value) => {
    expect(isRole(value)).toBe(false);
  });
});
