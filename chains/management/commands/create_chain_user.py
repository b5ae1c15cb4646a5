"""create_chain_user <schema> <username> --email E --role viewer|manager|admin [--password P] [--token]"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from chains.management.commands.create_chain import _format
from chains.models import Chain
from chains.services import chain_user_create


class Command(BaseCommand):
    help = "Create a user in a chain with a role; --token prints an API token."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("schema")
        parser.add_argument("username")
        parser.add_argument("--email", required=True)
        parser.add_argument("--role", required=True, choices=["viewer", "manager", "admin"])
        parser.add_argument("--password")
        parser.add_argument("--token", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        chain = Chain.objects.filter(schema_name=options["schema"]).first()
        if chain is None or chain.schema_name == "public":
            raise CommandError(f"No chain with schema {options['schema']!r}.")
        try:
            created = chain_user_create(
                chain=chain,
                username=options["username"],
                email=options["email"],
                role=options["role"],
                password=options["password"],
                with_token=options["token"],
            )
        except ValidationError as error:
            raise CommandError(_format(error)) from error
        self.stdout.write(f"User {created.user.username} ({options['role']}) in {chain.schema_name}")
        if created.token:
            self.stdout.write(created.token)
