import { useState, type FormEvent } from 'react';
import { signIn, signOutReason } from '../auth';

const REASONS = {
  'signed-out': 'You signed out.',
  expired: 'Your session has ended: the token expired or was refused. Sign in again.',
  rejected: 'That token carries no certfleet role (VIEWER or SECURITY_ADMIN).',
} as const;

/** SignInPage asks for a token: from a sign-in link, or pasted. */
export function SignInPage() {
  const [token, setToken] = useState('');
  const reason = signOutReason();
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (token.trim()) signIn(token);
  };
  return (
    <main className="centered signin">
      <h1>Sign in to certfleet</h1>
      {reason && (
        <p role="status" className={reason === 'signed-out' ? 'note' : 'error'}>
          {REASONS[reason]}
        </p>
      )}
      <p>
        Open a sign-in link from the core's machine:{' '}
        <code>npm run token -- --subject you --role SECURITY_ADMIN --console</code>
      </p>
      <form onSubmit={submit}>
        <label htmlFor="token">Or paste an access token</label>
        <textarea id="token" rows={4} value={token} onChange={(e) => setToken(e.target.value)} autoComplete="off" spellCheck={false} />
        <button type="submit">Sign in</button>
      </form>
      <p className="hint">The token stays in this tab only, until you sign out or close it.</p>
    </main>
  );
}
