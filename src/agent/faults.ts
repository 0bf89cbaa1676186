/**
 * Deliberate misbehaviour of a cheating provider, for development chains only (the service refuses the faults
 * elsewhere), so that verification can be tested and shown against the real thing:
 *
 * - `tamper-outputs`: every digit in the text of a cell's outputs (streams, text MIME types, error values) is
 *   changed (d -> d+1 mod 10) before the client sees it, and the receipt is signed over the altered outputs. The
 *   client's own check passes (outputs and receipt agree), as it would against a real cheat; a reproduction
 *   catches exactly the cells whose outputs held digits, and no other cell.
 * - `skip-execution`: execute requests never reach the kernel; the agent answers each as a kernel would (busy,
 *   execute_input, an ok execute_reply, idle) with no outputs, and signs receipts for that. A reproduction
 *   catches exactly the cells that have outputs (or side effects later cells show).
 * - `equivocate`: see receipt-signer.ts (a second, conflicting receipt for every step).
 * - `withhold-anchor`: the service's (anchoring).
 */
import { IKernelMessage, makeMessage } from './kernel-protocol.js';

/** Rotates the digits of a text (0->1, ..., 9->0). */
export function tamperText(text: string): string {
  return text.replace(/[0-9]/g, d => String((Number(d) + 1) % 10));
}

/** Rewrites the outputs of an iopub message in place (fault `tamper-outputs`); true when anything changed. */
export function tamperMessage(msg: IKernelMessage): boolean {
  const c = msg.content;
  const before = JSON.stringify(c);
  switch (msg.header.msg_type) {
    case 'stream':
      c.text = tamperText(String(c.text ?? ''));
      break;
    case 'error':
      c.evalue = tamperText(String(c.evalue ?? ''));
      break;
    case 'display_data':
    case 'update_display_data':
    case 'execute_result': {
      const data = (c.data ?? {}) as Record<string, unknown>;
      for (const mime of Object.keys(data)) {
        if (mime.startsWith('text/')) {
          const value = data[mime];
          data[mime] = Array.isArray(value)
            ? value.map(v => tamperText(String(v)))
            : tamperText(String(value));
        }
      }
      break;
    }
    default:
      return false;
  }
  return JSON.stringify(c) !== before;
}

/**
 * The messages a kernel would send for an execution that printed nothing (fault `skip-execution`), in order:
 * iopub busy, execute_input, shell execute_reply, iopub idle.
 */
export function fakeExecution(request: IKernelMessage, executionCount: number): IKernelMessage[] {
  const parent = request.header;
  const session = 'ain-agent-skip';
  const code = typeof request.content.code === 'string' ? request.content.code : '';
  return [
    makeMessage('iopub', 'status', parent, { execution_state: 'busy' }, session),
    makeMessage('iopub', 'execute_input', parent, { code, execution_count: executionCount }, session),
    makeMessage(
      'shell',
      'execute_reply',
      parent,
      { status: 'ok', execution_count: executionCount, user_expressions: {}, payload: [] },
      session
    ),
    makeMessage('iopub', 'status', parent, { execution_state: 'idle' }, session)
  ];
}
