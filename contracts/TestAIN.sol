// SPDX-License-Identifier: BSD-3-Clause
pragma solidity ^0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title TestAIN
/// @notice An ERC-20 with a faucet, for development chains only. Production deployments point the registries at the
/// real AIN token instead; nothing in the registries depends on this contract.
contract TestAIN is ERC20 {
    /// @notice The most one faucet call may mint: enough for any test, useless as a store of value.
    uint256 public constant FAUCET_LIMIT = 1_000_000 ether;

    /// @notice A faucet call asked for more than FAUCET_LIMIT.
    error FaucetLimitExceeded(uint256 requested, uint256 limit);

    /// @notice Creates the token with no supply: every token comes from the faucet.
    constructor() ERC20("Test AIN", "tAIN") {}

    /// @notice Mints `amount` test tokens to `to`.
    /// @param to The account that receives the tokens.
    /// @param amount How many (18 decimals), at most FAUCET_LIMIT per call.
    function faucet(address to, uint256 amount) external {
        if (amount > FAUCET_LIMIT) revert FaucetLimitExceeded(amount, FAUCET_LIMIT);
        _mint(to, amount);
    }
}
