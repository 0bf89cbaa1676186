import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { canonicalHash, canonicalJson } from './canonical-json';
import { isAinError } from './errors';

const vectors = JSON.parse(readFileSync(join(__dirname, '../../tests/vectors/canonical-json.json'), 'utf8'));

function double(hex: string): number {
  const view = new DataView(new ArrayBuffer(8));
  view.setBigUint64(0, BigInt('0x' + hex));
  return view.getFloat64(0);
}

describe('canonical JSON (RFC 8785)', () => {
  it.each(vectors.documents.map((d: { name: string; input: string; output: string }) => [d.name, d]))(
    'reproduces %s',
    (_name, doc: { input: string; output: string }) => {
      expect(canonicalJson(JSON.parse(doc.input))).toBe(doc.output);
    }
  );

  it.each(vectors.numbers)('serializes the double %s as %s (Appendix B)', (hex: string, text: string) => {
    expect(canonicalJson(double(hex))).toBe(text);
  });

  it.each(vectors.invalidNumbers)('refuses %s (%s) with a typed error', (hex: string) => {
    expect(() => canonicalJson([double(hex)])).toThrow(
      expect.objectContaining({ code: 'CANONICAL_JSON_INVALID' })
    );
  });

  it('refuses lone surrogates, cycles and undefined, saying what to do', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    for (const bad of [{ s: '\ud800' }, cyclic, undefined]) {
      try {
        canonicalJson(bad);
        throw new Error('expected a failure');
      } catch (e) {
        expect(isAinError(e, 'CANONICAL_JSON_INVALID')).toBe(true);
        expect((e as Error).message).toMatch(/canonical JSON/);
      }
    }
  });

  it('hashes the UTF-8 bytes of the canonical form, whatever the key order', () => {
    const a = canonicalHash({ b: 1, a: [true, null, 'é'] });
    const b = canonicalHash(JSON.parse('{ "a": [true, null, "\\u00e9"], "b": 1.0 }'));
    const expected = '0x' + createHash('sha256').update('{"a":[true,null,"é"],"b":1}', 'utf8').digest('hex');
    expect(a).toBe(expected);
    expect(b).toBe(expected);
  });
});
