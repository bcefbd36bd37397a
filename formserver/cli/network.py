"""``formserver network ...``: an organisation's forms in the network's pooled figures, and their facts."""

from __future__ import annotations

from argparse import Namespace
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from . import Commands, Context


def register(commands: Commands) -> None:
    commands.area("network", help="the network's pooled figures: sharing a form, rebuilding the facts")
    share = commands.command(
        "network share", network_share, help="count a form's submissions in the network figures (on) or stop (off)"
    )
    share.add_argument("slug")
    share.add_argument("form_id")
    share.add_argument("state", choices=("on", "off"))
    commands.command(
        "network rebuild", network_rebuild,
        help="make the facts of every shared form anew from the stored submissions (after restoring without network.key)",
    )


def network_share(context: Context, args: Namespace) -> None:
    from .. import accounts, forms
    from ..network import sharing
    from ..network.identity import installation_key

    with context.session() as session:
        organisation = accounts.organisation_by_slug(session, args.slug)
        form = forms.form_by_id(session, organisation, args.form_id)
        key = installation_key(context.settings.data_dir)
        changed = sharing.set_shared(session, key, form, args.state == "on", actor=None)
        state = "counted in" if form.network_shared else "not counted in"
        print(f"{organisation.slug} {form.form_id}: {state} the network figures{'' if changed else ' (unchanged)'}")


def network_rebuild(context: Context, _args: Namespace) -> None:
    from ..network import facts
    from ..network.identity import installation_key

    with context.session() as session:
        done = facts.rebuild(session, installation_key(context.settings.data_dir))
        print(f"network facts rebuilt: {done} submissions of shared forms")
