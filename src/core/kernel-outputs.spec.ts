import { appendStreamText, IKernelMessageLike, OutputCollector } from './kernel-outputs.js';
import { applyTerminalControl } from './outputs-text.js';

const msg = (msg_type: string, content: Record<string, unknown>): IKernelMessageLike => ({
  header: { msg_type },
  parent_header: { msg_id: 'request' },
  content
});
const stream = (text: string, name = 'stdout') => msg('stream', { name, text });
const collect = (...messages: IKernelMessageLike[]) => {
  const c = new OutputCollector();
  messages.forEach(m => c.iopub(m));
  return c.outputs;
};

describe('OutputCollector', () => {
  it('merges consecutive streams of one name, and only those', () => {
    expect(collect(stream('a\n'), stream('b\n'), stream('oops\n', 'stderr'), stream('c\n'))).toEqual([
      { output_type: 'stream', name: 'stdout', text: 'a\nb\n' },
      { output_type: 'stream', name: 'stderr', text: 'oops\n' },
      { output_type: 'stream', name: 'stdout', text: 'c\n' }
    ]);
  });

  it('applies carriage returns and backspaces across messages, as a progress bar prints them', () => {
    expect(collect(stream('10%\r'), stream('20%\r'), stream('done\n'))[0]).toMatchObject({ text: 'done\n' });
    // The cursor carries over: "Y" overwrites the character after "X", the rest of the line stays.
    expect(collect(stream('abc\rX'), stream('Y'))[0]).toMatchObject({ text: 'XYc' });
    expect(collect(stream('abc\b'), stream('d'))[0]).toMatchObject({ text: 'abd' });
    // A backspace never eats a line feed.
    expect(collect(stream('a\n\b\bb'))[0]).toMatchObject({ text: 'a\nb' });
  });

  it('gives the text applyTerminalControl gives for the whole stream, however it is split', () => {
    // A small deterministic generator: 2,000 streams of a, b, \n, \r, \b cut at random points.
    let seed = 42;
    const next = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    for (let round = 0; round < 2000; round++) {
      const text = Array.from({ length: 1 + next(24) }, () => 'ab\n\r\b'[next(5)]).join('');
      let acc = { text: '', cursor: 0 };
      for (let from = 0; from < text.length; ) {
        const to = from + 1 + next(6);
        acc = appendStreamText(acc.text, acc.cursor, text.slice(from, to));
        from = to;
      }
      expect(JSON.stringify(acc.text)).toBe(JSON.stringify(applyTerminalControl(text)));
    }
  });

  it('clears at once, or on the next output with wait=true (not on a display update)', () => {
    expect(collect(stream('a\n'), msg('clear_output', { wait: false }), stream('b\n'))).toEqual([
      { output_type: 'stream', name: 'stdout', text: 'b\n' }
    ]);
    const c = new OutputCollector();
    c.iopub(stream('frame 1\n'));
    c.iopub(msg('clear_output', { wait: true }));
    expect(c.outputs).toHaveLength(1);
    c.iopub(stream('frame 2\n'));
    expect(c.outputs).toEqual([{ output_type: 'stream', name: 'stdout', text: 'frame 2\n' }]);
  });

  it('replaces a display by its display_id, and drops transient as JupyterLab does on save', () => {
    const shown = msg('display_data', {
      data: { 'text/plain': 'step 1' },
      metadata: {},
      transient: { display_id: 'progress' }
    });
    const outputs = collect(
      shown,
      stream('working\n'),
      msg('update_display_data', {
        data: { 'text/plain': 'step 2' },
        metadata: { x: 1 },
        transient: { display_id: 'progress' }
      }),
      msg('update_display_data', {
        data: { 'text/plain': 'nobody' },
        metadata: {},
        transient: { display_id: 'other' }
      })
    );
    expect(outputs).toEqual([
      { output_type: 'display_data', data: { 'text/plain': 'step 2' }, metadata: { x: 1 } },
      { output_type: 'stream', name: 'stdout', text: 'working\n' }
    ]);
  });

  it('keeps execute_result with its count, errors with their traceback, and ignores status messages', () => {
    const c = new OutputCollector();
    expect(c.iopub(msg('status', { execution_state: 'busy' }))).toBe(false);
    expect(c.iopub(msg('execute_input', { code: '1/0' }))).toBe(false);
    c.iopub(msg('execute_result', { execution_count: 3, data: { 'text/plain': '2' }, metadata: {} }));
    c.iopub(msg('error', { ename: 'ZeroDivisionError', evalue: 'division by zero', traceback: ['tb'] }));
    expect(c.outputs).toEqual([
      { output_type: 'execute_result', execution_count: 3, data: { 'text/plain': '2' }, metadata: {} },
      { output_type: 'error', ename: 'ZeroDivisionError', evalue: 'division by zero', traceback: ['tb'] }
    ]);
  });

  it("shows an execute_reply's pager payload (IPython's obj?) as a display, as JupyterLab does", () => {
    const c = new OutputCollector();
    c.executeReply({
      status: 'ok',
      payload: [{ source: 'page', data: { 'text/plain': 'Docstring' }, start: 0 }]
    });
    c.executeReply({ status: 'error', payload: [{ source: 'page', data: { 'text/plain': 'no' } }] });
    expect(c.outputs).toEqual([
      { output_type: 'display_data', data: { 'text/plain': 'Docstring' }, metadata: {} }
    ]);
  });

  it('hands out copies: later messages do not change outputs already read', () => {
    const c = new OutputCollector();
    c.iopub(stream('a'));
    const before = c.outputs;
    c.iopub(stream('b'));
    expect(before[0]).toMatchObject({ text: 'a' });
    expect(c.outputs[0]).toMatchObject({ text: 'ab' });
  });
});
