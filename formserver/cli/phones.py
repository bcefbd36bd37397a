"""``formserver appuser ...``: device accounts, the phones that use a token URL instead of a password."""

from __future__ import annotations

from argparse import Namespace
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..models import AppUser, Organisation
    from . import Commands, Context


def register(commands: Commands) -> None:
    commands.area("appuser", help="device accounts: phones that use a token URL")
    create = commands.command(
        "appuser create", appuser_create, help="create a device account; the last line is its server URL"
    )
    create.add_argument("slug")
    create.add_argument("name")
    create.add_argument("-o", "--output", type=Path, help="also write its set-up QR code to this PNG file")
    qr = commands.command(
        "appuser qr", appuser_qr, help="write a device account's set-up QR code (the token stays the same)"
    )
    qr.add_argument("slug")
    qr.add_argument("name")
    qr.add_argument("-o", "--output", type=Path, required=True, help="PNG file to write")
    revoke = commands.command("appuser revoke", appuser_revoke, help="revoke a device account: its URL stops working")
    revoke.add_argument("slug")
    revoke.add_argument("name")
    listing = commands.command("appuser list", appuser_list, help="device accounts of an organisation")
    listing.add_argument("slug")


def _qr_png(context: Context, organisation: Organisation, app_user: AppUser) -> bytes:
    from .. import appusers

    url = appusers.token_url(context.settings.public_url, organisation, app_user)
    return appusers.qr_png(appusers.qr_payload(appusers.collect_settings(url, organisation.name)))


def appuser_create(context: Context, args: Namespace) -> None:
    from .. import accounts, appusers

    with context.session() as session:
        organisation = accounts.organisation_by_slug(session, args.slug)
        app_user = appusers.create_app_user(session, organisation, args.name)
        if args.output:
            args.output.write_bytes(_qr_png(context, organisation, app_user))
            print(f"QR code written to {args.output}")
        print(f"device account {app_user.name} of {organisation.slug}; its server URL for ODK Collect:")
        print(appusers.token_url(context.settings.public_url, organisation, app_user))


def appuser_qr(context: Context, args: Namespace) -> None:
    from .. import accounts, appusers
    from ..problems import Problem

    with context.session() as session:
        organisation = accounts.organisation_by_slug(session, args.slug)
        app_user = appusers.app_user_by_name(session, organisation, args.name)
        if app_user.revoked_at is not None:
            raise Problem("appuser.revoked", name=app_user.name)
        args.output.write_bytes(_qr_png(context, organisation, app_user))
        print(f"QR code of {app_user.name} written to {args.output}")


def appuser_revoke(context: Context, args: Namespace) -> None:
    from .. import accounts, appusers

    with context.session() as session:
        organisation = accounts.organisation_by_slug(session, args.slug)
        app_user = appusers.revoke_app_user(session, organisation, args.name)
        print(f"device account {app_user.name} of {organisation.slug} revoked")


def appuser_list(context: Context, args: Namespace) -> None:
    from .. import accounts, appusers

    with context.session() as session:
        organisation = accounts.organisation_by_slug(session, args.slug)
        for app_user in appusers.app_users_of(session, organisation):
            state = f"revoked {app_user.revoked_at:%Y-%m-%d %H:%M}" if app_user.revoked_at else "active"
            print(f"{app_user.name}\t{state}\tcreated {app_user.created_at:%Y-%m-%d %H:%M}")
