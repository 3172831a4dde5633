/**
 * What the CLIs share: argument parsing whose every usage error is one line and exit code 2 (never a
 * stack), and starting wrangler the same way on every platform.
 */
import { spawn, type SpawnOptions } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';

/** A usage error: `name: message`, exit 2. */
export function usageError(name: string, message: string): never {
  console.error(`${name}: ${message}`);
  process.exit(2);
}

/** node:util parseArgs, its errors (unknown option, missing value...) turned into one usage line each. */
export function parseCli<T extends ParseArgsConfig>(name: string, config: T, usage?: string) {
  try {
    return parseArgs(config);
  } catch (error) {
    // Node's messages run on with advice about positionals after "--": the first sentence is the error.
    usageError(name, (error as Error).message.split('. ')[0]! + (usage ? ` (usage: ${usage})` : ''));
  }
}

/** A TCP port from an option's text, or a usage error naming the option. */
export function portOption(name: string, option: string, text: string): number {
  const port = Number(text);
  if (!Number.isInteger(port) || port < 1 || port > 65535) usageError(name, `--${option} must be a port number (1-65535), got "${text}"`);
  return port;
}

/**
 * wrangler's own entry run by this Node (the Node 22 the tools run on), with no shell: `spawn('wrangler')`
 * finds nothing on Windows, where the bin is a .cmd shim, and a shell would have to quote every argument.
 */
export function spawnWrangler(args: string[], options: SpawnOptions) {
  const wranglerDir = join(createRequire(import.meta.url).resolve('wrangler/package.json'), '..');
  return spawn(process.execPath, [join(wranglerDir, 'bin', 'wrangler.js'), ...args], options);
}
