// docs/scoutctl.1: scoutctl's man page, generated from the command declarations (src/cli/main.ts), so it says
// what `scoutctl --help` and `scoutctl COMMAND --help` say. `npm run docs` writes it; a test fails when stale.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { commandHelp, commandNames, usage } from '../src/cli/main.js';
import { packageVersion } from '../src/protocol/version.js';

export const MAN_PATH = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'docs', 'scoutctl.1');

/** Text as roff shows it verbatim: backslashes doubled, a line starting with . or ' protected. */
function verbatim(text: string): string {
  return text
    .replace(/\\/g, '\\e')
    .split('\n')
    .map((l) => (/^[.']/.test(l) ? `\\&${l}` : l))
    .join('\n');
}

export function renderMan(): string {
  const [head, ...rest] = usage().split('\n');
  const out = [
    `.TH SCOUTCTL 1 "" "scoutctl ${packageVersion()}" "User Commands"`,
    '.SH NAME',
    `scoutctl \\- ${verbatim(head.replace(/^scoutctl — /, ''))}`,
    '.SH SYNOPSIS',
    '.nf',
    verbatim(rest.join('\n').trim()),
    '.fi',
    '.SH COMMANDS',
  ];
  for (const name of commandNames()) out.push(`.SS ${name}`, '.nf', verbatim(commandHelp(name).trimEnd()), '.fi');
  out.push('.SH SEE ALSO', 'scoutd, scout-mcp; docs/cli.md and docs/settings.md in the Scout repository.', '');
  return out.join('\n');
}

// `npm run docs`: write the file.
if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  fs.writeFileSync(MAN_PATH, renderMan());
  console.log(`wrote ${MAN_PATH}`);
}
