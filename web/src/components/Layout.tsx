import type { ReactNode } from 'react';
import { signOut } from '../auth';
import { Link, useLocation } from '../router';
import { useViewer } from '../viewer';

const NAV = [
  { to: '/', label: 'Security settings', active: (p: string) => p === '/' },
  { to: '/devices', label: 'Network view', active: (p: string) => p.startsWith('/devices') },
  { to: '/queries', label: 'My queries', active: (p: string) => p.startsWith('/queries') },
  { to: '/client-access', label: 'Manage client access', active: (p: string) => p.startsWith('/client-access') },
  { to: '/audit', label: 'Audit log', active: (p: string) => p.startsWith('/audit') },
];

/** Layout is the frame of every signed-in page: the product, the pages, who is signed in. */
export function Layout({ children }: { children: ReactNode }) {
  const { path } = useLocation();
  const viewer = useViewer();
  return (
    <div className="app">
      <header className="topbar">
        <span className="brand">certfleet</span>
        <nav aria-label="Console">
          <ul>
            {NAV.map((item) => (
              <li key={item.to}>
                <Link to={item.to} aria-current={item.active(path) ? 'page' : undefined}>
                  {item.label}
                </Link>
              </li>
            ))}
            <li>
              {/* A full page load: the explorer is its own bundle. */}
              <a href="/graphql">GraphQL explorer</a>
            </li>
          </ul>
        </nav>
        <div className="who">
          <span data-testid="signed-in-as">
            {viewer.subject} <span className="role">({viewer.roles.join(', ')})</span>
          </span>
          <button type="button" className="secondary" onClick={() => signOut('signed-out')}>
            Sign out
          </button>
        </div>
      </header>
      <main id="main">{children}</main>
    </div>
  );
}
