"""Load and scale benchmarks; their results and how to read them are in docs/benchmarks.md.

Entry points (each runnable as a file with no arguments, ``--help`` for the options)::

    bench/bench_entries.py   giveaway entries over HTTP against `fairdraw serve`, with
                             ceilings measured alongside: a bare FastAPI endpoint, the
                             store layer alone, the entry script alone, and PING
    bench/bench_draw.py      close + seal and draw of 10^5, 10^6 (and 10^7) entries,
                             with the store memory each entry costs
    bench/bench_raffle.py    raffle creation, claims (store and HTTP), seal and draw
    bench/bench_lottery.py   ballots over HTTP and one round drawn
    bench/bench_live.py      1,000 watchers of a live feed under paced entries, entry
                             throughput with and without them, the dashboard's search at
                             10^6 entrants, and the store memory the live keys add
"""
