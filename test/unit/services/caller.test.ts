import { describe, expect, it } from 'vitest';
import type { Role } from '../../../src/domain/roles.js';
import { AppError } from '../../../src/services/app-error.js';
import { requireAdmin, requireViewer } from '../../../src/services/caller.js';

// What each guard does with a caller holding these roles: 'pass', or the FORBIDDEN message it gives.
const cases: { roles: Role[]; viewer: 'pass' | RegExp; admin: 'pass' | RegExp }[] = [
  { roles: [], viewer: /no certfleet role/, admin: /needs the SECURITY_ADMIN role/ },
  { roles: ['VIEWER'], viewer: 'pass', admin: /needs the SECURITY_ADMIN role/ },
  { roles: ['SECURITY_ADMIN'], viewer: 'pass', admin: 'pass' },
  { roles: ['VIEWER', 'SECURITY_ADMIN'], viewer: 'pass', admin: 'pass' },
  { roles: ['SECURITY_ADMIN', 'VIEWER'], viewer: 'pass', admin: 'pass' },
  { roles: ['VIEWER', 'VIEWER'], viewer: 'pass', admin: /needs the SECURITY_ADMIN role/ },
];

function outcome(guard: () => void): 'pass' | AppError {
  try {
    guard();
    return 'pass';
  } catch (err) {
    return err as AppError;
  }
}

describe.each([
  { guard: 'requireViewer', run: requireViewer, expected: (c: (typeof cases)[number]) => c.viewer },
  { guard: 'requireAdmin', run: requireAdmin, expected: (c: (typeof cases)[number]) => c.admin },
])('$guard', ({ run, expected }) => {
  it.each(cases)('roles $roles', (c) => {
    const want = expected(c);
    const got = outcome(() => run({ subject: 'alice', roles: c.roles }));
    if (want === 'pass') {
      expect(got).toBe('pass');
      return;
    }
    expect(got).toBeInstanceOf(AppError);
    const err = got as AppError;
    expect(err.code).toBe('FORBIDDEN');
    expect(err.extensions).toEqual({ code: 'FORBIDDEN' });
    expect(err.httpStatus).toBe(403);
    expect(err.message).toMatch(want);
  });
});

describe('the guards read roles only', () => {
  it('a subject that looks like an admin is no admin without the role', () => {
    expect(() => requireAdmin({ subject: 'SECURITY_ADMIN', roles: ['VIEWER'] })).toThrow(AppError);
  });

  it('a role name not in the list (as a forged or future claim) does not make an admin', () => {
    expect(() => requireAdmin({ subject: 'mallory', roles: ['security_admin' as Role, 'ADMIN' as Role] })).toThrow(/SECURITY_ADMIN/);
  });
});
