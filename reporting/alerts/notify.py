"""The one function that e-mails an alert transition (subject, text and HTML body with an absolute link).

Tenant-supplied text (chain, rule, device or location names) never reaches a header unfolded: every
header value is collapsed to one line, so a CR/LF in a name cannot add a header.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from urllib.parse import quote

from django.conf import settings
from django.utils.html import escape

from chains.models import Chain

CONDITION_TEXT = {"above": "above", "below": "below", "change_above": "change above", "change_below": "change below"}
HEADLINE = {"fired": "FIRING", "resolved": "RESOLVED", "repeated": "STILL FIRING"}
PAGES = {"device": "/assets/{}/", "location": "/locations/{}/", "product": "/products/{}/", "resource": "/venues/{}/"}


def one_line(text: str) -> str:
    """CR, LF and every other line break or run of whitespace become one space."""
    return " ".join(str(text).split())


def link_base(chain: Chain) -> str:
    """<scheme>://<the chain's primary domain>[:port]."""
    domain = chain.get_primary_domain()
    host = domain.domain if domain is not None else f"{chain.schema_name}.localhost"
    port = str(getattr(settings, "CVD_LINK_PORT", os.environ.get("PORT", "8000")) or "")
    scheme = getattr(settings, "CVD_LINK_SCHEME", "http")
    return f"{scheme}://{host}{':' + port if port else ''}"


def page_link(chain: Chain, scope_key: str) -> str:
    kind, _, code = scope_key.partition(":")
    path = PAGES[kind].format(quote(code, safe="")) if kind in PAGES else "/alerts/"
    return link_base(chain) + path


def threshold_text(condition: str, threshold: Decimal) -> str:
    figure = f"{threshold:.2f}"
    return f"{CONDITION_TEXT[condition]} {figure}{'%' if condition.startswith('change_') else ''}"


@dataclass(frozen=True)
class AlertMail:
    to: Sequence[str]
    subject: str
    text: str
    html: str


def alert_mail_compose(
    *, chain: Chain, transition: str, rule_name: str, metric: str, condition: str, threshold: Decimal,
    subject_label: str, scope_key: str, value: Decimal | None, previous: Decimal | None, window_label: str,
    recipients: Sequence[str],
) -> AlertMail:
    headline = HEADLINE[transition]
    condition_text = threshold_text(condition, threshold)
    subject = one_line(f"[{chain.name}] {headline}: {subject_label} {metric} {condition_text} on {window_label}")
    link = page_link(chain, scope_key)
    shown = "—" if value is None else f"{value:.2f}{'%' if condition.startswith('change_') else ''}"
    lines = [
        f"{headline}: {rule_name}",
        f"What: {subject_label}",
        f"Metric: {metric}",
        f"Value: {shown}",
        f"Threshold: {condition_text}",
        f"Window: {window_label}",
    ]
    if previous is not None:
        lines.append(f"Previous window: {previous:.2f}")
    lines.append(f"Details: {link}")
    text = "\n".join(lines) + "\n"
    html = "<html><body>" + "".join(f"<p>{escape(line)}</p>" for line in lines[:-1]) + (
        f'<p><a href="{escape(link)}">{escape(subject_label)}</a></p></body></html>'
    )
    return AlertMail(to=list(recipients), subject=subject, text=text, html=html)


def alert_mail_send(mail: AlertMail, *, key: str) -> None:
    """Send through the shared once-only mail service (reporting.mail): its delivery row keyed `key` means a
    second call for the same notice sends nothing; raises MailNotSent when the server refused or was away."""
    from reporting.mail import Mail, mail_send_once

    mail_send_once(key=key, compose=lambda: Mail(to=list(mail.to), subject=mail.subject, text=mail.text, html=mail.html))
