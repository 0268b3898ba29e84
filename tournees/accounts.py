"""``tournees account create``: an account written straight into the registry's database, through
its service layer, by whoever runs the command there: how a fresh install gets its first admin.

The password comes from standard input (its first line) or, at a terminal, is asked for twice;
it is never an argument, which other users of the machine could read in the process list.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
import uuid
from typing import TextIO

from shared.auth import Principal, Role

OPERATOR = Principal(subject="tournees-cli", role=Role.ADMIN)
"""Who runs the command: they reach the registry's database, so they are its admin already."""


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    account = commands.add_parser("account", help="manage the registry's accounts (who may log in)")
    actions = account.add_subparsers(dest="action", required=True)
    create = actions.add_parser("create", help="create an account; the password is read from stdin or asked for")
    create.add_argument("--login", required=True, help="an e-mail address or a username")
    create.add_argument("--role", choices=[r.value for r in Role], required=True)
    create.add_argument("--territory", action="append", default=[], help="a coordinator's territory (repeatable)")
    create.add_argument("--conseiller-id", type=uuid.UUID, help="for --role conseiller: the conseiller's id")
    create.add_argument("--name", help="the name to show (default: the login)")


def run(args: argparse.Namespace, stdin: TextIO | None = None) -> int:
    try:
        password = read_password(stdin or sys.stdin)
    except ValueError as exc:
        print(f"tournees account: {exc}", file=sys.stderr)
        return 2
    return asyncio.run(_create(args, password))


def read_password(stdin: TextIO) -> str:
    if stdin.isatty():
        password = getpass.getpass("Password (12 characters or more): ")
        if getpass.getpass("The same again: ") != password:
            raise ValueError("the two passwords differ")
        return password
    return stdin.readline().rstrip("\r\n")


async def _create(args: argparse.Namespace, password: str) -> int:
    from services.registry.adapters.communes import load_communes
    from services.registry.bootstrap import MIGRATIONS
    from services.registry.domain.commands import CreateAccount
    from services.registry.domain.errors import Conflict, RuleBroken
    from services.registry.service_layer.accounts import create_account
    from services.registry.service_layer.unit_of_work import RegistryUnitOfWork
    from services.registry.settings import RegistrySettings
    from shared.db import create_engine, session_factory
    from shared.migrations import upgrade

    settings = RegistrySettings()
    engine = create_engine(settings.sqlalchemy_url, schema=settings.database_schema)
    try:
        await upgrade(engine, MIGRATIONS)
        await load_communes(engine)  # a coordinator's territories are checked against them
        cmd = CreateAccount(
            login=args.login, role=args.role, password=password, name=args.name,
            territories=tuple(args.territory), conseiller_id=args.conseiller_id,
        )  # fmt: skip
        account = await create_account(cmd, RegistryUnitOfWork(session_factory(engine)), OPERATOR)
    except (RuleBroken, Conflict) as exc:
        print(f"tournees account: {exc}", file=sys.stderr)
        return 2
    finally:
        await engine.dispose()
    scope = f" for {', '.join(account.territories)}" if account.territories else ""
    print(f"account {account.id} created: {account.login}, {account.role}{scope}")
    return 0
