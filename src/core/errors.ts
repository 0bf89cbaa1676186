/**
 * Typed errors: every failure carries a stable code (what failed) and a message that says what to do.
 *
 * Callers branch on `isAinError(e, 'BUNDLE_PATH_TRAVERSAL')`, never on message text, so messages can improve
 * without breaking anyone.
 */

/** Every error code the core can raise, grouped by the part that raises it. */
export type AinErrorCode =
  // canonical JSON
  | 'CANONICAL_JSON_INVALID'
  // notebooks
  | 'NOTEBOOK_INVALID_JSON'
  | 'NOTEBOOK_UNSUPPORTED_FORMAT'
  | 'NOTEBOOK_MALFORMED'
  // environments
  | 'ENV_CONFLICTING_BINDER_FOLDERS'
  | 'ENV_INVALID_FILE'
  // bundles
  | 'BUNDLE_NOT_A_ZIP'
  | 'BUNDLE_MALFORMED_ZIP'
  | 'BUNDLE_UNSUPPORTED_ZIP'
  | 'BUNDLE_TOO_LARGE'
  | 'BUNDLE_TOO_MANY_FILES'
  | 'BUNDLE_FILE_TOO_LARGE'
  | 'BUNDLE_COMPRESSION_RATIO'
  | 'BUNDLE_ABSOLUTE_PATH'
  | 'BUNDLE_PATH_TRAVERSAL'
  | 'BUNDLE_INVALID_PATH'
  | 'BUNDLE_LINK'
  | 'BUNDLE_DUPLICATE_NAME'
  | 'BUNDLE_MANIFEST_MISSING'
  | 'BUNDLE_MANIFEST_INVALID'
  | 'BUNDLE_FILE_NOT_IN_MANIFEST'
  | 'BUNDLE_FILE_MISSING'
  | 'BUNDLE_HASH_MISMATCH'
  | 'BUNDLE_SIZE_MISMATCH'
  // outputs
  | 'OUTPUT_INVALID_TOLERANCE'
  | 'OUTPUT_MALFORMED'
  | 'OUTPUT_INVALID_SALT'
  // receipts and proofs
  | 'RECEIPT_INVALID_FIELD'
  | 'RECEIPT_BAD_SIGNATURE'
  | 'RECEIPT_CHAIN_BROKEN'
  | 'MERKLE_INVALID'
  // sampling
  | 'SAMPLING_INVALID_ARGUMENT'
  // verification (src/core/verify-*.ts, src/chain/verify-chain.ts)
  | 'VERIFY_OBJECTIVE_INVALID'
  | 'VERIFY_INPUT_INVALID'
  | 'VERIFY_SECRET_NOT_REVEALED'
  | 'VERIFY_CANNOT_ATTEST'
  // launch links (src/core/launch-link.ts)
  | 'LAUNCH_LINK_INVALID'
  // chain (src/chain)
  | 'CHAIN_CONFIG_INVALID'
  | 'CHAIN_ID_MISMATCH'
  | 'CHAIN_UNREACHABLE'
  | 'CHAIN_REVERTED'
  | 'CHAIN_TX_TIMEOUT'
  | 'CHAIN_WALLET_REFUSED'
  | 'CHAIN_DEPLOYMENT_MISSING'
  // provider agent, service half (src/agent)
  | 'AGENT_CONFIG_INVALID'
  | 'AGENT_FAULT_REFUSED'
  | 'AGENT_OPENAPI_INVALID'
  | 'AGENT_REQUEST_INVALID'
  | 'AGENT_UNAUTHORIZED'
  | 'AGENT_FORBIDDEN'
  | 'AGENT_NOT_FOUND'
  | 'AGENT_LOGIN_INVALID'
  | 'AGENT_BODY_TOO_LARGE'
  | 'AGENT_RUN_NOT_ON_CHAIN'
  | 'AGENT_RUN_WRONG_PROVIDER'
  | 'AGENT_RUN_WRONG_CLIENT'
  | 'AGENT_RUN_NOT_OPEN'
  | 'AGENT_RUN_ENDED'
  | 'AGENT_BUNDLE_HASH_MISMATCH'
  | 'AGENT_ESCROW_TOO_LOW'
  | 'AGENT_NOT_ANCHORED'
  | 'AGENT_RUNTIME_UNAVAILABLE'
  // provider agent, kernel half (src/agent)
  | 'AGENT_ENV_REFUSED'
  | 'AGENT_ENV_BUILD_FAILED'
  | 'AGENT_KERNEL_START_FAILED'
  | 'AGENT_GATEWAY_UNREACHABLE'
  | 'AGENT_RECEIPT_OUT_OF_ORDER'
  // a provider agent as its clients see it (src/chain/agent-client.ts)
  | 'PROVIDER_UNREACHABLE'
  | 'PROVIDER_REFUSED';

/** An error with a code that says which rule failed and a message that says what to do about it. */
export class AinError extends Error {
  readonly code: AinErrorCode;
  readonly info: Readonly<Record<string, unknown>>;

  constructor(code: AinErrorCode, message: string, info: Record<string, unknown> = {}) {
    super(message);
    this.name = 'AinError';
    this.code = code;
    this.info = info;
  }
}

/** Builds an AinError; `info` holds machine-readable details (a path, a size, a limit). */
export function makeError(code: AinErrorCode, message: string, info: Record<string, unknown> = {}): AinError {
  return new AinError(code, message, info);
}

/** Throws an AinError unless `condition` holds. */
export function assert(
  condition: unknown,
  code: AinErrorCode,
  message: string,
  info: Record<string, unknown> = {}
): asserts condition {
  if (!condition) {
    throw makeError(code, message, info);
  }
}

/** True when `e` is an AinError, and when `code` is given, one with that code. */
export function isAinError(e: unknown, code?: AinErrorCode): e is AinError {
  return e instanceof AinError && (code === undefined || e.code === code);
}
