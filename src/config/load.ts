/** Accepts the compiled configuration the build wrote; a stale or foreign file is a deploy error, not a request error. */
import { COMPILED_CONFIG_VERSION, type CompiledConfig } from './types.ts';

export function loadCompiledConfig(value: unknown): CompiledConfig {
  const config = value as CompiledConfig;
  if (config?.version !== COMPILED_CONFIG_VERSION) {
    throw new Error(`compiled policies have version ${String(config?.version)}, expected ${COMPILED_CONFIG_VERSION}: run npm run check`);
  }
  return config;
}
