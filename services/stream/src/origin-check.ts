/** Parses `STREAM_ALLOWED_ORIGINS` (comma list, `*` = any) into a check. */
export function originCheck(allowed: string): (origin: string | undefined) => boolean {
  const list = allowed
    .split(',')
    .map((o) => o.trim().replace(/\/+$/, '').toLowerCase())
    .filter((o) => o.length > 0);
  if (list.includes('*')) return () => true;
  const set = new Set(list);
  // non-browser clients send no Origin; the check protects browsers' ambient credentials
  return (origin) => origin === undefined || set.has(origin.toLowerCase());
}
