// SPDX-License-Identifier: BSD-3-Clause
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";

/// @title ProviderRegistry
/// @notice Compute providers register an endpoint, a price and a capability summary, and lock a stake in the token.
/// The stake is what a proven fault (see RunRegistry challenges) slashes. Withdrawing needs an unbonding delay and no
/// run in progress, so a provider cannot pull its stake out from under a run it may still be challenged for.
contract ProviderRegistry is ReentrancyGuard {
    using SafeERC20 for IERC20;

    /// @notice A provider as stored. `stake` backs new runs; `unbonding` waits for `unbondingReadyAt`.
    struct Provider {
        string endpoint;
        string capabilitiesURI;
        bytes32 capabilitiesHash;
        uint256 pricePerHour;
        uint256 stake;
        uint256 unbonding;
        uint64 unbondingReadyAt;
        uint32 activeRuns;
        bool registered;
    }

    /// @notice The staking token (also the payment token of RunRegistry).
    IERC20 public immutable token;
    /// @notice The least stake a provider needs to register and to be offered new runs.
    uint256 public immutable minStake;
    /// @notice Seconds between requestUnbond and withdraw.
    uint64 public immutable unbondingDelay;
    /// @notice The only contract allowed to lock, unlock and slash stakes (fixed at deployment).
    address public immutable runRegistry;

    mapping(address => Provider) private _providers;
    address[] private _providerList;

    /// @notice Emitted when a provider registers.
    event ProviderRegistered(address indexed provider, string endpoint, uint256 pricePerHour, uint256 stake);
    /// @notice Emitted when a provider changes its offer.
    event ProviderUpdated(address indexed provider, string endpoint, uint256 pricePerHour, bytes32 capabilitiesHash);
    /// @notice Emitted when a provider adds to its stake.
    event StakeAdded(address indexed provider, uint256 amount, uint256 stake);
    /// @notice Emitted when stake starts unbonding.
    event UnbondRequested(address indexed provider, uint256 amount, uint64 readyAt);
    /// @notice Emitted when unbonded stake is paid out.
    event Withdrawn(address indexed provider, uint256 amount);
    /// @notice Emitted when a proven fault takes stake.
    event Slashed(address indexed provider, uint256 amount);

    /// @notice `provider` is already registered: use update() to change the offer.
    error AlreadyRegistered(address provider);
    /// @notice `provider` has not registered.
    error NotRegistered(address provider);
    /// @notice The stake offered is below the minimum.
    error StakeBelowMinimum(uint256 stake, uint256 minimum);
    /// @notice The endpoint URL is empty.
    error EmptyEndpoint();
    /// @notice An amount of zero was given where tokens must move.
    error ZeroAmount();
    /// @notice More stake was asked for than the provider has.
    error InsufficientStake(uint256 requested, uint256 available);
    /// @notice The unbonding delay has not passed yet.
    error UnbondingNotReady(uint64 readyAt);
    /// @notice No unbonded stake is waiting.
    error NothingToWithdraw();
    /// @notice The provider still has runs that may be challenged.
    error ProviderHasActiveRuns(uint32 activeRuns);
    /// @notice Only the RunRegistry may call this.
    error NotRunRegistry(address caller);

    /// @notice Deploys the registry.
    /// @param token_ The staking token.
    /// @param minStake_ The least stake to register.
    /// @param unbondingDelay_ Seconds between requestUnbond and withdraw.
    /// @param runRegistry_ The RunRegistry that may slash (deployed right after this contract, address predicted).
    constructor(IERC20 token_, uint256 minStake_, uint64 unbondingDelay_, address runRegistry_) {
        token = token_;
        minStake = minStake_;
        unbondingDelay = unbondingDelay_;
        runRegistry = runRegistry_;
    }

    modifier onlyRunRegistry() {
        if (msg.sender != runRegistry) revert NotRunRegistry(msg.sender);
        _;
    }

    /// @notice Registers the caller as a provider and pulls `stake` tokens (approve them first).
    /// @param endpoint The agent's base URL.
    /// @param pricePerHour Tokens (18 decimals) per hour of run time.
    /// @param capabilitiesHash Hash of the capability document (hardware, environments).
    /// @param capabilitiesURI Where the capability document can be read.
    /// @param stake Tokens to lock, at least minStake.
    function register(
        string calldata endpoint,
        uint256 pricePerHour,
        bytes32 capabilitiesHash,
        string calldata capabilitiesURI,
        uint256 stake
    ) external nonReentrant {
        Provider storage p = _providers[msg.sender];
        if (p.registered) revert AlreadyRegistered(msg.sender);
        if (bytes(endpoint).length == 0) revert EmptyEndpoint();
        if (stake < minStake) revert StakeBelowMinimum(stake, minStake);
        p.registered = true;
        p.endpoint = endpoint;
        p.pricePerHour = pricePerHour;
        p.capabilitiesHash = capabilitiesHash;
        p.capabilitiesURI = capabilitiesURI;
        p.stake = stake;
        _providerList.push(msg.sender);
        token.safeTransferFrom(msg.sender, address(this), stake);
        emit ProviderRegistered(msg.sender, endpoint, pricePerHour, stake);
    }

    /// @notice Changes the caller's offer. Runs already open keep the price they were opened with.
    /// @param endpoint The agent's base URL.
    /// @param pricePerHour Tokens per hour for new runs.
    /// @param capabilitiesHash Hash of the capability document.
    /// @param capabilitiesURI Where the capability document can be read.
    function update(
        string calldata endpoint,
        uint256 pricePerHour,
        bytes32 capabilitiesHash,
        string calldata capabilitiesURI
    ) external {
        Provider storage p = _requireRegistered(msg.sender);
        if (bytes(endpoint).length == 0) revert EmptyEndpoint();
        p.endpoint = endpoint;
        p.pricePerHour = pricePerHour;
        p.capabilitiesHash = capabilitiesHash;
        p.capabilitiesURI = capabilitiesURI;
        emit ProviderUpdated(msg.sender, endpoint, pricePerHour, capabilitiesHash);
    }

    /// @notice Adds `amount` tokens to the caller's stake (approve them first).
    /// @param amount Tokens to add.
    function addStake(uint256 amount) external nonReentrant {
        Provider storage p = _requireRegistered(msg.sender);
        if (amount == 0) revert ZeroAmount();
        p.stake += amount;
        token.safeTransferFrom(msg.sender, address(this), amount);
        emit StakeAdded(msg.sender, amount, p.stake);
    }

    /// @notice Starts unbonding `amount` of the caller's stake; the unbonding clock restarts with every request.
    /// @param amount Tokens to unbond.
    function requestUnbond(uint256 amount) external {
        Provider storage p = _requireRegistered(msg.sender);
        if (amount == 0) revert ZeroAmount();
        if (amount > p.stake) revert InsufficientStake(amount, p.stake);
        p.stake -= amount;
        p.unbonding += amount;
        p.unbondingReadyAt = uint64(block.timestamp) + unbondingDelay;
        emit UnbondRequested(msg.sender, amount, p.unbondingReadyAt);
    }

    /// @notice Pays out the caller's unbonded stake once the delay has passed and no run is in progress.
    function withdraw() external nonReentrant {
        Provider storage p = _requireRegistered(msg.sender);
        uint256 amount = p.unbonding;
        if (amount == 0) revert NothingToWithdraw();
        if (block.timestamp < p.unbondingReadyAt) revert UnbondingNotReady(p.unbondingReadyAt);
        if (p.activeRuns != 0) revert ProviderHasActiveRuns(p.activeRuns);
        p.unbonding = 0;
        token.safeTransfer(msg.sender, amount);
        emit Withdrawn(msg.sender, amount);
    }

    /// @notice Counts a new run of `provider` (blocks withdrawals until it ends). RunRegistry only.
    /// @param provider The run's provider.
    function lock(address provider) external onlyRunRegistry {
        _providers[provider].activeRuns += 1;
    }

    /// @notice Counts a run of `provider` as ended. RunRegistry only.
    /// @param provider The run's provider.
    function unlock(address provider) external onlyRunRegistry {
        _providers[provider].activeRuns -= 1;
    }

    /// @notice Takes up to `amount` of `provider`'s stake (bonded first, then unbonding) and sends it to the
    /// RunRegistry, which pays the client and the challenger. RunRegistry only.
    /// @param provider The provider at fault.
    /// @param amount The most to take.
    /// @return taken What was actually taken (less than `amount` when the stake is smaller).
    function slash(address provider, uint256 amount) external onlyRunRegistry nonReentrant returns (uint256 taken) {
        Provider storage p = _providers[provider];
        uint256 fromStake = amount < p.stake ? amount : p.stake;
        p.stake -= fromStake;
        uint256 rest = amount - fromStake;
        uint256 fromUnbonding = rest < p.unbonding ? rest : p.unbonding;
        p.unbonding -= fromUnbonding;
        taken = fromStake + fromUnbonding;
        if (taken != 0) token.safeTransfer(runRegistry, taken);
        emit Slashed(provider, taken);
    }

    /// @notice True when `provider` is registered with at least minStake bonded, so it may be offered new runs.
    /// @param provider The provider's address.
    /// @return Whether new runs may be opened with it.
    function isActive(address provider) external view returns (bool) {
        Provider storage p = _providers[provider];
        return p.registered && p.stake >= minStake;
    }

    /// @notice The record of `provider` (all zero when it never registered).
    /// @param provider The provider's address.
    /// @return The stored record.
    function getProvider(address provider) external view returns (Provider memory) {
        return _providers[provider];
    }

    /// @notice How many providers ever registered.
    /// @return The length of the provider list.
    function providerCount() external view returns (uint256) {
        return _providerList.length;
    }

    /// @notice A page of the provider list, in registration order.
    /// @param offset The first position to return.
    /// @param limit The most entries to return.
    /// @return addrs The providers' addresses.
    /// @return records Their records.
    function listProviders(
        uint256 offset,
        uint256 limit
    ) external view returns (address[] memory addrs, Provider[] memory records) {
        uint256 end = offset + limit;
        if (end > _providerList.length) end = _providerList.length;
        uint256 n = end > offset ? end - offset : 0;
        addrs = new address[](n);
        records = new Provider[](n);
        for (uint256 i = 0; i < n; i++) {
            addrs[i] = _providerList[offset + i];
            records[i] = _providers[addrs[i]];
        }
    }

    function _requireRegistered(address provider) private view returns (Provider storage p) {
        p = _providers[provider];
        if (!p.registered) revert NotRegistered(provider);
    }
}
