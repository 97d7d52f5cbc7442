"""The artifact view (preview and lineage) and the raw endpoint that frames HTML and serves images.

The raw endpoint is the only place artifact bytes reach the browser unescaped, so it answers with
a sandbox CSP (no script, no same origin, no network) and only types it recognises: HTML for the
sandboxed iframe, sniffed images, otherwise plain text. Anything over RAW_MAX_BYTES is refused.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from conveyor.stores.metadata import NotFoundError
from conveyor.ui.previews import RAW_MAX_BYTES, local_copy, preview, read_head, sniff_image
from conveyor.ui.security import SANDBOX_CSP


def artifact(ctx, request: Request):
    record = ctx.browser.get_artifact(request.path_params["artifact_id"])
    consumers = ctx.store.list_lineage(artifact_id=record.id)
    return ctx.render(request, "artifact.html", art=record, preview=preview(record, ctx.artifacts),
                      consumers=[c for c in consumers if c.direction == "in"])


def raw(ctx, request: Request):
    record = ctx.browser.get_artifact(request.path_params["artifact_id"])
    if record.size > RAW_MAX_BYTES:
        return PlainTextResponse(f"artifact is {record.size} bytes; the viewer serves at most {RAW_MAX_BYTES}",
                                 status_code=413)
    with local_copy(ctx.artifacts, record.uri) as path:
        if path.is_dir():
            raise NotFoundError(f"artifact {record.id} is a directory; open its files from the artifact page")
        data, _ = read_head(path, RAW_MAX_BYTES)
    type_name = (record.type_name or "").rsplit(".", 1)[-1]
    media = "text/html; charset=utf-8" if type_name == "HTML" else sniff_image(data) or "text/plain; charset=utf-8"
    return Response(data, media_type=media, headers={"Content-Security-Policy": SANDBOX_CSP,
                                                     "X-Frame-Options": "SAMEORIGIN"})
