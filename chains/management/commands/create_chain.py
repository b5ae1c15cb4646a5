"""create_chain <schema> --name N --domain D --timezone TZ --currency CUR"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from chains.services import chain_create


class Command(BaseCommand):
    help = "Create a chain, its schema and its domain."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("schema")
        parser.add_argument("--name", required=True)
        parser.add_argument("--domain", required=True)
        parser.add_argument("--timezone", default="UTC")
        parser.add_argument("--currency", default="EUR")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            chain = chain_create(
                schema=options["schema"],
                name=options["name"],
                domain=options["domain"],
                time_zone=options["timezone"],
                currency=options["currency"],
            )
        except ValidationError as error:
            raise CommandError(_format(error)) from error
        self.stdout.write(f"Created chain {chain.schema_name} at {options['domain']}")


def _format(error: ValidationError) -> str:
    if hasattr(error, "message_dict"):
        return "; ".join(f"{field}: {' '.join(messages)}" for field, messages in error.message_dict.items())
    return " ".join(error.messages)
