"""Run the same work on many threads at once, each on its own database connection."""

import threading

from django.db import connection


def race(n_threads: int, work) -> list:
    """Start `work(i)` on `n_threads` threads behind one barrier; the results (or the
    exceptions raised) in thread order."""
    barrier = threading.Barrier(n_threads)
    results: list = [None] * n_threads

    def run(i: int) -> None:
        try:
            barrier.wait()
            results[i] = work(i)
        except Exception as error:
            results[i] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results
