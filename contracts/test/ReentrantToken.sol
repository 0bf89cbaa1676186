// SPDX-License-Identifier: BSD-3-Clause
pragma solidity ^0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title ReentrantToken
/// @notice TEST ONLY: an ERC-20 whose transfer() calls back into a target once (e.g. RunRegistry.settle for the
/// run being paid), to prove that such a token cannot make the registry pay twice.
contract ReentrantToken is ERC20 {
    address private _target;
    bytes private _payload;
    /// @notice Whether the callback ran, and whether it succeeded.
    bool public attempted;
    /// @notice True if the reentrant call succeeded (it must not).
    bool public reentrySucceeded;
    /// @notice The revert data of the reentrant call.
    bytes public reentryRevertData;

    /// @notice Creates the token.
    constructor() ERC20("Reentrant", "RENT") {}

    /// @notice Mints freely (test token).
    /// @param to Recipient.
    /// @param amount Amount.
    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    /// @notice Arms the callback: the next transfer() calls `target` with `payload` first.
    /// @param target The contract to call back.
    /// @param payload The calldata.
    function arm(address target, bytes calldata payload) external {
        _target = target;
        _payload = payload;
    }

    /// @notice ERC-20 transfer that first calls back into the armed target once.
    /// @param to Recipient.
    /// @param amount Amount.
    /// @return Always true (or reverts).
    function transfer(address to, uint256 amount) public override returns (bool) {
        address target = _target;
        if (target != address(0)) {
            _target = address(0);
            attempted = true;
            (bool ok, bytes memory data) = target.call(_payload);
            reentrySucceeded = ok;
            reentryRevertData = data;
        }
        return super.transfer(to, amount);
    }
}
