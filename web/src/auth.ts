// The console's sign-in: one bearer token per browser tab, kept in sessionStorage (gone when the tab
// closes), taken from a sign-in link's URL fragment (browsers never send a fragment to the server, so
// the token is in no request line and no server log) or pasted by hand.

const KEY = 'certfleet.token';

/** SignOutReason is why the sign-in screen is showing, said to the person in front of it. */
export type SignOutReason = 'signed-out' | 'expired' | 'rejected' | null;

type Listener = () => void;
const listeners = new Set<Listener>();
let reason: SignOutReason = null;
let expiryTimer: ReturnType<typeof setTimeout> | undefined;

/** tokenFromFragment takes a token out of a #token=… fragment and removes it from the address bar and history. */
export function takeTokenFromFragment(): void {
  const hash = window.location.hash;
  if (!hash.startsWith('#')) return;
  const params = new URLSearchParams(hash.slice(1));
  const token = params.get('token');
  if (!token) return;
  window.history.replaceState(null, '', window.location.pathname + window.location.search);
  signIn(token);
}

/** currentToken is the tab's token, or null when signed out. */
export function currentToken(): string | null {
  return sessionStorage.getItem(KEY);
}

/** signOutReason says why the tab was signed out last (null: it never was, or someone signed in since). */
export function signOutReason(): SignOutReason {
  return reason;
}

/** expiresAt reads the token's exp claim (seconds), only to sign out on time: the server checks the token itself. */
export function expiresAt(token: string): Date | null {
  try {
    const payload = token.split('.')[1];
    if (!payload) return null;
    const json = JSON.parse(atob(payload.replace(/-/g, '+').replace(/_/g, '/'))) as { exp?: unknown };
    return typeof json.exp === 'number' ? new Date(json.exp * 1000) : null;
  } catch {
    return null;
  }
}

function armExpiry(token: string): void {
  clearTimeout(expiryTimer);
  const exp = expiresAt(token);
  if (!exp) return;
  const ms = exp.getTime() - Date.now();
  if (ms <= 0) {
    signOut('expired');
    return;
  }
  expiryTimer = setTimeout(() => signOut('expired'), Math.min(ms, 2 ** 31 - 1));
}

/** signIn keeps a token for this tab. */
export function signIn(token: string): void {
  sessionStorage.setItem(KEY, token.trim());
  reason = null;
  armExpiry(token.trim());
  for (const l of listeners) l();
}

/** signOut forgets the tab's token; reason is shown on the sign-in screen. */
export function signOut(why: Exclude<SignOutReason, null>): void {
  if (sessionStorage.getItem(KEY) === null && reason !== null) return;
  sessionStorage.removeItem(KEY);
  clearTimeout(expiryTimer);
  reason = why;
  for (const l of listeners) l();
}

/** onAuthChange calls back on every sign-in and sign-out. */
export function onAuthChange(listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** startAuth runs once at load: a link's token wins over a kept one. */
export function startAuth(): void {
  takeTokenFromFragment();
  const token = currentToken();
  if (token) armExpiry(token);
}
