/**
 * Login and tokens. A client proves it holds its wallet by signing an EIP-4361 ("Sign-In with Ethereum") message
 * that names this agent: its domain, the chain id, the agent's address as the audience (`uri` =
 * `eip155:<chainId>:<agentAddress>`, a CAIP-10 account id), a nonce the agent issued, and an expiry. The agent
 * answers an opaque random token: only its SHA-256 is stored (a leaked database grants nothing), with the client's
 * address, scope and a short expiry; a valid token can be exchanged for a fresh one (refresh), which revokes it.
 *
 * Each nonce is good for one login and a few minutes, so a captured login message cannot be replayed. Every
 * refusal is the same AGENT_LOGIN_INVALID / AGENT_UNAUTHORIZED to the caller; the reason only goes to the log.
 */
import { randomBytes } from 'node:crypto';
import { getAddress } from 'ethers';
import { SiweMessage } from 'siwe';
import { makeError } from '../core/errors.js';
import { sha256 } from '../core/hash.js';
import type { AgentDatabase } from './database.js';
import type { ILogger } from './metrics.js';

/** Options of the authenticator. */
export interface IAuthOptions {
  /** The agent's public host (and port), the EIP-4361 `domain` clients must sign. */
  domain: string;
  chainId: number;
  /** The agent's (provider's) address: the audience of login messages. */
  agentAddress: string;
  /** Lifetime of a token, seconds (default 900). */
  tokenTtlSeconds?: number;
  /** Lifetime of a nonce and the longest expiry a login message may carry, seconds (default 300). */
  loginTtlSeconds?: number;
  logger?: ILogger;
}

/** What POST /auth/nonce answers: everything a client needs to build the message to sign. */
export interface ILoginChallenge {
  nonce: string;
  domain: string;
  uri: string;
  chainId: number;
  version: '1';
  statement: string;
  /** The latest expiry the agent accepts (ISO 8601). */
  expirationTime: string;
}

/** An issued token. */
export interface IToken {
  token: string;
  address: string;
  /** ISO 8601. */
  expiresAt: string;
}

/** Issues nonces and tokens and checks them, over the agent database. */
export class Authenticator {
  readonly uri: string;
  /** The EIP-4361 domain; settable because an agent on port 0 learns its address only once it listens. */
  domain: string;
  private readonly db: AgentDatabase;
  private readonly options: Required<Omit<IAuthOptions, 'logger'>> & { logger?: ILogger };

  constructor(db: AgentDatabase, options: IAuthOptions) {
    this.db = db;
    this.options = { tokenTtlSeconds: 900, loginTtlSeconds: 300, ...options };
    this.domain = options.domain;
    this.uri = `eip155:${options.chainId}:${getAddress(options.agentAddress)}`;
    db.exec(`
      CREATE TABLE IF NOT EXISTS auth_nonces (
        nonce TEXT PRIMARY KEY,
        expires_at INTEGER NOT NULL,
        used_at INTEGER
      );
      CREATE TABLE IF NOT EXISTS auth_tokens (
        token_sha256 TEXT PRIMARY KEY,
        client TEXT NOT NULL,
        scope TEXT NOT NULL,
        expires_at INTEGER NOT NULL,
        revoked INTEGER NOT NULL DEFAULT 0
      );
    `);
  }

  /** A fresh one-time nonce and the fields the login message must carry. */
  challenge(): ILoginChallenge {
    const now = Date.now();
    this.db.prepare('DELETE FROM auth_nonces WHERE expires_at < ?').run(now - 86400_000);
    const nonce = randomBytes(16).toString('hex');
    const expires = now + this.options.loginTtlSeconds * 1000;
    this.db.prepare('INSERT INTO auth_nonces (nonce, expires_at) VALUES (?, ?)').run(nonce, expires);
    return {
      nonce,
      domain: this.domain,
      uri: this.uri,
      chainId: this.options.chainId,
      version: '1',
      statement: 'Log in to the AIN provider agent to run notebooks.',
      expirationTime: new Date(expires).toISOString()
    };
  }

  /**
   * Checks a signed login message and consumes its nonce; returns a token for the signer. Throws
   * AGENT_LOGIN_INVALID (one message for every reason: the log has the reason).
   */
  async login(message: string, signature: string): Promise<IToken> {
    const refuse = (why: string) => {
      this.options.logger?.log('warn', 'login-refused', { why });
      return makeError(
        'AGENT_LOGIN_INVALID',
        'Login refused. Ask POST /auth/nonce for a new nonce, sign the EIP-4361 message it describes with your ' +
          'wallet, and send it once.'
      );
    };
    let parsed: SiweMessage;
    try {
      parsed = new SiweMessage(message);
    } catch {
      throw refuse('unparsable message');
    }
    const now = Date.now();
    if (parsed.domain !== this.domain) {
      throw refuse(`domain ${parsed.domain}`);
    }
    if (parsed.uri !== this.uri) {
      throw refuse(`audience ${parsed.uri}`);
    }
    if (parsed.chainId !== this.options.chainId) {
      throw refuse(`chain ${parsed.chainId}`);
    }
    const expiry = parsed.expirationTime ? Date.parse(parsed.expirationTime) : NaN;
    if (!(expiry > now) || expiry > now + this.options.loginTtlSeconds * 1000 + 60_000) {
      throw refuse('missing, past or too distant expiry');
    }
    const verified = await parsed.verify(
      { signature, domain: this.domain, nonce: parsed.nonce, time: new Date(now).toISOString() },
      { suppressExceptions: true }
    );
    if (!verified.success) {
      throw refuse(`signature: ${verified.error?.type ?? 'invalid'}`);
    }
    // Consuming the nonce is the replay guard: only the first login with it changes the row.
    const consumed = this.db
      .prepare('UPDATE auth_nonces SET used_at = ? WHERE nonce = ? AND used_at IS NULL AND expires_at >= ?')
      .run(now, parsed.nonce, now);
    if (consumed.changes !== 1) {
      throw refuse('unknown, expired or used nonce');
    }
    const token = this.issue(getAddress(parsed.address));
    this.options.logger?.log('info', 'login', { client: token.address });
    return token;
  }

  /** The client address a token belongs to, or null when it is unknown, revoked or expired. */
  authenticate(token: string | undefined): string | null {
    if (!token) {
      return null;
    }
    const row = this.db
      .prepare('SELECT client, expires_at, revoked FROM auth_tokens WHERE token_sha256 = ?')
      .get(sha256(token)) as { client: string; expires_at: number; revoked: number } | undefined;
    if (!row || row.revoked || row.expires_at <= Date.now()) {
      return null;
    }
    return row.client;
  }

  /** Exchanges a valid token for a fresh one and revokes the old; AGENT_UNAUTHORIZED when it is not valid. */
  refresh(token: string | undefined): IToken {
    const client = this.authenticate(token);
    if (client === null) {
      throw unauthorized();
    }
    this.db.prepare('UPDATE auth_tokens SET revoked = 1 WHERE token_sha256 = ?').run(sha256(token!));
    return this.issue(client);
  }

  private issue(client: string): IToken {
    const now = Date.now();
    this.db.prepare('DELETE FROM auth_tokens WHERE expires_at < ?').run(now - 86400_000);
    const token = randomBytes(32).toString('base64url');
    const expires = now + this.options.tokenTtlSeconds * 1000;
    this.db
      .prepare('INSERT INTO auth_tokens (token_sha256, client, scope, expires_at) VALUES (?, ?, ?, ?)')
      .run(sha256(token), client, 'runs', expires);
    return { token, address: client, expiresAt: new Date(expires).toISOString() };
  }
}

/** The one answer to a missing, unknown, revoked or expired token. */
export function unauthorized(): Error {
  return makeError(
    'AGENT_UNAUTHORIZED',
    'Log in (POST /auth/nonce, then POST /auth/login) or refresh your token.'
  );
}

/** The one answer to a valid token that does not reach what it asked for. */
export function forbidden(): Error {
  return makeError(
    'AGENT_FORBIDDEN',
    'This token does not give access to that resource; use the token of its client.'
  );
}

/** The token of a request: `Authorization: Bearer|token <t>` or a `token` query parameter (WebSockets). */
export function requestToken(authorization: string | undefined, url: URL): string | undefined {
  const m = /^(?:Bearer|token)\s+(\S+)$/i.exec(authorization ?? '');
  return m ? m[1] : (url.searchParams.get('token') ?? undefined);
}
