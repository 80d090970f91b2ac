import path from 'node:path';
import { packageVersion } from '@reten/config';

/** The CLI's package version (`reten --version`, User-Agent of forwarded webhooks). */
export const version = packageVersion(path.resolve(__dirname, '..'));
