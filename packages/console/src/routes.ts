import { useEffect, useState } from 'preact/hooks';

/** The console's pages live in the URL's hash, so the gateway serves one static index.html. */
export function useHash(): string[] {
  const parse = () =>
    location.hash
      .replace(/^#\/?/, '')
      .split('/')
      .filter((p) => p.length > 0)
      .map(decodeURIComponent);
  const [parts, setParts] = useState(parse);
  useEffect(() => {
    const onChange = () => setParts(parse());
    window.addEventListener('hashchange', onChange);
    return () => window.removeEventListener('hashchange', onChange);
  }, []);
  return parts;
}

export const link = (...parts: string[]) => `#/${parts.map(encodeURIComponent).join('/')}`;
