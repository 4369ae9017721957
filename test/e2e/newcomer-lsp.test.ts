import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Commands } from '../../server/src/protocol/methods.js';
import { startFakeModelServer, type FakeModelServer } from '../fakes/model-server.js';
import { makeWorkspace, TestClient, writeConfig, type Workspace } from './harness.js';

/** The language-server half of issue 13's newcomer items: Helix's workspace root, a missing CODEBENCH_CONFIG. */
describe('codebench lsp for a newcomer', () => {
  let fake: FakeModelServer;
  const cleanups: string[] = [];

  beforeAll(async () => {
    fake = await startFakeModelServer();
  });
  afterAll(async () => {
    await fake.close();
    for (const directory of cleanups) rmSync(directory, { recursive: true, force: true });
  });

  it('a Helix-like client whose root is a subdirectory of a git repository gets the repository as the workspace', async () => {
    // Helix, finding no root marker, sends the open file's own directory as rootUri and folder.
    const base = mkdtempSync(join(tmpdir(), 'codebench-helix-root-'));
    cleanups.push(base);
    const repository = join(base, 'repo');
    const subdirectory = join(repository, 'src', 'lib');
    mkdirSync(join(repository, '.git'), { recursive: true });
    writeFileSync(join(repository, '.git', 'HEAD'), 'ref: refs/heads/main\n');
    mkdirSync(subdirectory, { recursive: true });
    writeFileSync(join(subdirectory, 'util.py'), 'def helper():\n    return 42\n');
    writeFileSync(join(repository, 'README.md'), '# the project\n');
    const workspace: Workspace = {
      root: subdirectory,
      dataDir: join(base, 'data'),
      configFile: join(base, 'config.json'),
      uri: (path) => pathToFileURL(join(subdirectory, path)).href,
    };
    writeConfig(workspace, fake);
    const client = TestClient.start({ profile: 'helix', workspace });
    await client.initialize();
    const uri = workspace.uri('util.py');
    await client.open(uri, 'def helper():\n    return 42\n', 'python');

    // The model names files as the project knows them: from the repository root.
    fake.enqueue({ toolCalls: [{ name: 'read_file', args: { path: 'src/lib/util.py' } }, { name: 'read_file', args: { path: 'README.md' } }] }, { text: 'It returns 42.' });
    await client.command(Commands.ask.command, { uri, instruction: 'what does helper return?' });
    await client.waitFor(() => fake.modelRequests.length >= 2, 20_000, 'the second model request');
    const toolResults = JSON.stringify(fake.modelRequests[1]!.body);
    expect(toolResults).toContain('return 42');
    expect(toolResults).toContain('# the project');
    expect(toolResults).not.toMatch(/not found|does not exist|outside the workspace/i);
    expect(await client.stop()).toBe(0);
  });

  it('a client root that is a project of its own (a monorepo package) is kept, not widened to the repository', async () => {
    const base = mkdtempSync(join(tmpdir(), 'codebench-package-root-'));
    cleanups.push(base);
    const repository = join(base, 'repo');
    const packageRoot = join(repository, 'packages', 'api');
    mkdirSync(join(repository, '.git'), { recursive: true });
    writeFileSync(join(repository, '.git', 'HEAD'), 'ref: refs/heads/main\n');
    mkdirSync(packageRoot, { recursive: true });
    writeFileSync(join(packageRoot, 'package.json'), '{"name":"api"}\n');
    writeFileSync(join(packageRoot, 'index.js'), 'module.exports = 1;\n');
    writeFileSync(join(repository, 'README.md'), '# the monorepo\n');
    const workspace: Workspace = {
      root: packageRoot,
      dataDir: join(base, 'data'),
      configFile: join(base, 'config.json'),
      uri: (path) => pathToFileURL(join(packageRoot, path)).href,
    };
    writeConfig(workspace, fake);
    const client = TestClient.start({ profile: 'neovim', workspace });
    await client.initialize();
    const uri = workspace.uri('index.js');
    await client.open(uri, 'module.exports = 1;\n', 'javascript');
    const before = fake.modelRequests.length;
    fake.enqueue({ toolCalls: [{ name: 'read_file', args: { path: 'index.js' } }, { name: 'read_file', args: { path: '../../README.md' } }] }, { text: 'Done.' });
    await client.command(Commands.ask.command, { uri, instruction: 'read both' });
    await client.waitFor(() => fake.modelRequests.length >= before + 2, 20_000, 'the second model request');
    const toolResults = JSON.stringify(fake.modelRequests[before + 1]!.body);
    expect(toolResults).toContain('module.exports = 1;');
    // The repository's README is outside the package the user opened.
    expect(toolResults).not.toContain('# the monorepo');
    expect(toolResults).toMatch(/outside the workspace/);
    expect(await client.stop()).toBe(0);
  });

  it('a CODEBENCH_CONFIG naming a missing file is shown to the user, naming the variable and the path', async () => {
    const workspace = makeWorkspace({ 'a.txt': 'hello\n' });
    cleanups.push(join(workspace.root, '..'));
    // makeWorkspace names a config file but writes none: CODEBENCH_CONFIG points at nothing.
    const client = TestClient.start({ profile: 'neovim', workspace });
    await client.initialize();
    await client.open(workspace.uri('a.txt'), 'hello\n', 'text');
    const error = await client.waitFor(() => client.messages.find((message) => message.type === 1), 10_000, 'the config error');
    expect(error.message).toBe(`CODEBENCH_CONFIG names ${workspace.configFile}, which does not exist: create it (codebench config init) or unset CODEBENCH_CONFIG`);
    expect(await client.stop()).toBe(0);
  });
});
