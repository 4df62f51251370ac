"""The last released contract (rewritten by ``python -m app.contract release X.Y.Z``; do not edit by hand).
Its document is ``contract/openapi.released.json``, its announcement ``contract/CHANGELOG.md``."""

RELEASED_VERSION = "0.1.0"
RELEASED_DIGEST = "4183f7505722e3aa1b38d09a9bd8d61aaa91e52576206f1009195080d23a502f"
