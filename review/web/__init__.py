"""The review web UI and REST API (FastAPI, server-rendered Jinja pages in Chinese)."""

from review.web.app import create_app
from review.web.security import WebConfig
from review.web.server import ReviewServer

__all__ = ["ReviewServer", "WebConfig", "create_app"]
