"""create_chain_user <schema> <username> --email E --role viewer|manager|admin [--password P] [--token]"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from chains.management.commands.create_chain import _format
from chains.models import Chain
from chains.services import chain_user_create


class Command(BaseCommand):
    help = "Create a user in a chain with a role; --token makes an API token (replacing the user's) and prints it once."

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
        if options["password"]:
            # The same validators as the admin's forms (length ≥ 10, not common, not like the username, …).
            probe = get_user_model()(username=options["username"], email=options["email"])
            try:
                validate_password(options["password"], probe)
            except ValidationError as error:
                raise CommandError("password: " + " ".join(error.messages)) from error
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
