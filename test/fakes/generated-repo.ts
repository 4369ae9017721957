import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * A 2,000-file repository shaped like a real monorepo-ish TypeScript project: a few large
 * directories (generated code, fixtures), many small feature folders, tests mirroring sources,
 * docs and configuration at the root. Paths only (`files`), or written to disk (`writeGeneratedRepo`).
 * Deterministic, so the workspace-map benchmark and tests measure the same tree every time.
 */
export function generatedRepoFiles(): string[] {
  const files: string[] = ['README.md', 'package.json', 'tsconfig.json', '.gitignore', 'LICENSE', 'CHANGELOG.md', '.env.example', 'vitest.config.ts'];
  const features = ['auth', 'billing', 'search', 'profile', 'settings', 'orders', 'catalog', 'checkout', 'inventory', 'reports', 'admin', 'notifications'];
  for (const feature of features) {
    for (const layer of ['api', 'model', 'ui']) {
      for (let index = 0; index < 12; index++) files.push(`src/features/${feature}/${layer}/${feature}-${layer}-${index}.ts`);
    }
    files.push(`src/features/${feature}/index.ts`, `src/features/${feature}/README.md`);
    for (let index = 0; index < 20; index++) files.push(`test/features/${feature}/${feature}-${index}.test.ts`);
  }
  for (let index = 0; index < 300; index++) files.push(`src/generated/api-client-${index}.ts`);
  for (let index = 0; index < 12; index++) files.push(`src/generated/schema-${index}.json`);
  for (let index = 0; index < 30; index++) files.push(`src/lib/util-${index}.ts`);
  files.push('src/index.ts', 'src/main.ts', 'src/config.ts');
  for (let index = 0; index < 150; index++) files.push(`test/fixtures/case-${index}.json`);
  for (let index = 0; index < 60; index++) files.push(`docs/guide/page-${index}.md`);
  for (let index = 0; index < 40; index++) files.push(`assets/icons/icon-${index}.svg`);
  for (let index = 0; index < 20; index++) files.push(`scripts/task-${index}.sh`);
  for (let index = 0; files.length < 2_000; index++) files.push(`packages/shared/src/module-${index}.ts`);
  return files;
}

export function writeGeneratedRepo(root: string, files: readonly string[] = generatedRepoFiles()): void {
  for (const file of files) {
    mkdirSync(dirname(join(root, file)), { recursive: true });
    writeFileSync(join(root, file), `// ${file}\n`);
  }
}
