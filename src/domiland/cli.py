"""``domiland`` command: database, demo and connection checks for operators and the run script."""
from __future__ import annotations

import argparse
import logging
import sys

from sqlalchemy import select


def _db_upgrade(_args) -> int:
    from domiland.db.migrate import upgrade

    upgrade()
    print("hub database is up to date")
    return 0


def _demo_seed(args) -> int:
    from domiland import demo

    org_id = demo.seed(port=args.port, feed_port=args.feed_port)
    print(f"demo organization {demo.DEMO_CODE} (id {org_id}) is ready")
    return 0


def _demo_ftp(args) -> int:
    from domiland import demo

    logging.basicConfig(level=logging.INFO, format="%(asctime)s demo-ftp %(message)s")
    demo.serve(port=args.port, feed_port=args.feed_port)
    return 0


def _ftp_test(args) -> int:
    """FTP-2: connect, log in, change to the root directory; print OK or the reason."""
    from domiland.db.engine import session_scope
    from domiland.db.models import Organization
    from domiland.exchange.blocks import get_ftp_settings
    from domiland.transports.ftp import DomilandFTPHook

    with session_scope() as session:
        org_id = session.scalar(select(Organization.id).where(Organization.code == args.org))
    if org_id is None:
        print(f"no organization with code {args.org!r}", file=sys.stderr)
        return 2
    try:
        settings = get_ftp_settings(org_id)
    except Exception as exc:  # missing settings or a key problem: say it, plainly
        print(str(exc))
        return 1
    ok, message = DomilandFTPHook(settings).test_connection()
    print(message)
    return 0 if ok else 1


def _blocks_list(_args) -> int:
    from domiland.airflow.schedule import Schedule
    from domiland.exchange.blocks import list_block_specs

    for spec in list_block_specs(enabled_only=False):
        where = spec.paths if spec.direction == "import" else f"{spec.directory.rstrip('/')}/{spec.filename_template}"
        print(f"{spec.block_id:>5}  {spec.dag_id:<36} {' '.join(spec.schedule):<28} "
              f"{Schedule(*spec.schedule).describe('en')}  [{where}]")
    return 0


def _import_run(args) -> int:
    from domiland.exchange.imports import import_block

    report = import_block(args.block_id)
    print(report.message())
    return 1 if report.error else 0


def _pools_sync(_args) -> int:
    from domiland.airflow.pools import sync_ftp_pools

    created = sync_ftp_pools()
    print("created pools: " + (", ".join(created) if created else "none (all present)"))
    return 0


def _org_id(code: str) -> int | None:
    from domiland.db.engine import session_scope
    from domiland.db.models import Organization

    with session_scope() as session:
        return session.scalar(select(Organization.id).where(Organization.code == code))


def _key_create(args) -> int:
    from domiland.api.keys import create_key

    org_id = _org_id(args.org)
    if org_id is None:
        print(f"no organization with code {args.org!r}", file=sys.stderr)
        return 2
    key = create_key(org_id, args.name)
    print(f"API key {key.id} for {args.org} ({args.name}); shown once, store it now:\n{key.key}")
    return 0


def _key_revoke(args) -> int:
    from domiland.api.keys import revoke_key

    if not revoke_key(args.key_id):
        print(f"no active API key {args.key_id}", file=sys.stderr)
        return 1
    print(f"API key {args.key_id} revoked")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="domiland", description=__doc__)
    sub = parser.add_subparsers(required=True, metavar="command")
    db = sub.add_parser("db", help="hub database").add_subparsers(required=True, metavar="action")
    db.add_parser("upgrade", help="apply migrations (idempotent)").set_defaults(func=_db_upgrade)
    demo = sub.add_parser("demo", help="demo organization").add_subparsers(required=True, metavar="action")
    p = demo.add_parser("seed", help="create the demo organization, FTP settings and blocks")
    p.add_argument("--port", type=int, default=2121)
    p.add_argument("--feed-port", type=int, default=8443)
    p.set_defaults(func=_demo_seed)
    p = demo.add_parser("servers", help="serve the demo FTPS server and HTTPS feeds in the foreground")
    p.add_argument("--port", type=int, default=2121)
    p.add_argument("--feed-port", type=int, default=8443)
    p.set_defaults(func=_demo_ftp)
    ftp = sub.add_parser("ftp", help="FTP settings").add_subparsers(required=True, metavar="action")
    p = ftp.add_parser("test", help="test an organization's FTP connection (prints OK or the reason)")
    p.add_argument("org", help="organization code")
    p.set_defaults(func=_ftp_test)
    blocks = sub.add_parser("blocks", help="blocks").add_subparsers(required=True, metavar="action")
    blocks.add_parser("list", help="list every block with its DAG id and schedule").set_defaults(func=_blocks_list)
    pools = sub.add_parser("pools", help="Airflow pools").add_subparsers(required=True, metavar="action")
    pools.add_parser("sync", help="create the per-FTP-server pools that are missing").set_defaults(func=_pools_sync)
    keys = sub.add_parser("api-key", help="partner API keys").add_subparsers(required=True, metavar="action")
    p = keys.add_parser("create", help="create a key for an organization (printed once)")
    p.add_argument("org", help="organization code")
    p.add_argument("name", help="what the key is for, e.g. '1C exchange'")
    p.set_defaults(func=_key_create)
    p = keys.add_parser("revoke", help="revoke a key by its id")
    p.add_argument("key_id", type=int)
    p.set_defaults(func=_key_revoke)
    imp = sub.add_parser("import", help="imports").add_subparsers(required=True, metavar="action")
    p = imp.add_parser("run", help="run an import block now, outside Airflow (no log row)")
    p.add_argument("block_id", type=int)
    p.set_defaults(func=_import_run)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
