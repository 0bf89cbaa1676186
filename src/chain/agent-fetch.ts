/**
 * One request to a provider agent outside a logged-in AgentClient (public reads, publishing with a token): an
 * unreachable agent is PROVIDER_UNREACHABLE, an answer other than 2xx PROVIDER_REFUSED with the agent's own error
 * message and the HTTP status in `info.status`.
 */
import { makeError } from '../core/errors.js';

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
    throw makeError(
      'PROVIDER_UNREACHABLE',
      `The provider at ${endpoint} does not answer (${(e as Error).message}) while ${step}. Check that it is ` +
        'running and reachable from here.',
      { step, endpoint }
    );
  }
  if (!res.ok) {
    let detail = `HTTP ${res.status}`;
    try {
      const body = (await res.json()) as { error?: { code?: string; message?: string } };
      detail = body.error?.message ? `${body.error.code}: ${body.error.message}` : detail;
    } catch {
      // not JSON: the status says enough
    }
    throw makeError('PROVIDER_REFUSED', `The provider at ${endpoint} refused ${step}: ${detail}`, {
      step,
      endpoint,
      status: res.status
    });
  }
  return res;
}
