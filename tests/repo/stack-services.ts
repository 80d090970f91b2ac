import { createRequire } from 'node:module';

/** One entry of scripts/stack-services.js: a service of `pnpm start` and docker-compose.yml. */
export interface StackService {
  name: string;
  dir: string;
  port: number;
  config: string[];
  urls: [string, string][];
}

/** The stack's services, from the one list that scripts/start-stack.js reads. */
export const STACK_SERVICES = (
  createRequire(__filename)('../../scripts/stack-services.js') as {
    STACK_SERVICES: StackService[];
  }
).STACK_SERVICES;
