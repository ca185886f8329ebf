// docs/protocol.md describes the protocol that src/protocol/constants.json defines (the C header
// and the TypeScript constants are made from the JSON): its tables of limits, messages, codes
// and fields must say what the JSON says, so the prose cannot drift from the code.
import fs from 'fs';
import path from 'path';
import spec from '../../src/protocol/constants.json';

const DOC = fs.readFileSync(path.resolve(__dirname, '../../../docs/protocol.md'), 'utf8');

/** The rows of the table whose header row is exactly `header`, as trimmed cells. */
function table(header: string): string[][] {
  const lines = DOC.split('\n');
  const at = lines.findIndex((l) => l.trim() === header);
  if (at < 0) throw new Error(`docs/protocol.md has no table ${header}`);
  const rows: string[][] = [];
  for (let i = at + 2; i < lines.length && lines[i].startsWith('|'); i++) rows.push(lines[i].split('|').slice(1, -1).map((c) => c.trim()));
  return rows;
}

const list = (cell: string): string[] => (cell === 'none' || cell === '' ? [] : cell.replace(/\s*\(.*\)$/, '').split(/,\s*/));
const layouts = Object.entries(spec.layouts).filter(([k]) => !k.startsWith('$')) as Array<[string, { sender: string; fields: string[]; required: string[] }]>;

test('the limits table gives the JSON\'s values', () => {
  const rows = table('| name | value | meaning |');
  const value = (name: string): unknown => name.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown>)[k], spec);
  const named = rows.map(([name, v]) => [name.replace(/`/g, ''), Number(v)] as const);
  expect(named).toEqual(named.map(([name]) => [name, value(name)]));
  expect(named.map(([name]) => name).sort()).toEqual(['headerSize', 'maxPayload', 'maxArgs', ...Object.keys(spec.limits).map((k) => `limits.${k}`)].sort());
});

test('the message table: every message, its type, sender, fields and required fields', () => {
  const rows = table('| type | name | sender | fields | required |');
  expect(rows.map(([type, name, sender, fields, required]) => ({ type: Number(type), name, sender, fields: list(fields), required: list(required) })))
    .toEqual(layouts.map(([name, l]) => ({ type: spec.messages[name as keyof typeof spec.messages], name, sender: l.sender, fields: l.fields, required: l.required })));
});

test('the field table: every field, its tag, the messages that carry it, its encoding', () => {
  const rows = table('| tag | name | in | encoding | notes |');
  const carriers = (field: string): string[] => layouts.filter(([, l]) => l.fields.some((f) => f.replace(/\*$/, '') === field)).map(([m]) => m);
  expect(rows.map(([tag, name, inMessages, encoding]) => ({ tag: Number(tag), name, in: list(inMessages), encoding })))
    .toEqual(Object.entries(spec.fields).map(([name, tag]) => ({ tag, name, in: carriers(name), encoding: spec.encodings[name as keyof typeof spec.encodings] })));
});

test('the RESULT code and ERROR code tables', () => {
  const codes = table('| CODE | name | the module returns |').filter(([c]) => /^[0-9]+$/.test(c));
  expect(codes.map(([c, name, pam]) => [Number(c), name, pam])).toEqual(Object.entries(spec.results).map(([name, c]) => [c, name, `PAM_${name}`]));
  const errors = table('| code | name | when the worker sends it |');
  expect(errors.map(([c, name]) => [Number(c), name])).toEqual(Object.entries(spec.errors).map(([name, c]) => [c, name]));
});

test('every field a layout names exists, and the layouts cover every message', () => {
  for (const [, l] of layouts) for (const f of [...l.fields, ...l.required]) expect(Object.keys(spec.fields)).toContain(f.replace(/\*$/, ''));
  expect(layouts.map(([m]) => m)).toEqual(Object.keys(spec.messages));
  expect(Object.keys(spec.encodings).sort()).toEqual(Object.keys(spec.fields).sort());
});

test('the default socket the document names is the module\'s', () => {
  expect(DOC).toContain(`by default\n\`${spec.module.defaultSocket}\``);
});
