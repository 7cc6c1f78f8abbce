"""API of ansinh.applications (issue 12)."""

from ninja import Router

router = Router(tags=["applications"])
