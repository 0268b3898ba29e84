"""``tournees``: run the whole system on one machine, the demo, or one service.

tournees up                  nats-server (embedded unless NATS_URL is set) + the three services
tournees demo [--headless]   the same, then the demo scenario
tournees serve SERVICE       one service in the foreground (what a container runs)
tournees migrate SERVICE     apply a service's database migrations, then exit
tournees asyncapi [--check]  write (or check) the services' AsyncAPI documents under docs/asyncapi
tournees dead-letters list|replay   read and replay the DEADLETTER stream
tournees account create …    an account in the registry's database (the first admin, say)
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import functools
import json
import os
import shutil
import signal
import sys
import time
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

from pydantic import SecretStr

from shared.auth import Role, issue_token
from shared.http_workers import Served
from shared.settings import DEFAULT_AUTH_SECRET
from tournees import accounts
from tournees.demo import run as demo
from tournees.supervisor import DEFAULT_PORTS, SERVICES, StartupFailed, Supervisor

T = TypeVar("T")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tournees", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)

    up = commands.add_parser("up", help="start nats-server and the three services")
    _stack_options(up, default_dir=".tournees/data")

    demo_cmd = commands.add_parser("demo", help="start everything and run the demo scenario")
    _stack_options(demo_cmd, default_dir=".tournees/demo")
    demo_cmd.add_argument("--headless", action="store_true", help="run the scenario, print a summary, exit")

    serve = commands.add_parser("serve", help="run one service in the foreground")
    serve.add_argument("service", choices=SERVICES)

    migrate = commands.add_parser("migrate", help="apply a service's database migrations")
    migrate.add_argument("service", choices=(*SERVICES, "all"))

    commands.add_parser("load-communes", help="load the communes of France into the registry's database")

    scenario_cmd = commands.add_parser("scenario", help="write a scenario file from the shipped communes data")
    where = scenario_cmd.add_mutually_exclusive_group(required=True)
    where.add_argument("--epci", help="SIREN of an EPCI")
    where.add_argument("--departement", help="code of a département")
    scenario_cmd.add_argument("--conseillers", type=int, help="how many (default: one per 15,000 inhabitants)")
    scenario_cmd.add_argument("--start", type=dt.date.fromisoformat, help="first day (default: next Monday)")
    scenario_cmd.add_argument("--days", type=int, default=5)
    scenario_cmd.add_argument("--output", "-o", type=Path, help="file to write (default: stdout)")

    plan = commands.add_parser("plan", help="solve a scenario file; print the plan as JSON")
    plan.add_argument("scenario", type=Path)
    plan.add_argument("--time-limit", type=float, default=60.0, help="seconds (default 60)")
    plan.add_argument("--workers", type=int, default=2, help="solver threads (at least 2)")

    token = commands.add_parser("token", help="issue a bearer token signed with AUTH_SECRET")
    token.add_argument("--role", choices=[r.value for r in Role], required=True)
    token.add_argument("--subject", default="cli", help="who: a name, or a conseiller's id for --role conseiller")
    token.add_argument("--territory", action="append", default=[], help="a territory code (repeatable)")
    token.add_argument("--hours", type=float, default=12, help="validity (default 12 h)")

    asyncapi = commands.add_parser("asyncapi", help="write the services' AsyncAPI documents (docs/asyncapi)")
    asyncapi.add_argument("--check", action="store_true", help="write nothing; fail if they are out of date")

    dead = commands.add_parser("dead-letters", help="list or replay the DEADLETTER stream").add_subparsers(
        dest="action", required=True
    )
    listing = dead.add_parser("list", help="the dead letters, oldest first (nothing is removed)")
    replaying = dead.add_parser("replay", help="republish dead letters to their subject, then remove them")
    replaying.add_argument("sequences", nargs="*", type=int, metavar="SEQUENCE", help="dead letters (#) to replay")
    replaying.add_argument("--all", action="store_true", help="every dead letter (of --consumer)")
    listing.add_argument("--limit", type=int, default=100, help="at most this many (default 100)")
    listing.add_argument("--json", action="store_true", help="one JSON object a line")
    for sub in (listing, replaying):
        sub.add_argument("--consumer", help="only the dead letters of this durable consumer")
        sub.add_argument("--nats-url", default=os.environ.get("NATS_URL", "nats://127.0.0.1:4222"))

    notifications = commands.add_parser("notifications", help="notifications' maintenance").add_subparsers(
        dest="action", required=True
    )
    reencrypt = notifications.add_parser("reencrypt", help="re-encrypt usagers' contacts under the first key")
    reencrypt.add_argument("--batch", type=int, default=500, help="usagers per transaction (default 500)")
    accounts.add_commands(commands)

    args = parser.parse_args(argv)
    if args.command == "serve":
        return _serve(args.service)
    if args.command == "migrate":
        return asyncio.run(_migrate(args.service))
    if args.command == "scenario":
        return _scenario(args)
    if args.command == "plan":
        return _plan(args.scenario, args.time_limit, args.workers)
    if args.command == "load-communes":
        return asyncio.run(_load_communes())
    if args.command == "asyncapi":
        from tournees import asyncapi as contracts

        return contracts.main(args.check)
    if args.command == "dead-letters":
        return _dead_letters(args, replaying)
    if args.command == "notifications":
        return asyncio.run(_reencrypt(args.batch))
    if args.command == "account":
        return accounts.run(args)
    if args.command == "token":
        print(_token(Role(args.role), args.subject, args.territory, args.hours))
        return 0
    return asyncio.run(_run_stack(args))


def _dead_letters(args: argparse.Namespace, replaying: argparse.ArgumentParser) -> int:
    from tournees import dead_letters

    if args.action == "replay" and bool(args.sequences) == args.all:
        replaying.error("give the SEQUENCEs of dead letters, or --all")
    if args.action == "list":
        run = dead_letters.list_command(args.nats_url, consumer=args.consumer, limit=args.limit, as_json=args.json)
    else:
        run = dead_letters.replay_command(args.nats_url, sequences=args.sequences, consumer=args.consumer)
    try:
        return asyncio.run(run)
    except dead_letters.Unreachable as exc:
        print(f"tournees dead-letters: {exc}", file=sys.stderr)
        return 1


async def _reencrypt(batch: int) -> int:
    from services.notifications.adapters.personal_data import PersonalDataCipher
    from services.notifications.adapters.reencrypt import reencrypt
    from services.notifications.settings import NotificationsSettings
    from shared.db import create_engine

    settings = NotificationsSettings()
    engine = create_engine(settings.sqlalchemy_url, schema=settings.database_schema)
    cipher = PersonalDataCipher(settings.encryption_key_list, settings.lookup_key.get_secret_value())
    try:
        done = await reencrypt(engine, cipher, batch=batch)
    finally:
        await engine.dispose()
    print(f"{done.rewritten} usagers re-encrypted, {done.changed_meanwhile} written meanwhile by the service")
    for usager in done.unreadable:
        print(f"usager {usager}: no key of ENCRYPTION_KEYS opens their contacts (left as they are)", file=sys.stderr)
    return 1 if done.unreadable else 0


def _stack_options(parser: argparse.ArgumentParser, *, default_dir: str) -> None:
    parser.add_argument("--data-dir", type=Path, default=Path(default_dir), help=f"default {default_dir}")
    parser.add_argument(
        "--port-base",
        type=int,
        default=DEFAULT_PORTS["registry"],
        help="registry's HTTP port (+1, +2 next)",
    )


def _bootstrap(service: str) -> Served:
    """Import only the service asked for: each process loads its own code alone."""
    if service == "registry":
        from services.registry.bootstrap import bootstrap as registry

        return registry()
    if service == "scheduling":
        from services.scheduling.bootstrap import bootstrap as scheduling

        return scheduling()
    from services.notifications.bootstrap import bootstrap as notifications

    return notifications()


def _serve(service: str) -> int:
    from shared.runtime import serve

    serve(functools.partial(_bootstrap, service))
    return 0


async def _migrate(service: str) -> int:
    for name in SERVICES if service == "all" else (service,):
        runtime = _bootstrap(name).runtime
        await runtime.migrate()
        await runtime.engine.dispose()
        print(f"{name}: database at the latest migration")
    return 0


async def _load_communes() -> int:
    from rich.progress import Progress

    from services.registry.adapters.communes import load_communes
    from services.registry.bootstrap import MIGRATIONS
    from services.registry.settings import RegistrySettings
    from shared.db import create_engine
    from shared.migrations import upgrade

    settings = RegistrySettings()
    engine = create_engine(settings.sqlalchemy_url, schema=settings.database_schema)
    await upgrade(engine, MIGRATIONS)
    started = time.perf_counter()
    with Progress() as progress:
        task = progress.add_task("communes", total=None)
        written = await load_communes(
            engine, progress=lambda done, total: progress.update(task, completed=done, total=total)
        )
        progress.update(task, completed=1, total=1)
    await engine.dispose()
    took = time.perf_counter() - started
    print(f"{written} communes written in {took:.1f} s" if written else "communes already up to date")
    return 0


def _scenario(args: argparse.Namespace) -> int:
    from tournees.scenarios import build

    try:
        built = build(
            epci=args.epci, departement=args.departement, conseillers=args.conseillers, start=args.start, days=args.days
        )
    except LookupError as exc:
        print(f"tournees scenario: {exc}", file=sys.stderr)
        return 2
    text = json.dumps(built, ensure_ascii=False, indent=1)
    if args.output:
        args.output.write_text(text + "\n", encoding="utf-8")
    else:
        print(text)
    return 0


def _plan(path: Path, time_limit: float, workers: int) -> int:
    from services.scheduling.planner import cpsat, scenario

    try:
        instance = scenario.load(path)
    except scenario.ScenarioError as exc:
        print(f"tournees plan: {exc}", file=sys.stderr)
        return 2
    result = cpsat.solve(instance, time_limit_s=time_limit, workers=workers)
    print(json.dumps(result.to_json(), ensure_ascii=False, indent=2))
    return 0 if result.status in ("OPTIMAL", "FEASIBLE") else 1


def _token(role: Role, subject: str, territories: list[str], hours: float) -> str:
    secret = SecretStr(os.environ.get("AUTH_SECRET", DEFAULT_AUTH_SECRET))
    return issue_token(secret, subject=subject, role=role, territories=territories, ttl=dt.timedelta(hours=hours))


async def _run_stack(args: argparse.Namespace) -> int:
    if args.command == "demo" and args.data_dir.exists():
        shutil.rmtree(args.data_dir)  # the demo starts from a clean slate each time
    secret = os.environ.get("AUTH_SECRET", DEFAULT_AUTH_SECRET)
    token = issue_token(SecretStr(secret), subject="tournees-cli", role=Role.ADMIN)
    supervisor = Supervisor(
        data_dir=args.data_dir,
        nats_url=os.environ.get("NATS_URL") or None,
        ports={name: args.port_base + i for i, name in enumerate(SERVICES)},
        environment={"AUTH_SECRET": secret, "ENVIRONMENT": "demo" if args.command == "demo" else "local"},
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await _unless_stopped(supervisor.start(), stop)
        print(f"\nTournées is up (NATS {supervisor.nats_url}). An admin token for the APIs (12 h):\n  {token}")
        for name in SERVICES:
            print(f"  {name:<14} {supervisor.url(name)}/docs")
        print(f"  coordinators  {supervisor.coordinator_page()} (the page to plan and publish the rounds)")
        if supervisor.twilio_url:
            print(f"  SMS sent      {supervisor.twilio_url}/_fake/messages (the local fake of Twilio)")
        if supervisor.maildir:
            print(f"  e-mails sent  {supervisor.maildir} (the local SMTP sink)")
        if args.command == "demo":
            urls = {name: supervisor.url(name) for name in SERVICES}
            run = demo.run(urls, token, twilio_url=supervisor.twilio_url, maildir=supervisor.maildir)
            summary = await _unless_stopped(run, stop)
            demo.print_summary(summary, sys.stdout)
            if args.headless:
                return 0
        print("\nCtrl-C stops everything.")
        return await _watch(supervisor, stop)
    except StartupFailed as exc:
        print(f"\ntournees: {exc}", file=sys.stderr)
        return 1
    except Interrupted:
        return 130
    finally:
        await supervisor.stop()


class Interrupted(Exception):
    """Ctrl-C or SIGTERM arrived while starting or running the scenario."""


async def _unless_stopped(work: Coroutine[Any, Any, T], stop: asyncio.Event) -> T:
    """Run ``work`` unless Ctrl-C (or SIGTERM) comes first; then cancel it and raise Interrupted."""
    task = asyncio.ensure_future(work)
    stopping = asyncio.ensure_future(stop.wait())
    await asyncio.wait({task, stopping}, return_when=asyncio.FIRST_COMPLETED)
    stopping.cancel()
    if task.done():
        return task.result()
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    raise Interrupted


async def _watch(supervisor: Supervisor, stop: asyncio.Event) -> int:
    while not stop.is_set():
        crashed = supervisor.exited()
        if crashed is not None:
            print(f"\ntournees: {crashed.name} stopped (exit {crashed.process.returncode})", file=sys.stderr)
            return 1
        try:
            await asyncio.wait_for(stop.wait(), 0.5)
        except TimeoutError:
            continue
    return 0


if __name__ == "__main__":
    sys.exit(main())
