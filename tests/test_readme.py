"""The README stays true: every make target is documented, and the two commands are shown."""
from __future__ import annotations

import re

from local_runtime.settings import PROJECT_ROOT


def test_readme_documents_every_make_target_and_the_two_commands():
    makefile = (PROJECT_ROOT / "Makefile").read_text()
    readme = (PROJECT_ROOT / "README.md").read_text()
    targets = re.findall(r"^([a-z][a-z-]*):.*## ", makefile, flags=re.MULTILINE)
    assert len(targets) >= 12
    missing = [t for t in targets if f"`make {t}" not in readme]
    assert missing == [], f"README.md does not document make target(s) {missing}"
    assert "make demo" in readme and "make test" in readme
