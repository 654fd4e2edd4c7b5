// docs/protocol.md is generated from the method and error tables; a change to either without `npm run docs`
// fails here, so the reference never describes a protocol the daemon does not speak.
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { MAN_PATH, renderMan } from '../scripts/man.js';
import { DOC_PATH, renderProtocolDoc } from '../scripts/protocol-doc.js';
import { METHODS } from '../src/protocol/table.js';

describe('docs/protocol.md', () => {
  it('is what the tables generate (run `npm run docs` after changing them)', () => {
    expect(fs.readFileSync(DOC_PATH, 'utf8')).toBe(renderProtocolDoc());
  });

  it('has a section for every method, with its params', () => {
    const doc = renderProtocolDoc();
    for (const name of Object.keys(METHODS)) expect(doc).toContain(`\n## ${name}\n`);
    expect(doc).toMatch(/## ssh\.exec[\s\S]*\| `command` \| string ≤\d+ \| yes \|/);
  });
});

describe('docs/scoutctl.1', () => {
  it('is what the command declarations generate (run `npm run docs` after changing them), with every command', () => {
    const man = renderMan();
    expect(fs.readFileSync(MAN_PATH, 'utf8')).toBe(man);
    for (const cmd of ['exec', 'shell', 'forward', 'fleet']) expect(man).toContain(`.SS ${cmd}\n`);
    expect(man).toContain('Usage: scoutctl forward HOST -L [bind:]port:host:hostport');
  });
});
