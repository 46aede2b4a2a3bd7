"""infra/kafka/start.sh: the cluster id it formats the broker's storage with."""

from __future__ import annotations

import contextlib
import io
import re

from conftest import REPO


def test_the_cluster_id_never_reads_as_an_option() -> None:
    """A base64 id starts with "-" in one draw of 64; `kafka-storage format -t -Xy...` then failed to start the broker
    ("argument --cluster-id/-t: expected one argument"), a test session's broker with it."""
    script = (REPO / "infra/kafka/start.sh").read_text()
    program = re.search(r"cluster_id=\$\(python3 -c '(.*?)'\)", script, re.DOTALL).group(1)
    ids = []
    for _ in range(3000):
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(program, {})
        ids.append(out.getvalue().strip())
    assert all(re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_-]{21}", i) for i in ids), [i for i in ids if i.startswith("-")][:3]
    assert len(set(ids)) == len(ids)
