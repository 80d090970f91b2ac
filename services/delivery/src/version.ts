import path from 'node:path';
import { packageVersion } from '@reten/config';

/** The delivery service's package version (in User-Agent). */
export const version = packageVersion(path.resolve(__dirname, '..'));
