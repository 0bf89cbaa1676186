/**
 * A small, strict TOML reader for the two TOML files of an environment (`pyproject.toml`, `Pipfile`).
 *
 * No TOML library is installed, and a wrong reading would install the wrong packages, so this reads the TOML 1.0
 * syntax those files use (tables, arrays of tables, dotted and quoted keys, the four string forms, arrays, inline
 * tables, booleans, numbers) and fails loudly otherwise: broken syntax is ENV_INVALID_FILE; a value it keeps only
 * as raw text (dates, hex or special floats) is returned as that text, which is enough since the environment only
 * reads strings and arrays of strings.
 */
import { invalidFile } from './environment-report.js';

/** A TOML value as read here; dates and unusual numbers stay raw strings. */
export type TomlValue = string | number | boolean | TomlValue[] | TomlTable;

/** A TOML table. Created with a null prototype, so keys such as `__proto__` are plain keys. */
export interface TomlTable {
  [key: string]: TomlValue;
}

/** Parses `text` (LF line endings); throws ENV_INVALID_FILE naming `file` and the line. */
export function parseToml(text: string, file: string): TomlTable {
  return new Private.Parser(text, file).document();
}

/** True for a table (not an array) value. */
export function isTomlTable(value: TomlValue | undefined): value is TomlTable {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

namespace Private {
  const BARE_KEY = /[A-Za-z0-9_-]/;
  const DATE_TIME =
    /^(?:\d{4}-\d{2}-\d{2}(?:[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})?)?|\d{2}:\d{2}:\d{2}(?:\.\d+)?)/;
  const DECIMAL = /^[+-]?(?:0|[1-9](?:_?\d)*)(?:\.\d(?:_?\d)*)?(?:[eE][+-]?\d(?:_?\d)*)?$/;
  const OTHER_NUMBER =
    /^(?:0x[0-9A-Fa-f](?:_?[0-9A-Fa-f])*|0o[0-7](?:_?[0-7])*|0b[01](?:_?[01])*|[+-]?(?:inf|nan))$/;
  const ESCAPES: Record<string, string> = {
    b: '\b',
    t: '\t',
    n: '\n',
    f: '\f',
    r: '\r',
    e: '\x1b',
    '"': '"',
    '\\': '\\'
  };

  const table = (): TomlTable => Object.create(null) as TomlTable;

  export class Parser {
    private pos = 0;
    // Tables opened by a [header] (redefining one is an error) and tables that inline values closed.
    private readonly defined = new Set<TomlTable>();
    private readonly sealed = new Set<TomlTable>();
    // Arrays made by [[header]]s: a later [header.key] extends their last table.
    private readonly tableArrays = new Set<TomlValue[]>();

    constructor(
      private readonly text: string,
      private readonly file: string
    ) {}

    document(): TomlTable {
      const root = table();
      let current = root;
      for (;;) {
        this.skipBlank(true);
        if (this.pos >= this.text.length) {
          return root;
        }
        if (this.text[this.pos] === '[') {
          current = this.header(root);
        } else {
          this.keyValue(current);
        }
        this.endOfLine();
      }
    }

    private header(root: TomlTable): TomlTable {
      const isArray = this.text.startsWith('[[', this.pos);
      this.pos += isArray ? 2 : 1;
      const path = this.keyPath();
      this.expect(isArray ? ']]' : ']');
      const parent = this.walk(root, path.slice(0, -1));
      const last = path[path.length - 1];
      if (isArray) {
        const existing = parent[last];
        const list = existing === undefined ? [] : existing;
        if (!Array.isArray(list) || (existing !== undefined && !this.tableArrays.has(list))) {
          throw this.fail(`[[${path.join('.')}]] redefines a key that is not an array of tables`);
        }
        this.tableArrays.add(list);
        const entry = table();
        list.push(entry);
        parent[last] = list;
        return entry;
      }
      const existing = parent[last];
      const target = existing === undefined ? table() : existing;
      if (!isTomlTable(target) || this.defined.has(target) || this.sealed.has(target)) {
        throw this.fail(`[${path.join('.')}] is defined twice`);
      }
      this.defined.add(target);
      parent[last] = target;
      return target;
    }

    /** Follows (creating) the tables of a key path; an array of tables resolves to its last entry. */
    private walk(from: TomlTable, path: string[]): TomlTable {
      let at = from;
      for (const key of path) {
        let next = at[key];
        if (next === undefined) {
          next = at[key] = table();
        } else if (Array.isArray(next) && this.tableArrays.has(next)) {
          next = next[next.length - 1];
        }
        if (!isTomlTable(next) || this.sealed.has(next)) {
          throw this.fail(`the key ${key} is already a value, not a table`);
        }
        at = next;
      }
      return at;
    }

    private keyValue(into: TomlTable): void {
      const path = this.keyPath();
      this.skipSpaces();
      this.expect('=');
      this.skipSpaces();
      const target = this.walk(into, path.slice(0, -1));
      const last = path[path.length - 1];
      if (last in target) {
        throw this.fail(`the key ${path.join('.')} is defined twice`);
      }
      target[last] = this.value();
    }

    private keyPath(): string[] {
      const path: string[] = [];
      for (;;) {
        this.skipSpaces();
        const c = this.text[this.pos];
        if (c === '"' || c === "'") {
          path.push(this.singleLineString(c));
        } else {
          const start = this.pos;
          while (this.pos < this.text.length && BARE_KEY.test(this.text[this.pos])) {
            this.pos++;
          }
          if (start === this.pos) {
            throw this.fail('a key is expected here');
          }
          path.push(this.text.slice(start, this.pos));
        }
        this.skipSpaces();
        if (this.text[this.pos] !== '.') {
          return path;
        }
        this.pos++;
      }
    }

    private value(): TomlValue {
      const c = this.text[this.pos];
      if (this.text.startsWith('"""', this.pos) || this.text.startsWith("'''", this.pos)) {
        return this.multiLineString();
      }
      if (c === '"' || c === "'") {
        return this.singleLineString(c);
      }
      if (c === '[') {
        return this.array();
      }
      if (c === '{') {
        return this.inlineTable();
      }
      const rest = this.text.slice(this.pos, this.pos + 64);
      const match = DATE_TIME.exec(rest) ?? /^[A-Za-z0-9_+\-.]+/.exec(rest);
      if (!match) {
        throw this.fail('a value is expected here');
      }
      this.pos += match[0].length;
      const raw = match[0];
      if (raw === 'true' || raw === 'false') {
        return raw === 'true';
      }
      if (DECIMAL.test(raw)) {
        return Number(raw.replace(/_/g, ''));
      }
      if (!DATE_TIME.test(raw) && !OTHER_NUMBER.test(raw)) {
        throw this.fail(`${raw} is not a TOML value (strings need quotes)`);
      }
      return raw; // a date or a hex/octal/binary/special number: kept as written
    }

    private array(): TomlValue[] {
      this.pos++;
      const items: TomlValue[] = [];
      for (;;) {
        this.skipBlank(true);
        if (this.text[this.pos] === ']') {
          this.pos++;
          return items;
        }
        items.push(this.value());
        this.skipBlank(true);
        if (this.text[this.pos] === ',') {
          this.pos++;
        } else if (this.text[this.pos] !== ']') {
          throw this.fail('an array needs , between items and ] at its end');
        }
      }
    }

    private inlineTable(): TomlTable {
      this.pos++;
      const result = table();
      this.skipSpaces();
      if (this.text[this.pos] === '}') {
        this.pos++;
        return result;
      }
      for (;;) {
        this.keyValue(result);
        this.skipSpaces();
        const c = this.text[this.pos++];
        if (c === '}') {
          this.sealAll(result);
          return result;
        }
        if (c !== ',') {
          throw this.fail('an inline table needs , between entries and } on the same line');
        }
      }
    }

    private sealAll(value: TomlValue): void {
      if (isTomlTable(value)) {
        this.sealed.add(value);
        Object.values(value).forEach(v => this.sealAll(v));
      }
    }

    private singleLineString(quote: string): string {
      this.pos++;
      let out = '';
      for (;;) {
        const c = this.text[this.pos++];
        if (c === undefined || c === '\n') {
          this.pos--;
          throw this.fail('a string is not closed on its line');
        }
        if (c === quote) {
          return out;
        }
        out += c === '\\' && quote === '"' ? this.escape() : c;
      }
    }

    private multiLineString(): string {
      const quote = this.text.slice(this.pos, this.pos + 3);
      this.pos += 3;
      if (this.text[this.pos] === '\n') {
        this.pos++;
      }
      let out = '';
      for (;;) {
        if (this.pos >= this.text.length) {
          throw this.fail(`a ${quote} string is not closed`);
        }
        if (this.text.startsWith(quote, this.pos)) {
          // Up to two quotes may end the content right before the closing delimiter.
          let end = this.pos + 3;
          while (end < this.pos + 5 && this.text[end] === quote[0]) {
            end++;
          }
          out += this.text.slice(this.pos, end - 3);
          this.pos = end;
          return out;
        }
        const c = this.text[this.pos++];
        if (c === '\\' && quote === '"""') {
          const rest = /^[ \t]*\n\s*/.exec(this.text.slice(this.pos));
          if (rest) {
            this.pos += rest[0].length; // a line-ending backslash joins the lines
          } else {
            out += this.escape();
          }
        } else {
          out += c;
        }
      }
    }

    private escape(): string {
      const c = this.text[this.pos++];
      if (c in ESCAPES) {
        return ESCAPES[c];
      }
      const digits = c === 'u' ? 4 : c === 'U' ? 8 : 0;
      const hex = this.text.slice(this.pos, this.pos + digits);
      const code = parseInt(hex, 16);
      if (!digits || !/^[0-9A-Fa-f]+$/.test(hex) || hex.length !== digits || code > 0x10ffff) {
        throw this.fail(`\\${c ?? ''} is not a TOML escape`);
      }
      this.pos += digits;
      return String.fromCodePoint(code);
    }

    private skipSpaces(): void {
      while (this.text[this.pos] === ' ' || this.text[this.pos] === '\t') {
        this.pos++;
      }
    }

    /** Skips spaces, comments and (when `lines`) newlines. */
    private skipBlank(lines: boolean): void {
      for (;;) {
        this.skipSpaces();
        const c = this.text[this.pos];
        if (c === '#') {
          while (this.pos < this.text.length && this.text[this.pos] !== '\n') {
            this.pos++;
          }
        } else if (c === '\n' && lines) {
          this.pos++;
        } else {
          return;
        }
      }
    }

    private endOfLine(): void {
      this.skipBlank(false);
      if (this.pos < this.text.length && this.text[this.pos] !== '\n') {
        throw this.fail('only a comment may follow a value on its line');
      }
    }

    private expect(token: string): void {
      if (!this.text.startsWith(token, this.pos)) {
        throw this.fail(`${token} is expected here`);
      }
      this.pos += token.length;
    }

    private fail(what: string) {
      const line = this.text.slice(0, this.pos).split('\n').length;
      return invalidFile(this.file, line, `${what} (TOML)`);
    }
  }
}
