import { useEffect, useState, type AnchorHTMLAttributes, type MouseEvent } from 'react';

// The console's few pages are addressed by path (/devices, /queries/7, …), so a page can be
// bookmarked and reloaded; the core answers every such path with the console (src/server/console-assets.ts).

const listeners = new Set<() => void>();
window.addEventListener('popstate', () => listeners.forEach((l) => l()));

/** navigate moves to a console path without reloading. */
export function navigate(to: string, opts: { replace?: boolean } = {}): void {
  if (opts.replace) window.history.replaceState(null, '', to);
  else window.history.pushState(null, '', to);
  listeners.forEach((l) => l());
  window.scrollTo(0, 0);
}

/** useLocation is the current path and query, updated on every navigation. */
export function useLocation(): { path: string; params: URLSearchParams } {
  const read = () => ({ path: window.location.pathname, params: new URLSearchParams(window.location.search) });
  const [loc, setLoc] = useState(read);
  useEffect(() => {
    const l = () => setLoc(read());
    listeners.add(l);
    return () => {
      listeners.delete(l);
    };
  }, []);
  return loc;
}

/** Link is an anchor that navigates inside the console (a middle-click or ctrl-click still opens a new tab). */
export function Link({ to, ...rest }: { to: string } & AnchorHTMLAttributes<HTMLAnchorElement>) {
  const onClick = (e: MouseEvent<HTMLAnchorElement>) => {
    rest.onClick?.(e);
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    navigate(to);
  };
  return <a href={to} {...rest} onClick={onClick} />;
}

/** match reads a path's id after a prefix: match('/devices/', '/devices/12') is '12'. */
export function match(prefix: string, path: string): string | null {
  if (!path.startsWith(prefix)) return null;
  const rest = decodeURIComponent(path.slice(prefix.length).replace(/\/$/, ''));
  return rest.length > 0 && !rest.includes('/') ? rest : null;
}
