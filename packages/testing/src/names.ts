import { randomBytes } from 'node:crypto';

/** A name for a test's own schema / vhost / prefix: its title plus a random suffix. */
export function uniqueName(title: string, maxLength = 40): string {
  const slug = title
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .slice(0, maxLength - 9);
  return `t_${slug}_${randomBytes(3).toString('hex')}`;
}
