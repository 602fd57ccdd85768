# Across processes, "A pool of processes": a worker of multiprocessing.Pool is SIGKILLed in the
# middle of a task. The pool starts a new worker, but the task's result never comes, so the
# map never finishes (bpo-22393, python/cpython#96062). We wait 2 s, then terminate the pool.
import multiprocessing
import os
import signal
import time


def task(n):
    if n == 3:
        os.kill(os.getpid(), signal.SIGKILL)  # dies the way the OOM killer kills
    return n * 2


if __name__ == '__main__':
    pool = multiprocessing.Pool(2)
    result = pool.map_async(task, range(10))
    start = time.time()
    result.wait(timeout=2)
    waited = time.time() - start
    alive = len([p for p in pool._pool if p.is_alive()])
    print(f'after {waited:.1f} s: ready() = {result.ready()}, {alive} workers alive')
    pool.terminate()
    pool.join()
    print(f'map_async(task, range(10)) with task 3 SIGKILLed: ready() = {result.ready()} after {waited:.1f} s; terminated')
