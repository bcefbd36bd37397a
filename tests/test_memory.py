"""A server worker gives memory it freed back to the system (formserver/memory.py)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from formserver import memory

SCATTERED_FREE = textwrap.dedent(
    """
    import os
    from formserver import memory

    def rss_mib():
        return int(open("/proc/self/statm").read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20

    memory.tune()
    blocks = [bytes(3000) for _ in range(60000)]  # 180 MB in blocks Python takes from malloc
    kept = blocks[::50]  # one in fifty stays: the freed pages lie between live blocks
    del blocks
    before = rss_mib()
    memory.give_back()
    print(before, rss_mib())
    """
)


@pytest.mark.skipif(memory._glibc() is None, reason="glibc's allocator only (Linux); elsewhere nothing is tuned")
def test_memory_freed_between_live_blocks_goes_back_to_the_system():
    result = subprocess.run([sys.executable, "-c", SCATTERED_FREE], capture_output=True, text=True, check=True)
    before, after = map(float, result.stdout.split())
    assert before > 150  # glibc kept the freed pages
    assert after < before / 3

