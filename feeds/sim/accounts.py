"""Per-account balances of a simulated venue: available and locked, exact Decimal.

The matching engines of one venue share one `Accounts` (BTC/USDT and ETH/USDT draw on the
same USDT). A limit buy locks quote, a sell locks base; a fill consumes the lock, credits what
the side receives and charges the fee in the received asset (a negative rate is a rebate).
Every fee lands in `fees`, so for tracked accounts `sum(available + locked) + fees` is
constant per asset — the conservation law the property tests check.

Background participants use an `unlimited` account: no balance is kept or checked for it, so
the market never fails for lack of funds (and trades against it are outside the conservation
law). A `quiet` account gets no order events from the engine: the background crowd's own
acks would only be noise for the front-ends.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from pipeline.errors import HftError

ZERO = Decimal(0)


class LedgerError(HftError):
    """A balance operation that would make an amount negative: an engine bug, never a reject."""


@dataclass(frozen=True, slots=True)
class Balance:
    available: Decimal
    locked: Decimal

    @property
    def total(self) -> Decimal:
        return self.available + self.locked


class Account:
    """One account's ledger; the engine keeps a reference on each order to skip lookups."""

    __slots__ = ("_fees", "available", "locked", "name", "quiet", "unlimited")

    def __init__(self, name: str, fees: dict[str, Decimal], unlimited: bool,
                 quiet: bool) -> None:
        self.name = name
        self.unlimited = unlimited
        self.quiet = quiet
        self.available: dict[str, Decimal] = {}
        self.locked: dict[str, Decimal] = {}
        self._fees = fees

    def balance(self, asset: str) -> Balance:
        return Balance(self.available.get(asset, ZERO), self.locked.get(asset, ZERO))

    def deposit(self, asset: str, amount: Decimal) -> None:
        if amount < 0:
            raise LedgerError(f"{self.name}: negative deposit {amount} {asset}")
        self.available[asset] = self.available.get(asset, ZERO) + amount

    def withdraw(self, asset: str, amount: Decimal) -> bool:
        """Take `amount` out of available; False (and nothing changes) when short."""
        have = self.available.get(asset, ZERO)
        if amount < 0 or have < amount:
            return False
        self.available[asset] = have - amount
        return True

    def try_lock(self, asset: str, amount: Decimal) -> bool:
        """Move `amount` from available to locked; False (nothing changes) when short."""
        if self.unlimited:
            return True
        have = self.available.get(asset, ZERO)
        if have < amount:
            return False
        self.available[asset] = have - amount
        self.locked[asset] = self.locked.get(asset, ZERO) + amount
        return True

    def unlock(self, asset: str, amount: Decimal) -> None:
        if self.unlimited or amount == 0:
            return
        held = self.locked.get(asset, ZERO)
        if held < amount:
            raise LedgerError(f"{self.name}: unlock {amount} {asset} > locked {held}")
        self.locked[asset] = held - amount
        self.available[asset] = self.available.get(asset, ZERO) + amount

    def settle(self, spend_asset: str, consume: Decimal, spent: Decimal, recv_asset: str,
               received: Decimal, fee: Decimal) -> None:
        """One side of a fill: `consume` leaves the lock, of which `spent` goes to the
        counterparty and the rest returns to available; `received - fee` is credited."""
        if self.unlimited:
            return
        held = self.locked.get(spend_asset, ZERO)
        if held < consume or consume < spent:
            raise LedgerError(f"{self.name}: settle {consume}/{spent} {spend_asset} > {held}")
        self.locked[spend_asset] = held - consume
        if consume != spent:
            self.available[spend_asset] = self.available.get(spend_asset, ZERO) + consume - spent
        net = self.available.get(recv_asset, ZERO) + received - fee
        if net < 0:
            raise LedgerError(f"{self.name}: fee {fee} {recv_asset} exceeds balance")
        self.available[recv_asset] = net
        if fee:
            self._fees[recv_asset] = self._fees.get(recv_asset, ZERO) + fee

    def snapshot(self) -> dict[str, Balance]:
        assets = sorted(set(self.available) | set(self.locked))
        return {a: self.balance(a) for a in assets}


class Accounts:
    """All accounts of one simulated venue, plus the fees the venue collected."""

    def __init__(self) -> None:
        self._accounts: dict[str, Account] = {}
        self.fees: dict[str, Decimal] = {}

    def open(self, name: str, balances: Mapping[str, Decimal | str | int] | None = None, *,
             unlimited: bool = False, quiet: bool = False) -> Account:
        if name in self._accounts:
            raise ValueError(f"account {name!r} already exists")
        acct = Account(name, self.fees, unlimited, quiet)
        for asset, amount in (balances or {}).items():
            acct.deposit(asset, Decimal(amount))
        self._accounts[name] = acct
        return acct

    def get(self, name: str) -> Account | None:
        return self._accounts.get(name)

    def __getitem__(self, name: str) -> Account:
        return self._accounts[name]

    def __contains__(self, name: object) -> bool:
        return name in self._accounts

    def names(self) -> list[str]:
        return list(self._accounts)

    def balance(self, name: str, asset: str) -> Balance:
        return self._accounts[name].balance(asset)

    def total(self, asset: str) -> Decimal:
        """Sum over tracked accounts of available + locked, plus fees collected."""
        s = self.fees.get(asset, ZERO)
        for acct in self._accounts.values():
            if not acct.unlimited:
                s += acct.available.get(asset, ZERO) + acct.locked.get(asset, ZERO)
        return s

    def assets(self) -> set[str]:
        out = set(self.fees)
        for acct in self._accounts.values():
            out |= set(acct.available) | set(acct.locked)
        return out
