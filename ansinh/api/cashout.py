"""API of ansinh.cashout (issue 12)."""

from ninja import Router

router = Router(tags=["cashout"])
