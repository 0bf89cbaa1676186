/**
 * Cross-origin access to the agent: a JupyterLab page (e.g. http://127.0.0.1:8888) calls the agent on another
 * origin, so the browser asks first (CORS preflight) and only lets the page read answers that name its origin.
 * Origins are allowed by configuration only (`ain provider start --allow-origin`); none by default, so a page the
 * provider never heard of cannot drive a client's runs even with a leaked token in hand.
 *
 * Kept as a pure decision (headers in, headers out) so that the HTTP server applies it in one pass and the rules
 * are tested without sockets.
 */

/** What the CORS pass decided for one request. */
export interface ICorsDecision {
  /** Headers to add to the answer (empty for same-origin or refused requests). */
  headers: Record<string, string>;
  /** The request is a preflight: answer `status` with `headers` and nothing else. */
  preflight: boolean;
  /** Status of a preflight answer (204 allowed, 403 refused). */
  status: number;
}

/** Methods a page may use: the agent's API and the Jupyter REST API it proxies. */
const METHODS = 'GET, POST, PUT, PATCH, DELETE';

/** Normalizes an origin list from the command line: trailing slashes dropped, `*` kept. */
export function parseAllowedOrigins(values: readonly string[]): string[] {
  return values
    .flatMap(v => v.split(','))
    .map(v => v.trim().replace(/\/+$/, ''))
    .filter(v => v.length > 0);
}

/** Whether `origin` may call the agent. */
export function originAllowed(origin: string, allowed: readonly string[]): boolean {
  return allowed.includes('*') || allowed.includes(origin.replace(/\/+$/, ''));
}

/**
 * The CORS decision for a request with `method` and `headers` (lower-case names, as node gives them). Requests
 * without an Origin header (same origin, curl, the CLI) pass untouched.
 */
export function corsDecision(
  method: string,
  headers: Record<string, string | string[] | undefined>,
  allowed: readonly string[]
): ICorsDecision {
  const origin = typeof headers.origin === 'string' ? headers.origin : undefined;
  const requested = headers['access-control-request-method'];
  const preflight = method === 'OPTIONS' && typeof requested === 'string';
  if (origin === undefined || !originAllowed(origin, allowed)) {
    return { headers: {}, preflight, status: 403 };
  }
  const out: Record<string, string> = {
    'access-control-allow-origin': origin,
    vary: 'Origin'
  };
  if (!preflight) {
    return { headers: out, preflight, status: 0 };
  }
  const askedHeaders = headers['access-control-request-headers'];
  out['access-control-allow-methods'] = METHODS;
  if (typeof askedHeaders === 'string' && askedHeaders.length > 0) {
    // The page's own headers (Authorization, Content-Type, Last-Event-ID, X-XSRFToken): it holds the token anyway.
    out['access-control-allow-headers'] = askedHeaders;
  }
  out['access-control-max-age'] = '600';
  return { headers: out, preflight, status: 204 };
}

/**
 * Whether a WebSocket upgrade may go on: browsers send Origin on every WebSocket and do not apply CORS to it, so
 * the agent checks it itself (as Jupyter Server does). Clients without an Origin (Node, the CLI) pass.
 */
export function upgradeOriginAllowed(
  headers: Record<string, string | string[] | undefined>,
  allowed: readonly string[]
): boolean {
  const origin = headers.origin;
  return typeof origin !== 'string' || originAllowed(origin, allowed);
}
