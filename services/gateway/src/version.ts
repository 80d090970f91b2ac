import path from 'node:path';
import { packageVersion } from '@reten/config';

/** The gateway's package version (shown in /openapi.json). */
export const version = packageVersion(path.resolve(__dirname, '..'));
