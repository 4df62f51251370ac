"""The last released contract (rewritten by ``python -m app.contract release X.Y.Z``; do not edit by hand).
Its document is ``contract/openapi.released.json``, its announcement ``contract/CHANGELOG.md``."""

RELEASED_VERSION = "0.1.0"
RELEASED_DIGEST = "3bd16d73a166aa48c1436fc22f0276e00099bb40442a3179b7254c8bfe20e32f"
