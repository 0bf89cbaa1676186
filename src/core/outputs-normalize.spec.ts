// node:crypto is the independent SHA-256 the shared vectors are checked against (specs run only under Node).
import { createHash } from 'node:crypto';
import vectors from '../../tests/vectors/outputs.json';
import { isAinError } from './errors.js';
import {
  mimeKind,
  NbOutput,
  normalizedOutputsBytes,
  normalizeOutputs,
  outputHash,
  plainOutputs
} from './outputs-normalize.js';

const SALT = vectors.salt;
const stream = (text: string | string[], name = 'stdout'): NbOutput => ({
  output_type: 'stream',
  name,
  text
});

/** RFC 8785 for the strings, integers and plain floats of the vectors: sorted keys, JSON.stringify for leaves. */
function jcs(value: unknown): string {
  if (Array.isArray(value)) {
    return `[${value.map(jcs).join(',')}]`;
  }
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) =>
      a < b ? -1 : a > b ? 1 : 0
    );
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${jcs(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

function errorCode(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    return isAinError(e) ? e.code : `not an AinError: ${String(e)}`;
  }
  return undefined;
}

describe('shared vectors: salted output hashes (tests/vectors/outputs.json)', () => {
  it.each(vectors.hashes.map(v => [v.name, v] as const))('%s', (_, vector) => {
    const outputs = vector.outputs as NbOutput[];
    expect(normalizeOutputs(outputs)).toEqual(vector.normalized);

    const body = Buffer.from(jcs(vector.normalized), 'utf8');
    expect(Buffer.from(normalizedOutputsBytes(outputs))).toEqual(body);

    const independent =
      '0x' +
      createHash('sha256')
        .update(Buffer.concat([Buffer.from(SALT.slice(2), 'hex'), body]))
        .digest('hex');
    expect(independent).toBe(vector.hash);
    expect(outputHash(outputs, SALT)).toBe(vector.hash);
  });
});

describe('normalizeOutputs', () => {
  it('drops execution counts, metadata and transient', () => {
    expect(
      normalizeOutputs([
        {
          output_type: 'execute_result',
          execution_count: 5,
          data: { 'text/plain': '1' },
          metadata: { a: 1 }
        },
        {
          output_type: 'display_data',
          data: { 'text/plain': '2' },
          metadata: {},
          transient: { display_id: 'x' }
        }
      ])
    ).toEqual([
      { output_type: 'execute_result', data: { 'text/plain': '1' } },
      { output_type: 'display_data', data: { 'text/plain': '2' } }
    ]);
  });

  it('merges consecutive streams of one name, and only those', () => {
    const outputs: NbOutput[] = [
      stream('a'),
      stream(['b', 'c\n']),
      stream('e1\n', 'stderr'),
      stream('d\n'),
      { output_type: 'display_data', data: {} },
      stream('f\n')
    ];
    expect(normalizeOutputs(outputs)).toEqual([
      { output_type: 'stream', name: 'stdout', text: 'abc\n' },
      { output_type: 'stream', name: 'stderr', text: 'e1\n' },
      { output_type: 'stream', name: 'stdout', text: 'd\n' },
      { output_type: 'display_data', data: {} },
      { output_type: 'stream', name: 'stdout', text: 'f\n' }
    ]);
  });

  it('keeps streams apart when mergeStreams is off', () => {
    expect(normalizeOutputs([stream('a'), stream('b')], { mergeStreams: false })).toHaveLength(2);
  });

  it('drops empty streams, so the streams around one still merge', () => {
    expect(normalizeOutputs([stream('a'), stream([]), stream(''), stream('b\n')])).toEqual([
      { output_type: 'stream', name: 'stdout', text: 'ab\n' }
    ]);
  });

  it('drops a stream that normalization leaves empty', () => {
    expect(normalizeOutputs([stream('\u001b[?25l'), { output_type: 'display_data', data: {} }])).toEqual([
      { output_type: 'display_data', data: {} }
    ]);
  });

  it('merges before the text passes: an escape sequence or a timestamp split across chunks is still removed', () => {
    const split = [stream('\u001b[3'), stream('1mred\u001b[0m at 2024-05'), stream('-01 10:00\n')];
    expect(normalizeOutputs(split)).toEqual([
      { output_type: 'stream', name: 'stdout', text: 'red at <TIMESTAMP>\n' }
    ]);
  });

  it('applies carriage returns only to streams, CRLF to every text', () => {
    const [s, r] = normalizeOutputs([
      stream('50%\r100%\r\n'),
      { output_type: 'execute_result', data: { 'text/plain': 'a\rb\r\n' } }
    ]);
    expect(s).toEqual({ output_type: 'stream', name: 'stdout', text: '100%\n' });
    expect(r).toEqual({ output_type: 'execute_result', data: { 'text/plain': 'a\rb\n' } });
  });

  it('keeps only ename and a normalized evalue of an error', () => {
    expect(
      normalizeOutputs([
        {
          output_type: 'error',
          ename: 'AttributeError',
          evalue: "'A' object at 0x7f3a9c2e10d0 has no attribute 'x'  ",
          traceback: ['\u001b[0;31m---> 1\u001b[0m /home/user/x.py']
        }
      ])
    ).toEqual([
      {
        output_type: 'error',
        ename: 'AttributeError',
        evalue: "'A' object at <ADDRESS> has no attribute 'x'"
      }
    ]);
  });

  it('keeps image bytes exactly, removing only base64 line breaks', () => {
    const [out] = normalizeOutputs([
      { output_type: 'display_data', data: { 'image/png': 'iVBO\nRw0K\n', 'image/jpeg': ['/9j/', '4AAQ'] } }
    ]);
    expect(out).toEqual({
      output_type: 'display_data',
      data: { 'image/png': 'iVBORw0K', 'image/jpeg': '/9j/4AAQ' }
    });
  });

  it('joins SVG but applies no text pass to it', () => {
    const svg = ['<svg>  \n', '<!-- 2024-05-01 0x7f3a9c2e10d0 -->\r\n', '</svg>'];
    const [out] = normalizeOutputs([{ output_type: 'display_data', data: { 'image/svg+xml': svg } }]);
    expect(out).toEqual({ output_type: 'display_data', data: { 'image/svg+xml': svg.join('') } });
  });

  it('keeps JSON values as they are, strings inside included', () => {
    const json = { when: '2024-05-01', at: '0x7f3a9c2e10d0', list: ['a ', 'b'] };
    const [out] = normalizeOutputs([{ output_type: 'display_data', data: { 'application/json': json } }]);
    expect(out).toEqual({ output_type: 'display_data', data: { 'application/json': json } });
  });

  it('reduces a widget view to its presence', () => {
    const view = { model_id: 'f0e1d2', version_major: 2, version_minor: 0 };
    const [out] = normalizeOutputs([
      { output_type: 'display_data', data: { 'application/vnd.jupyter.widget-view+json': view } }
    ]);
    expect(out).toEqual({
      output_type: 'display_data',
      data: { 'application/vnd.jupyter.widget-view+json': {} }
    });
  });

  it('normalizes text/html and text/markdown like text/plain', () => {
    const [out] = normalizeOutputs([
      {
        output_type: 'display_data',
        data: { 'text/html': ['<p>', 'x  \n</p>'], 'text/markdown': '**2024-05-01**' }
      }
    ]);
    expect(out).toEqual({
      output_type: 'display_data',
      data: { 'text/html': '<p>x\n</p>', 'text/markdown': '**<TIMESTAMP>**' }
    });
  });

  it.each([
    ['a non-list', 'nope'],
    ['null', [null]],
    ['an unknown output_type', [{ output_type: 'clear_output' }]],
    ['a stream without name', [{ output_type: 'stream', text: 'x' }]],
    ['a stream whose text is a number', [{ output_type: 'stream', name: 'stdout', text: 5 }]],
    ['a list holding a number', [{ output_type: 'stream', name: 'stdout', text: ['a', 1] }]],
    ['display_data without data', [{ output_type: 'display_data' }]],
    ['a text MIME value that is an object', [{ output_type: 'display_data', data: { 'text/plain': {} } }]],
    ['an error without evalue', [{ output_type: 'error', ename: 'E' }]]
  ])('rejects %s with OUTPUT_MALFORMED', (_, outputs) => {
    expect(errorCode(() => normalizeOutputs(outputs as unknown as NbOutput[]))).toBe('OUTPUT_MALFORMED');
  });
});

describe('plainOutputs', () => {
  it('drops only counts, metadata and transient: no merging, no masks, traceback and model id kept', () => {
    const outputs: NbOutput[] = [
      stream(['a', 'b']),
      stream('0x7f3a9c2e10d0 \n'),
      { output_type: 'error', ename: 'E', evalue: 'v', traceback: ['t1', 't2'] },
      {
        output_type: 'display_data',
        data: { 'application/vnd.jupyter.widget-view+json': { model_id: 'm1' } },
        transient: { display_id: 'd' }
      }
    ];
    expect(plainOutputs(outputs)).toEqual([
      { output_type: 'stream', name: 'stdout', text: 'ab' },
      { output_type: 'stream', name: 'stdout', text: '0x7f3a9c2e10d0 \n' },
      { output_type: 'error', ename: 'E', evalue: 'v', traceback: ['t1', 't2'] },
      {
        output_type: 'display_data',
        data: { 'application/vnd.jupyter.widget-view+json': { model_id: 'm1' } }
      }
    ]);
  });
});

describe('outputHash', () => {
  const outputs: NbOutput[] = [stream('x = 0x7f3a9c2e10d0\n')];

  it('is the same for two runs that differ only in what normalization removes', () => {
    const other: NbOutput[] = [stream('x = '), stream('0x55d0c0ffee00  \r\n')];
    expect(outputHash(other, SALT)).toBe(outputHash(outputs, SALT));
  });

  it('changes with the salt, so equal outputs of two runs do not give equal hashes', () => {
    expect(outputHash(outputs, '0x' + '00'.repeat(32))).not.toBe(outputHash(outputs, SALT));
  });

  it('changes with the outputs', () => {
    expect(outputHash([stream('x = 1\n')], SALT)).not.toBe(outputHash([stream('x = 2\n')], SALT));
  });

  it('reads the salt as bytes: upper- and lowercase hex agree', () => {
    expect(outputHash(outputs, SALT.toUpperCase().replace('0X', '0x'))).toBe(outputHash(outputs, SALT));
  });

  it.each([['0x1234'], ['0x' + 'g'.repeat(64)], [SALT.slice(2)], [undefined]])(
    'rejects salt %s with OUTPUT_INVALID_SALT',
    salt => {
      expect(errorCode(() => outputHash(outputs, salt as string))).toBe('OUTPUT_INVALID_SALT');
    }
  );
});

describe('mimeKind', () => {
  it.each([
    ['text/plain', 'text'],
    ['text/html', 'text'],
    ['application/javascript', 'text'],
    ['image/svg+xml', 'exact'],
    ['image/png', 'binary'],
    ['image/jpeg', 'binary'],
    ['application/json', 'json'],
    ['application/vnd.plotly.v1+json', 'json'],
    ['application/vnd.jupyter.widget-view+json', 'widget'],
    ['application/pdf', 'exact']
  ])('%s is %s', (mime, kind) => {
    expect(mimeKind(mime)).toBe(kind);
  });
});
