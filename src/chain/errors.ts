/**
 * Turns contract reverts into messages a person can act on. Every custom error of the contracts (and the
 * OpenZeppelin errors they can raise) has an entry here; anything else keeps ethers' own message.
 */
import { ErrorDescription, Interface, formatUnits, isCallException } from 'ethers';
import { AinError, isAinError, makeError } from '../core/errors.js';
import { PROVIDER_REGISTRY_ABI, RUN_REGISTRY_ABI, TEST_AIN_ABI } from './abi.js';

const STATUS = ['none', 'open', 'closed', 'settled', 'slashed'];
const tokens = (v: unknown) => `${formatUnits(v as bigint, 18)} tokens`;
const when = (t: unknown) => new Date(Number(t) * 1000).toISOString();

/** One message per custom error; `a` holds the decoded arguments. */
const MESSAGES: Record<string, (a: ErrorDescription['args']) => string> = {
  // ProviderRegistry
  AlreadyRegistered: a => `Provider ${a[0]} is already registered; use update to change its offer.`,
  NotRegistered: a => `Account ${a[0]} is not a registered provider; register it first.`,
  StakeBelowMinimum: a => `A stake of ${tokens(a[0])} is below the minimum of ${tokens(a[1])}; stake more.`,
  EmptyEndpoint: () => 'The provider endpoint URL is empty; give the agent URL clients should connect to.',
  ZeroAmount: () => 'The amount is zero; give a positive amount.',
  InsufficientStake: a => `Cannot unbond ${tokens(a[0])}: only ${tokens(a[1])} is staked.`,
  UnbondingNotReady: a => `The stake is still unbonding until ${when(a[0])}; withdraw after that.`,
  NothingToWithdraw: () => 'No unbonded stake to withdraw; request an unbond first.',
  ProviderHasActiveRuns: a =>
    `The provider still has ${a[0]} run(s) that are not settled; settle them first.`,
  NotRunRegistry: a => `Only the RunRegistry may do this (caller ${a[0]}).`,
  // RunRegistry
  RunAlreadyExists: a => `Run ${a[0]} already exists; open it with another nonce.`,
  RunNotFound: a =>
    `No run ${a[0]} on this chain and contract; check the run id and the chain configuration.`,
  ProviderNotActive: a =>
    `Provider ${a[0]} is not registered or its stake is below the minimum; pick another.`,
  PriceChanged: a =>
    `The provider's price changed from ${tokens(a[0])} to ${tokens(a[1])} per hour; confirm the new price.`,
  ZeroEscrow: () => 'A run needs a positive escrow; deposit the most the run may cost.',
  NotRunProvider: a => `Only the provider of run ${a[0]} may do this, not ${a[1]}.`,
  NotRunParty: a => `Only the client or the provider of run ${a[0]} may close it, not ${a[1]}.`,
  RunNotOpen: a => `Run ${a[0]} is ${STATUS[Number(a[1])]}, not open; it takes no more checkpoints.`,
  RunNotClosed: a =>
    `Run ${a[0]} is ${STATUS[Number(a[1])]}; close it first, then settle after the challenge window.`,
  RunFinalized: a => `Run ${a[0]} is already ${STATUS[Number(a[1])]}; it can no longer be challenged.`,
  CheckpointIndexMismatch: a =>
    `The next checkpoint index is ${a[0]}, not ${a[1]}; anchor checkpoints in order.`,
  ReceiptCountNotIncreasing: a =>
    `A checkpoint must cover more than the ${a[0]} receipts already anchored (got ${a[1]}).`,
  EmptyRoot: () => 'The checkpoint root is zero; anchor the Merkle root of the receipts.',
  ChallengeWindowOpen: a => `The challenge window is open until ${when(a[0])}; settle after that.`,
  InvalidVerdict: a => `Verdict ${a[0]} is not Reproduced (1), Mismatch (2) or Objective (3).`,
  ProviderCannotAttest: () => 'A provider cannot attest its own run; a different verifier must sign.',
  AlreadyAttested: a => `Verifier ${a[0]} has already attested this run.`,
  ReceiptRunMismatch: a => `The receipts belong to different runs (${a[0]} and ${a[1]}).`,
  StepMismatch: a => `Equivocation needs two receipts for one step, not steps ${a[0]} and ${a[1]}.`,
  ReceiptsIdentical: () => 'The two receipts are identical: that is not equivocation.',
  NotSignedByProvider: a =>
    `The receipt was signed by ${a[0]}, not by the run's provider, or for another chain or contract.`,
  StepNotCovered: a =>
    `Step ${a[0]} is not in this checkpoint, which covers receipts 0 to ${Number(a[1]) - 1}.`,
  InvalidMerkleProof: () =>
    'The Merkle proof does not lead to the checkpoint root; rebuild it from the checkpoint.',
  NoContradiction: () => 'The checkpoint holds exactly this receipt: nothing to challenge.',
  CheckpointHistoryMismatch: () =>
    "The checkpoint history does not match the run's anchored checkpoints; rebuild it from the run's events.",
  SecretMismatch: () => 'The secret does not match the commitment made when the run was opened.',
  WindowLongerThanUnbonding: a =>
    `The challenge window (${a[0]} s) must not exceed the unbonding delay (${a[1]} s).`,
  RegistryMismatch: a => `The ProviderRegistry was deployed for RunRegistry ${a[0]}, not this one.`,
  InvalidRewardBps: a => `A challenger reward of ${a[0]} basis points is above 10,000.`,
  // TestAIN
  FaucetLimitExceeded: a => `The faucet gives at most ${tokens(a[1])} per call (asked ${tokens(a[0])}).`,
  // OpenZeppelin
  ECDSAInvalidSignature: () => 'The signature is invalid (it recovers to no address).',
  ECDSAInvalidSignatureLength: a =>
    `The signature is ${a[0]} bytes long; a 65-byte r||s||v signature is needed.`,
  ECDSAInvalidSignatureS: () =>
    'The signature has a high s value (malleable); sign again with a canonical signer.',
  ReentrancyGuardReentrantCall: () => 'A reentrant call was refused.',
  SafeERC20FailedOperation: a => `The token ${a[0]} refused the transfer.`,
  ERC20InsufficientBalance: a =>
    `Account ${a[0]} holds ${tokens(a[1])} but ${tokens(a[2])} is needed; get more tokens.`,
  ERC20InvalidApprover: a => `Account ${a[0]} cannot approve tokens (the zero address).`,
  ERC20InvalidReceiver: a => `Tokens cannot be sent to ${a[0]} (the zero address); check the recipient.`,
  ERC20InvalidSender: a => `Tokens cannot be sent from ${a[0]} (the zero address).`,
  ERC20InvalidSpender: a =>
    `${a[0]} (the zero address) cannot be approved as a spender; check the contract address.`,
  InvalidShortString: () => 'A contract name or version string is malformed (EIP-712 domain).',
  StringTooLong: a => `The string "${a[0]}" is too long for a short string (EIP-712 domain).`,
  ERC20InsufficientAllowance: a =>
    `The contract ${a[0]} may spend ${tokens(a[1])} but needs ${tokens(a[2])}; approve the amount first.`
};

/** Every error of every contract (names are unique across them), for decoding revert data from any of them. */
export const CHAIN_ERRORS = new Interface(
  (() => {
    const byName = new Map<string, unknown>();
    for (const abi of [RUN_REGISTRY_ABI, PROVIDER_REGISTRY_ABI, TEST_AIN_ABI] as readonly (readonly {
      type: string;
      name?: string;
    }[])[]) {
      for (const f of abi) {
        if (f.type === 'error' && f.name && !byName.has(f.name)) {
          byName.set(f.name, f);
        }
      }
    }
    return [...byName.values()] as never[];
  })()
);

/** The decoded custom error in revert data, or null when the data is not one of ours. */
export function decodeRevert(data: string | null | undefined): ErrorDescription | null {
  if (!data || data === '0x') {
    return null;
  }
  try {
    return CHAIN_ERRORS.parseError(data);
  } catch {
    return null;
  }
}

/** Revert data buried in an ethers or wallet error (wallets nest it differently). */
function revertData(e: unknown): string | undefined {
  let cur: unknown = e;
  for (let depth = 0; depth < 5 && cur && typeof cur === 'object'; depth++) {
    const o = cur as { data?: unknown; error?: unknown; info?: { error?: unknown } };
    if (typeof o.data === 'string' && o.data.startsWith('0x')) {
      return o.data;
    }
    if (o.data && typeof o.data === 'object' && typeof (o.data as { data?: unknown }).data === 'string') {
      return (o.data as { data: string }).data;
    }
    cur = o.error ?? o.info?.error;
  }
  return undefined;
}

/**
 * Wraps a failure of a contract call as an AinError: CHAIN_REVERTED with the contract's reason when the revert
 * data decodes (info.error holds its name and info.args its arguments), the original error otherwise.
 */
export function chainError(e: unknown, action: string): AinError | unknown {
  if (isAinError(e)) {
    return e;
  }
  const decoded = decodeRevert(revertData(e));
  if (decoded) {
    const explain = MESSAGES[decoded.name];
    const reason = explain ? explain(decoded.args) : `${decoded.name}(${decoded.args.join(', ')})`;
    return makeError('CHAIN_REVERTED', `${action} was refused by the contract: ${reason}`, {
      error: decoded.name,
      args: decoded.args.toArray()
    });
  }
  if (isCallException(e)) {
    return makeError('CHAIN_REVERTED', `${action} was refused by the contract: ${e.shortMessage}.`, {
      error: e.reason ?? null
    });
  }
  return e;
}

/** The names of every error that has a human message (tests check that every contract error is covered). */
export const EXPLAINED_ERRORS: readonly string[] = Object.keys(MESSAGES);
