/**
 * The architecture's import rules (ARCHITECTURE.md, "Architecture invariants"), enforced by
 * `npm test` through test/unit/dependency-rules.test.ts. Layers point one way:
 * lsp | acp | cli → agent | sync → { providers, store, config }; protocol is the wire's types and
 * validation and imports nothing of ours but itself.
 */
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-cycles',
      comment: 'An import cycle (type-only ones included) means two files are one feature or a layer points the wrong way.',
      severity: 'error',
      from: { path: '^server/src' },
      to: { circular: true },
    },
    {
      name: 'only-lsp-knows-lsp',
      comment: 'Only server/src/lsp imports vscode-languageserver; the core is shared by every front-end.',
      severity: 'error',
      from: { path: '^server/src', pathNot: '^server/src/lsp/' },
      to: { path: 'node_modules/vscode-languageserver' },
    },
    {
      name: 'core-never-reaches-a-front-end',
      comment: 'agent, providers, store, config and protocol never import lsp, acp or cli.',
      severity: 'error',
      from: { path: '^server/src/(agent|providers|store|config|protocol)/' },
      to: { path: '^server/src/(lsp|acp|cli)/' },
    },
    {
      name: 'front-ends-are-independent',
      comment: 'lsp, acp and cli are siblings on the same core; none imports another.',
      severity: 'error',
      from: { path: '^server/src/(lsp|acp|cli)/' },
      to: { path: '^server/src/(lsp|acp|cli)/', pathNot: '^server/src/$1/' },
    },
    {
      name: 'lower-layers-below-the-agent',
      comment: 'providers, store and config are used by the agent, never the other way round.',
      severity: 'error',
      from: { path: '^server/src/(providers|store|config)/' },
      to: { path: '^server/src/agent/' },
    },
    {
      name: 'sync-is-beside-the-agent',
      comment: 'Team sync (server/src/sync) uses store, config and providers; front-ends start it; the agent and the layers below never reach it.',
      severity: 'error',
      from: { path: '^server/src/sync/' },
      to: { path: '^server/src/(agent|lsp|acp|cli|protocol)/' },
    },
    {
      name: 'core-never-reaches-sync',
      comment: 'agent, providers, store, config and protocol work the same with or without team sync.',
      severity: 'error',
      from: { path: '^server/src/(agent|providers|store|config|protocol)/' },
      to: { path: '^server/src/sync/' },
    },
    {
      name: 'protocol-is-the-wire-only',
      comment: 'protocol declares the wire; it imports nothing of ours outside protocol/ (front-ends map core types to it).',
      severity: 'error',
      from: { path: '^server/src/protocol/' },
      to: { path: '^server/src/', pathNot: '^server/src/protocol/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'], extensions: ['.ts', '.js'] },
    moduleSystems: ['es6', 'cjs'],
  },
};
