"""``formserver org``, ``user`` and ``member``: organisations, people who sign in, and their roles."""

from __future__ import annotations

from argparse import Namespace
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from . import Commands, Context


def register(commands: Commands) -> None:
    commands.area("org", help="organisations")
    create = commands.command("org create", org_create)
    create.add_argument("slug")
    create.add_argument("--name", required=True)
    commands.command("org list", org_list)

    commands.area("user", help="people who sign in")
    create = commands.command("user create", user_create)
    create.add_argument("email")
    create.add_argument("--password", required=True)
    create.add_argument("--admin", action="store_true")
    create.add_argument(
        "--analyst", action="store_true", help="a network analyst: reads the network figures, no organisation's records"
    )
    password = commands.command("user password", user_password, help="set a new password")
    password.add_argument("email")
    password.add_argument("--password", required=True)

    commands.area("member", help="roles in an organisation")
    add = commands.command("member add", member_add)
    add.add_argument("slug")
    add.add_argument("email")
    add.add_argument("--role", required=True, help="manager, collector or viewer")


def org_create(context: Context, args: Namespace) -> None:
    from .. import accounts

    with context.session() as session:
        organisation = accounts.create_organisation(session, args.slug, args.name)
        print(f"{organisation.slug} {organisation.name}")


def org_list(context: Context, _args: Namespace) -> None:
    from sqlalchemy import select

    from ..models import Organisation

    with context.session() as session:
        for organisation in session.scalars(select(Organisation).order_by(Organisation.slug)):
            print(f"{organisation.slug}\t{organisation.name}")


def user_create(context: Context, args: Namespace) -> None:
    from .. import accounts

    with context.session() as session:
        user = accounts.create_user(
            session, args.email, args.password, realm=context.settings.digest_realm, is_admin=args.admin,
            is_analyst=args.analyst,
        )
        roles = [name for name, held in (("network administrator", user.is_admin), ("network analyst", user.is_analyst)) if held]
        print(user.email + (f" ({', '.join(roles)})" if roles else ""))


def user_password(context: Context, args: Namespace) -> None:
    from .. import accounts

    with context.session() as session:
        user = accounts.user_by_email(session, args.email)
        accounts.set_password(user, args.password, realm=context.settings.digest_realm)
        print(f"password changed for {user.email}")


def member_add(context: Context, args: Namespace) -> None:
    from .. import accounts

    with context.session() as session:
        organisation = accounts.organisation_by_slug(session, args.slug)
        user = accounts.user_by_email(session, args.email)
        accounts.add_member(session, organisation, user, args.role)
        print(f"{user.email} is {args.role} of {organisation.slug}")
