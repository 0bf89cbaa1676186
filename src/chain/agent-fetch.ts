/**
 * Requests to a provider agent and what their failures say, shared by the logged-in AgentClient and the public
 * reads (published bundles and runs): an agent that does not answer is PROVIDER_UNREACHABLE, an answer other than
 * 2xx PROVIDER_REFUSED with the agent's own error message and the HTTP status in `info.status`.
 */
import { AinError, makeError } from '../core/errors.js';

/** PROVIDER_UNREACHABLE for a request that got no answer while `step`. */
export function unreachable(endpoint: string, e: unknown, step: string): AinError {
  return makeError(
    'PROVIDER_UNREACHABLE',
    `The provider at ${endpoint} does not answer (${(e as Error).message}) while ${step}. ` +
      'Check that it is running (and, from a page, that it allows the page’s origin), or pick another provider.',
    { step, endpoint }
  );
}

/** PROVIDER_REFUSED for a non-2xx answer, with the agent's error code and message when it sent them. */
export async function refusal(res: Response, step: string, endpoint: string): Promise<AinError> {
  let detail = `HTTP ${res.status}`;
  try {
    const body = (await res.json()) as { error?: { code?: string; message?: string } };
    if (body.error?.message) {
      detail = `${body.error.code}: ${body.error.message}`;
    }
  } catch {
    // not JSON: the status says enough
  }
  return makeError('PROVIDER_REFUSED', `The provider at ${endpoint} refused ${step}: ${detail}`, {
    step,
    endpoint,
    status: res.status
  });
}

/** fetch(url, init), throwing unreachable() or refusal() instead of answering anything but 2xx. */
export async function agentFetch(
  url: string,
  step: string,
  endpoint: string,
  init: RequestInit
): Promise<Response> {
  let res: Response;
  try {
    res = await globalThis.fetch(url, init);
  } catch (e) {
    throw unreachable(endpoint, e, step);
  }
  if (!res.ok) {
    throw await refusal(res, step, endpoint);
  }
  return res;
}
