"""``python -m app.contract``: rewrite the contract's snapshots from the current document;
``python -m app.contract release X.Y.Z``: release the current document (see app.contract.document)."""

from __future__ import annotations

import sys

from app.contract.document import ROOT, built_app, document, release, write_snapshots


def main(argv: list[str]) -> None:
    doc = document(built_app())
    paths = release(argv[1], doc) if argv[:1] == ["release"] and len(argv) == 2 else write_snapshots(doc)
    for path in paths:
        print(f"wrote {path.relative_to(ROOT)}")  # noqa: T201 - a command's report


if __name__ == "__main__":
    main(sys.argv[1:])
