/**
 * Keeps docs/cli/<command>.md in step with the CLI: replaces each page's ```text Usage block with the
 * command's current `--help` (COLUMNS=80), and creates a page skeleton for a command without one.
 * Usage: node --import tsx scripts/cli-docs.ts      (test/cli/docs.test.ts checks the pages match)
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
process.env.LION_NO_MAIN = '1';
const { buildProgram } = await import('../src/cli/main.ts');

/** `lion <name> --help` as commander prints it at 80 columns. */
export function helpText(name: string): string {
  const cmd = buildProgram().commands.find((c) => c.name() === name)!;
  cmd.configureOutput({ getOutHelpWidth: () => 80 });
  return cmd.helpInformation();
}

for (const cmd of buildProgram().commands) {
  const name = cmd.name();
  const file = path.join(root, 'docs/cli', `${name}.md`);
  const usage = '```text\n' + helpText(name) + '```';
  if (!existsSync(file)) {
    writeFileSync(file, `# lion ${name}\n\n## Usage\n\n${usage}\n\n## Description\n\n${cmd.description()}\n`);
    console.log(`created ${path.relative(root, file)}`);
    continue;
  }
  const doc = readFileSync(file, 'utf8');
  const next = doc.replace(/```text\nUsage: lion [\s\S]*?```/, usage);
  if (next === doc && !doc.includes(usage)) {
    writeFileSync(file, doc.replace(/## Usage\n\n```\n[\s\S]*?```/, `## Usage\n\n${usage}`));
  } else if (next !== doc) writeFileSync(file, next);
}
