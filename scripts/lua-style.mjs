// Formats (or, with --check, checks) the Neovim plugin's Lua with StyLua's WebAssembly build,
// fetched into .cache/nvim/stylua by scripts/fetch-neovim.sh. Options come from
// clients/nvim/stylua.toml. Exit status 1 lists the files that are not formatted; 3 means StyLua
// is not installed.
//   node scripts/lua-style.mjs           rewrite the files in place
//   node scripts/lua-style.mjs --check   report only
import { createRequire } from 'node:module';
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const plugin = join(root, 'clients', 'nvim');
const moduleDir = join(root, '.cache', 'nvim', 'stylua', 'node_modules', '@johnnymorganz', 'stylua');
if (!existsSync(moduleDir)) {
  process.stderr.write('lua-style: StyLua is not installed; run scripts/fetch-neovim.sh\n');
  process.exit(3);
}
const stylua = createRequire(import.meta.url)(join(moduleDir, 'stylua_lib_node.cjs'));

/** The few stylua.toml keys this project uses (flat `key = value`). */
function loadConfig() {
  const config = stylua.Config.new();
  const enums = {
    indent_type: stylua.IndentType,
    quote_style: stylua.QuoteStyle,
    call_parentheses: stylua.CallParenType,
    line_endings: stylua.LineEndings,
  };
  for (const raw of readFileSync(join(plugin, 'stylua.toml'), 'utf8').split('\n')) {
    const line = raw.replace(/#.*/, '').trim();
    if (!line) continue;
    const match = /^([a-z_]+)\s*=\s*(.+)$/.exec(line);
    if (!match) throw new Error(`stylua.toml: cannot read ${JSON.stringify(raw)}`);
    const [, key, text] = match;
    const value = text.startsWith('"') ? JSON.parse(text) : Number(text);
    if (enums[key]) {
      if (enums[key][value] === undefined) throw new Error(`stylua.toml: ${key} = ${text} is not supported`);
      config[key] = enums[key][value];
    } else {
      config[key] = value;
    }
  }
  return config;
}

function luaFiles(dir) {
  const found = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) found.push(...luaFiles(path));
    else if (name.endsWith('.lua')) found.push(path);
  }
  return found.sort();
}

const check = process.argv.includes('--check');
const unformatted = [];
for (const file of luaFiles(plugin)) {
  const source = readFileSync(file, 'utf8');
  // formatCode takes ownership of the (wasm) config: one per call.
  const formatted = stylua.formatCode(source, loadConfig(), undefined, stylua.OutputVerification.None);
  if (formatted === source) continue;
  unformatted.push(relative(root, file));
  if (!check) writeFileSync(file, formatted);
}
if (check && unformatted.length > 0) {
  process.stdout.write(`not formatted with StyLua (run node scripts/lua-style.mjs):\n${unformatted.map((f) => `  ${f}`).join('\n')}\n`);
  process.exit(1);
}
process.stdout.write(check ? 'lua-style: all files formatted\n' : `lua-style: formatted ${unformatted.length} file(s)\n`);
