"""The CRM push benchmark still runs: a small push through a tight burst limit delivers every account once."""

from __future__ import annotations

from bench import crm_push as bench
from connectors.crm.transport import RetryPolicy


def test_a_push_through_the_burst_limit_delivers_every_account_once_in_few_calls():
    quick = RetryPolicy(attempts=10, initial_wait=0.05, max_wait=0.5, jitter=0.05)

    result = bench.run(200, burst=4, window=0.5, retry=quick)

    assert result.delivered == 200
    assert result.notes_per_company == {1}
    assert result.throttled > 0  # the limit was hit and ridden out
    assert result.calls == 9  # 3 property calls, 1 batch read, 1 search, 2 updates, 2 note creates


def test_the_command_line_prints_calls_per_account_and_wall_time(capsys):
    bench.main(["--accounts", "20", "--burst", "100"])

    printed = capsys.readouterr().out
    assert "calls per account       0.3500" in printed  # 7 calls for 20 accounts: 3 for properties, then 1 each
    assert "wall time" in printed and "notes per company   [1]" in printed
