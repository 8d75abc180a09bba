import { useEffect, useState, type MouseEvent, type ReactNode } from 'react';

// Paths are real URLs (the gateway answers every non-API path with the console), so a
// referral's link can be bookmarked or opened directly; no router library needed for a
// dozen screens.

const listeners = new Set<() => void>();
const notify = () => listeners.forEach((listener) => listener());
window.addEventListener('popstate', notify);

export function navigate(path: string): void {
  if (path === window.location.pathname + window.location.search) return;
  window.history.pushState(null, '', path);
  window.scrollTo(0, 0);
  notify();
}

export function usePath(): { path: string; search: URLSearchParams } {
  const [location, setLocation] = useState(() => window.location.pathname + window.location.search);
  useEffect(() => {
    const update = () => setLocation(window.location.pathname + window.location.search);
    listeners.add(update);
    return () => {
      listeners.delete(update);
    };
  }, []);
  const url = new URL(location, window.location.origin);
  return { path: url.pathname, search: url.searchParams };
}

/** `/referrals/:id` against `/referrals/abc` → { id: 'abc' }; no match → undefined. */
export function match(pattern: string, path: string): Record<string, string> | undefined {
  const want = pattern.split('/');
  const have = path.replace(/\/$/, '').split('/');
  if (want.length !== have.length) return undefined;
  const params: Record<string, string> = {};
  for (const [i, part] of want.entries()) {
    const actual = have[i] ?? '';
    if (part.startsWith(':')) params[part.slice(1)] = decodeURIComponent(actual);
    else if (part !== actual) return undefined;
  }
  return params;
}

export function Link(props: { to: string; children: ReactNode; className?: string; current?: boolean }): ReactNode {
  const onClick = (event: MouseEvent<HTMLAnchorElement>) => {
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey) return;
    event.preventDefault();
    navigate(props.to);
  };
  return (
    <a href={props.to} onClick={onClick} className={props.className} aria-current={props.current ? 'page' : undefined}>
      {props.children}
    </a>
  );
}
