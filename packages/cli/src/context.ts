import type { Command } from 'commander';
import { ApiClient } from './api-client';
import { resolveConfig } from './config';
import type { CliConfig, GlobalOptions } from './config';
import { Output } from './output';

/** What every command action works with, built from the global options it was given. */
export interface CommandContext {
  config: CliConfig;
  api: ApiClient;
  out: Output;
}

/** Resolves the configuration when a command runs (so `--help` needs no key). */
export function contextOf(command: Command): CommandContext {
  const config = resolveConfig(command.optsWithGlobals<GlobalOptions>());
  return { config, api: new ApiClient(config), out: new Output(config.json) };
}
