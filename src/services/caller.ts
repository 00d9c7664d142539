import type { Role } from '../domain/roles.js';
import { AppError } from './app-error.js';

/** Caller is who makes a request, as the verified token says. */
export interface Caller {
  subject: string;
  roles: Role[];
}

/** requireViewer lets through any caller holding a role; a token without one may do nothing. */
export function requireViewer(caller: Caller): void {
  if (caller.roles.length === 0) {
    throw new AppError('FORBIDDEN', 'your token carries no certfleet role (VIEWER or SECURITY_ADMIN)');
  }
}

/** requireAdmin lets through SECURITY_ADMIN callers only: every change needs it. */
export function requireAdmin(caller: Caller): void {
  if (!caller.roles.includes('SECURITY_ADMIN')) {
    throw new AppError('FORBIDDEN', 'this operation needs the SECURITY_ADMIN role');
  }
}
