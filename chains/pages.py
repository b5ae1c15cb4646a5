"""The page where a signed-in user makes, sees the expiry of, and revokes their own API token."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.views.decorators.http import require_http_methods

from chains.tokens import token_expires_at, token_issue, token_of, token_revoke


@login_required
@require_http_methods(["GET", "POST"])
def account_token(request: HttpRequest) -> HttpResponse:
    issued = None
    revoked = False
    if request.method == "POST":
        if request.POST.get("action") == "revoke":
            revoked = token_revoke(user=request.user)
        elif request.POST.get("action") == "make":
            issued = token_issue(user=request.user)
    token = token_of(request.user)
    return TemplateResponse(
        request,
        "chains/account_token.html",
        {
            "issued": issued,
            "revoked": revoked,
            "token": token,
            "expires_at": token_expires_at(token) if token else None,
        },
    )
