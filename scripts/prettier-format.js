/**
 * Formats generated files exactly as `prettier --check .` (part of `pnpm test`) expects them.
 * `formatAs(file, text)` for the generator scripts; `node scripts/prettier-format.js <file>`
 * formats stdin as if it were <file> (jest cannot load Prettier 3, so tests go through this).
 */
const { readFileSync } = require('node:fs');

/** `text` formatted with the repository's Prettier options for the type of `file`. */
async function formatAs(file, text) {
  const prettier = require('prettier');
  const options = (await prettier.resolveConfig(file)) ?? {};
  return prettier.format(text, { ...options, filepath: file });
}

if (require.main === module) {
  const file = process.argv[2];
  if (!file) {
    process.stderr.write('usage: node scripts/prettier-format.js <file> < text\n');
    process.exit(2);
  }
  formatAs(file, readFileSync(0, 'utf8'))
    .then((out) => process.stdout.write(out))
    .catch((err) => {
      process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 1;
    });
}

module.exports = { formatAs };
