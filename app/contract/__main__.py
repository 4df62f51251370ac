"""``python -m app.contract``: rewrite the contract's snapshots from the current document."""

from __future__ import annotations

from app.contract.document import ROOT, built_app, document, write_snapshots

if __name__ == "__main__":
    for path in write_snapshots(document(built_app())):
        print(f"wrote {path.relative_to(ROOT)}")  # noqa: T201 - a command's report
