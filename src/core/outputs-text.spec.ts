import {
  applyTerminalControl,
  DEFAULT_TEXT_OPTIONS,
  normalizeText,
  stripTrailingWhitespace
} from './outputs-text.js';

describe('normalizeText', () => {
  describe('ANSI escape sequences', () => {
    it.each([
      ['colours', '\u001b[1;31mError\u001b[0m: x', 'Error: x'],
      ['256-colour and truecolour', '\u001b[38;5;208ma\u001b[48;2;1;2;3mb\u001b[m', 'ab'],
      ['cursor and erase controls', 'a\u001b[2K\u001b[1Ab\u001b[?25l', 'ab'],
      ['OSC hyperlink ended by BEL', '\u001b]8;;https://x.org\u0007link\u001b]8;;\u0007', 'link'],
      ['OSC title ended by ST', '\u001b]0;title\u001b\\text', 'text'],
      ['two-character escape', 'a\u001bMb', 'ab']
    ])('removes %s', (_, input, expected) => {
      expect(normalizeText(input)).toBe(expected);
    });

    it('keeps them when stripAnsi is off', () => {
      expect(normalizeText('\u001b[31mx\u001b[0m', { ...DEFAULT_TEXT_OPTIONS, stripAnsi: false })).toBe(
        '\u001b[31mx\u001b[0m'
      );
    });
  });

  describe('line endings and trailing whitespace', () => {
    it('turns CRLF into LF and keeps a lone CR', () => {
      expect(normalizeText('a\r\nb\rc\r\n')).toBe('a\nb\rc\n');
    });

    it('removes whitespace at the end of every line and of the text, not inside lines', () => {
      expect(normalizeText('a  b \t\n  c\u00a0\n\nd  ')).toBe('a  b\n  c\n\nd');
    });

    it('stays linear on a long run of inner blanks', () => {
      const text = 'a' + ' '.repeat(300000) + 'b\n';
      const started = Date.now();
      expect(normalizeText(text)).toBe(text);
      // A backtracking expression would take minutes here; a generous bound keeps this from flaking.
      expect(Date.now() - started).toBeLessThan(3000);
    });

    it('turns a CRLF split by an escape sequence into LF', () => {
      expect(normalizeText('a\r\u001b[0m\nb')).toBe('a\nb');
    });

    it('strips exactly what the regular expression [^\\S\\n]+ before a line end would', () => {
      // Deterministic pseudo-random strings over whitespace of every kind, LF and letters.
      const alphabet = [' ', '\t', '\n', '\r', '\u00a0', '\u2028', '\u3000', '\ufeff', '\v', 'a', 'b'];
      let state = 7;
      const next = () => (state = (state * 48271) % 2147483647);
      for (let t = 0; t < 2000; t++) {
        let text = '';
        for (let i = next() % 12; i > 0; i--) {
          text += alphabet[next() % alphabet.length];
        }
        expect(stripTrailingWhitespace(text)).toBe(text.replace(/(?<![^\S\n])[^\S\n]+(?=\n|$)/g, ''));
      }
    });

    it('keeps trailing whitespace when that pass is off', () => {
      expect(normalizeText('a \n', { ...DEFAULT_TEXT_OPTIONS, stripTrailingWhitespace: false })).toBe('a \n');
    });
  });

  describe('memory addresses', () => {
    it.each([
      ['<A object at 0x7f3a9c2e10d0>', '<A object at <ADDRESS>>'],
      ['0xABCDEF and 0x0123456789abcdef', '<ADDRESS> and <ADDRESS>'],
      ['0x12345 is too short', '0x12345 is too short'],
      ['0x12345678901234567 is too long', '0x12345678901234567 is too long'],
      ['0x' + 'ab'.repeat(32), '0x' + 'ab'.repeat(32)],
      ['id0x1234567', 'id0x1234567']
    ])('%s', (input, expected) => {
      expect(normalizeText(input)).toBe(expected);
    });

    it('keeps them when maskAddresses is off', () => {
      expect(normalizeText('0x7f3a9c2e10d0', { ...DEFAULT_TEXT_OPTIONS, maskAddresses: false })).toBe(
        '0x7f3a9c2e10d0'
      );
    });
  });

  describe('timestamps', () => {
    it.each([
      ['2024-05-01', '<TIMESTAMP>'],
      ['at 2024-05-01T10:00 ok', 'at <TIMESTAMP> ok'],
      ['2024-05-01T10:00:59Z', '<TIMESTAMP>'],
      ['2024-05-01 10:00:59.123456', '<TIMESTAMP>'],
      ['2024-05-01T10:00:59,5+05:30.', '<TIMESTAMP>.'],
      ['2024-12-31T23:59:59-0800', '<TIMESTAMP>'],
      ['[2024-02-29 00:00:00,001]', '[<TIMESTAMP>]'],
      ['2024-13-01 is no date', '2024-13-01 is no date'],
      ['20240501 and 1234-5678', '20240501 and 1234-5678'],
      ['v2024-05-01', 'v2024-05-01']
    ])('%s', (input, expected) => {
      expect(normalizeText(input)).toBe(expected);
    });

    it('keeps them when maskTimestamps is off', () => {
      expect(normalizeText('2024-05-01', { ...DEFAULT_TEXT_OPTIONS, maskTimestamps: false })).toBe(
        '2024-05-01'
      );
    });
  });

  describe('UUIDs', () => {
    it.each([
      ['run 123e4567-e89b-12d3-a456-426614174000 done', 'run <UUID> done'],
      ['123E4567-E89B-12D3-A456-426614174000', '<UUID>'],
      ['x123e4567-e89b-12d3-a456-426614174000', 'x123e4567-e89b-12d3-a456-426614174000'],
      ['123e4567-e89b-12d3-a456-4266141740001', '123e4567-e89b-12d3-a456-4266141740001']
    ])('%s', (input, expected) => {
      expect(normalizeText(input)).toBe(expected);
    });

    it('keeps them when maskUuids is off', () => {
      const uuid = '123e4567-e89b-12d3-a456-426614174000';
      expect(normalizeText(uuid, { ...DEFAULT_TEXT_OPTIONS, maskUuids: false })).toBe(uuid);
    });
  });

  it('masks after removing ANSI, so a coloured timestamp is still masked', () => {
    expect(normalizeText('\u001b[2m2024-05-01 10:00:00\u001b[0m  \r\n')).toBe('<TIMESTAMP>\n');
  });

  it('leaves ordinary text untouched', () => {
    const text = 'epoch 3/10 loss=0.1234 acc=97.5% (12ms)\narray([1, 2, 3], dtype=int64)\n';
    expect(normalizeText(text)).toBe(text);
  });
});

describe('applyTerminalControl', () => {
  // Expected values were produced by JupyterLab 4.6's OutputAreaModel (`Private.processText`) on the same input.
  it.each([
    ['no control characters', 'abc\ndef', 'abc\ndef'],
    ['carriage return overwrites the start of the line', 'abcdef\rXY', 'XYcdef'],
    ['progress bar keeps the last state', '10%\r50%\r100%\n', '100%\n'],
    ['CRLF ends the line', 'a\r\nb\r\n', 'a\nb\n'],
    ['backspace erases', 'ab\bc', 'ac'],
    ['backspace stops at a line feed', 'a\n\bb', 'a\nb'],
    ['backspace at the start does nothing', '\bx', 'x'],
    ['backspace after a return erases two characters (JupyterLab quirk)', 'abcd\rxy\b', 'xd'],
    ['line feed goes to the end of the text, not to the cursor', 'abc\rX\nY', 'Xbc\nY']
  ])('%s', (_, input, expected) => {
    expect(applyTerminalControl(input)).toBe(expected);
  });

  it('is the same whether a stream arrives whole or already processed', () => {
    const raw = 'step 1/3\rstep 2/3\rstep 3/3\ndone\b!\n';
    expect(applyTerminalControl(applyTerminalControl(raw))).toBe(applyTerminalControl(raw));
  });
});
