// SPDX-License-Identifier: BSD-3-Clause
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {ProviderRegistry} from "./ProviderRegistry.sol";

/// @title RunRegistry
/// @notice Escrow, checkpoints, attestations and challenges of notebook runs (DESIGN.md "On-chain").
/// @dev Receipts are EIP-712 `StepReceipt`s under the domain ("AIN Run Registry", "1", chainid, this contract),
/// byte-identical to src/core/receipt.ts. Checkpoint roots are OpenZeppelin StandardMerkleTree roots over leaves
/// `(uint32 step, bytes32 receiptDigest)` (src/core/merkle.ts). Anchoring stores only the latest root and a hash
/// chain over all checkpoints (`checkpointsAcc`), so its cost does not depend on the number of receipts or
/// checkpoints; each checkpoint is also emitted as an event, from which challengers rebuild the history.
contract RunRegistry is EIP712, ReentrancyGuard {
    using SafeERC20 for IERC20;

    /// @notice Life cycle of a run. Challenges are possible while Open or Closed.
    enum Status {
        None,
        Open,
        Closed,
        Settled,
        Slashed
    }

    /// @notice What a verifier found when it re-checked a run.
    enum Verdict {
        None,
        Reproduced,
        Mismatch,
        Objective
    }

    /// @notice Which fault a challenge proved.
    enum Fault {
        Equivocation,
        InclusionContradiction
    }

    /// @notice One executed cell, exactly as src/core signs it.
    struct StepReceipt {
        bytes32 runId;
        uint32 step;
        bytes32 prev;
        bytes32 codeHash;
        bytes32 outputHash;
        bytes32 artifactsHash;
        uint64 startedAt;
        uint64 endedAt;
    }

    /// @notice A checkpoint as anchored: the Merkle root over receipts 0 .. receiptCount-1.
    struct Checkpoint {
        bytes32 root;
        uint32 receiptCount;
    }

    /// @notice What an inclusion challenge shows: the checkpoint is `history[0]`, pinned to the run by `accBefore`
    /// (the history hash before it: the run id for checkpoint 0) and every later checkpoint as emitted in
    /// CheckpointAnchored; `anchoredDigest` is the digest that checkpoint holds for the receipt's step, and `proof`
    /// its Merkle proof.
    struct InclusionEvidence {
        bytes32 anchoredDigest;
        bytes32[] proof;
        bytes32 accBefore;
        Checkpoint[] history;
    }

    /// @notice A verifier's signed statement about a run.
    struct Attestation {
        bytes32 runId;
        uint8 verdict;
        uint32 receiptCount;
        bytes32 resultRoot;
        int256 score;
    }

    /// @notice A run as stored. Slot 1 holds everything anchor() reads and writes besides the two hashes.
    struct Run {
        address client;
        uint40 openedAt;
        uint40 closedAt;
        address provider;
        uint40 lastAnchorAt;
        uint32 receiptCount;
        uint16 checkpointCount;
        Status status;
        uint256 escrow;
        uint256 pricePerHour;
        bytes32 bundleHash;
        bytes32 secretCommitment;
        bytes32 latestRoot;
        bytes32 checkpointsAcc;
    }

    /// @notice keccak256 of the StepReceipt type string (EIP-712).
    bytes32 public constant STEP_RECEIPT_TYPEHASH =
        keccak256(
            "StepReceipt(bytes32 runId,uint32 step,bytes32 prev,bytes32 codeHash,bytes32 outputHash,bytes32 artifactsHash,uint64 startedAt,uint64 endedAt)"
        );
    /// @notice keccak256 of the Attestation type string (EIP-712).
    bytes32 public constant ATTESTATION_TYPEHASH =
        keccak256("Attestation(bytes32 runId,uint8 verdict,uint32 receiptCount,bytes32 resultRoot,int256 score)");

    /// @notice The provider registry whose stakes back the runs.
    ProviderRegistry public immutable providers;
    /// @notice The payment token (the registry's staking token).
    IERC20 public immutable token;
    /// @notice Seconds after closeRun during which challenges can still stop settlement.
    uint64 public immutable challengeWindow;
    /// @notice Stake taken from a provider per proven fault (less if the stake is smaller).
    uint256 public immutable slashAmount;
    /// @notice Share of the slashed stake paid to the challenger, in basis points; the client gets the rest.
    uint16 public immutable challengerRewardBps;

    mapping(bytes32 => Run) private _runs;
    mapping(bytes32 => mapping(address => bool)) private _attested;

    /// @notice A run was opened and its payment escrowed.
    event RunOpened(
        bytes32 indexed runId,
        address indexed client,
        address indexed provider,
        bytes32 bundleHash,
        uint256 nonce,
        uint256 escrow,
        uint256 pricePerHour,
        bytes32 secretCommitment
    );
    /// @notice A checkpoint was anchored. `index` counts from 0; the events are the run's checkpoint history.
    event CheckpointAnchored(bytes32 indexed runId, uint256 indexed index, bytes32 root, uint32 receiptCount);
    /// @notice A verifier attested a run.
    event Attested(
        bytes32 indexed runId,
        address indexed verifier,
        Verdict verdict,
        uint32 receiptCount,
        bytes32 resultRoot,
        int256 score
    );
    /// @notice The client revealed its sampling secret.
    event SamplingSecretRevealed(bytes32 indexed runId, bytes32 secret);
    /// @notice The run stopped taking checkpoints; the challenge window started.
    event RunClosed(bytes32 indexed runId, address indexed by);
    /// @notice The run was paid out after its challenge window.
    event RunSettled(bytes32 indexed runId, uint256 providerPayment, uint256 clientRefund);
    /// @notice A challenge proved a fault: the stake was slashed, the client refunded, the challenger rewarded.
    event RunSlashed(
        bytes32 indexed runId,
        address indexed challenger,
        Fault fault,
        uint32 step,
        uint256 slashed,
        uint256 challengerReward,
        uint256 clientRefund
    );

    /// @notice A run with this id exists: use another nonce.
    error RunAlreadyExists(bytes32 runId);
    /// @notice No run has this id.
    error RunNotFound(bytes32 runId);
    /// @notice The provider is not registered or its stake is below the minimum.
    error ProviderNotActive(address provider);
    /// @notice The provider's price is not the one the client agreed to.
    error PriceChanged(uint256 expected, uint256 actual);
    /// @notice A run needs a non-zero escrow.
    error ZeroEscrow();
    /// @notice Only the run's provider may do this.
    error NotRunProvider(bytes32 runId, address caller);
    /// @notice Only the run's client or provider may do this.
    error NotRunParty(bytes32 runId, address caller);
    /// @notice The run is not open (it was closed, settled or slashed).
    error RunNotOpen(bytes32 runId, Status status);
    /// @notice The run must be closed first.
    error RunNotClosed(bytes32 runId, Status status);
    /// @notice The run was settled or slashed already.
    error RunFinalized(bytes32 runId, Status status);
    /// @notice Checkpoints are appended in order; the next index is `expected`.
    error CheckpointIndexMismatch(uint256 expected, uint256 given);
    /// @notice A checkpoint must cover more receipts than the one before.
    error ReceiptCountNotIncreasing(uint32 previous, uint32 given);
    /// @notice A checkpoint root of zero.
    error EmptyRoot();
    /// @notice Settlement waits until the challenge window ends at `settleableAt`.
    error ChallengeWindowOpen(uint256 settleableAt);
    /// @notice The verdict is not Reproduced, Mismatch or Objective.
    error InvalidVerdict(uint8 verdict);
    /// @notice A provider cannot attest its own run.
    error ProviderCannotAttest();
    /// @notice This verifier attested this run already.
    error AlreadyAttested(address verifier);
    /// @notice The receipts belong to different runs.
    error ReceiptRunMismatch(bytes32 runIdA, bytes32 runIdB);
    /// @notice Equivocation needs two receipts for one step.
    error StepMismatch(uint32 stepA, uint32 stepB);
    /// @notice The two receipts are the same receipt.
    error ReceiptsIdentical();
    /// @notice The signature was made by `signer`, not the run's provider (or for another chain or contract).
    error NotSignedByProvider(address signer);
    /// @notice The checkpoint covers receipts 0 .. receiptCount-1 only.
    error StepNotCovered(uint32 step, uint32 receiptCount);
    /// @notice The Merkle proof does not lead to the checkpoint root.
    error InvalidMerkleProof();
    /// @notice The anchored leaf is the signed receipt: nothing contradicts.
    error NoContradiction();
    /// @notice The checkpoint history given does not hash to the anchored history.
    error CheckpointHistoryMismatch();
    /// @notice The revealed secret does not match the commitment.
    error SecretMismatch();
    /// @notice The challenge window must not outlast the registry's unbonding delay.
    error WindowLongerThanUnbonding(uint64 window, uint64 unbondingDelay);
    /// @notice The provider registry was deployed for another RunRegistry.
    error RegistryMismatch(address expected);
    /// @notice The reward share is above 100 %.
    error InvalidRewardBps(uint16 bps);

    /// @notice Deploys the run registry for `providers_` (which must name this contract as its runRegistry).
    /// @param providers_ The provider registry.
    /// @param challengeWindow_ Seconds between closeRun and settle.
    /// @param slashAmount_ Stake taken per proven fault.
    /// @param challengerRewardBps_ Challenger's share of the slashed stake, in basis points.
    constructor(
        ProviderRegistry providers_,
        uint64 challengeWindow_,
        uint256 slashAmount_,
        uint16 challengerRewardBps_
    ) EIP712("AIN Run Registry", "1") {
        if (providers_.runRegistry() != address(this)) revert RegistryMismatch(providers_.runRegistry());
        if (challengeWindow_ > providers_.unbondingDelay()) {
            revert WindowLongerThanUnbonding(challengeWindow_, providers_.unbondingDelay());
        }
        if (challengerRewardBps_ > 10_000) revert InvalidRewardBps(challengerRewardBps_);
        providers = providers_;
        token = providers_.token();
        challengeWindow = challengeWindow_;
        slashAmount = slashAmount_;
        challengerRewardBps = challengerRewardBps_;
    }

    // ---------------------------------------------------------------- runs

    /// @notice Opens a run with `provider` and escrows `escrow` tokens from the caller (approve them first).
    /// @param provider The provider that will execute the notebook.
    /// @param bundleHash sha256 of the bundle manifest (src/core bundles).
    /// @param nonce Any number the client has not used with this provider and bundle; makes the run id unique.
    /// @param secretCommitment keccak256(abi.encode(bytes32 samplingSecret)); the secret seeds checkpoint sampling.
    /// @param escrow The most the run may cost; the unused part is refunded at settlement.
    /// @param expectedPricePerHour The provider's price the client agreed to; guards against a last-second change.
    /// @return runId keccak256(abi.encode(chainid, this, client, provider, nonce, bundleHash)).
    function openRun(
        address provider,
        bytes32 bundleHash,
        uint256 nonce,
        bytes32 secretCommitment,
        uint256 escrow,
        uint256 expectedPricePerHour
    ) external nonReentrant returns (bytes32 runId) {
        runId = computeRunId(msg.sender, provider, nonce, bundleHash);
        Run storage run = _runs[runId];
        if (run.status != Status.None) revert RunAlreadyExists(runId);
        if (!providers.isActive(provider)) revert ProviderNotActive(provider);
        uint256 price = providers.getProvider(provider).pricePerHour;
        if (price != expectedPricePerHour) revert PriceChanged(expectedPricePerHour, price);
        if (escrow == 0) revert ZeroEscrow();
        run.client = msg.sender;
        run.openedAt = uint40(block.timestamp);
        run.provider = provider;
        run.status = Status.Open;
        run.escrow = escrow;
        run.pricePerHour = price;
        run.bundleHash = bundleHash;
        run.secretCommitment = secretCommitment;
        // Seeding the hash chain with the run id makes its slot non-zero now, so the first anchor pays 5,000 gas
        // for it instead of 22,100.
        run.checkpointsAcc = runId;
        providers.lock(provider);
        token.safeTransferFrom(msg.sender, address(this), escrow);
        emit RunOpened(runId, msg.sender, provider, bundleHash, nonce, escrow, price, secretCommitment);
    }

    /// @notice Anchors checkpoint `index` of a run: the Merkle root over its first `receiptCount` receipts.
    /// @dev O(1) in receipts and checkpoints: one packed slot, the latest root, the history hash and an event.
    /// @param runId The run.
    /// @param index The checkpoint's position, equal to the number of checkpoints anchored so far.
    /// @param root The StandardMerkleTree root over leaves (step, receiptDigest), steps 0 .. receiptCount-1.
    /// @param receiptCount How many receipts the root covers; more than the previous checkpoint.
    function anchor(bytes32 runId, uint256 index, bytes32 root, uint32 receiptCount) external {
        Run storage run = _runs[runId];
        Status status = run.status;
        if (status == Status.None) revert RunNotFound(runId);
        if (run.provider != msg.sender) revert NotRunProvider(runId, msg.sender);
        if (status != Status.Open) revert RunNotOpen(runId, status);
        if (index != run.checkpointCount) revert CheckpointIndexMismatch(run.checkpointCount, index);
        if (receiptCount <= run.receiptCount) revert ReceiptCountNotIncreasing(run.receiptCount, receiptCount);
        if (root == bytes32(0)) revert EmptyRoot();
        run.lastAnchorAt = uint40(block.timestamp);
        run.receiptCount = receiptCount;
        run.checkpointCount = uint16(index + 1);
        run.latestRoot = root;
        run.checkpointsAcc = keccak256(abi.encode(run.checkpointsAcc, root, receiptCount));
        emit CheckpointAnchored(runId, index, root, receiptCount);
    }

    /// @notice Stops a run: no more checkpoints; settlement is possible after the challenge window.
    /// @param runId The run, closed by its client or its provider.
    function closeRun(bytes32 runId) external {
        Run storage run = _requireRun(runId);
        if (msg.sender != run.client && msg.sender != run.provider) revert NotRunParty(runId, msg.sender);
        if (run.status != Status.Open) revert RunNotOpen(runId, run.status);
        run.status = Status.Closed;
        run.closedAt = uint40(block.timestamp);
        emit RunClosed(runId, msg.sender);
    }

    /// @notice Pays a closed run out once its challenge window has passed; anyone may call it. The provider gets
    /// pricePerHour for the time from openRun to its last checkpoint (work never checkpointed is not paid),
    /// bounded by the escrow; the client gets the rest back.
    /// @param runId The run.
    function settle(bytes32 runId) external nonReentrant {
        Run storage run = _requireRun(runId);
        if (run.status != Status.Closed) revert RunNotClosed(runId, run.status);
        uint256 settleableAt = uint256(run.closedAt) + challengeWindow;
        if (block.timestamp < settleableAt) revert ChallengeWindowOpen(settleableAt);
        uint256 used = run.lastAnchorAt > run.openedAt ? run.lastAnchorAt - run.openedAt : 0;
        uint256 payment = (run.pricePerHour * used) / 1 hours;
        if (payment > run.escrow) payment = run.escrow;
        uint256 refund = run.escrow - payment;
        // Effects before interactions: a token that calls back finds the run settled (and the guard locked).
        run.status = Status.Settled;
        providers.unlock(run.provider);
        if (payment != 0) token.safeTransfer(run.provider, payment);
        if (refund != 0) token.safeTransfer(run.client, refund);
        emit RunSettled(runId, payment, refund);
    }

    /// @notice Publishes the client's sampling secret, checked against the commitment made at openRun.
    /// @param runId The run.
    /// @param secret The secret with keccak256(abi.encode(secret)) == secretCommitment.
    function revealSamplingSecret(bytes32 runId, bytes32 secret) external {
        Run storage run = _requireRun(runId);
        if (keccak256(abi.encode(secret)) != run.secretCommitment) revert SecretMismatch();
        emit SamplingSecretRevealed(runId, secret);
    }

    // ---------------------------------------------------------------- attestations

    /// @notice Records a verifier's signed attestation about a run; anyone may submit it (a relayer pays gas).
    /// @param a The attestation (verdict Reproduced, Mismatch or Objective; resultRoot is the verifier's own root).
    /// @param signature The verifier's EIP-712 signature over `a` under this contract's domain.
    /// @return verifier The address that signed.
    function attest(Attestation calldata a, bytes calldata signature) external returns (address verifier) {
        Run storage run = _requireRun(a.runId);
        if (a.verdict == uint8(Verdict.None) || a.verdict > uint8(Verdict.Objective)) revert InvalidVerdict(a.verdict);
        verifier = ECDSA.recover(attestationDigest(a), signature);
        if (verifier == run.provider) revert ProviderCannotAttest();
        if (_attested[a.runId][verifier]) revert AlreadyAttested(verifier);
        _attested[a.runId][verifier] = true;
        emit Attested(a.runId, verifier, Verdict(a.verdict), a.receiptCount, a.resultRoot, a.score);
    }

    // ---------------------------------------------------------------- challenges

    /// @notice Proves that the provider signed two different receipts for one step of a run, and slashes it.
    /// @param a One signed receipt.
    /// @param sigA The provider's signature over `a`.
    /// @param b Another receipt of the same run and step.
    /// @param sigB The provider's signature over `b`.
    function challengeEquivocation(
        StepReceipt calldata a,
        bytes calldata sigA,
        StepReceipt calldata b,
        bytes calldata sigB
    ) external nonReentrant {
        if (a.runId != b.runId) revert ReceiptRunMismatch(a.runId, b.runId);
        Run storage run = _requireChallengeable(a.runId);
        if (a.step != b.step) revert StepMismatch(a.step, b.step);
        bytes32 digestA = receiptDigest(a);
        bytes32 digestB = receiptDigest(b);
        if (digestA == digestB) revert ReceiptsIdentical();
        _requireProviderSigned(run, digestA, sigA);
        _requireProviderSigned(run, digestB, sigB);
        _slash(a.runId, run, Fault.Equivocation, a.step);
    }

    /// @notice Proves that an anchored checkpoint holds, for the step of a receipt the provider signed, a different
    /// receipt digest, and slashes the provider. Any anchored checkpoint can be challenged, not just the latest:
    /// see InclusionEvidence.
    /// @param r The signed receipt.
    /// @param sig The provider's signature over `r`.
    /// @param e The anchored leaf, its proof and the checkpoint history that pins the root.
    function challengeInclusion(
        StepReceipt calldata r,
        bytes calldata sig,
        InclusionEvidence calldata e
    ) external nonReentrant {
        Run storage run = _requireChallengeable(r.runId);
        (bytes32 root, uint32 covered) = _checkpointFromHistory(run, e.accBefore, e.history);
        if (r.step >= covered) revert StepNotCovered(r.step, covered);
        if (!MerkleProof.verifyCalldata(e.proof, root, receiptLeaf(r.step, e.anchoredDigest))) {
            revert InvalidMerkleProof();
        }
        bytes32 digest = receiptDigest(r);
        if (digest == e.anchoredDigest) revert NoContradiction();
        _requireProviderSigned(run, digest, sig);
        _slash(r.runId, run, Fault.InclusionContradiction, r.step);
    }

    // ---------------------------------------------------------------- views

    /// @notice Everything stored about a run.
    /// @param runId The run.
    /// @return The run record (status None when it does not exist).
    function getRun(bytes32 runId) external view returns (Run memory) {
        return _runs[runId];
    }

    /// @notice Whether `verifier` attested `runId`.
    /// @param runId The run.
    /// @param verifier The verifier's address.
    /// @return True once attested.
    function hasAttested(bytes32 runId, address verifier) external view returns (bool) {
        return _attested[runId][verifier];
    }

    /// @notice The run id a client gets for these parameters on this chain and contract.
    /// @param client The client opening the run.
    /// @param provider The provider.
    /// @param nonce The client's nonce.
    /// @param bundleHash The bundle hash.
    /// @return The run id.
    function computeRunId(
        address client,
        address provider,
        uint256 nonce,
        bytes32 bundleHash
    ) public view returns (bytes32) {
        return keccak256(abi.encode(block.chainid, address(this), client, provider, nonce, bundleHash));
    }

    /// @notice The EIP-712 domain separator of receipts and attestations.
    /// @return The separator for this chain and contract.
    function domainSeparator() external view returns (bytes32) {
        return _domainSeparatorV4();
    }

    /// @notice The EIP-712 struct hash of a receipt (src/core receiptStructHash).
    /// @param r The receipt.
    /// @return The struct hash.
    function receiptStructHash(StepReceipt calldata r) public pure returns (bytes32) {
        return
            keccak256(
                abi.encode(
                    STEP_RECEIPT_TYPEHASH,
                    r.runId,
                    r.step,
                    r.prev,
                    r.codeHash,
                    r.outputHash,
                    r.artifactsHash,
                    r.startedAt,
                    r.endedAt
                )
            );
    }

    /// @notice The EIP-712 digest of a receipt that the provider signs (src/core receiptDigest).
    /// @param r The receipt.
    /// @return The digest.
    function receiptDigest(StepReceipt calldata r) public view returns (bytes32) {
        return _hashTypedDataV4(receiptStructHash(r));
    }

    /// @notice The signer of a receipt; reverts with an ECDSA error for a malformed or high-s signature.
    /// @param r The receipt.
    /// @param signature 65 bytes r || s || v.
    /// @return The recovered address.
    function recoverReceiptSigner(StepReceipt calldata r, bytes calldata signature) external view returns (address) {
        return ECDSA.recover(receiptDigest(r), signature);
    }

    /// @notice The EIP-712 digest a verifier signs for an attestation.
    /// @param a The attestation.
    /// @return The digest.
    function attestationDigest(Attestation calldata a) public view returns (bytes32) {
        return
            _hashTypedDataV4(
                keccak256(abi.encode(ATTESTATION_TYPEHASH, a.runId, a.verdict, a.receiptCount, a.resultRoot, a.score))
            );
    }

    /// @notice The Merkle leaf of a receipt (src/core receiptLeafHash).
    /// @param step The receipt's step.
    /// @param digest The receipt's EIP-712 digest.
    /// @return keccak256(bytes.concat(keccak256(abi.encode(step, digest)))).
    function receiptLeaf(uint32 step, bytes32 digest) public pure returns (bytes32) {
        return keccak256(bytes.concat(keccak256(abi.encode(step, digest))));
    }

    /// @notice Whether `proof` shows that receipt `digest` is step `step` under `root` (src/core verifyReceiptProof).
    /// @param root A checkpoint root.
    /// @param step The step.
    /// @param digest The receipt digest.
    /// @param proof The sibling hashes.
    /// @return True when the proof holds.
    function verifyReceiptProof(
        bytes32 root,
        uint32 step,
        bytes32 digest,
        bytes32[] calldata proof
    ) external pure returns (bool) {
        return MerkleProof.verifyCalldata(proof, root, receiptLeaf(step, digest));
    }

    // ---------------------------------------------------------------- internals

    function _requireRun(bytes32 runId) private view returns (Run storage run) {
        run = _runs[runId];
        if (run.status == Status.None) revert RunNotFound(runId);
    }

    function _requireChallengeable(bytes32 runId) private view returns (Run storage run) {
        run = _requireRun(runId);
        if (run.status == Status.Settled || run.status == Status.Slashed) revert RunFinalized(runId, run.status);
    }

    /// @dev Checks `history` against the stored hash chain and returns its first checkpoint.
    function _checkpointFromHistory(
        Run storage run,
        bytes32 accBefore,
        Checkpoint[] calldata history
    ) private view returns (bytes32 root, uint32 receiptCount) {
        bytes32 acc = accBefore;
        for (uint256 i = 0; i < history.length; i++) {
            acc = keccak256(abi.encode(acc, history[i].root, history[i].receiptCount));
        }
        if (history.length == 0 || acc != run.checkpointsAcc) revert CheckpointHistoryMismatch();
        return (history[0].root, history[0].receiptCount);
    }

    function _requireProviderSigned(Run storage run, bytes32 digest, bytes calldata sig) private view {
        address signer = ECDSA.recover(digest, sig);
        if (signer != run.provider) revert NotSignedByProvider(signer);
    }

    /// @dev Takes the stake, then refunds the whole escrow plus the client's share of the stake and pays the
    /// challenger its share. Status first, so a reentrant token finds the run final.
    function _slash(bytes32 runId, Run storage run, Fault fault, uint32 step) private {
        run.status = Status.Slashed;
        providers.unlock(run.provider);
        uint256 taken = providers.slash(run.provider, slashAmount);
        uint256 reward = (taken * challengerRewardBps) / 10_000;
        uint256 refund = run.escrow + taken - reward;
        if (reward != 0) token.safeTransfer(msg.sender, reward);
        if (refund != 0) token.safeTransfer(run.client, refund);
        emit RunSlashed(runId, msg.sender, fault, step, taken, reward, refund);
    }
}
