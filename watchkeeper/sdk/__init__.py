"""Client SDK and ASGI middleware.

``Client`` sends the Monitor's calls to a collector (``watchkeeper serve``) in the
background; ``WatchkeeperMiddleware`` instruments a FastAPI/Starlette model server;
``ResourceSampler`` samples the serving process's saturation for the client.
"""

from __future__ import annotations

from watchkeeper.sdk.client import Client
from watchkeeper.sdk.middleware import WatchkeeperMiddleware
from watchkeeper.sdk.resources import ResourceSampler

__all__ = ["Client", "ResourceSampler", "WatchkeeperMiddleware"]
