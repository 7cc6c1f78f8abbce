"""API of ansinh.complaints (issue 12)."""

from ninja import Router

router = Router(tags=["complaints"])
