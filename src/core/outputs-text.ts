/**
 * Text passes of output normalization: what makes two runs of the same cell print different characters although
 * nothing that matters differs. Each pass is one linear scan (a precompiled regular expression or a loop), skipped
 * when a cheap test shows the text cannot hold a match, because this runs on every executed cell.
 *
 * The passes, in order:
 * 1. (streams only) terminal control: `\r` returns to the start of the line and later characters overwrite it,
 *    `\b` erases, exactly as JupyterLab's output model does before it saves a notebook, so that the raw kernel
 *    stream the agent hashes and the stream a JupyterLab notebook stores normalize to the same text;
 * 2. ANSI escape sequences (colours, cursor moves, OSC hyperlinks) removed, and CRLF -> LF;
 * 3. masks: UUIDs -> `<UUID>`, ISO-8601 dates and date-times -> `<TIMESTAMP>`, memory addresses (`0x` and 6 to 16
 *    hex digits) -> `<ADDRESS>`; whitespace at the end of each line removed.
 */

/** Which text passes run; all are on by default, and the output hash always uses the defaults. */
export interface TextNormalizeOptions {
  /** Remove ANSI escape sequences. */
  stripAnsi: boolean;
  /** Replace memory addresses such as `0x7f3a9c2e10d0` with `<ADDRESS>`. */
  maskAddresses: boolean;
  /** Replace ISO-8601 dates and date-times with `<TIMESTAMP>`. */
  maskTimestamps: boolean;
  /** Replace UUIDs with `<UUID>`. */
  maskUuids: boolean;
  /** Remove spaces, tabs and other whitespace (but LF) at the end of each line. */
  stripTrailingWhitespace: boolean;
}

/** The passes the output hash runs. */
export const DEFAULT_TEXT_OPTIONS: Readonly<TextNormalizeOptions> = Object.freeze({
  stripAnsi: true,
  maskAddresses: true,
  maskTimestamps: true,
  maskUuids: true,
  stripTrailingWhitespace: true
});

/** Replacement of a masked UUID. */
export const UUID_MASK = '<UUID>';
/** Replacement of a masked date or date-time. */
export const TIMESTAMP_MASK = '<TIMESTAMP>';
/** Replacement of a masked memory address. */
export const ADDRESS_MASK = '<ADDRESS>';

// ECMA-48: CSI (ESC [ parameters intermediates final), OSC (ESC ] ... ended by BEL or ESC \) and the two-character
// escapes (ESC + 0x40..0x5F).
const ANSI = new RegExp(
  String.raw`\u001b(?:\[[0-?]*[ -/]*[@-~]|\][^\u0007\u001b]*(?:\u0007|\u001b\\)|[@-Z\\-_])`,
  'g'
);

// Each mask is its own expression behind a cheap test that skips it when the text cannot hold a match. Measured on
// 200 KB of logs and tables: one alternation of all masks ran at ~100 MB/s, because alternatives that begin with a
// character class are tried at every position; the guarded passes run at ~500 MB/s on text without matches.
// Word boundaries keep a mask from biting into a longer token (a 64-digit hash is not an address). The masks cannot
// overlap (a UUID holds no `x`, a date's groups are 4-2-2 digits, a UUID's 8-4-4-4-12), so their order is free.
const UUID = /\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b/g;
const UUID_HINT = /-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-/;
const TIMESTAMP = new RegExp(
  String.raw`\b\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])` +
    String.raw`(?:[T ](?:[01]\d|2[0-3]):[0-5]\d(?::[0-5]\d(?:[.,]\d+)?)?(?:Z|[+-](?:[01]\d|2[0-3])(?::?[0-5]\d)?)?)?\b`,
  'g'
);
const TIMESTAMP_HINT = /-[01]\d-[0-3]\d/;
const ADDRESS = /\b0x[0-9a-fA-F]{6,16}\b/g;

/**
 * Normalizes one text value (a stream after terminal control, a `text/*` MIME value, an error's `evalue`):
 * ANSI removed, CRLF -> LF, UUIDs, timestamps and addresses masked, trailing whitespace of each line removed.
 */
export function normalizeText(text: string, options: TextNormalizeOptions = DEFAULT_TEXT_OPTIONS): string {
  // ANSI first: removing `ESC[0m` from `\r ESC[0m \n` leaves a CRLF that must still become LF.
  if (options.stripAnsi && text.indexOf('\u001b') !== -1) {
    text = text.replace(ANSI, '');
  }
  if (text.indexOf('\r\n') !== -1) {
    text = text.replaceAll('\r\n', '\n');
  }
  if (options.maskUuids && UUID_HINT.test(text)) {
    text = text.replace(UUID, UUID_MASK);
  }
  if (options.maskTimestamps && TIMESTAMP_HINT.test(text)) {
    text = text.replace(TIMESTAMP, TIMESTAMP_MASK);
  }
  if (options.maskAddresses && text.indexOf('0x') !== -1) {
    text = text.replace(ADDRESS, ADDRESS_MASK);
  }
  return options.stripTrailingWhitespace ? stripTrailingWhitespace(text) : text;
}

/**
 * Removes the whitespace (JavaScript's `\s`, LF excepted) at the end of each line. A scan back from each line feed
 * rather than a regular expression: `[^\S\n]+(?=\n|$)` backtracks quadratically on long runs of inner blanks, and the
 * linear lookbehind form ran 16 times slower than this loop.
 */
export function stripTrailingWhitespace(text: string): string {
  let out = '';
  let copied = 0;
  let lineStart = 0;
  for (let lf = text.indexOf('\n'); ; lf = text.indexOf('\n', lf + 1)) {
    const lineEnd = lf === -1 ? text.length : lf;
    let end = lineEnd;
    while (end > lineStart && isWhitespace(text.charCodeAt(end - 1))) {
      end--;
    }
    if (end < lineEnd) {
      out += text.slice(copied, end);
      copied = lineEnd;
    }
    if (lf === -1) {
      return copied === 0 ? text : out + text.slice(copied);
    }
    lineStart = lf + 1;
  }
}

/** The code units of JavaScript's `\s` (WhiteSpace and LineTerminator). */
function isWhitespace(c: number): boolean {
  return (
    c === 32 ||
    (c >= 9 && c <= 13) ||
    c === 0xa0 ||
    c === 0x1680 ||
    (c >= 0x2000 && c <= 0x200a) ||
    c === 0x2028 ||
    c === 0x2029 ||
    c === 0x202f ||
    c === 0x205f ||
    c === 0x3000 ||
    c === 0xfeff
  );
}

/**
 * Applies the carriage returns and backspaces of a stream the way JupyterLab's output model does
 * (`@jupyterlab/outputarea` `Private.processText`), including its quirks, so that a stream normalizes to the same
 * text whether it is read from kernel messages or from a notebook JupyterLab saved:
 * - `\r` moves the cursor to the start of the current line; following characters overwrite, the rest stays;
 * - `\b` removes the character before the cursor and the one under it, never crossing a line feed;
 * - `\n` appends a line feed at the end of the text (not at the cursor) and moves the cursor there.
 * Only the last line can change, so finished lines are collected once and never copied again.
 */
export function applyTerminalControl(text: string): string {
  if (text.indexOf('\r') === -1 && text.indexOf('\b') === -1) {
    return text;
  }
  const done: string[] = [];
  let line = '';
  let cursor = 0;
  let start = 0;
  for (let i = 0; i <= text.length; i++) {
    const c = i < text.length ? text.charCodeAt(i) : -1;
    if (c !== 10 && c !== 13 && c !== 8 && c !== -1) {
      continue;
    }
    if (i > start) {
      const run = text.slice(start, i);
      line = line.slice(0, cursor) + run + line.slice(cursor + run.length);
      cursor += run.length;
    }
    start = i + 1;
    if (c === 10) {
      done.push(line, '\n');
      line = '';
      cursor = 0;
    } else if (c === 13) {
      cursor = 0;
    } else if (c === 8 && cursor > 0) {
      line = line.slice(0, cursor - 1) + line.slice(cursor + 1);
      cursor--;
    }
  }
  done.push(line);
  return done.join('');
}
