#!/usr/bin/env python3
# Part I, "Pools" (book/src/part1/pools.md), the trap from the pool article the notes link to:
# a thread holds a lock while the main thread forks. The child gets a copy of the lock, locked,
# and no copy of the thread that would release it. The article's Pool hung forever on logging's
# lock; here the child waits with a timeout, so the program ends. Then the fix: spawn.

import multiprocessing
import os
import threading
import time

lock = threading.Lock()  # stands in for the logging module's lock
holding = threading.Event()
done = threading.Event()


def holder():
    with lock:  # another thread is in the middle of logging...
        holding.set()
        done.wait()  # ...and stays there while the main thread forks


def try_the_lock(how):
    start = time.monotonic()
    got = lock.acquire(timeout=1)  # without a timeout: forever
    waited = time.monotonic() - start
    if got:
        print(f"{how} child: took the lock after {waited:.2f} s", flush=True)
    else:
        print(f"{how} child: lock.acquire(timeout=1) gave up after {waited:.2f} s", flush=True)


if __name__ == "__main__":
    t = threading.Thread(target=holder)
    t.start()
    holding.wait()
    for method in ["fork", "spawn"]:
        # Python 3.12+ warns (DeprecationWarning) when it forks a process that has threads.
        child = multiprocessing.get_context(method).Process(target=try_the_lock, args=(method,))
        child.start()
        child.join()
    done.set()
    t.join()
    print("fork: the child's copy of the lock stays locked; spawn: a fresh interpreter, a fresh lock")
