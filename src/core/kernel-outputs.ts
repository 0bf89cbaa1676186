/**
 * Kernel messages -> nbformat 4 outputs, the way JupyterLab's output area builds the outputs it saves
 * (`@jupyterlab/outputarea` 4.6: OutputArea._onIOPub and OutputAreaModel.add), so that a cell re-executed by a
 * verifier yields the outputs a notebook would hold had the cell run in JupyterLab:
 * - `stream`: consecutive streams of one name are merged into one output; carriage returns and backspaces are
 *   applied as they arrive (the cursor carries over from one message to the next), as JupyterLab does;
 * - `clear_output`: clears at once, or with `wait: true` just before the next output arrives;
 * - `display_data` with a `transient.display_id` can be replaced later by `update_display_data` for that id;
 * - `execute_result`, `display_data`, `error`: the message content with its `output_type`; `transient` dropped;
 * - a pager payload of an `execute_reply` (IPython's `obj?`) becomes a display_data output.
 * Only the messages of one execution must be given (the caller filters by parent_header).
 */
import type { NbOutput } from './outputs-normalize.js';

/** The parts of a Jupyter message this reads: @jupyterlab/services' IMessage and the agent's messages fit. */
export interface IKernelMessageLike {
  header: { msg_type: string };
  parent_header?: unknown;
  content: unknown;
}

/** Collects one execution's outputs from its iopub messages. */
export class OutputCollector {
  private readonly list: NbOutput[] = [];
  private clearNext = false;
  /** Name of the stream the last output is (merging continues it), or '' when the last output is no stream. */
  private lastStream = '';
  /** The write position inside the last stream's text (a `\r` moves it back to the line start). */
  private cursor = 0;
  /** Display id -> indexes of the outputs that showed it. */
  private readonly displays = new Map<string, number[]>();

  /** The outputs so far, as a notebook would save them (copies: later messages do not change them). */
  get outputs(): NbOutput[] {
    return this.list.map(o => JSON.parse(JSON.stringify(o)) as NbOutput);
  }

  /**
   * Takes one iopub message. Returns true when it was an output message (stream, display_data, execute_result,
   * error, update_display_data, clear_output); status and other messages are ignored.
   */
  iopub(msg: IKernelMessageLike): boolean {
    const type = msg.header.msg_type;
    const content = (msg.content ?? {}) as Record<string, unknown>;
    switch (type) {
      case 'stream':
        this.addStream(String(content.name ?? 'stdout'), Private.joined(content.text));
        return true;
      case 'display_data':
      case 'execute_result':
      case 'error': {
        const output = Private.toOutput(type, content);
        this.add(output);
        const id = Private.displayId(content);
        if (id !== undefined && type === 'display_data') {
          this.displays.set(id, [...(this.displays.get(id) ?? []), this.list.length - 1]);
        }
        return true;
      }
      case 'update_display_data': {
        const id = Private.displayId(content);
        for (const index of (id !== undefined && this.displays.get(id)) || []) {
          if (index < this.list.length) {
            this.list[index] = Private.toOutput('display_data', content);
          }
        }
        return true;
      }
      case 'clear_output':
        this.clear(content.wait === true);
        return true;
      default:
        return false;
    }
  }

  /** Takes the execute_reply's content: a pager payload (IPython's `obj?`) is shown as a display_data output. */
  executeReply(content: unknown): void {
    const c = (content ?? {}) as { status?: unknown; payload?: unknown };
    if (c.status !== 'ok' || !Array.isArray(c.payload)) {
      return;
    }
    const page = c.payload.find(
      (p): p is { data?: unknown } => typeof p === 'object' && p !== null && p.source === 'page'
    );
    if (page) {
      const data = JSON.parse(JSON.stringify(page.data ?? {})) as Record<string, unknown>;
      this.add({ output_type: 'display_data', data, metadata: {} });
    }
  }

  /** Clears the outputs now, or (`wait`) when the next output arrives. */
  clear(wait = false): void {
    this.lastStream = '';
    if (wait) {
      this.clearNext = true;
      return;
    }
    this.list.length = 0;
    this.displays.clear();
  }

  private add(output: NbOutput): void {
    if (this.clearNext) {
      this.clearNext = false;
      this.clear();
    }
    this.list.push(output);
    this.lastStream = '';
  }

  private addStream(name: string, chunk: string): void {
    const last = this.list[this.list.length - 1];
    if (!this.clearNext && this.lastStream === name && last?.output_type === 'stream') {
      const next = appendStreamText(last.text as string, this.cursor, chunk);
      this.list[this.list.length - 1] = { ...last, text: next.text };
      this.cursor = next.cursor;
      return;
    }
    const first = appendStreamText('', 0, chunk);
    this.add({ output_type: 'stream', name, text: first.text });
    this.lastStream = name;
    this.cursor = first.cursor;
  }
}

/**
 * Writes `chunk` into a stream's `text` at `cursor` like a terminal: characters overwrite from the cursor on,
 * `\r` returns the cursor to the start of its line, `\b` deletes the character before the cursor and the one
 * under it (never a line feed), `\n` appends a line feed at the end of the text and puts the cursor after it.
 * These are JupyterLab 4.6's rules (outputs-text.ts applyTerminalControl applies the same to a whole text).
 */
export function appendStreamText(
  text: string,
  cursor: number,
  chunk: string
): { text: string; cursor: number } {
  let from = 0;
  for (let i = 0; i <= chunk.length; i++) {
    const c = i < chunk.length ? chunk[i] : '';
    if (c !== '\n' && c !== '\r' && c !== '\b' && c !== '') {
      continue;
    }
    const run = chunk.slice(from, i);
    text = text.slice(0, cursor) + run + text.slice(cursor + run.length);
    cursor += run.length;
    from = i + 1;
    if (c === '\n') {
      text += '\n';
      cursor = text.length;
    } else if (c === '\r') {
      cursor = cursor === 0 ? 0 : text.lastIndexOf('\n', cursor - 1) + 1;
    } else if (c === '\b' && cursor > 0 && text[cursor - 1] !== '\n') {
      text = text.slice(0, cursor - 1) + text.slice(cursor + 1);
      cursor--;
    }
  }
  return { text, cursor };
}

namespace Private {
  export function joined(text: unknown): string {
    return Array.isArray(text) ? text.map(String).join('') : String(text ?? '');
  }

  export function displayId(content: Record<string, unknown>): string | undefined {
    const transient = content.transient as { display_id?: unknown } | undefined;
    return typeof transient?.display_id === 'string' ? transient.display_id : undefined;
  }

  /** The message content as an nbformat output: its fields, `transient` left out (JupyterLab drops it on save). */
  export function toOutput(
    type: 'display_data' | 'execute_result' | 'error',
    c: Record<string, unknown>
  ): NbOutput {
    const copy = (v: unknown) => JSON.parse(JSON.stringify(v ?? {})) as Record<string, unknown>;
    if (type === 'error') {
      return {
        output_type: 'error',
        ename: String(c.ename ?? ''),
        evalue: String(c.evalue ?? ''),
        traceback: Array.isArray(c.traceback) ? c.traceback.map(String) : []
      };
    }
    if (type === 'execute_result') {
      return {
        output_type: 'execute_result',
        execution_count: typeof c.execution_count === 'number' ? c.execution_count : null,
        data: copy(c.data),
        metadata: copy(c.metadata)
      };
    }
    return { output_type: 'display_data', data: copy(c.data), metadata: copy(c.metadata) };
  }
}
