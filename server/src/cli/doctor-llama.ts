import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { LlamaRuntime } from '../providers/llama-runtime.js';
import type { Check } from '../providers/health.js';
import type { Config } from '../config/schema.js';
import { listModels } from '../providers/model-files.js';

/**
 * `codebench doctor`'s line on the embedded runtime: whether node-llama-cpp is installed, whether
 * its prebuilt binary loads here and with which backend. The binary is loaded only when something
 * would use it (a llama-cpp provider, or a pulled model the default falls back to).
 */
export async function checkEmbeddedRuntime(config: Config | undefined, env: NodeJS.ProcessEnv): Promise<Check> {
  const name = 'embedded runtime';
  const providers = Object.values(config?.providers ?? {}).filter((provider) => provider.kind === 'llama-cpp');
  const pulled = await listModels(env);
  let version: string | undefined;
  try {
    // Its exports map hides package.json; it sits one level above the resolved dist/index.js.
    const entry = createRequire(import.meta.url).resolve('node-llama-cpp');
    version = (JSON.parse(readFileSync(join(dirname(entry), '..', 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    version = undefined;
  }
  if (providers.length === 0 && pulled.length === 0) {
    return { name, status: 'ok', message: version ? `node-llama-cpp ${version} installed (not used: no llama-cpp provider, no pulled model)` : 'node-llama-cpp not installed (only llama-cpp providers need it)' };
  }
  const runtime = new LlamaRuntime();
  try {
    const { llama } = await runtime.runtime();
    const backend = llama.gpu === false ? 'CPU' : String(llama.gpu);
    return { name, status: 'ok', message: `node-llama-cpp ${version ?? '?'}: prebuilt binary loaded (${llama.buildType}), backend ${backend}, ${llama.cpuMathCores} CPU cores` };
  } catch (error) {
    const fix = 'run `npm install` in codebench\'s directory without --omit=optional (node-llama-cpp ships prebuilt binaries on npm)';
    return { name, status: 'error', message: (error as Error).message, fix };
  }
}
