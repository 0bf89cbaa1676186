import { parseToml } from './environment-toml.js';
import { isAinError } from './errors.js';

/** Plain objects, so that toEqual compares the null-prototype tables by content. */
const read = (text: string) => JSON.parse(JSON.stringify(parseToml(text, 'x.toml')));

function lineOfError(text: string): unknown {
  try {
    parseToml(text, 'x.toml');
  } catch (e) {
    return isAinError(e, 'ENV_INVALID_FILE') ? e.info.line : e;
  }
  return 'accepted';
}

describe('parseToml (the subset environment files use)', () => {
  it('reads the four string forms with their escapes', () => {
    const text = [
      'basic = "tab\\there \\"quoted\\" back\\\\slash \\u00e9 \\U0001F600"',
      "literal = 'C:\\Users\\no\\escapes'",
      'multi = """',
      'first line',
      'joined \\',
      '   here"""',
      "raw = '''",
      "keeps \\n as 'is'",
      "'''"
    ].join('\n');
    expect(read(text)).toEqual({
      basic: 'tab\there "quoted" back\\slash é 😀',
      literal: 'C:\\Users\\no\\escapes',
      multi: 'first line\njoined here',
      raw: "keeps \\n as 'is'\n"
    });
  });

  it('reads multi-line arrays with comments and a trailing comma, and inline tables', () => {
    const text = [
      'deps = [',
      '  "numpy>=1.26",  # arrays',
      '  [1, 2],',
      "  'pandas',",
      ']',
      'pkg = { version = ">=2", extras = ["a", "b"], nested = { ok = true } }',
      'empty = {}'
    ].join('\n');
    expect(read(text)).toEqual({
      deps: ['numpy>=1.26', [1, 2], 'pandas'],
      pkg: { version: '>=2', extras: ['a', 'b'], nested: { ok: true } },
      empty: {}
    });
  });

  it('reads tables, dotted and quoted keys, and arrays of tables', () => {
    const text = [
      'top = 1',
      '[project]',
      'name = "demo"',
      'urls.home = "https://x.org"',
      '"quoted.key" = 2',
      '[project.optional-dependencies]',
      'dev = []',
      '[[source]]',
      'name = "pypi"',
      '[[source]]',
      'name = "other"',
      '[source.extra]',
      'x = 1',
      '[a.b.c]',
      '[a]',
      'd = 1'
    ].join('\n');
    expect(read(text)).toEqual({
      top: 1,
      project: {
        name: 'demo',
        urls: { home: 'https://x.org' },
        'quoted.key': 2,
        'optional-dependencies': { dev: [] }
      },
      source: [{ name: 'pypi' }, { name: 'other', extra: { x: 1 } }],
      a: { b: { c: {} }, d: 1 }
    });
  });

  it('reads numbers and booleans, and keeps dates and special numbers as written', () => {
    expect(
      read(
        'a = 1_000\nb = -2.5e3\nc = true\nd = 0xff\ne = 1979-05-27T07:32:00Z\nf = 1979-05-27 07:32:00\ng = +inf'
      )
    ).toEqual({
      a: 1000,
      b: -2500,
      c: true,
      d: '0xff',
      e: '1979-05-27T07:32:00Z',
      f: '1979-05-27 07:32:00',
      g: '+inf'
    });
  });

  it('keeps __proto__ as a plain key', () => {
    const table = parseToml('__proto__ = "x"\n[constructor]\na = 1', 'x.toml');
    expect(Object.keys(table)).toEqual(['__proto__', 'constructor']);
    expect(Object.getPrototypeOf(table)).toBeNull();
  });

  it.each([
    ['an unknown escape', 'a = "\\q"', 1],
    ['an unclosed multi-line string', 'a = 1\nb = """\nnever closed', 3],
    ['an inline table across lines', 'a = {\n b = 1 }', 1],
    ['a key defined twice through a dotted key', 'a.b = 1\na.b = 2', 2],
    ['a table over a value', 'a = 1\n[a]', 2],
    ['an array of tables over a static array', 'a = [1]\n[[a]]', 2],
    ['a table extending an inline table', 'a = { b = 1 }\n[a.c]', 2],
    ['a header without its bracket', '[project', 1],
    ['a value missing', 'a =\nb = 1', 1]
  ])('refuses %s, naming the line', (_what, text, line) => {
    expect(lineOfError(text)).toBe(line);
  });
});
